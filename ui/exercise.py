"""Exercise links: a task on top of the page and controls hidden by the link.

A teacher's link may carry ``task=...`` (shown above the page as plain text) and, for any
control or panel of the page, ``<name>_hide=true`` (as in TensorFlow Playground's links).
A hidden control is not drawn at all (see :mod:`ui.hidden`); its value is still the
link's, and the page computes with it. Nothing on the page brings it back: classroom
mode's "leave" button is left out, and so are the panels that would build a link
without the hides.

The names a page understands are listed once, in :data:`HIDEABLE`; the README lists them
too. A link's bad values (``surface_hide=maybe``, a name the page does not know, a task
too long) are reported with the page's other link notices, quoted as text.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from typing import Any

import streamlit as st

from .hidden import Hidden
from .state import UrlSettings, quote

SUFFIX = "_hide"
TASK_KEY = "task"
MAX_TASK = 500  # characters of a task shown; the rest is cut, with a notice
MAX_TASK_LINES = 12

# page title -> {name: what it hides}, in the order the exercise panel lists them
HIDEABLE: dict[str, dict[str, str]] = {
    "Playground": {
        "surface": "the surface choice and its settings",
        "formula": "the formula box (custom surface)",
        "start": "the start point (and moving it by a click on the map)",
        "presets": "the presets",
        "runs": "the whole runs editor: learning-rate mode, the list, adding runs",
        "run_settings": "each run's settings (the list of runs stays visible)",
        "steps": "the number of steps",
        "noise": "the gradient noise",
        "seed": "the seed",
        "schedule": "the learning-rate schedule",
        "tol": "early stopping (tolerance and patience)",
        "view3d": "the 3-D view switch",
        "step": "the step controls (±1, the step shown, the loss axis)",
        "loss": "the loss chart",
        "grad_norm": "the gradient-norm chart",
        "eff_lr": "the effective learning-rate charts",
        "data": "the data view (data problems)",
        "messages": "the explanations of runs that blew up",
        "results": "the results table",
        "inspector": "the step inspector",
        "rules": "the update rules",
        "about": "the surface's formula and description",
        "export": "the export panel",
        "share": "the share panel",
    },
    "Training": {
        "runs": "the runs: presets, how many, each run's optimizer and settings",
        "data": "the data set and its label noise",
        "network": "the network: hidden layers, units, activation",
        "training": "epochs, batch size, seed and initialisation",
        "chart_settings": "the chart settings (log scale, landscape plane, table's loss level)",
        "fitted": "the fitted-function chart",
        "loss": "the loss chart",
        "layers": "the per-layer chart",
        "landscape": "the landscape slice",
        "results": "the results table",
        "export": "the export panel",
        "share": "the share panel",
    },
    "Maps": {
        "surface": "the surface choice and its settings (or formula)",
        "start": "the start point",
        "steps": "the number of steps",
        "tol": "early stopping",
        "optimizers": "the optimizers and their settings",
        "view": "the choice of view (map, basins, race)",
        "share": "the share panel",
    },
}
# Hiding any of these also hides the presets: a preset would set them anew.
PRESET_SETS = ("surface", "start", "runs", "run_settings", "steps", "noise", "schedule", "tol")

_TRUE = ("true", "1", "yes", "on")
_FALSE = ("false", "0", "no", "off")
_MARKUP = re.compile(r"<\s*[a-zA-Z/!]|\]\s*\(|!\[|\]\s*:|https?://|www\.", re.IGNORECASE)


def hide_key(name: str) -> str:
    return f"{name}{SUFFIX}"


def _hides_in(query: Any) -> dict[str, str]:
    """Every ``<name>_hide`` key of the link -> its raw value."""
    return {
        k[: -len(SUFFIX)]: str(query[k])
        for k in list(query)
        if k.endswith(SUFFIX) and len(k) > len(SUFFIX)
    }


def hidden_names(query: Any, page: str) -> frozenset[str]:
    """The names of ``page`` the link hides (unknown names and unusable values left out)."""
    names = HIDEABLE.get(page, {})
    asked = {n for n, raw in _hides_in(query).items() if n in names and _is_true(raw)}
    if asked & set(PRESET_SETS) and "presets" in names:
        asked.add("presets")
    return frozenset(asked)


def _is_true(raw: str) -> bool:
    return raw.strip().lower() in _TRUE


def clean_task(raw: str) -> tuple[str, bool]:
    """The task as shown: printable text, at most :data:`MAX_TASK` characters and
    :data:`MAX_TASK_LINES` lines; and whether anything was cut.

    >>> clean_task("Find\\x07 the lr  \\n\\n\\n\\nthat works")
    ('Find the lr\\n\\nthat works', False)
    """
    text = "".join(
        c for c in str(raw) if c == "\n" or unicodedata.category(c)[0] != "C"
    )  # no control characters: a bell, a right-to-left override, a NUL
    lines = [line.rstrip() for line in text.split("\n")]
    text = re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()
    cut = False
    lines = text.split("\n")
    if len(lines) > MAX_TASK_LINES:
        text, cut = "\n".join(lines[:MAX_TASK_LINES]), True
    if len(text) > MAX_TASK:
        text, cut = text[: MAX_TASK - 1].rstrip() + "…", True
    return text, cut


def task_of(query: Any) -> str:
    """The task the link sets, as shown ('' for none)."""
    raw = query.get(TASK_KEY) if TASK_KEY in query else None
    return clean_task(raw)[0] if raw is not None else ""


def in_exercise(query: Any) -> bool:
    """A task or any hide set: the link is a student's, not the teacher's own."""
    return bool(task_of(query)) or any(_is_true(v) for v in _hides_in(query).values())


# -- the frame's part: the task on top, notices about the link's exercise keys ---------------
def show_task(url: UrlSettings, page: str) -> None:
    """Check the link's exercise keys (notices once per visit) and show its task on top."""
    names = HIDEABLE.get(page, {})
    for name, raw in _hides_in(st.query_params).items():
        if url.take(hide_key(name)) is None:
            continue  # already checked in this visit
        if name not in names:
            known = ", ".join(names) if names else "none"
            url.notice(
                f"Ignored {quote(hide_key(name))} from the link: the {page} page has no "
                f"control or panel called {quote(name)} (it can hide: {known})."
            )
        elif not (_is_true(raw) or raw.strip().lower() in _FALSE):
            url.notice(
                f"Ignored {quote(hide_key(name))} = {quote(raw)} from the link: expected "
                "true or false."
            )
    raw = st.query_params.get(TASK_KEY) if TASK_KEY in st.query_params else None
    if raw is None:
        return
    text, cut = clean_task(raw)
    if url.take(TASK_KEY) is not None:
        if cut:
            url.notice(
                f"The task in the link is longer than {MAX_TASK} characters or "
                f"{MAX_TASK_LINES} lines; it is cut."
            )
        if _MARKUP.search(text):
            url.notice(
                "The task is shown as plain text: links, pictures and formatting in it are "
                "shown as typed, never followed."
            )
    if text:
        with st.container(border=True, key="exercise_task"):
            st.caption("Your task")
            st.text(text)  # st.text renders no Markdown and no HTML: the text, as typed


