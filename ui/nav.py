"""Page setup shared by every page: config, our own sidebar navigation, classroom mode.

Streamlit's built-in page list is hidden (``client.showSidebarNavigation = false``);
this sidebar is built from :data:`PAGES` with ``st.page_link``, so deep links and
the landing page show the same navigation.
"""

from __future__ import annotations

import gc
import itertools

import streamlit as st

from .state import classroom_requested

# path, label, Material icon: the landing page first
PAGES = (
    ("app.py", "Playground", ":material/show_chart:"),
    ("pages/1_Algorithms.py", "Algorithms", ":material/functions:"),
)


_runs = itertools.count(1)  # next() on it is atomic: sessions run in threads of their own


def settle_heap() -> None:
    """At the server process's second script run: collect once, then freeze what is alive.

    Streamlit collects garbage after every script run (``runner.postScriptGC``). A full
    collection walks every object alive; with Streamlit, SymPy, Plotly and pandas loaded
    that is about 180,000 objects and some 70 ms on the script thread, holding the GIL, so
    the run's last messages reach the browser that much later. What the first run loaded
    (modules, registries, compiled surfaces) lives as long as the process: frozen with
    ``gc.freeze``, later collections skip it and take well under a millisecond. Objects made
    afterwards are collected as usual. The price, once per process: what the first
    session still holds is frozen too, so its reference cycles outlive that session.
    """
    if next(_runs) == 2:
        gc.collect()
        gc.freeze()


def leave_classroom() -> None:
    """Button callback: drop the flag from the URL and bring the controls back."""
    if "classroom" in st.query_params:
        del st.query_params["classroom"]


def setup(title: str, icon: str) -> bool:
    """Configure the page and draw the navigation; returns whether classroom mode is on."""
    settle_heap()
    classroom = classroom_requested(st.query_params)
    st.set_page_config(
        page_title=f"{title} · Optimizer Playground",
        page_icon=icon,
        layout="wide",
        initial_sidebar_state="collapsed" if classroom else "expanded",
    )
    with st.sidebar:
        st.markdown("**Optimizer Playground**")
        for path, label, page_icon in PAGES:
            st.page_link(path, label=label, icon=page_icon)
        st.divider()
    if classroom:
        st.button(
            "Leave classroom mode",
            key="leave_classroom",
            on_click=leave_classroom,
            icon=":material/close_fullscreen:",
            help="Show the controls again (the settings stay).",
        )
    return classroom
