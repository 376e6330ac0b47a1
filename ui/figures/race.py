"""The race in one figure: the contour, the line charts and the data view on one clock.

One figure with subplots, driven by one set of frames, so the scrubber and the play
buttons move every part together in the browser, with no server round trip:

* the contour (its paths, heads and, at each head, arrows for the step just taken:
  the plain gradient step −γ·g, the momentum −γ·m where the optimizer keeps one, and the
  actual step Δθ, all to the map's scale);
* loss, gradient norm and the effective learning rate along each coordinate, each with
  a cursor line at the shown step;
* for data problems, the data with each run's fitted line or curve at the shown step.

Two arrangements: ``side`` (classroom: charts beside the contour) and ``stacked``
(charts under it, which also suits a phone). :func:`at_step` gives the figure's dict
as it stands at one step, for the step buttons and the step inspector.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import plotly.graph_objects as go

from .contour import _head_points, _typed, contour_parts
from .plotly_fast import fast_figure
from .series import Series, f32
from .style import INK, bake_template, log_axis, relayout_header

# data problems whose model the data view can draw: weights (a, b) -> y(x)
FIT_MODELS: dict[str, Callable[[float, float, np.ndarray], np.ndarray]] = {
    "linear": lambda a, b, x: a * x + b,
    "quadratic": lambda a, b, x: a * x**2 + b * x,
}
_FIT_POINTS = 24

ARROWS = (
    ("grad", "−γ·g: a plain gradient step", "dot"),
    ("momentum", "−γ·m: the momentum", "dash"),
    ("step", "Δθ: the step taken", "solid"),
)
# Every step of a run up to 100 steps is a frame; a longer run gets about a hundred, a
# round number of steps apart (its every step is still reachable with the step buttons):
# the opening race's figure stays light for the browser, and eight runs of 2,000 steps
# stay well under a megabyte of figure JSON.
EVERY_STEP_UP_TO = 100
LONG_RUN_FRAMES = 101


class _Arrows:
    """Each run's arrays for its step arrows, read once per figure (a figure asks for the
    arrows of every frame: per run and kind, an index into these instead of re-reading
    the trajectory)."""

    def __init__(self, series: Sequence[Series], reps: Sequence[Any]) -> None:
        self.runs = []
        for s, rep in zip(series, reps, strict=True):
            momentum = None
            if rep is not None and rep.momentum is not None:
                momentum = np.asarray(rep.momentum, dtype=np.float64)
            self.runs.append(
                (
                    np.asarray(s.traj.params, dtype=np.float64),
                    max(int(s.traj.n_valid()) - 1, 0),
                    np.asarray(s.traj.lr, dtype=np.float64),
                    np.asarray(s.traj.grad, dtype=np.float64),
                    momentum,
                )
            )

    def vector(self, j: int, k: int, kind: str) -> tuple[np.ndarray | None, np.ndarray | None]:
        """Run ``j``'s tail at step ``k`` and its ``kind`` vector (``grad``: -lr g,
        ``momentum``: -lr m, ``step``: the step taken); ``None`` where there is none."""
        p, n, lr, g, momentum = self.runs[j]
        if not 1 <= k <= n:
            return None, None
        i = k - 1
        if kind == "grad":
            return p[i], -lr[i] * g[i]
        if kind == "step":
            return p[i], p[k] - p[i]
        return p[i], (None if momentum is None else -lr[i] * momentum[i])

    def xy(self, steps: Sequence[int], kind: str) -> tuple[np.ndarray, np.ndarray]:
        """x and y of one arrow kind for every run: tail, tip, gap (NaN) per run."""
        xs, ys = [], []
        for j, k in enumerate(steps):
            tail, vec = self.vector(j, k, kind)
            if tail is None or vec is None or not np.all(np.isfinite(vec)):
                xs += [np.nan] * 3
                ys += [np.nan] * 3
                continue
            xs += [tail[0], tail[0] + vec[0], np.nan]
            ys += [tail[1], tail[1] + vec[1], np.nan]
        return np.array(xs), np.array(ys)


def _fit_xy(s: Series, k: int, model: Callable, xgrid: np.ndarray) -> tuple:
    p = np.asarray(s.traj.params, dtype=np.float64)
    n = max(int(s.traj.n_valid()) - 1, 0)
    a, b = p[min(k, n)]
    with np.errstate(all="ignore"):
        return xgrid, model(a, b, xgrid)


def _frames_for(series: Sequence[Series]) -> int:
    t_end = max((max(int(s.traj.n_valid()) - 1, 0) for s in series), default=0)
    return t_end + 1 if t_end <= EVERY_STEP_UP_TO else LONG_RUN_FRAMES


def _clamped(series: Sequence[Series], k: int) -> list[int]:
    return [min(k, max(int(s.traj.n_valid()) - 1, 0)) for s in series]


def race_figure(surface: Any, series: Sequence[Series], **kw: Any) -> go.Figure:
    """The animated race (see the module's docstring) as a figure; keywords: :func:`race_parts`."""
    return fast_figure(*race_parts(surface, series, **kw))


def race_parts(
    surface: Any,
    series: Sequence[Series],
    *,
    grid: tuple[np.ndarray, np.ndarray, np.ndarray],
    replays: Sequence[Any] | None = None,
    title: str = "",
    subtitle: str = "",
    classroom: bool = False,
    start: Any = None,
    loss_log: bool = True,
    arrangement: str | None = None,
    hide: frozenset[str] | set[str] = frozenset(),
) -> tuple[list[dict], dict, list[dict]]:
    """The animated race's traces, layout and frames, as plotly.js reads them (arrays may
    still be NumPy arrays); ``arrangement``: ``"side"`` or
    ``"stacked"`` (default: side in classroom mode, else stacked). ``hide``: panels left
    out (``loss``, ``grad_norm``, ``eff_lr``, ``data``)."""
    series = list(series)
    reps = list(replays) if replays is not None else [None] * len(series)
    arrangement = arrangement or ("side" if classroom else "stacked")
    model = FIT_MODELS.get(str(getattr(surface, "name", ""))) if surface.is_data else None
    if "data" in hide:
        model = None
    parts = contour_parts(
        surface,
        series,
        grid=grid,
        title=title,
        subtitle=subtitle,
        classroom=classroom,
        start=start,
        # the map fills the width it has (a projector's, a phone's) rather than keeping x
        # and y to one scale, which on a narrow or wide screen leaves it a strip with empty
        # space around; a data problem's weights are not lengths anyway
        equal_aspect=False,
        n_frames_max=_frames_for(series),
        # the heads are one trace, drawn over every path, so that no frame redraws a
        # marker for each point of every newest stretch; the chart hides a hidden run's
        # head (``head_groups``)
        drawn_heads=True,
    )
    traces, layout, frames = parts["traces"], parts["layout"], parts["frames"]
    f = parts["fonts"]
    vx, vy = parts["variables"]
    t_end = max(parts["last"], default=0)
    end = _clamped(series, t_end)

    # -- arrows on the contour
    arrows = _Arrows(series, reps)
    arrow_idx = []
    for kind, label, dash in ARROWS:
        ax, ay = arrows.xy(end, kind)
        traces.append(
            dict(
                type="scatter",
                x=f32(ax),
                y=f32(ay),
                mode="lines+markers",
                line=dict(color=INK, width=2 if kind == "step" else 1.6, dash=dash),
                marker=dict(
                    symbol="arrow",
                    angleref="previous",
                    size=[0, f["head"] - 1, 0] * len(series),
                    color=INK,
                ),
                name=label,
                legendgroup="arrows",
                showlegend=bool(series),
                hoverinfo="skip",
                connectgaps=False,
            )
        )
        arrow_idx.append(len(traces) - 1)
    # the header counts legend rows from every entry the figure shows (the arrows' too)
    layout["meta"]["header"]["legend_items"] = [t["name"] for t in traces if t.get("showlegend")]

    # -- line panels: (axis number, y title, values per series, x per series)
    panels = _panel_data(series)
    if not loss_log:
        panels[0]["log"] = False
    panels = [p for p in panels if p["name"] not in hide]
    boxes = _arrange(
        layout, arrangement, len(panels), model is not None, f, parts["frame_steps"] is not None
    )
    cursor_idx = []
    for j, panel in enumerate(panels):
        ax_n = j + 2
        xa, ya = f"x{ax_n}", f"y{ax_n}"
        for s, (xv, yv) in zip(series, panel["data"], strict=True):
            xy = _thin_line(xv, yv)
            traces.append(
                dict(
                    type="scatter",
                    **xy,
                    xaxis=xa,
                    yaxis=ya,
                    mode="lines",
                    line=dict(color=s.color, width=f["line"] - 1, dash=s.dash),
                    name=s.label,
                    legendgroup=f"line{s.label}",
                    showlegend=False,
                    hovertemplate=f"{s.label}<br>step %{{x:.0f}}: %{{y:.4g}}<extra></extra>",
                )
            )
        lo, hi = panel["range"]
        traces.append(_cursor(t_end, lo, hi, xa, ya))
        cursor_idx.append(len(traces) - 1)
        # "step" under the bottom panels only: elsewhere it would meet the next panel's name
        # (beside the map, the data view's heading sits right under the last line panel)
        side_last = j == len(panels) - 1 and model is None
        bottom = side_last if arrangement == "side" else j >= len(panels) - 2
        _panel_axes(layout, ax_n, boxes[j], panel, t_end, f, last=bottom)

    fit_idx = []
    if model is not None:
        ax_n = len(panels) + 2
        xa, ya = f"x{ax_n}", f"y{ax_n}"
        xd = np.asarray(surface.xs, dtype=np.float64)
        yd = np.asarray(surface.ys, dtype=np.float64)
        xgrid = np.linspace(float(xd.min()), float(xd.max()), _FIT_POINTS)
        traces.append(
            dict(
                type="scatter",
                x=f32(xd),
                y=f32(yd),
                xaxis=xa,
                yaxis=ya,
                mode="markers",
                marker=dict(size=5, color="rgba(90,90,90,0.55)"),
                name="data",
                showlegend=False,
                hovertemplate="x %{x:.3g}, y %{y:.3g}<extra>data</extra>",
            )
        )
        for s, k in zip(series, end, strict=True):
            fx, fy = _fit_xy(s, k, model, xgrid)
            traces.append(
                dict(
                    type="scatter",
                    x=f32(fx),
                    y=f32(fy),
                    xaxis=xa,
                    yaxis=ya,
                    mode="lines",
                    line=dict(color=s.color, width=f["line"] - 0.5, dash=s.dash),
                    name=s.label,
                    showlegend=False,
                    hoverinfo="skip",
                )
            )
            fit_idx.append(len(traces) - 1)
        pad = 0.15 * float(yd.max() - yd.min() or 1.0)
        _data_axes(layout, ax_n, boxes[-1], f, (float(yd.min()) - pad, float(yd.max()) + pad))

    # the colour key beside the contour, not beside the whole figure
    cy0, cy1 = layout["yaxis"]["domain"]
    key = next(t for t in traces if "colorbar" in t.get("marker", {}))
    key["marker"]["colorbar"].update(
        x=layout["xaxis"]["domain"][1] + (0.005 if arrangement == "side" else -0.06),
        xanchor="left",
        y=cy1,
        yanchor="top",
        len=0.9 * (cy1 - cy0),
        lenmode="fraction",
    )
    if arrangement != "side":
        layout["xaxis"]["domain"] = [0.0, 0.93]

    # -- frames: every play frame also moves the arrows, cursors and fits
    frame_steps = parts["frame_steps"]
    if frame_steps is not None:
        xgrid_fit = (
            np.linspace(float(np.min(surface.xs)), float(np.max(surface.xs)), _FIT_POINTS)
            if model is not None
            else None
        )
        play = [fr for fr in frames if fr.get("group") == "play"]
        for fr, step in zip(play, frame_steps, strict=True):
            ks = _clamped(series, int(step))
            extra = []
            for kind, _, _ in ARROWS:
                ax, ay = arrows.xy(ks, kind)
                extra.append(dict(x=_typed(ax), y=_typed(ay)))
            for _ in panels:  # a cursor's y never changes: only its x travels
                extra.append(dict(x=[int(step), int(step)]))
            for s, k in zip(series, ks, strict=True) if model is not None else ():
                fx, fy = _fit_xy(s, k, model, xgrid_fit)
                extra.append(dict(y=_typed(fy)))
            fr["data"] = list(fr["data"]) + extra
            fr["traces"] = list(fr["traces"]) + arrow_idx + cursor_idx + fit_idx

    layout.setdefault("meta", {})["race"] = dict(
        moving=parts["moving"],  # per run: drawn path, newest stretch up to the head
        heads=parts["heads"],  # the heads, with their hover text
        head_groups=parts["head_groups"],  # each head's legend group, in the heads' order
        arrows=arrow_idx,
        cursors=cursor_idx,
        fits=fit_idx,
        frame_steps=[int(v) for v in frame_steps] if frame_steps is not None else [],
    )
    for key, axis in layout.items():
        if key.startswith(("xaxis", "yaxis")):
            # plotly.js's default ("hide past div") measures every tick label once for each
            # label of its axis, on every redraw: about a tenth of a new setting's redraw.
            # Our labels sit inside the chart, so there is nothing to hide.
            axis.setdefault("ticklabeloverflow", "allow")
    bake_template(traces, layout)  # every frame of the animation is then cheaper
    return traces, layout, frames


def _panel_data(series: Sequence[Series]) -> list[dict]:
    """Loss, gradient norm and effective lr per coordinate, with each panel's y range."""
    loss, norm, e0, e1 = [], [], [], []
    for s in series:
        n = s.traj.n_valid()
        lo = np.asarray(s.traj.loss, dtype=np.float64)[:n]
        g = np.asarray(s.traj.grad, dtype=np.float64)[: max(n - 1, 0)]
        e = np.asarray(s.traj.effective_lr, dtype=np.float64)[: max(n - 1, 0)]
        steps0 = np.arange(len(lo), dtype=np.float32)
        steps1 = np.arange(1, len(g) + 1, dtype=np.float32)
        loss.append((steps0, np.where(np.isfinite(lo), lo, np.nan)))
        with np.errstate(all="ignore"):
            gn = np.hypot(g[:, 0], g[:, 1]) if len(g) else np.zeros(0)
        norm.append((steps1, np.where(gn > 0, gn, np.nan)))
        for out, c in ((e0, 0), (e1, 1)):
            v = e[:, c] if len(e) else np.zeros(0)
            out.append((steps1, np.where(np.isfinite(v) & (v > 0), v, np.nan)))
    finite = np.concatenate([v[np.isfinite(v)] for _, v in loss] or [np.zeros(0)])
    panels = [
        dict(name="loss", title="loss", data=loss, log=finite.size == 0 or bool(finite.min() > 0)),
        dict(name="grad_norm", title="gradient norm ‖g‖", data=norm, log=True),
        dict(name="eff_lr", title="effective lr along {}", data=e0, log=True, coord=0),
        dict(name="eff_lr", title="effective lr along {}", data=e1, log=True, coord=1),
    ]
    for p in panels:
        v = np.concatenate([y[np.isfinite(y)] for _, y in p["data"]] or [np.zeros(0)])
        if p["log"]:
            v = v[v > 0]
        p["range"] = (float(v.min()), float(v.max())) if v.size else (0.0, 1.0)
    return panels


_LINE_BUCKETS = 250


def _thin_line(x: np.ndarray, y: np.ndarray) -> dict:
    """A line's x/y to draw: every point of a short series (as ``x0``/``dx``, no x array),
    else the lowest and highest value of each of a few hundred buckets, in step order, so
    that zig-zags keep their full height while the figure stays small."""
    n = len(y)
    if n <= 2 * _LINE_BUCKETS:
        return dict(x0=float(x[0]) if n else 0.0, dx=1, y=f32(y))
    edges = np.linspace(0, n, _LINE_BUCKETS + 1).astype(int)
    keep = []
    with np.errstate(all="ignore"):
        for a, b in zip(edges[:-1], edges[1:], strict=True):
            seg = y[a:b]
            if not np.isfinite(seg).any():
                keep.append(a)
                continue
            lo, hi = a + int(np.nanargmin(seg)), a + int(np.nanargmax(seg))
            keep += sorted({lo, hi})
    idx = np.array(keep)
    return dict(x=f32(x[idx]), y=f32(y[idx]))


def _cursor(step: int, lo: float, hi: float, xa: str, ya: str) -> dict:
    return dict(
        type="scatter",
        x=[step, step],
        y=[lo, hi],
        xaxis=xa,
        yaxis=ya,
        mode="lines",
        line=dict(color=INK, width=1.5, dash="dot"),
        name="shown step",
        showlegend=False,
        hoverinfo="skip",
    )


def _arrange(
    layout: dict, arrangement: str, n_lines: int, data: bool, f: dict, controls: bool
) -> list:
    """Set the figure's height and the contour's domain; return each panel's box
    ``(x0, x1, y0, y1)`` in paper coordinates: ``n_lines`` line panels, then the data
    view's if ``data``."""
    n_panels = n_lines + int(data)
    big = f["base"] > 15
    ctrl = (2.6 * f["base"] + 14 + 7.2 * f["base"] + 30) if controls else 3 * f["base"] + 20
    margin = layout["margin"]
    margin["b"] = 58 if big else 50  # the step axis' labels and title
    boxes_px: list[tuple[float, float, float, float]] = []  # x0, x1 (fraction), top, bottom px
    if arrangement == "side":
        height = 790 if big else 720
        relayout_header(layout, f["title"], f["base"], height)
        plot_h = height - margin["t"] - margin["b"]
        layout["xaxis"]["domain"] = [0.0, 0.62 if n_panels else 0.9]
        layout["yaxis"]["domain"] = [ctrl / plot_h, 1.0]
        gap = 2.4 * f["base"] + 10
        each = (plot_h - gap * (n_panels - 1)) / max(n_panels, 1)
        for i in range(n_panels):
            t = i * (each + gap)
            boxes_px.append((0.74, 1.0, t, t + each))
    else:
        (wx0, wx1), (wy0, wy1) = layout["xaxis"]["range"], layout["yaxis"]["range"]
        aspect = (wy1 - wy0) / (wx1 - wx0) if wx1 > wx0 else 1.0
        # about the window's own shape on a desktop's ~900 px wide plot, within bounds
        contour_h = float(np.clip(900 * aspect, 380, 620))
        panel_h, gap = (230, 3.2 * f["base"] + 24) if big else (190, 60)
        line_rows = math.ceil(n_lines / 2)
        heights = [panel_h] * line_rows + ([panel_h * 1.3] if data else [])
        lines_h = ctrl + sum(heights) + gap * max(len(heights) - 1, 0)
        relayout_header(layout, f["title"], f["base"], 600)  # the header's own height
        top = margin["t"]
        height = int(math.ceil(top + contour_h + lines_h + margin["b"]))
        relayout_header(layout, f["title"], f["base"], height)
        plot_h = height - margin["t"] - margin["b"]
        layout["xaxis"]["domain"] = [0.0, 1.0]
        layout["yaxis"]["domain"] = [1 - contour_h / plot_h, 1.0]
        y = contour_h + ctrl
        for row in range(line_rows):
            for c in range(min(2, n_lines - 2 * row)):
                boxes_px.append((0.0 if c == 0 else 0.56, 0.44 if c == 0 else 1.0, y, y + panel_h))
            y += panel_h + gap
        if data:
            boxes_px.append((0.0, 1.0, y, y + panel_h * 1.3))
    # the contour's controls sit under its own x axis, wherever that is
    bottom = layout["yaxis"]["domain"][0]
    below_axis = (2.6 * f["base"] + 14) / plot_h
    for menu in layout.get("updatemenus", []):
        menu["y"] = bottom - below_axis
    for slider in layout.get("sliders", []):
        slider["y"] = bottom - below_axis - (2.4 * f["base"] + 8) / plot_h
        slider["len"] = layout["xaxis"]["domain"][1]
    return [
        (x0, x1, max(0.0, 1 - b / plot_h), min(1.0, max(0.0, 1 - t / plot_h)))
        for x0, x1, t, b in boxes_px
    ]


def _panel_axes(layout: dict, n: int, box: tuple, panel: dict, t_end: int, f: dict, last: bool):
    x0, x1, y0, y1 = box
    title = panel["title"]
    if "coord" in panel:
        axis = "xaxis" if panel["coord"] == 0 else "yaxis"
        title = title.format(layout[axis]["title"]["text"])
    small = dict(size=f["base"] - 2, color=INK)
    layout[f"xaxis{n}"] = dict(
        domain=[x0, x1],
        anchor=f"y{n}",
        range=[0, max(t_end, 1)],
        ticks="outside",
        tickfont=small,
        title=dict(text="step" if last else "", font=small, standoff=2),
        showgrid=True,
        zeroline=False,
    )
    values = [y for _, y in panel["data"]]
    # as many decade labels as the panel's height holds (two and a half lines each)
    panel_px = (y1 - y0) * (layout["height"] - layout["margin"]["t"] - layout["margin"]["b"])
    labels = max(2, int(panel_px // (2.5 * small["size"])))
    yaxis = (
        log_axis(values, n_ticks=3, max_labels=labels)
        if panel["log"]
        else dict(type="linear", exponentformat="power")
    )
    # a fixed range: a frame moving the cursor never makes Plotly re-measure the panel
    lo, hi = panel["range"]
    if "range" not in yaxis:
        if panel["log"] and lo > 0:
            a, b = math.log10(lo), math.log10(hi)
            pad = 0.05 * (b - a) or 0.15
            yaxis["range"] = [a - pad, b + pad]
        elif not panel["log"]:
            pad = 0.05 * (hi - lo) or 0.5
            yaxis["range"] = [lo - pad, hi + pad]
    yaxis.update(
        domain=[y0, y1],
        anchor=f"x{n}",
        ticks="outside",
        tickfont=small,
        showgrid=True,
        zeroline=False,
    )
    layout[f"yaxis{n}"] = yaxis
    # the panel's name over its top left corner: a y-axis title would sit between two
    # panels and run into the left one's numbers on a narrow screen
    # log is the rule (the ticks say 10⁻³); only a linear scale is named, keeping the names
    # short enough for two panels side by side on a phone
    scale = "" if panel["log"] else " (linear scale)"
    layout.setdefault("annotations", []).append(
        dict(
            text=f"<b>{title}</b>{scale}",
            x=x0,
            xref="paper",
            xanchor="left",
            y=y1,
            yref="paper",
            yanchor="bottom",
            showarrow=False,
            font=dict(size=f["base"] - 1, color=INK),
        )
    )


def _data_axes(layout: dict, n: int, box: tuple, f: dict, yrange: tuple[float, float]) -> None:
    x0, x1, y0, y1 = box
    small = dict(size=f["base"] - 2, color=INK)
    layout[f"xaxis{n}"] = dict(
        domain=[x0, x1],
        anchor=f"y{n}",
        ticks="outside",
        tickfont=small,
        title=dict(text="x (data)", font=small, standoff=2),
        zeroline=False,
    )
    layout[f"yaxis{n}"] = dict(
        domain=[y0, y1],
        anchor=f"x{n}",
        range=list(yrange),
        ticks="outside",
        tickfont=small,
        title=dict(text="y", font=small, standoff=2),
        zeroline=False,
    )
    layout.setdefault("annotations", []).append(
        dict(
            text="<b>the data</b> and each run's fitted model at the shown step",
            x=x0,
            xref="paper",
            xanchor="left",
            y=y1,
            yref="paper",
            yanchor="bottom",
            showarrow=False,
            font=dict(size=f["base"] - 1, color=INK),
        )
    )


def at_step(
    fig: dict,
    series: Sequence[Series],
    replays: Sequence[Any],
    k: int,
    surface: Any = None,
) -> dict:
    """The race figure's dict as it stands at step ``k``: paths drawn to ``k``, heads,
    arrows, cursors and fits there, the scrubber on the last frame at or before ``k``.

    ``fig`` is the dict of :func:`race_figure` (not changed; the result shares what it
    does not replace).
    """
    meta = fig["layout"].get("meta", {}).get("race")
    if not meta:
        return fig
    out = dict(fig)
    data = list(fig["data"])
    ks = _clamped(series, k)
    moving = meta["moving"]
    paths = []
    for j, (s, kk) in enumerate(zip(series, ks, strict=True)):
        path = np.asarray(s.traj.params, dtype=np.float64)
        paths.append(s.traj.valid())  # as the figure has them: a run may have no point
        drawn, stretch = moving[2 * j : 2 * j + 2]
        data[drawn] = {**data[drawn], "x": f32(path[: kk + 1, 0]), "y": f32(path[: kk + 1, 1])}
        # the newest stretch is all drawn: it is just the head's point
        data[stretch] = {
            **data[stretch],
            "x": f32(path[kk : kk + 1, 0]),
            "y": f32(path[kk : kk + 1, 1]),
        }
    if meta["heads"] is not None:
        data[meta["heads"]] = {**data[meta["heads"]], **_head_points(paths, ks)}
    arrows = _Arrows(series, replays)
    for idx, (kind, _, _) in zip(meta["arrows"], ARROWS, strict=True):
        ax, ay = arrows.xy(ks, kind)
        data[idx] = {**data[idx], "x": f32(ax), "y": f32(ay)}
    for idx in meta["cursors"]:
        data[idx] = {**data[idx], "x": [k, k]}
    if meta["fits"] and surface is not None:
        model = FIT_MODELS[str(surface.name)]
        xgrid = np.linspace(float(np.min(surface.xs)), float(np.max(surface.xs)), _FIT_POINTS)
        for idx, s, kk in zip(meta["fits"], series, ks, strict=True):
            fx, fy = _fit_xy(s, kk, model, xgrid)
            data[idx] = {**data[idx], "y": f32(fy)}
    out["data"] = data
    steps = meta["frame_steps"]
    if steps and fig["layout"].get("sliders"):
        active = max(i for i, v in enumerate(steps) if v <= max(k, 0))
        layout = dict(fig["layout"])
        layout["sliders"] = [dict(layout["sliders"][0], active=active)]
        out["layout"] = layout
    return out
