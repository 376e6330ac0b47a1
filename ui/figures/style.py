"""The look every chart shares: template, fonts, title, a legend under it, axis fonts.

Charts put the inputs of their header in ``layout.meta["header"]``, so that an export
can lay title and legend out again at its own size (:func:`relayout_header`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import plotly.io as pio

from .series import Series

# Set on every figure: importing Streamlit changes Plotly's global default template, and
# a PNG export must look like the screen.
TEMPLATE = "plotly_white"

# The template's containers that hold defaults for every item of a layout array.
_ITEM_DEFAULTS = {
    "annotationdefaults": "annotations",
    "shapedefaults": "shapes",
    "imagedefaults": "images",
    "sliderdefaults": "sliders",
    "updatemenudefaults": "updatemenus",
    "selectiondefaults": "selections",
}


def _under(defaults: Any, value: Any) -> Any:
    """``value`` with ``defaults`` filled in wherever ``value`` leaves a key out."""
    if isinstance(defaults, dict) and isinstance(value, dict):
        out = dict(value)
        for key, default in defaults.items():
            out[key] = _under(default, out[key]) if key in out else default
        return out
    return value


# Template parts that hold figure-wide defaults (not a subplot the figure may lack).
_FIGURE_WIDE = ("font", "hoverlabel", "title", "colorscale")


def bake_template(traces: list[dict], layout: dict, name: str = TEMPLATE) -> None:
    """Write the template's defaults into ``traces`` and ``layout`` themselves, and leave
    the figure without a template: the same picture, drawn with less work.

    With a template, plotly.js looks every attribute a trace or axis leaves unset up in
    the template too, each time it fills in defaults: for every frame of an animation.
    That is a large share of a frame. Only containers the figure has are filled (an
    axis the template styles, but the figure lacks, is not created).
    """
    template = pio.templates[name].to_plotly_json()

    def same_kind(key: str) -> list[str]:  # xaxis: xaxis, xaxis2, ...
        return [k for k in layout if k.rstrip("0123456789") == key]

    for key, default in template.get("layout", {}).items():
        if key in ("xaxis", "yaxis"):
            for axis in same_kind(key):
                own = layout[axis]
                if not {"showline", "linecolor", "linewidth"} & set(own):
                    # plotly.js draws the axis line when a figure names its colour or
                    # width itself (a template's do not count): keep it hidden
                    own = {**own, "showline": False}
                layout[axis] = _under(default, own)
        elif key in _ITEM_DEFAULTS:
            items = layout.get(_ITEM_DEFAULTS[key])
            if items:
                layout[_ITEM_DEFAULTS[key]] = [_under(default, item) for item in items]
        elif isinstance(default, dict) and key not in _FIGURE_WIDE:
            # a subplot or colour axis (scene, polar, coloraxis, ...): where the figure has one
            for own in same_kind(key):
                layout[own] = _under(default, layout[own])
        else:
            layout[key] = _under(default, layout[key]) if key in layout else default
    data = template.get("data", {})
    seen: dict[str, int] = {}  # traces of each type so far: a type's list cycles over them
    for i, trace in enumerate(traces):
        kind = trace.get("type", "scatter")
        own = data.get(kind)
        if own:
            defaults = own[seen.get(kind, 0) % len(own)]
            traces[i] = _under({k: v for k, v in defaults.items() if k != "type"}, trace)
        seen[kind] = seen.get(kind, 0) + 1
    layout["template"] = {}


INK = "#222222"


def fonts(classroom: bool) -> dict:
    return (
        dict(base=18, title=24, line=4.0, faint=2.5, head=16, end=18)
        if classroom
        else dict(base=13, title=17, line=2.5, faint=1.5, head=11, end=13)
    )


def default_title(surface: Any, series: list[Series] | tuple[Series, ...]) -> str:
    label = getattr(surface, "label", "") or str(getattr(surface, "name", ""))
    if not series:
        return label
    names = [s.label for s in series]
    line, lines = "", []
    for name in names:
        piece = name if not line else f"{line}  ·  {name}"
        if len(piece) > 70 and line:
            lines.append(line)
            line = name
        else:
            line = piece
    lines.append(line)
    return f"{label}: " + "<br>".join(lines)


def title_layout(text: str, subtitle: str, size: int) -> dict:
    t: dict[str, Any] = dict(text=f"<b>{text}</b>", x=0.01, xanchor="left", font=dict(size=size))
    if subtitle:
        t["subtitle"] = dict(text=subtitle, font=dict(size=max(size - 4, 11), color="#555"))
    return t


# The chart width the header is laid out for when the figure does not know its own: a
# 1280 px laptop with the sidebar open (820 px), or a 1366 px projector in classroom
# mode. Wider screens show the legend in fewer rows than counted (a little more room
# under it); narrower ones (phones) need more rows, and Plotly then widens the top
# margin itself, at the price of drawing the whole figure twice.
_SCREEN_WIDTH = 820
_CLASSROOM_WIDTH = 1200


def _legend_item_px(text: str, size: float) -> float:
    """A legend entry's width: the 40 px symbol, then the text (~0.5 em a character)."""
    return 44 + 0.5 * size * len(text)


