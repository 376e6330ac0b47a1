"""Training: the neural-network race of the PyTorch post, exact to torch, with a landscape slice."""

import streamlit as st

from ui import exercise, nav, training, training_panels, training_runs
from ui.state import UrlSettings

classroom = nav.in_classroom()
url = UrlSettings(st.query_params, st.session_state)
hidden = exercise.keep_in_link(url, "Training")  # an exercise link's hidden controls
if not classroom:
    st.title("Training a network")
    st.caption(
        "The race that ends the PyTorch post: optimizers train the same small network on "
        "minibatches of noisy data. The numbers are the ones torch.nn + torch.optim compute."
    )

setup, errors, (log, plane, level) = training_runs.setup_controls(url, exercise.boxes(hidden))
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

for chart in ("fitted", "loss", "layers", "landscape"):
    if chart in hidden:
        continue
    if chart == "landscape" and not training.ready(setup, plane):
        with st.spinner("Evaluating the loss on the plane…", show_time=True):
            training.landscape((setup, plane))
    st.plotly_chart(training.shown(view, chart), key=f"tr_{chart}", width="stretch", theme=None)

if "results" not in hidden:
    training_panels.results_table(setup, level)
if not (classroom or "export" in hidden):
    training_panels.export_panel(view, hidden)
if not (classroom or "share" in hidden):
    training_panels.share_panel(url)
if not (classroom or exercise.in_exercise(st.query_params)):  # the teacher's own page only
    exercise.exercise_panel(url, "Training")
