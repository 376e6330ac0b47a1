"""Labs: the classic results and the source posts' mistakes, reproduced live and checked."""

import streamlit as st

from optim.labs import LABS
from ui import labs, nav
from ui.state import UrlSettings

classroom = nav.in_classroom()
url = UrlSettings(st.query_params, st.session_state)
choices = labs.CLASSIC + labs.MISTAKES
url.check_choice("lab", "lab", {k: k for k in choices})
if not classroom:
    st.title("Labs")
    st.caption(
        "Each lab puts one published claim, or one formula from the course's source posts, "
        "to the test: the same setup, run live, the expected number beside the measured one."
    )
lab_id = st.sidebar.selectbox(
    "Lab", choices, format_func=labs.choice_label, key="lab", bind="query-params"
)
lab = LABS[lab_id]
url.record("lab", None if lab_id == choices[0] else lab_id)
for note in url.pop_notices():
    st.warning(note, icon=":material/link:")

st.header(lab.title)
st.caption(f"Source: {lab.source}")
knobs = labs.show_lab(lab, url, classroom)

labs.setup_links(lab, knobs)
related = labs.page_address(lab.related_page) if lab.related_page else None
if related:
    st.markdown(
        f"Race the optimizers yourself, from one shared start: [{lab.related_page}]({related})."
    )
if lab.mistake:
    labs.show_slips()
