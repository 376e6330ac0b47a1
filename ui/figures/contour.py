"""The animated contour: trajectories over the banded surface, played in the browser.

Built for smooth animation:

* the surface is a banded raster image in ``layout.images`` plus the iso-lines as one
  scatter trace (:mod:`.layers`), because a Contour trace disappears as soon as frames
  play without a full redraw;
* frames only touch the moving traces (growing path of each series with its newest
  stretch and head, and the heads' hover points); the faint full path, end markers,
  minima, start and iso-lines are drawn once;
* few traces: plotly.js redoes its per-trace work over every trace of the figure for
  each animation frame, so what can share a trace does (a run's newest stretch and its
  head marker, all runs' hover points at their heads, all runs' end markers, the colour
  key and the click targets); with ``drawn_heads`` (the race), all runs' heads are one
  trace and the stretches draw no markers at all;
* arrays are float32 and the growing paths are thinned by arc length, so six
  optimizers over a thousand steps stay well under a megabyte of figure JSON.
"""

from __future__ import annotations

import base64
from typing import Any

import numpy as np
import plotly.graph_objects as go
import plotly.io as pio

from .layers import band_colors, surface_layers
from .plotly_fast import fast_figure
from .series import Series, f32, run_message, run_status, thin
from .style import (
    INK,
    TEMPLATE,
    bake_template,
    default_title,
    fmt,
    fonts,
    header,
    hover,
    style_axes,
    title_layout,
)

FRAME_MS = 63  # 1x speed: 15 frames a second.
# Plotly steps frames on requestAnimationFrame ticks (60 Hz) once a frame's duration has
# passed, so a duration a little under 2, 4, 8 and 16 ticks gives exactly 30, 15, 7.5 and
# 3.75 frames a second: 2x, 1x, 0.5x and 0.25x are what they say (a round 60 ms would
# wait for a fourth tick at 1x but 125 ms for a ninth at 0.5x, which is really 0.44x).
SPEEDS = (("0.25×", 263), ("0.5×", 130), ("1×", FRAME_MS), ("2×", 30))
FPS_1X = 15

_ISO_COLOR = "rgba(40, 40, 60, 0.35)"

_MAX_GROWING_POINTS = 300  # thinned points per growing path (frames resend them)

_MIN_STEP_FRACTION = 0.004  # thinning: keep points this far apart (fraction of the view)

_CLICK_GRID = 50  # click resolution: 1/49 of the window


def contour_figure(surface: Any, series: list[Series] | tuple[Series, ...], **kw: Any) -> go.Figure:
    """Trajectories over the banded surface, animated in the browser (see
    :func:`contour_parts` for the traces, the frames and the keywords)."""
    parts = contour_parts(surface, series, **kw)
    bake_template(parts["traces"], parts["layout"])  # every frame is then cheaper
    return fast_figure(parts["traces"], parts["layout"], parts["frames"])


