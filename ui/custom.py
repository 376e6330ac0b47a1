"""A typed formula's window (the x and y ranges it is drawn, checked and run on) and its kinks.

The window is four typed numbers bound to the link (``xmin``, ``xmax``, ``ymin``, ``ymax``;
left out at the default [-3, 3]²). A link value beyond ``optim.expression.MAX_BOUND`` is
clamped with a notice, like every number in a link; a range that is empty or narrower than
``MIN_SPAN`` (typed or linked) is replaced by the default range of that axis, with a notice.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import streamlit as st

from optim.expression import MAX_BOUND, MIN_SPAN, WINDOW, check_window, default_start
from optim.surfaces import Surface

from .state import UrlSettings, fmt_number

# link key, label, axis (0: x, 1: y), end (0: from, 1: to)
WINDOW_KEYS = (("xmin", "x from", 0, 0), ("xmax", "x to", 0, 1), ("ymin", "y from", 1, 0),
               ("ymax", "y to", 1, 1))  # fmt: skip


def fix_window(values: Mapping[str, float]) -> tuple[tuple[tuple[str, float], ...], list[str]]:
    """The window's surface parameters (``()`` at the default) and notices for what was fixed.

    >>> fix_window({"xmin": -3, "xmax": 3, "ymin": -3, "ymax": 3})
    ((), [])
    >>> fix_window({"xmin": 0, "xmax": 10, "ymin": 5, "ymax": 5})[0]
    (('xmin', 0.0), ('xmax', 10.0), ('ymin', -3.0), ('ymax', 3.0))
    """
    notes = []
    ranges = []
    for axis, var in enumerate("xy"):
        lo, hi = float(values[f"{var}min"]), float(values[f"{var}max"])
        if not hi - lo >= MIN_SPAN:
            lo, hi = WINDOW[axis]
            notes.append(
                f"The {var} range from {fmt_number(float(values[f'{var}min']))} to "
                f"{fmt_number(float(values[f'{var}max']))} is empty or too narrow: its end must "
                f"be at least {fmt_number(MIN_SPAN)} above its start. Using [{fmt_number(lo)}, "
                f"{fmt_number(hi)}] for {var}."
            )
        ranges.append((lo, hi))
    window = check_window(ranges)
    if window == WINDOW:
        return (), notes
    return tuple((key, window[axis][end]) for key, _, axis, end in WINDOW_KEYS), notes


def window_of(params: tuple[tuple[str, float], ...]) -> Any:
    """The window that :func:`fix_window`'s parameters stand for (``None``: the default)."""
    if not params:
        return None
    values = dict(params)
    return tuple((values[f"{var}min"], values[f"{var}max"]) for var in "xy")


def window_in(store: Mapping[str, Any]) -> tuple[tuple[str, float], ...]:
    """The window's parameters from the session's bound values (``()``: unset or unusable)."""
    try:
        return fix_window({key: float(store[key]) for key, *_ in WINDOW_KEYS})[0]
    except (KeyError, TypeError, ValueError):
        return ()


def _reset_start() -> None:
    """The window changed: the start goes where it starts in the new window."""
    window = window_of(window_in(st.session_state)) or WINDOW
    st.session_state["x0"], st.session_state["y0"] = default_start(window)


def window_controls(url: UrlSettings) -> tuple[tuple[str, float], ...]:
    """The four typed bounds in the sidebar; returns the window's surface parameters."""
    st.sidebar.caption(
        f"Window: where the formula must be finite, where its minimum is looked for and "
        f"where runs start (each bound within ±{fmt_number(MAX_BOUND)})."
    )
    cols = st.sidebar.columns(2)
    values = {}
    for key, label, axis, end in WINDOW_KEYS:
        default = WINDOW[axis][end]
        url.check_number(key, label, -MAX_BOUND, MAX_BOUND)
        values[key] = cols[end].number_input(
            label.capitalize(),
            -MAX_BOUND,
            MAX_BOUND,
            default,
            step=0.5,
            format="%g",
            key=key,
            bind="query-params",
            on_change=_reset_start,
        )
        url.record(key, None if values[key] == default else fmt_number(values[key]))
    params, notes = fix_window(values)
    for note in notes:
        url.notice(note)
    return params


def kink_note(surface: Surface) -> str:
    """What the page says about a surface's kinks: where, and the gradient used there."""
    kinks = getattr(surface, "kinks", ())
    if len(kinks) == 0:
        return ""
    tips = surface.grad(kinks)
    where = "; ".join(
        f"at ({fmt_number(x)}, {fmt_number(y)}) the runs use ({fmt_number(gx)}, {fmt_number(gy)})"
        for (x, y), (gx, gy) in zip(kinks.tolist(), (tips.round(12) + 0.0).tolist(), strict=True)
    )
    return (
        f"This surface has a kink: its gradient formula is undefined at "
        f"{'a point' if len(kinks) == 1 else f'{len(kinks)} points'} where the surface "
        f"itself is finite (like the tip of a cone). There a run uses a subgradient, the "
        f"shortest of the slopes around the point: {where}. PyTorch's autograd would give "
        f"NaN at the tip of `sqrt(x**2 + y**2)` (the slope of sqrt at 0 is infinite, times "
        f"0); `torch.linalg.vector_norm` and `abs` give 0 there, as here."
    )
