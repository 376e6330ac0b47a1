"""A lab's chart: the lines a :class:`optim.labs.Chart` holds, in the shared look."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import plotly.graph_objects as go
import plotly.io as pio

from .series import PALETTE
from .style import INK, TEMPLATE, fonts, header, style_axes, title_layout

HEIGHT = 420


def _axis(title: str, log: bool, values: list[np.ndarray]) -> dict[str, Any]:
    axis: dict[str, Any] = dict(title=dict(text=title), ticks="outside", zeroline=False)
    if log:
        # powers of ten (10⁻⁴), not SI prefixes, which read as units to a student
        axis.update(type="log", exponentformat="power")
        v = np.concatenate([np.ravel(a) for a in values] or [np.zeros(0)])
        v = v[np.isfinite(v) & (v > 0)]
        if v.size and np.log10(v.max() / v.min()) > 1:
            # a tick every decade, or every few when the data span many (at most ~8 ticks)
            axis["dtick"] = max(1, math.ceil(np.log10(v.max() / v.min()) / 8))
    return axis


def lab_figure(chart: Any, classroom: bool = False) -> go.Figure:
    """One line per series (dashed ones are references); log axes where the chart asks.

    Values that cannot be drawn (non-finite, or not positive on a log axis) are gaps.
    """
    f = fonts(classroom)
    # the lab's own lines take the palette in order; references borrow the colour of the
    # line they belong to (or ink), thin and dashed
    colors: dict[str, str] = {}
    for s in chart.series:
        if not s.reference:
            colors[s.label] = PALETTE[len(colors) % len(PALETTE)]
    traces = []
    for s in chart.series:
        x = np.asarray(s.x, dtype=np.float64)
        y = np.asarray(s.y, dtype=np.float64)
        bad = ~np.isfinite(y) | (chart.log_y and (y <= 0)) | ~np.isfinite(x)
        y = np.where(bad, np.nan, y)
        color = colors.get(s.color_of, INK) if s.reference else colors[s.label]
        traces.append(
            dict(
                type="scatter",
                x=x,
                y=y,
                name=s.label,
                mode=("lines+markers" if s.markers else "lines") if s.lines else "markers",
                line=dict(
                    color=color,
                    width=f["faint"] if s.reference else f["line"],
                    dash="dash" if s.reference or s.dash else "solid",
                ),
                marker=dict(size=f["base"] // 2 + 2),
                hovertemplate=f"<b>{s.label}</b><br>%{{x:.4g}}, %{{y:.4g}}<extra></extra>",
            )
        )
    xs = [np.asarray(s.x, dtype=np.float64) for s in chart.series]
    ys = [np.asarray(s.y, dtype=np.float64) for s in chart.series]
    layout: dict[str, Any] = dict(
        template=pio.templates[TEMPLATE],
        title=title_layout(chart.title, "", f["title"]),
        font=dict(size=f["base"], color=INK),
        xaxis=_axis(chart.x_label, chart.log_x, xs),
        yaxis=_axis(chart.y_label, chart.log_y, ys),
        margin=dict(l=80, r=25, b=60),  # what the tick labels take (no second drawing)
        hovermode="closest",
    )
    header(layout, chart.title, "", [s.label for s in chart.series], f, HEIGHT + 80 * classroom)
    style_axes(layout, f)
    return go.Figure(data=traces, layout=layout)