def contour_parts(
    surface: Any,
    series: list[Series] | tuple[Series, ...],
    *,
    grid: tuple[np.ndarray, np.ndarray, np.ndarray],
    title: str = "",
    subtitle: str = "",
    n_frames: int = 100,
    classroom: bool = False,
    upto_step: int | None = None,
    animate: bool = True,
    start: Any = None,
    click_targets: bool = True,
    equal_aspect: bool | None = None,
    n_frames_max: int | None = None,
    drawn_heads: bool = False,
) -> dict:
    """Traces, layout and frames of the contour, plus what a caller adds frames to.

    Trace order: iso-lines, the colour-scale key (on the click targets' trace when there
    are click targets), minima, start, then three traces per series: faint full path,
    drawn path, and the newest stretch of it ending in the head marker (a marker on its
    last point only); then one trace of invisible points at the heads, which give each
    head its hover text (``heads``); last, when a run ended early, one trace of end
    markers ("x" where a run diverged, a dot where it converged).

    ``drawn_heads``: the heads trace draws the heads (each run's colour, over every
    path) and the newest stretches are lines only, which makes every frame cheaper. The
    heads then belong to no run's legend group: whoever shows the figure hides a hidden
    run's head itself, with ``head_groups`` (the legend group of each head point).

    Animation: frame ``i`` (group ``"play"``, named ``str(i)``) shows every series at
    step ``frame_steps[i]``. The drawn path changes only every ``_CHUNK`` frames, so it
    lives in a few base frames (group ``"base"``) that the play frames extend through
    ``baseframe``; a play frame itself carries only the newest stretches, ending in the
    heads, and the heads' hover points.
    Without frames (``animate=False`` or ``upto_step``) the picture is static at the
    end or at ``upto_step``.
    """
    xs, ys, Z = grid
    f = fonts(classroom)
    (x0, x1), (y0, y1) = surface.bounds
    x0, x1, y0, y1 = float(x0), float(x1), float(y0), float(y1)
    span = np.array([x1 - x0, y1 - y0])
    vx, vy = tuple(getattr(surface, "variables", ("x", "y")))[:2]
    levels, log_levels, ix, iy, raster = surface_layers(xs, ys, Z)

    traces: list[dict] = [
        dict(
            type="scatter",
            x=ix,
            y=iy,
            mode="lines",
            line=dict(color=_ISO_COLOR, width=1),
            hoverinfo="skip",
            showlegend=False,
            name="iso-lines",
        ),
    ]
    key = _colour_key(levels, log_levels, f)
    if click_targets:  # one trace: the key's colour bar rides on the click targets
        targets = _click_targets((x0, x1, y0, y1), vx, vy)
        targets["marker"].update({k: v for k, v in key["marker"].items() if k != "color"})
        traces.append(targets)
    else:
        traces.append(key)
    minima = np.asarray(getattr(surface, "minima", np.zeros((0, 2))), dtype=np.float64)
    traces.append(_point_marker(minima.reshape(-1, 2), "minimum", vx, vy, f))
    if start is None:
        if series:
            start = np.asarray(series[0].traj.params, dtype=np.float64)[0]
        else:
            start = getattr(surface, "start", (np.nan, np.nan))
    start = np.asarray(start, dtype=np.float64).reshape(-1, 2)
    traces.append(_point_marker(start, "start", vx, vy, f))

    # -- which steps are shown
    paths = [s.traj.valid() for s in series]
    last = [max(len(p) - 1, 0) for p, _ in paths]
    t_end = max(last, default=0)
    shown = t_end if upto_step is None else int(np.clip(upto_step, 0, t_end))
    do_frames = animate and upto_step is None and t_end > 0 and len(series) > 0
    frame_steps = frame_schedule(t_end, n_frames if n_frames_max is None else n_frames_max)

    # -- per series traces
    moving: list[int] = []  # per series: drawn path, newest stretch ending in the head
    kept: list[np.ndarray] = []
    ends: list[dict] = []
    head_groups: list[str] = []  # the legend group of each head point (runs with a path)
    for si, (s, (path, loss), n_last) in enumerate(zip(series, paths, last, strict=True)):
        status = run_status(s.traj)
        group = f"series{si}"
        if len(path):
            head_groups.append(group)
        faint_idx = thin(path, span, 1200, 0.0015)
        custom = np.stack([faint_idx, loss[faint_idx]], axis=-1)
        common = dict(type="scatter", legendgroup=group, name=s.label, showlegend=False)
        traces.append(
            dict(
                common,
                x=f32(path[faint_idx, 0]),
                y=f32(path[faint_idx, 1]),
                customdata=f32(custom),
                mode="lines",
                line=dict(color=s.color, width=f["faint"]),
                opacity=0.35,
                hovertemplate=hover(s.label, vx, vy),
            )
        )
        keep = thin(path, span, _MAX_GROWING_POINTS, _MIN_STEP_FRACTION)
        kept.append(keep)
        k = min(shown, n_last)
        suffix = {"diverged": "  (diverged)", "converged": "  (converged)"}.get(status, "")
        line = dict(color=s.color, width=f["line"], dash=s.dash)
        drawn = _pts(path, keep, 0, k) if do_frames else path[: k + 1]
        traces.append(
            dict(
                common,
                **_xy(drawn),
                mode="lines",
                line=line,
                hoverinfo="skip",
                name=s.label + suffix,
                showlegend=True,
            )
        )
        if drawn_heads:  # the newest stretch alone: its head is on the heads trace
            stretch = _xy(path[[k]] if len(path) else path)
            traces.append(dict(common, **stretch, mode="lines", line=line, hoverinfo="skip"))
        else:
            # the newest stretch and the head in one trace: a marker on the last point only
            tip = _tip(path, np.array([k]), f["head"])
            # a size array makes Plotly default to bubbles' 70 % opacity: the head is opaque
            tip["marker"].update(color=s.color, opacity=1, line=dict(color="white", width=1.5))
            traces.append(
                dict(
                    common,
                    **tip,
                    mode="lines+markers",
                    line=line,
                    # the head's hover is on the heads trace: the stretch's points, hovered
                    # as markers, would take it from the head whenever one sits next to it
                    hoverinfo="skip",
                    selected=dict(marker=dict(opacity=1)),
                    unselected=dict(marker=dict(opacity=1)),
                )
            )
        moving += [len(traces) - 2, len(traces) - 1]
        end = _end_point(s, path, loss, n_last, status, vx, vy, f)
        if end is not None:
            ends.append(end)
    heads_idx = None
    if series:
        hovers = [hover(s.label, vx, vy) for s in series]
        colors = [s.color for s in series]
        shown_at = [min(shown, n) for n in last]
        traces.append(_hover_heads(paths, shown_at, hovers, colors, f["head"], drawn_heads))
        heads_idx = len(traces) - 1
    if ends:
        traces.append(_end_markers(ends))

    frames: list[dict] = []
    if do_frames:
        head_size = None if drawn_heads else f["head"]
        frames = _frames(paths, kept, last, frame_steps, moving, heads_idx, head_size)
    if not title:
        title = default_title(surface, series)
    layout = _contour_layout(
        (x0, x1, y0, y1),
        raster,
        title,
        subtitle,
        f,
        vx,
        vy,
        frame_steps if do_frames else None,
        [t["name"] for t in traces if t.get("showlegend")],
        equal_aspect,
    )
    return dict(
        traces=traces,
        layout=layout,
        frames=frames,
        moving=moving,
        heads=heads_idx,
        head_groups=head_groups,
        frame_steps=frame_steps if do_frames else None,
        paths=paths,
        kept=kept,
        last=last,
        shown=shown,
        box=(x0, x1, y0, y1),
        fonts=f,
        variables=(vx, vy),
    )


