"""The frame every page shares: page configuration, the navigation, classroom mode.

The pages are listed once, in :data:`PAGES`; Streamlit's router (``st.navigation``)
builds the menu from it, so each link points at the page it names and a deep link
(``/Algorithms?...``) opens its page with the full menu, on a fresh server too.
"""

from __future__ import annotations

import contextlib
import gc
import itertools
import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import streamlit as st
from streamlit.navigation.page import StreamlitPage

from . import downloads, exercise
from .state import UrlSettings, classroom_requested

APP_NAME = "Optimizer Playground"


@dataclass(frozen=True)
class PageSpec:
    """One page: its menu section, script (relative to the entry file), title and icon.

    The title is also the page's address (``/Algorithms``), except for the landing page,
    which lives at ``/``.
    """

    section: str
    script: str
    title: str
    icon: str


# In menu order, the landing page first. A new page is one line here. Icons are emoji:
# the browser draws a page's icon as the tab's icon while the page loads, and a Material
# icon there is fetched from an outside font server by every visitor (emoji are drawn
# locally).
PAGES: tuple[PageSpec, ...] = (
    PageSpec("Explore", "app_pages/playground.py", "Playground", "📉"),
    PageSpec("Explore", "app_pages/training.py", "Training", "🧠"),
    PageSpec("Explore", "app_pages/maps.py", "Maps", "🗺️"),
    PageSpec("Learn", "app_pages/algorithms.py", "Algorithms", "🧮"),
    PageSpec("Learn", "app_pages/labs.py", "Labs", "🧪"),
)


def url_path(spec: PageSpec) -> str:
    """The page's address below the app's root: ``""`` for the landing page."""
    return "" if spec is PAGES[0] else spec.title


# The browser tab's icon, served by the app itself: a Material icon as page_icon makes every
# visitor's browser fetch it from an outside font server (the menu's icons are a bundled font).
ICON = str(Path(__file__).with_name("icon.png"))

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


# How many page runs this process works on at once; the others wait their turn. A class
# opening the link together starts sixty runs at the same moment: run side by side, they
# share one GIL with the server's event loop and all finish together at the end, while
# the loop has sent almost nothing (60 sessions, one process: every first page at
# 10-11 s, half of them at 10.7 s). One at a time, each page is sent as soon as it is
# ready: half the class has its page within 3-5 s and the last one sooner than before.
# (Measured by benchmarks/bench_class.py; two slots did worse than one on two cores.)
# More processes, not more slots, is how a server uses more cores: `make serve`.
RUN_SLOTS = max(1, int(os.environ.get("PLAYGROUND_RUN_SLOTS") or 1))
_slots = threading.BoundedSemaphore(RUN_SLOTS)


@contextlib.contextmanager
def run_slot() -> Iterator[None]:
    """Hold one of the process's :data:`RUN_SLOTS` for a page run (the entry file's)."""
    with _slots:
        yield


@contextlib.contextmanager
def outside_slot() -> Iterator[None]:
    """Inside a page run, give its slot to the others while it waits on something slow of
    its own (a slides render: seconds); take a slot again after. Outside a slot (a test
    calling a page part directly) it does nothing."""
    try:
        _slots.release()
    except ValueError:  # no slot held: nothing to give
        yield
        return
    try:
        yield
    finally:
        _slots.acquire()


def in_classroom() -> bool:
    """Classroom mode (``classroom=1`` in the address): controls and menu tucked away."""
    return classroom_requested(st.query_params)


def leave_classroom() -> None:
    """Button callback: drop the flag from the URL and bring the controls back."""
    if "classroom" in st.query_params:
        del st.query_params["classroom"]


def frame() -> StreamlitPage:
    """Set up what every page shares and return the page the address names (to ``.run()``)."""
    settle_heap()
    downloads.install()  # prepared downloads outlive other sessions' reruns
    sections: dict[str, list[StreamlitPage]] = {}
    for spec in PAGES:
        sections.setdefault(spec.section, []).append(
            st.Page(
                spec.script,
                title=spec.title,
                icon=spec.icon,
                url_path=url_path(spec) or None,
                default=spec is PAGES[0],
            )
        )
    page = st.navigation(sections)
    classroom = in_classroom()
    # a classroom flag that cannot be read gets a notice, shown by the page with its others
    url = UrlSettings(st.query_params, st.session_state)
    url.check_flag("classroom", "classroom mode")
    st.set_page_config(
        page_title=f"{page.title} · {APP_NAME}",
        page_icon=ICON,
        layout="wide",
        # the menu and the controls live in the sidebar: classroom mode tucks them away, and
        # "auto" opens it on a wide screen but not over the page on a phone
        initial_sidebar_state="collapsed" if classroom else "auto",
    )
    # an exercise link's task on top; its hidden controls stay hidden: no way back from it
    exercise.show_task(url, page.title)
    if classroom and not exercise.in_exercise(st.query_params):
        st.button(
            "Leave classroom mode",
            key="leave_classroom",
            on_click=leave_classroom,
            icon=":material/close_fullscreen:",
            help="Show the controls again (the settings stay).",
        )
    return page
