"""Training: the neural-network race of the PyTorch post, exact to torch, with a landscape slice."""

import streamlit as st

from ui import nav, training, training_panels, training_runs
from ui.state import UrlSettings

classroom = nav.in_classroom()
url = UrlSettings(st.query_params, st.session_state)
if not classroom:
    st.title("Training a network")
    st.caption(
        "The race that ends the PyTorch post: optimizers train the same small network on "
        "minibatches of noisy data. The numbers are the ones torch.nn + torch.optim compute."
    )

setup, errors, (log, plane, level) = training_runs.setup_controls(url)
for note in url.pop_notices():
    st.warning(note, icon=":material/link:")
for text in errors:
    st.warning(text, icon=":material/block:")
if setup is None:
    st.info("Add at least one valid run in the sidebar.", icon=":material/arrow_back:")
    st.stop()
if not classroom:
    st.caption(
        "All runs start from the same initial weights and see the same minibatches, so "
        "their differences come from the optimizers. (The post gave each network its own "
        "random initialisation: switch on *Each its own initialisation* to see how much "
        "that alone changes the curves.)"
        if not setup.own_init
        else "Each run starts from its own random weights, as in the post: part of the "
        "differences below is luck of the draw, not the optimizer."
    )

if not training.ready(setup):
    with st.spinner("Training every run…", show_time=True):
        training.race(setup)
view = training.View(setup, log, plane, classroom)
for text in training.divergence_notes(setup):
    st.warning(text, icon=":material/trending_up:")

st.plotly_chart(training.shown(view, "fitted"), key="tr_fitted", width="stretch", theme=None)
st.plotly_chart(training.shown(view, "loss"), key="tr_loss", width="stretch", theme=None)
st.plotly_chart(training.shown(view, "layers"), key="tr_layers", width="stretch", theme=None)
if not training.ready(setup, plane):
    with st.spinner("Evaluating the loss on the plane…", show_time=True):
        training.landscape((setup, plane))
st.plotly_chart(training.shown(view, "landscape"), key="tr_landscape", width="stretch", theme=None)

training_panels.results_table(setup, level)
if not classroom:
    training_panels.export_panel(view)
    training_panels.share_panel(url)
