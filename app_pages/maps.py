"""Maps: how the outcome changes with the setting, and what theory predicts."""

import streamlit as st

from optim.sweep import start_workers
from ui import exercise, maps, nav
from ui.state import UrlSettings

start_workers()  # big maps use every core; the workers boot in the background, once
classroom = nav.in_classroom()
url = UrlSettings(st.query_params, st.session_state)
hidden = exercise.keep_in_link(url, "Maps")  # an exercise link's hidden controls
box = exercise.boxes(hidden)  # their stand-ins: values from the link, nothing drawn
if not classroom:
    st.title("Maps")
    st.caption(
        "A race shows one setting. These maps show how the result changes with the setting: "
        "thousands of runs at once, on any surface, beside what theory predicts."
    )
setup = maps.setup_controls(url, classroom, box)
url.check_choice("map_view", "view", maps.VIEWS)
view = box.get("view", st).segmented_control(
    "Show",
    list(maps.VIEWS),
    format_func=maps.VIEWS.get,
    key="map_view",
    bind="query-params",
    default="map",
)
url.record("map_view", None if view in (None, "map") else maps.VIEWS[view])
for note in url.pop_notices():
    st.warning(note, icon=":material/link:")
if setup is not None:
    if view == "basins":
        maps.basins_section(url, setup)
    elif view == "race":
        maps.race_section(url, setup)
    else:
        maps.sensitivity_section(url, setup)
if not (classroom or "share" in hidden):
    maps.share_panel(url)
if not (classroom or exercise.in_exercise(st.query_params)):  # the teacher's own page only
    exercise.exercise_panel(url, "Maps")