_CHUNK = 10  # play frames per base frame

_NICE = (1, 2, 3, 4, 5, 6, 8, 10, 12, 15, 20, 25, 30, 40, 50, 60, 80)


def frame_schedule(t_end: int, n_frames: int = 100) -> np.ndarray:
    """Steps shown by the animation frames: 0, s, 2s, ... and ``t_end``, at most ``n_frames``.

    The spacing ``s`` is a round number (1, 2, 5, 10, 12, 15, ...), so the scrubber reads
    "step 150", and one more or one less step in the run usually changes only the last
    label (the browser then re-measures one label instead of a hundred).
    """
    if t_end <= 0:
        return np.array([0])
    need = t_end / max(int(n_frames) - 1, 1)
    scale = 1
    while True:
        spacing = next((k * scale for k in _NICE if k * scale >= need), None)
        if spacing is not None:
            break
        scale *= 100
    steps = np.arange(0, t_end + 1, spacing)
    return steps if steps[-1] == t_end else np.append(steps, t_end)


def _frames(
    paths: list[tuple[np.ndarray, np.ndarray]],
    kept: list[np.ndarray],
    last: list[int],
    frame_steps: np.ndarray,
    moving: list[int],
    heads: int | None,
    head_size: float | None,
) -> list[dict]:
    """Base frames (drawn path up to each chunk start) and play frames (newest stretch
    ending in the head, a marker of ``head_size`` on it unless that is ``None``)."""
    drawn_idx = moving[0::2]
    frames: list[dict] = []
    for c in range(0, len(frame_steps), _CHUNK):
        step0 = int(frame_steps[c])
        data = [
            _xy(_pts(path, keep, 0, min(step0, n)))
            for (path, _), keep, n in zip(paths, kept, last, strict=True)
        ]
        frames.append(dict(name=f"base{c // _CHUNK}", group="base", data=data, traces=drawn_idx))
    tips = moving[1::2]
    for fi, step in enumerate(frame_steps):
        step0 = int(frame_steps[fi - fi % _CHUNK])
        data = []
        ks = [min(int(step), n) for n in last]
        for (path, _), keep, n, k in zip(paths, kept, last, ks, strict=True):
            stretch = _pts_idx(keep, min(step0, n), k)
            if head_size is None:
                data.append(_xy_typed(path[stretch[: len(path)]]))
            else:
                data.append(_tip(path, stretch, head_size, typed=True))
        data.append(_head_points(paths, ks, typed=True))
        frames.append(
            dict(
                name=str(fi),
                group="play",
                baseframe=f"base{fi // _CHUNK}",
                data=data,
                traces=[*tips, heads],
            )
        )
    return frames


