"""The Labs page's parts: cached lab runs, the knobs, the results table, the links.

A lab is run through :func:`lab_result` (one memo shared by all sessions, keyed by the
lab's id and its knob values); everything else here turns a result into what the page
shows.
"""

from __future__ import annotations

import math
from functools import lru_cache
from typing import Any
from urllib.parse import urlencode

import streamlit as st

from optim.labs import LABS, SLIPS, Lab, LabResult

from . import nav, runlist
from .controls import COMPARE, CUSTOM, MAX_STEPS, spec_widget, surface_label
from .figures.lab import lab_figure
from .maps import maps_query
from .state import UrlSettings

CLASSIC = [lab_id for lab_id, lab in LABS.items() if lab.mistake is None]
MISTAKES = [lab_id for lab_id, lab in LABS.items() if lab.mistake is not None]


def choice_label(lab_id: str) -> str:
    lab = LABS[lab_id]
    return f"Post's mistake: {lab.title}" if lab.mistake else lab.title


@lru_cache(maxsize=64)
def lab_result(lab_id: str, knobs: tuple[tuple[str, Any], ...]) -> LabResult:
    return LABS[lab_id].run(**dict(knobs))


@lru_cache(maxsize=64)
def figures(lab_id: str, knobs: tuple[tuple[str, Any], ...], classroom: bool) -> tuple:
    return tuple(lab_figure(c, classroom) for c in lab_result(lab_id, knobs).charts)


def knob_controls(url: UrlSettings, lab: Lab) -> tuple[tuple[str, Any], ...]:
    """One widget per knob (keys ``lab_<id>_<knob>``, bound to the address)."""
    values = []
    for spec in lab.knobs:
        values.append((spec.name, spec_widget(url, spec, f"lab_{lab.id}_{spec.name}")))
    return tuple(values)


def number(v: float) -> str:
    if not math.isfinite(v):
        return str(v)
    if v != 0 and (abs(v) < 1e-3 or abs(v) >= 1e5):
        return f"{v:.3e}"
    return f"{v:.6g}" if float(v).is_integer() else f"{v:.5g}"


def result_rows(lab: Lab, result: LabResult) -> list[dict[str, str]]:
    """One row per measured number: what it is, measured, expected, tolerance, ✓/✗."""
    checks = result.checks
    rows = []
    for key, label in lab.labels.items():
        expected = result.expected.get(key)
        tol = result.tolerances.get(key)
        rows.append(
            {
                "quantity": label,
                "key": key,
                "measured": number(result.measured[key]),
                "expected": "shown, not checked" if expected is None else number(expected),
                "tolerance": "" if tol is None else tol.text(),
                "check": "" if key not in checks else ("✓" if checks[key] else "✗"),
            }
        )
    return rows


def verdict(result: LabResult) -> tuple[bool, str]:
    """The ✓/✗ line: whether every check holds, in words, with the tolerances."""
    checks = result.checks
    n = len(checks)
    tols = "; ".join(f"{k} {result.tolerances[k].text()}" for k in checks)
    if result.passed:
        holds = "the check holds" if n == 1 else f"all {n} checks hold"
        return True, f"✓ Reproduced: {holds} (tolerances: {tols})."
    bad = ", ".join(k for k, ok in checks.items() if not ok)
    return False, f"✗ Not reproduced: {bad} outside its tolerance (tolerances: {tols})."


# -- links to the other pages ------------------------------------------------------------------
def playground_link(setup: dict) -> str:
    """The Playground's address for a setup.

    ``setup``: ``surface`` (a registered name) or ``formula`` (a custom one), ``start``
    (x0, y0), ``steps`` (cut to the Playground's longest run) and ``runs`` (optimizer name
    -> hyperparameters), each run with its own settings.
    """
    extra = {"compare": COMPARE["own"]}  # each run its own learning rate
    if "formula" in setup:
        surface = surface_label(CUSTOM)
        extra["formula"] = setup["formula"]
    else:
        surface = surface_label(setup["surface"])
    return "/" + runlist.playground_link(
        list(setup["runs"].items()),
        surface=surface,
        start=setup["start"],
        steps=min(int(setup["steps"]), MAX_STEPS),
        **extra,
    )


def maps_link(setup: dict) -> str:
    """The Maps page's address for a setup (see :meth:`optim.labs.Lab.maps_link`)."""
    return f"{page_address('Maps') or '/Maps'}?{urlencode(maps_query(setup), doseq=True)}"


def setup_links(lab: Lab, knobs: tuple[tuple[str, Any], ...]) -> None:
    """The buttons that open this lab's setup on the Playground and the Maps page."""
    buttons = (
        (
            lab.setup_link(**dict(knobs)),
            playground_link,
            "Open this setup on the Playground",
            "The same surface, start, optimizers and hyperparameters, run on the Playground.",
        ),
        (
            lab.maps_link(**dict(knobs)),
            maps_link,
            "Open the basins of attraction on the Maps page",
            "Which minimum each start reaches, for the same optimizer and settings.",
        ),
    )
    for setup, address, label, help_text in buttons:
        if setup is not None:
            st.link_button(label, address(setup), icon=":material/open_in_new:", help=help_text)


def page_address(title: str) -> str | None:
    """The address of the app's page with this title, ``None`` when there is none."""
    for spec in nav.PAGES:
        if spec.title == title:
            return "/" + nav.url_path(spec)
    return None


def lab_address(lab_id: str) -> str:
    """A link to one lab on this page (for the other pages)."""
    return f"/Labs?{urlencode({'lab': lab_id})}"


def show_lab(lab: Lab, url: UrlSettings, classroom: bool) -> tuple[tuple[str, Any], ...]:
    """Question, the rules (a mistake), setup, knobs, charts, expected vs measured and the
    ✓/✗ line of one lab; returns the knob values."""
    st.markdown(f"**Question.** {lab.question}")
    if lab.mistake:
        m = lab.mistake
        st.markdown(f"**Where.** {m.post}, {m.where}.")
        st.markdown("**The post's rule** ✗")
        st.latex(m.wrong)
        st.markdown("**The correct rule** ✓")
        st.latex(m.right)
    st.markdown(f"**Setup.** {lab.setup}")
    knobs = knob_controls(url, lab)
    for note in url.pop_notices():  # a knob's value from the link, corrected
        st.warning(note, icon=":material/link:")
    result = lab_result(lab.id, knobs)
    for k, fig in enumerate(figures(lab.id, knobs, classroom)):
        st.plotly_chart(fig, key=f"lab_chart_{k}", width="stretch", theme=None)
    st.markdown(f"**What to expect.** {lab.expectation}")
    st.dataframe(result_rows(lab, result), hide_index=True, key="lab_table")
    ok, text = verdict(result)
    (st.success if ok else st.error)(text)
    return knobs


def show_slips() -> None:
    """The posts' slips of text, each the post's statement beside the correct one."""
    with st.expander("More slips in the posts (statements, nothing to run)"):
        for slip in SLIPS:
            st.markdown(
                f"**{slip.post}**, {slip.where}: {slip.consequence}\n\n"
                f"✗ ${slip.wrong}$\n\n✓ ${slip.right}$"
            )