def keep_in_link(url: UrlSettings, page: str) -> frozenset[str]:
    """The names the link hides, recorded with its task so that shared links keep them."""
    hidden = hidden_names(st.query_params, page)
    for name in HIDEABLE.get(page, {}):
        url.record(hide_key(name), "true" if name in hidden else None)
    url.record(TASK_KEY, task_of(st.query_params) or None)
    return hidden


def heading(text: str, hidden: frozenset[str], *names: str) -> None:
    """A sidebar heading over controls ``names``, left out when they are all hidden."""
    if not set(names) <= hidden:
        st.sidebar.subheader(text)


def boxes(hidden: frozenset[str]) -> dict[str, Any]:
    """For each hidden name, a :class:`~ui.hidden.Hidden` container; a page passes it on
    and asks ``.get(name, st.sidebar)`` for the container of a control."""
    ghost = Hidden(st.query_params, st.session_state)
    return {name: ghost for name in hidden}


# -- the teacher's panel -------------------------------------------------------------------------
def exercise_link(
    url: UrlSettings, base: str | None, page: str, hide: Mapping[str, bool], task: str, **extra
) -> str:
    """The current settings' link with ``hide``'s picked names hidden and ``task`` on top."""
    names = HIDEABLE.get(page, {})
    params = {k: v for k, v in url.params.items() if not k.endswith(SUFFIX) and k != TASK_KEY}
    keys = {hide_key(n): "true" for n in names if hide.get(n)}
    text = clean_task(task)[0]
    if text:
        keys[TASK_KEY] = text
    link = UrlSettings({}, {})
    link.params = {**params, **keys}
    return link.link(base, **extra)


def exercise_panel(url: UrlSettings, page: str) -> None:
    """Build an exercise link from the current settings: what to hide, and a task."""
    names = HIDEABLE.get(page, {})
    # drawn only while open: its two dozen widgets cost every rerun nothing when closed
    panel = st.expander(
        "Make an exercise", icon=":material/assignment:", key="ex_panel", on_change="rerun"
    )
    if not panel.open:
        return
    with panel:
        st.caption(
            "A link for students: these settings, with the controls you tick hidden "
            "(they keep the values set here) and a task on top, shown as plain text."
        )
        task = st.text_area(
            "Task (plain text)",
            key="ex_task",
            max_chars=MAX_TASK,
            placeholder="e.g. Which learning rate makes plain SGD blow up? Find the "
            "largest one that still arrives.",
        )
        st.caption("Hide:")
        cols = st.columns(3)
        picked = {
            name: cols[i % 3].checkbox(name.replace("_", " "), key=f"ex_hide_{name}", help=what)
            for i, (name, what) in enumerate(names.items())
        }
        projector = st.checkbox("For the projector (classroom mode)", key="ex_classroom")
        extra = {"classroom": "1"} if projector else {}
        st.code(
            exercise_link(url, st.context.url, page, picked, task, **extra),
            language=None,
            wrap_lines=True,
        )