def _pts_idx(keep: np.ndarray, a: int, b: int) -> np.ndarray:
    """Steps of the kept points strictly between steps ``a`` and ``b``, plus the exact ends."""
    inner = keep[(keep > a) & (keep < b)]
    return np.concatenate([[a], inner, [b]]).astype(int) if b > a else np.array([a])


def _pts(path: np.ndarray, keep: np.ndarray, a: int, b: int) -> np.ndarray:
    """Kept points strictly between steps ``a`` and ``b``, plus the exact ends."""
    if len(path) == 0:
        return path
    return path[_pts_idx(keep, a, b)]


def _xy(points: np.ndarray) -> dict:
    return dict(x=f32(points[:, 0]), y=f32(points[:, 1]))


def _typed(a: np.ndarray, dtype: str = "f4") -> dict:
    """Plotly.js's typed-array form, encoded here: plotly.py's own encoder spends ~0.1 ms
    per array, which adds up over a thousand frame arrays."""
    data = np.ascontiguousarray(a, dtype="<" + dtype).tobytes()
    return {"dtype": dtype, "bdata": base64.b64encode(data).decode("ascii")}


def _xy_typed(points: np.ndarray) -> dict:
    return dict(x=_typed(points[:, 0]), y=_typed(points[:, 1]))


def _tip(path: np.ndarray, steps: np.ndarray, head_size: float, typed: bool = False) -> dict:
    """The newest stretch of a path through ``steps``, ending in the head marker.

    One trace for both: only the last point (the head) has a marker; the stretch's
    points have size 0, which draws nothing, outline included (a zero-length SVG path).
    A frame changes the number of points, so it carries the per-point sizes as well.
    """
    steps = np.asarray(steps, dtype=int)[: len(path)]
    points = path[steps]
    size = np.zeros(len(steps), dtype=np.uint8)
    size[-1:] = head_size
    if typed:  # sizes in whole pixels: a byte each
        return dict(**_xy_typed(points), marker=dict(size=_typed(size, "u1")))
    return dict(**_xy(points), marker=dict(size=size.tolist()))


def _head_points(
    paths: list[tuple[np.ndarray, np.ndarray]], ks: list[int], typed: bool = False
) -> dict:
    """Where each run's head is at steps ``ks``, with its step and loss for the hover."""
    xy, custom = [], []
    for (path, loss), k in zip(paths, ks, strict=True):
        if len(path):
            xy.append(path[k])
            custom.append([k, float(loss[k])])
    points = np.array(xy).reshape(-1, 2)
    return dict(**(_xy_typed(points) if typed else _xy(points)), customdata=custom)


