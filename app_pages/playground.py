"""The Playground: a race of up to eight runs across a loss surface (the landing page)."""

import streamlit as st

from ui import controls, custom, nav, panels, presets, race, runs
from ui.state import UrlSettings, escape_markdown

classroom = nav.in_classroom()
url = UrlSettings(st.query_params, st.session_state)
url.check_bool("view3d", "3-D view")  # its toggle is drawn below the notices
if not classroom:
    st.title("Optimizer Playground")
    st.caption("Race up to eight runs; click the map to move the start.")

# -- sidebar: every setting, each one bound to the URL
st.sidebar.subheader("Loss surface")
name, params, formula = controls.surface_controls(url)
key, surface, formula_error = runs.resolve_surface(name, params, formula)
start = controls.start_controls(url, surface)
st.sidebar.subheader("Runs")
presets.preset_buttons()
mode, choices = race.race_controls(url, surface, name)
st.sidebar.subheader("Settings for every run")
run = controls.run_controls(url, surface)

# -- main: notices first (filled in once every setting has been read), then the race
notices = st.container()
if formula_error:
    st.error(
        "That formula cannot be used: "
        f"{escape_markdown(formula_error.rstrip('.'))}. Showing the last good one.",
        icon=":material/error:",
    )
for text in panels.choice_notes(mode, choices, surface):
    st.warning(text, icon=":material/block:")

series = runs.all_series(key, choices, start, run)
subtitle = panels.subtitle(mode, run, surface)
view = runs.View(key, tuple(choices), start, run, classroom, subtitle)
for text in runs.messages(series):
    st.warning(text, icon=":material/trending_up:")
if not classroom:
    panels.about_surface(surface, run)
if kinks := custom.kink_note(surface):
    st.info(kinks, icon=":material/change_history:")

view3d = st.toggle("3-D view", key="view3d", bind="query-params")
url.record("view3d", "true" if view3d else None)
step, loss_log = panels.step_controls(url, runs.last_step(view))
view = runs.View(key, tuple(choices), start, run, classroom, subtitle, loss_log)
if view3d:
    st.plotly_chart(runs.shown(view, "surface3d"), key="surface3d", width="stretch", theme=None)
else:
    st.plotly_chart(
        runs.race_at(view, step),
        key="contour",
        width="stretch",
        theme=None,  # the figure's own template, so the screen matches the exported PNG
        on_select=controls.set_start_from_click,
        selection_mode="points",
    )

for note in url.pop_notices():
    notices.warning(note, icon=":material/link:")
if series:
    panels.results_table(view)
    panels.inspector(view, step)
    panels.update_rules(choices)
if not classroom:
    panels.export_panel(view, series)
    panels.share_panel(url)
