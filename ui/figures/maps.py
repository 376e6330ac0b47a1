"""The Maps page's charts: sensitivity maps, basins of attraction, the tuned race.

Pure functions: results in, ``go.Figure`` out. Panels sit side by side, one per
optimizer, on one colour scale; a diverged cell has a colour of its own with a legend
entry, so it never reads as "a large loss".
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .plotly_fast import fast_figure
from .series import PALETTE
from .style import INK, TEMPLATE, fonts, style_axes, title_layout

DIVERGED = "#7f0000"
NONE = "#d9d9d9"
SCALE = "Viridis"
GAP = 0.06  # between panels, as a share of the width
DECADES = 20.0  # the longest log colour scale


@dataclass(frozen=True)
class Panel:
    """One optimizer's map: ``z`` is ``(len(ys), len(xs))`` (NaN: no value), ``diverged``
    the same shape; ``marks`` are ``(label, x, y, symbol)`` points drawn on top (torch's
    default, the theory's optimum) and ``lines`` ``(label, xs, ys)`` curves (stability edges).
    """

    title: str
    xs: np.ndarray
    ys: np.ndarray
    z: np.ndarray
    diverged: np.ndarray
    marks: tuple = ()
    lines: tuple = ()
    x_log: bool = True
    y_log: bool = False
    x_title: str = "lr"
    y_title: str = ""
    extra: dict = field(default_factory=dict)


def _domains(n: int) -> list[tuple[float, float]]:
    width = (1.0 - GAP * (n - 1)) / n
    return [(i * (width + GAP), i * (width + GAP) + width) for i in range(n)]


def _axis(i: int, letter: str) -> str:
    return f"{letter}axis" if i == 0 else f"{letter}axis{i + 1}"


def _ref(i: int, letter: str) -> str:
    return letter if i == 0 else f"{letter}{i + 1}"


def metric_scale(panels: Sequence[Panel], log: bool) -> tuple[float, float, bool]:
    """One colour range for every panel; log10 when asked and every value is positive."""
    finite = np.concatenate([p.z[np.isfinite(p.z)].ravel() for p in panels] or [np.zeros(0)])
    if finite.size == 0:
        return 0.0, 1.0, False
    use_log = log and bool(np.all(finite > 0))
    values = np.log10(finite) if use_log else finite
    lo, hi = float(values.min()), float(values.max())
    if use_log:  # 20 decades: below that a loss is rounding noise, all one colour
        lo = max(lo, hi - DECADES)
    if hi - lo < 1e-12:
        lo, hi = lo - 0.5, hi + 0.5
    return lo, hi, use_log


def map_figure(
    panels: Sequence[Panel],
    *,
    metric: str,
    title: str,
    subtitle: str = "",
    log_metric: bool = True,
    classroom: bool = False,
    height: int | None = None,
) -> Any:
    """Side-by-side heatmaps on one colour scale, with click targets on every cell.

    Click-target traces carry ``meta = {"panel": i}``; their point ``i * ny + j`` is the
    cell ``(x index j... )``: see :func:`cell_of_click`.
    """
    f = fonts(classroom)
    lo, hi, use_log = metric_scale(panels, log_metric)
    bar_title = f"log10 {metric}" if use_log else metric
    data: list[dict] = []
    layout: dict[str, Any] = dict(
        template=TEMPLATE,
        font=dict(size=f["base"], color=INK),
        title=title_layout(title, subtitle, f["title"]),
        height=height or (560 if classroom else 470),
        # r: the colour bar and its title; Plotly would widen a smaller margin itself, at
        # the price of drawing the map twice on every update
        margin=dict(l=60, r=165, t=110 if subtitle else 80, b=120),
        legend=dict(orientation="h", x=0, y=-0.2, yanchor="top"),
        annotations=[],
        clickmode="event+select",
        dragmode="zoom",
        meta={"panels": []},
    )
    domains = _domains(len(panels))
    legend_seen: set[str] = set()
    for i, (p, dom) in enumerate(zip(panels, domains, strict=True)):
        xa, ya = _ref(i, "x"), _ref(i, "y")
        z = np.where(np.isfinite(p.z), p.z, np.nan)
        with np.errstate(all="ignore"):
            shown = np.log10(z) if use_log else z
        data.append(
            dict(
                type="heatmap",
                x=p.xs.tolist(),
                y=p.ys.tolist(),
                z=np.where(np.isfinite(shown), shown, None).tolist(),
                zmin=lo,
                zmax=hi,
                colorscale=SCALE,
                showscale=i == len(panels) - 1,
                colorbar=dict(title=dict(text=bar_title), len=0.85),
                xaxis=xa,
                yaxis=ya,
                hoverinfo="skip",
                name=p.title,
            )
        )
        if np.any(p.diverged):
            data.append(
                dict(
                    type="heatmap",
                    x=p.xs.tolist(),
                    y=p.ys.tolist(),
                    z=np.where(p.diverged, 1.0, None).tolist(),
                    zmin=0,
                    zmax=1,
                    colorscale=[[0, DIVERGED], [1, DIVERGED]],
                    showscale=False,
                    xaxis=xa,
                    yaxis=ya,
                    hoverinfo="skip",
                    name="diverged",
                )
            )
        for label, lx, ly in p.lines:
            data.append(
                _legend_once(
                    legend_seen,
                    dict(
                        type="scatter",
                        x=list(lx),
                        y=list(ly),
                        mode="lines",
                        line=dict(color=INK, width=f["line"], dash="dash"),
                        name=label,
                        xaxis=xa,
                        yaxis=ya,
                        hoverinfo="name",
                    ),
                )
            )
        for label, mx, my, symbol in p.marks:
            data.append(
                _legend_once(
                    legend_seen,
                    dict(
                        type="scatter",
                        x=[mx],
                        y=[my],
                        mode="markers",
                        marker=dict(
                            symbol=symbol, size=14, color="white", line=dict(color=INK, width=2)
                        ),
                        name=label,
                        xaxis=xa,
                        yaxis=ya,
                        hovertemplate=f"{label}<br>x=%{{x:.4g}}, y=%{{y:.4g}}<extra></extra>",
                    ),
                )
            )
        data.append(_targets(p, i, xa, ya, metric))
        layout["meta"]["panels"].append(
            dict(curve=len(data) - 1, xs=p.xs.tolist(), ys=p.ys.tolist())
        )
        layout[_axis(i, "x")] = dict(
            domain=list(dom),
            type="log" if p.x_log else "linear",
            title=dict(text=p.x_title),
            anchor=ya,
            showgrid=False,
        )
        layout[_axis(i, "y")] = dict(
            type="log" if p.y_log else "linear",
            title=dict(text=p.y_title),
            anchor=xa,
            showgrid=False,
        )
        layout["annotations"].append(_panel_title(f"<b>{p.title}</b>", dom, f["base"] + 1))
    if any(np.any(p.diverged) for p in panels):
        data.append(_swatch("diverged", DIVERGED))
    style_axes(layout, f)
    return fast_figure(data, layout)


def _legend_once(seen: set[str], trace: dict) -> dict:
    trace["legendgroup"] = trace["name"]
    trace["showlegend"] = trace["name"] not in seen
    seen.add(trace["name"])
    return trace


def _swatch(label: str, colour: str) -> dict:
    """A legend entry for a colour that only a heatmap shows."""
    return dict(
        type="scatter",
        x=[None],
        y=[None],
        mode="markers",
        marker=dict(symbol="square", size=14, color=colour),
        name=label,
        showlegend=True,
        hoverinfo="skip",
    )


def _targets(p: Panel, i: int, xa: str, ya: str, metric: str) -> dict:
    """Near-invisible markers, one per cell (one SVG node drawn): a click selects a cell."""
    gx, gy = np.meshgrid(p.xs, p.ys)
    z = np.where(p.diverged, np.nan, p.z).ravel()
    text = np.where(p.diverged.ravel(), "diverged", [f"{v:.4g}" for v in z])
    return dict(
        type="scatter",
        x=gx.ravel().tolist(),
        y=gy.ravel().tolist(),
        text=text.tolist(),
        mode="markers",
        marker=dict(size=10, symbol="square", color="rgba(0,0,0,0.004)", maxdisplayed=1),
        hovertemplate=(
            f"<b>{p.title}</b><br>{p.x_title} = %{{x:.4g}}<br>{p.y_title} = %{{y:.4g}}<br>"
            f"{metric}: %{{text}}<br>click: open on the Playground<extra></extra>"
        ),
        hoverlabel=dict(bgcolor="white", font=dict(color=INK)),
        xaxis=xa,
        yaxis=ya,
        showlegend=False,
        name="cells",
        meta={"panel": i},
        selected=dict(marker=dict(opacity=1)),
        unselected=dict(marker=dict(opacity=1)),
    )


def cell_of_click(fig_meta: dict, point: dict) -> tuple[int, int, int] | None:
    """``(panel, y index, x index)`` of a clicked cell, ``None`` for any other click.

    The point comes from the browser: only a click-target trace counts, and its x, y are
    snapped to the nearest cell (in log distance on a log axis).
    """
    try:
        curve = int(point["curve_number"])
        x, y = float(point["x"]), float(point["y"])
    except (KeyError, TypeError, ValueError, OverflowError):
        return None
    for i, panel in enumerate(fig_meta.get("panels", [])):
        if panel["curve"] == curve:
            if not (math.isfinite(x) and math.isfinite(y)):
                return None
            return i, _nearest(panel["ys"], y), _nearest(panel["xs"], x)
    return None


def _nearest(values: Sequence[float], v: float) -> int:
    arr = np.asarray(values, np.float64)
    if np.all(arr > 0) and v > 0:
        return int(np.argmin(np.abs(np.log(arr) - math.log(v))))
    return int(np.argmin(np.abs(arr - v)))


# -- basins --------------------------------------------------------------------------------
@dataclass(frozen=True)
class BasinPanel:
    title: str
    xs: np.ndarray
    ys: np.ndarray
    labels: np.ndarray  # (ny, nx): minimum index, -1 none, -2 diverged
    minima: np.ndarray
    is_global: np.ndarray


def basin_colours(m: int) -> list[str]:
    """A colour per minimum: the palette, then lighter and darker turns of it."""
    base = list(PALETTE) + ["#8c564b", "#bcbd22", "#17becf", "#7f7f7f"]
    return [base[k % len(base)] for k in range(m)]


def basins_figure(
    panels: Sequence[BasinPanel],
    *,
    title: str,
    subtitle: str = "",
    classroom: bool = False,
    variables: tuple[str, str] = ("x", "y"),
) -> Any:
    """Each start coloured by the minimum it reached; grey: none; dark red: diverged."""
    f = fonts(classroom)
    m = max((len(p.minima) for p in panels), default=0)
    colours = basin_colours(m)
    # z = label + 2: 0 diverged, 1 none, 2.. the minima; a discrete colour scale over them
    stops = [DIVERGED, NONE, *colours]
    n = len(stops)
    scale = []
    for k, c in enumerate(stops):
        scale += [[k / n, c], [(k + 1) / n, c]]
    data: list[dict] = []
    layout: dict[str, Any] = dict(
        template=TEMPLATE,
        font=dict(size=f["base"], color=INK),
        title=title_layout(title, subtitle, f["title"]),
        height=560 if classroom else 470,
        margin=dict(l=60, r=20, t=90 if subtitle else 70, b=110),
        legend=dict(orientation="h", x=0, y=-0.2, yanchor="top"),
        annotations=[],
    )
    seen: set[str] = set()
    for i, (p, dom) in enumerate(zip(panels, _domains(len(panels)), strict=True)):
        xa, ya = _ref(i, "x"), _ref(i, "y")
        data.append(
            dict(
                type="heatmap",
                x=p.xs.tolist(),
                y=p.ys.tolist(),
                z=(p.labels + 2).tolist(),
                zmin=0,
                zmax=n,
                colorscale=scale,
                showscale=False,
                xaxis=xa,
                yaxis=ya,
                hovertemplate=(
                    f"start {variables[0]}=%{{x:.3g}}, {variables[1]}=%{{y:.3g}}<extra></extra>"
                ),
                name=p.title,
            )
        )
        for glob, label, symbol in (
            (True, "global minimum", "star"),
            (False, "local minimum", "x"),
        ):
            pts = p.minima[p.is_global == glob] if len(p.minima) else np.zeros((0, 2))
            if len(pts):
                data.append(
                    _legend_once(
                        seen,
                        dict(
                            type="scatter",
                            x=pts[:, 0].tolist(),
                            y=pts[:, 1].tolist(),
                            mode="markers",
                            marker=dict(
                                symbol=symbol,
                                size=13 if glob else 8,
                                color="white",
                                line=dict(color=INK, width=1.5),
                            ),
                            name=label,
                            xaxis=xa,
                            yaxis=ya,
                            hovertemplate=f"{label}<br>(%{{x:.4g}}, %{{y:.4g}})<extra></extra>",
                        ),
                    )
                )
        share = float(np.isin(p.labels, np.flatnonzero(p.is_global)).mean())
        text = f"<b>{p.title}</b>: {share:.0%} reach a global minimum"
        layout["annotations"].append(_panel_title(text, dom, f["base"]))
        (x0, x1), (y0, y1) = (p.xs.min(), p.xs.max()), (p.ys.min(), p.ys.max())
        layout[_axis(i, "x")] = dict(
            domain=list(dom), range=[x0, x1], title=dict(text=variables[0]), anchor=ya
        )
        layout[_axis(i, "y")] = dict(range=[y0, y1], title=dict(text=variables[1]), anchor=xa)
    for label, colour in (("none reached", NONE), ("diverged", DIVERGED)):
        if any(np.any(p.labels == (-1 if label == "none reached" else -2)) for p in panels):
            data.append(_swatch(label, colour))
    style_axes(layout, f)
    return fast_figure(data, layout)


# -- the race ------------------------------------------------------------------------------
def race_figure(
    rows: Sequence[dict], *, title: str, subtitle: str = "", classroom: bool = False
) -> Any:
    """Final loss at torch's defaults beside the best of N random settings, per optimizer."""
    f = fonts(classroom)
    names = [r["optimizer"] for r in rows]
    data = []
    for key, label, colour in (
        ("default loss", "torch defaults", NONE),
        ("tuned loss", "best of N random settings", PALETTE[0]),
    ):
        vals = [r[key] for r in rows]
        data.append(
            dict(
                type="bar",
                x=names,
                y=[v if v is not None and np.isfinite(v) else None for v in vals],
                name=label,
                marker=dict(color=colour, line=dict(color=INK, width=1)),
                text=["diverged" if v is None or not np.isfinite(v) else f"{v:.3g}" for v in vals],
                textposition="outside",
                hovertemplate="%{x}: %{text}<extra>" + label + "</extra>",
            )
        )
    positive = all(
        r[k] is None or not np.isfinite(r[k]) or r[k] > 0
        for r in rows
        for k in ("default loss", "tuned loss")
    )
    layout = dict(
        template=TEMPLATE,
        font=dict(size=f["base"], color=INK),
        title=title_layout(title, subtitle, f["title"]),
        height=560 if classroom else 430,
        margin=dict(l=70, r=20, t=90 if subtitle else 70, b=90),
        barmode="group",
        yaxis=dict(type="log" if positive else "linear", title=dict(text="final loss")),
        xaxis=dict(title=dict(text="")),
        legend=dict(orientation="h", x=0, y=-0.15, yanchor="top"),
    )
    style_axes(layout, f)
    return fast_figure(data, layout)


def _panel_title(text: str, dom: tuple[float, float], size: float) -> dict:
    """A panel's name, centred over its x domain, just above the plot."""
    return dict(
        text=text,
        x=(dom[0] + dom[1]) / 2,
        xref="paper",
        y=1.0,
        yref="paper",
        yanchor="bottom",
        showarrow=False,
        font=dict(size=size),
    )