def _hover_heads(
    paths: list[tuple[np.ndarray, np.ndarray]],
    ks: list[int],
    hovers: list[str],
    colors: list[str],
    head_size: float,
    drawn: bool = False,
) -> dict:
    """Every run's head as a point of the head's size: it gives the hover text.

    One trace for all runs, each point with its run's hover text and colour. ``drawn``:
    the points are the heads people see (a dot of the run's colour, outlined in white);
    else they are unseen, and the drawn head is the last marker of its run's newest
    stretch, which never hovers.
    """
    shown = [i for i, (path, _) in enumerate(paths) if len(path)]
    opacity = 1 if drawn else 0
    marker = dict(size=head_size, color=[colors[i] for i in shown], opacity=opacity)
    if drawn:
        marker["line"] = dict(color="white", width=1.5)
    return dict(
        type="scatter",
        **_head_points(paths, ks),
        mode="markers",
        marker=marker,
        hovertemplate=[hovers[i] for i in shown],
        name="heads",
        showlegend=False,
        # a click on a head selects it (the start moves there): it looks the same
        selected=dict(marker=dict(opacity=opacity)),
        unselected=dict(marker=dict(opacity=opacity)),
    )


def _end_point(
    s: Series,
    path: np.ndarray,
    loss: np.ndarray,
    n_last: int,
    status: str,
    vx: str,
    vy: str,
    f: dict,
) -> dict | None:
    """A run's end marker: 'x' where it blew up, a dot where it converged; none after
    ``max_steps``."""
    symbol = {"diverged": "x", "converged": "circle"}.get(status)
    if not (symbol and len(path)):
        return None
    msg = run_message(s.traj) or status
    return dict(
        x=float(path[-1, 0]),
        y=float(path[-1, 1]),
        customdata=[n_last, float(loss[-1])],
        symbol=symbol,
        size=f["end"] if symbol == "x" else f["end"] - 3,
        color=s.color,
        outline=INK if symbol == "x" else "white",
        hovertemplate=hover(s.label, vx, vy).replace(
            "<extra></extra>", f"<br>{msg}<extra></extra>"
        ),
    )


def _end_markers(ends: list[dict]) -> dict:
    """Every run's end marker in one trace, each point with its own symbol, colour and
    hover text."""

    def each(key: str) -> list:
        return [e[key] for e in ends]

    return dict(
        type="scatter",
        x=f32(each("x")),
        y=f32(each("y")),
        customdata=each("customdata"),
        mode="markers",
        marker=dict(
            symbol=each("symbol"),
            size=each("size"),
            opacity=1,  # not the 70 % Plotly gives a size array by default
            color=each("color"),
            line=dict(color=each("outline"), width=1.5),
        ),
        hovertemplate=each("hovertemplate"),
        name="end markers",
        showlegend=False,
        selected=dict(marker=dict(opacity=1)),
        unselected=dict(marker=dict(opacity=1)),
    )


def _click_targets(box: tuple[float, float, float, float], vx: str, vy: str) -> dict:
    """Near-invisible markers on a grid: clicking one selects a point to start from.

    ``maxdisplayed=1`` draws a single SVG node: hover and click selection work on the
    data, not on drawn markers, and 2,500 redrawn nodes made every slider move slower.
    """
    x0, x1, y0, y1 = box
    gx, gy = np.meshgrid(np.linspace(x0, x1, _CLICK_GRID), np.linspace(y0, y1, _CLICK_GRID))
    return dict(
        type="scatter",
        x=f32(gx.ravel()),
        y=f32(gy.ravel()),
        mode="markers",
        marker=dict(size=14, symbol="square", color="rgba(0,0,0,0.004)", maxdisplayed=1),
        hovertemplate=f"click to start here<br>{vx} = %{{x:.3g}}, {vy} = %{{y:.3g}}<extra></extra>",
        hoverlabel=dict(bgcolor="white", font=dict(color=INK)),
        showlegend=False,
        name="click targets",
        selected=dict(marker=dict(opacity=1)),
        unselected=dict(marker=dict(opacity=1)),
    )


