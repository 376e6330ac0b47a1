"""The Playground: a race of up to eight runs across a loss surface (the landing page)."""

import streamlit as st

from ui import controls, custom, exercise, nav, panels, presets, race, race_chart, runs
from ui.state import UrlSettings, escape_markdown

classroom = nav.in_classroom()
url = UrlSettings(st.query_params, st.session_state)
hidden = exercise.keep_in_link(url, "Playground")  # an exercise link's hidden controls
box = exercise.boxes(hidden)  # their stand-ins: values from the link, nothing drawn
url.check_bool("view3d", "3-D view")  # its toggle is drawn below the notices
if not classroom:
    st.title("Optimizer Playground")
    st.caption("Race up to eight runs; click the map to move the start.")

# -- sidebar: every setting, each one bound to the URL
exercise.heading("Loss surface", hidden, "surface", "formula", "start")
name, params, formula = controls.surface_controls(url, box)
key, surface, formula_error = runs.resolve_surface(name, params, formula)
start = controls.start_controls(url, surface, box.get("start"))
exercise.heading("Runs", hidden, "presets", "runs")
if "presets" not in hidden:
    presets.preset_buttons()
mode, choices = race.race_controls(url, surface, name, box)
exercise.heading("Settings for every run", hidden, "steps", "noise", "seed", "schedule", "tol")
run = controls.run_controls(url, surface, box)

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
view = runs.View(key, tuple(choices), start, run, classroom, subtitle, hide=hidden)
for text in [] if "messages" in hidden else runs.messages(series):
    st.warning(text, icon=":material/trending_up:")
if not (classroom or "about" in hidden):
    panels.about_surface(surface, run)
if kinks := custom.kink_note(surface):
    st.info(kinks, icon=":material/change_history:")

view3d = box.get("view3d", st).toggle("3-D view", key="view3d", bind="query-params")
url.record("view3d", "true" if view3d else None)
step, loss_log = panels.step_controls(url, runs.last_step(view), box.get("step"))
view = runs.View(key, tuple(choices), start, run, classroom, subtitle, loss_log, hidden)
if view3d:
    st.plotly_chart(runs.shown(view, "surface3d"), key="surface3d", width="stretch", theme=None)
else:
    race_chart.race_chart(
        runs.race_at(view, step),
        key="contour",
        on_select=None if "start" in hidden else controls.set_start_from_click,
    )

for note in url.pop_notices():
    notices.warning(note, icon=":material/link:")
panels.below_the_race(view, step, choices, series, hidden)
if not (classroom or "export" in hidden):
    panels.export_panel(view, series)
if not (classroom or "share" in hidden):
    panels.share_panel(url)
if not (classroom or exercise.in_exercise(st.query_params)):  # the teacher's own page only
    exercise.exercise_panel(url, "Playground")