def _legend_rows(items: Sequence[str], size: float, width: float) -> int:
    """How many rows Plotly's horizontal legend of ``items`` takes at ``width`` px.

    The entries stay in one row while they fit; otherwise Plotly lays them out in
    columns as wide as the widest entry.
    """
    if not items:
        return 0
    widths = [_legend_item_px(t, size) for t in items]
    if sum(widths) <= width:
        return 1
    columns = max(1, int(width // max(widths)))
    return math.ceil(len(items) / columns)


def legend_px(rows: int, size: float) -> float:
    """The height Plotly gives a horizontal legend of ``rows`` rows (measured in Chromium:
    30, 50 and 70 px for one to three rows at 13 px; 37 and 90 px for one and three at 18)."""
    return 10 + rows * (1.3 * size + 3) if rows else 0.0


def header(
    layout: dict, title: str, subtitle: str, legend_items: list[str], f: dict, height: int
) -> None:
    """Stack title, subtitle and a horizontal legend in the top margin, in pixels.

    Plotly places the title and an outside legend independently, so they overlap
    unless both are pinned to container coordinates of a known figure height. The
    inputs are kept in ``layout.meta["header"]`` so an export can redo this at its
    own size and fonts (:func:`relayout_header`).
    """
    layout.setdefault("meta", {})["header"] = dict(
        title=title, subtitle=subtitle, legend_items=legend_items
    )
    relayout_header(layout, f["title"], f["base"], height)


def relayout_header(
    layout: dict, title_size: float, base_size: float, height: int, width: int | None = None
) -> None:
    """(Re)place title and legend for a figure ``height`` px tall (and ``width`` px wide,
    if known) with the given fonts.

    The top margin is made as tall as Plotly would make it: the header, the legend, and
    the room the top axis label needs above the plot. A margin Plotly has to widen costs
    a second drawing of the whole figure, on every update.
    """
    info = (layout.get("meta") or {}).get("header")
    if not info:
        return
    lines = info["title"].count("<br>") + 1
    line_px = title_size * 1.3
    title_px = line_px * lines + (base_size * 1.5 if info["subtitle"] else 0)
    top = 14 + title_px + 10
    if width is None:
        width = _CLASSROOM_WIDTH if base_size > 15 else _SCREEN_WIDTH
    margin = layout.setdefault("margin", {})
    room = width - margin.get("l", 80) - margin.get("r", 80)
    rows = _legend_rows(info["legend_items"], base_size, room)
    # what Plotly adds above the plot for its top tick label, beyond the legend
    overhang = 14 + 0.5 * (base_size - 1)
    layout["height"] = height
    # Plotly draws a title anchored at its top from 0.2 em above the anchor when it has
    # one line and from 0.7 em above when it has several (measured in Chromium), then
    # runs down line by line, the subtitle after the last: lift multi-line ones less
    anchor = 14 + (0.5 * title_size if lines > 1 else 0)
    layout.setdefault("title", {}).update(yref="container", y=1 - anchor / height, yanchor="top")
    layout["legend"] = dict(
        layout.get("legend") or {},
        orientation="h",
        # one flat run of entries, as _legend_rows counts them ("grouped", Plotly's
        # default once traces have groups, stacks a group's entries in a column)
        traceorder="normal",
        x=0.0,
        xanchor="left",
        yref="container",
        y=1 - top / height,
        yanchor="top",
    )
    margin["t"] = int(math.ceil(top + legend_px(rows, base_size) + overhang))


def style_axes(layout: dict, f: dict) -> None:
    """Explicit axis fonts, so Streamlit's chart theme cannot shrink or grey them."""
    axes = [v for k, v in layout.items() if k.startswith(("xaxis", "yaxis"))]
    for scene in (v for k, v in layout.items() if k.startswith("scene")):
        axes += [scene.setdefault(a, {}) for a in ("xaxis", "yaxis", "zaxis")]
    for axis in axes:
        axis.setdefault("tickfont", dict(size=f["base"] - 1, color=INK))
        title = axis.setdefault("title", {})
        title.setdefault("font", dict(size=f["base"] + 1, color=INK))


def hover(label: str, vx: str, vy: str) -> str:
    return (
        f"<b>{label}</b><br>step %{{customdata[0]:.0f}}<br>"
        f"{vx} = %{{x:.4g}}, {vy} = %{{y:.4g}}<br>loss %{{customdata[1]:.4g}}<extra></extra>"
    )


def fmt(v: float) -> str:
    return f"{v:.3g}"


def nice_ticks(lo: float, hi: float, n: int = 5) -> list[float]:
    """Round tick values between ``lo`` and ``hi`` (for a log axis spanning less than a
    decade, where Plotly would label bare mantissas).

    >>> nice_ticks(0.18, 0.55)
    [0.2, 0.3, 0.4, 0.5]
    >>> nice_ticks(0.9999999999999999, 1.0)  # a step below rounding would never advance
    [0.9999999999999999]
    """
    if not (hi > lo > 0) or hi - lo <= 1e-9 * hi:
        return [lo]
    raw = (hi - lo) / n
    mag = 10 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw)
    start = math.ceil(lo / step) * step
    ticks = []
    v = start
    while v <= hi * (1 + 1e-9):
        ticks.append(float(f"{v:.6g}"))
        v += step
    return ticks


def log_axis(
    values: Sequence[np.ndarray], n_ticks: int = 5, max_labels: int = 6, **extra: Any
) -> dict:
    """A log axis that always reads as numbers: decade ticks (10⁻³) across decades, and
    round values (0.2, 0.3, ...) when the data span less than one decade. ``max_labels``:
    at most this many decade labels (a short panel has room for few)."""
    axis: dict[str, Any] = dict(type="log", exponentformat="power", **extra)
    v = np.concatenate([np.ravel(a) for a in values] or [np.zeros(0)])
    v = v[np.isfinite(v) & (v > 0)]
    if not v.size:
        return axis
    lo, hi = float(v.min()), float(v.max())
    if hi / lo > 10:
        # a tick every decade, or every second or third one when many decades meet
        # in a short panel (their labels would otherwise run into one another)
        a, b = math.log10(lo), math.log10(hi)
        dtick = max(1, math.ceil((b - a) / 5))
        a, b = a - 0.05 * (b - a), b + 0.05 * (b - a)  # with the charts' 5 % padding
        while dtick < b - a and math.floor(b / dtick) - math.ceil(a / dtick) + 1 > max_labels:
            dtick += 1
        axis["dtick"] = dtick
    else:
        ticks = nice_ticks(lo, hi, n_ticks) if hi > lo else [lo]
        if len(ticks) < 2:  # a flat series: its value, and a range around it
            ticks = [lo]
            axis["range"] = [math.log10(lo) - 0.15, math.log10(lo) + 0.15]
        axis["tickvals"] = ticks
        axis["ticktext"] = [f"{t:.3g}" for t in ticks]
    return axis