def _point_marker(points: np.ndarray, kind: str, vx: str, vy: str, f: dict) -> dict:
    """Minima as gold stars, the start as a black ring."""
    if kind == "minimum":
        marker = dict(
            symbol="star", size=f["end"] + 6, color="#FFD700", line=dict(color=INK, width=1.5)
        )
    else:
        marker = dict(symbol="circle-open", size=f["end"] + 4, color=INK, line=dict(width=2.5))
    return dict(
        type="scatter",
        **_xy(points),
        mode="markers",
        marker=marker,
        name=kind,
        hovertemplate=f"{kind}<br>{vx} = %{{x:.4g}}, {vy} = %{{y:.4g}}<extra></extra>",
        showlegend=len(points) > 0,
        selected=dict(marker=dict(opacity=1)),
        unselected=dict(marker=dict(opacity=1)),
    )


def _colour_key(levels: np.ndarray, log_levels: bool, f: dict) -> dict:
    """An invisible trace whose colour bar explains the raster's bands."""
    n_bands = len(levels) + 1
    colors = band_colors(n_bands)
    scale = []
    for b, c in enumerate(colors):
        css = f"rgb({c[0]},{c[1]},{c[2]})"
        scale += [[b / n_bands, css], [(b + 1) / n_bands, css]]
    # ticks on band boundaries, labelled with the level value (every other when crowded)
    every = 1 if len(levels) <= 10 else 2
    tickvals = [(i + 1) / n_bands for i in range(0, len(levels), every)]
    ticktext = [fmt(levels[i]) for i in range(0, len(levels), every)]
    return dict(
        type="scatter",
        x=[None],
        y=[None],
        mode="markers",
        marker=dict(
            color=[0.0, 1.0],
            cmin=0.0,
            cmax=1.0,
            colorscale=scale,
            showscale=True,
            colorbar=dict(
                title=dict(text="loss (log-spaced)" if log_levels else "loss", side="right"),
                tickvals=tickvals,
                ticktext=ticktext,
                thickness=14,
                len=0.85,
                x=1.01,
                xanchor="left",
                outlinewidth=0,
                tickfont=dict(size=f["base"] - 2),
            ),
        ),
        hoverinfo="skip",
        showlegend=False,
        name="loss key",
    )


def _contour_layout(
    box: tuple[float, float, float, float],
    raster: str,
    title: str,
    subtitle: str,
    f: dict,
    vx: str,
    vy: str,
    frame_steps: np.ndarray | None,
    legend_items: list[str],
    equal_aspect: bool | None = None,
) -> dict:
    x0, x1, y0, y1 = box
    w, h = x1 - x0, y1 - y0
    square_ish = 0.4 <= h / w <= 2.5 if w > 0 else False
    if equal_aspect is not None:  # a data problem's weights are not lengths: no equal aspect
        square_ish = equal_aspect
    yaxis: dict[str, Any] = dict(
        range=[y0, y1],
        title=dict(text=vy),
        showgrid=False,
        zeroline=False,
        constrain="domain",
        constraintoward="top",
        ticks="outside",
    )
    if square_ish:
        yaxis.update(scaleanchor="x", scaleratio=1)
    layout: dict[str, Any] = dict(
        template=pio.templates[TEMPLATE],
        title=title_layout(title, subtitle, f["title"]),
        font=dict(size=f["base"], color=INK),
        xaxis=dict(
            range=[x0, x1],
            title=dict(text=vx),
            showgrid=False,
            zeroline=False,
            constrain="domain",
            constraintoward="right",
            ticks="outside",
        ),
        yaxis=yaxis,
        images=[
            dict(
                source=raster,
                xref="x",
                yref="y",
                x=x0,
                y=y1,
                sizex=w,
                sizey=h,
                sizing="stretch",
                layer="below",
            )
        ],
        legend=dict(
            orientation="h",
            x=0.0,
            xanchor="left",
            y=1.0,
            yanchor="bottom",
            bgcolor="rgba(255,255,255,0.8)",
            font=dict(size=f["base"]),
        ),
        hovermode="closest",
        # r: room for the colorbar's labels down to a ~750 px wide chart, so that Plotly
        # never has to widen the margin and draw the whole figure a second time
        margin=dict(l=75 if f["base"] > 15 else 60, r=45, t=80, b=60),
        plot_bgcolor="white",
        uirevision="contour",
    )
    height = 860 if f["base"] > 15 else 720
    header(layout, title, subtitle, legend_items, f, height)
    style_axes(layout, f)
    if frame_steps is not None:
        # Controls go below the x axis title (tick labels and title take ~2.6 lines):
        # the buttons on a row of their own, the scrubber under them, full width, so
        # that on a phone the buttons never sit on the scrubber.
        below_axis = 2.6 * f["base"] + 14
        layout["margin"]["b"] = int(below_axis + 7.2 * f["base"] + 30)
        plot_h = height - layout["margin"]["t"] - layout["margin"]["b"]
        y = -below_axis / max(plot_h, 1)
        y_slider = -(below_axis + 2.4 * f["base"] + 8) / max(plot_h, 1)
        layout["updatemenus"] = [_buttons(f, y, frame_steps)]
        layout["sliders"] = [_scrubber(frame_steps, f, y_slider)]
    return layout


def _play_args(ms: int) -> list:
    return [
        "play",
        dict(
            frame=dict(duration=ms, redraw=False),
            transition=dict(duration=0),
            fromcurrent=True,
            mode="immediate",
        ),
    ]


def steps_per_second(frame_steps: np.ndarray) -> float:
    """Steps a second at 1×: 15 frames a second, each frame this many steps apart."""
    spacing = int(frame_steps[1] - frame_steps[0]) if len(frame_steps) > 1 else 1
    return FPS_1X * spacing


def _buttons(f: dict, y: float, frame_steps: np.ndarray | None = None) -> dict:
    pause = [[None], dict(frame=dict(duration=0, redraw=False), mode="immediate")]
    rate = steps_per_second(frame_steps) if frame_steps is not None else FPS_1X
    return dict(
        type="buttons",
        direction="left",
        showactive=False,
        x=0.0,
        xanchor="left",
        y=y,
        yanchor="top",
        pad=dict(r=6, t=0),
        font=dict(size=f["base"] - 1),
        buttons=[
            dict(label="Pause", method="animate", args=pause),
            *(
                dict(
                    label=f"▶ {name}" if name == "1×" else name,
                    method="animate",
                    args=_play_args(ms),
                    name=f"{name} = {rate * float(name[:-1]):g} steps/s",
                )
                for name, ms in SPEEDS
            ),
        ],
    )


def _scrubber(frame_steps: np.ndarray, f: dict, y: float) -> dict:
    steps = [
        dict(
            method="animate",
            label=str(int(s)),
            args=[
                [str(i)],
                dict(
                    mode="immediate",
                    frame=dict(duration=0, redraw=False),
                    transition=dict(duration=0),
                ),
            ],
        )
        for i, s in enumerate(frame_steps)
    ]
    return dict(
        active=len(steps) - 1,
        steps=steps,
        x=0.0,
        xanchor="left",
        len=1.0,
        y=y,
        yanchor="top",
        pad=dict(t=0, b=0),
        currentvalue=dict(
            prefix="step ",
            suffix=f"      (1× plays {steps_per_second(frame_steps):g} steps a second)",
            font=dict(size=f["base"]),
        ),
        font=dict(size=max(f["base"] - 4, 9)),
        ticklen=3,
        minorticklen=0,
        transition=dict(duration=0),
    )
