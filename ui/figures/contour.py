"""The animated contour: trajectories over the banded surface, played in the browser.

Built for smooth animation:

* the surface is a banded raster image in ``layout.images`` plus the iso-lines as one
  scatter trace (:mod:`.layers`), because a Contour trace disappears as soon as frames
  play without a full redraw;
* frames only touch the moving traces (growing path and head marker of each series);
  the faint full path, minima, start and iso-lines are drawn once;
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
from .style import INK, TEMPLATE, default_title, fmt, fonts, header, hover, style_axes, title_layout

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
) -> dict:
    """Traces, layout and frames of the contour, plus what a caller adds frames to.

    Trace order: iso-lines, colour-scale key, [click targets], minima, start, then five
    traces per series: faint full path, drawn path, newest stretch of it, head marker and
    end marker ("x" where it diverged, a dot where it converged).

    Animation: frame ``i`` (group ``"play"``, named ``str(i)``) shows every series at
    step ``frame_steps[i]``. The drawn path changes only every ``_CHUNK`` frames, so it
    lives in a few base frames (group ``"base"``) that the play frames extend through
    ``baseframe``; a play frame itself carries only the newest stretch and the head.
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
        _colour_key(levels, log_levels, f),
    ]
    if click_targets:
        traces.append(_click_targets((x0, x1, y0, y1), vx, vy))
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
    moving: list[int] = []  # per series: drawn path, newest stretch, head
    kept: list[np.ndarray] = []
    for si, (s, (path, loss), n_last) in enumerate(zip(series, paths, last, strict=True)):
        status = run_status(s.traj)
        group = f"series{si}"
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
        traces.append(dict(common, **_xy(path[:0]), mode="lines", line=line, hoverinfo="skip"))
        traces.append(
            dict(
                common,
                **_head(path, loss, k),
                mode="markers",
                marker=dict(size=f["head"], color=s.color, line=dict(color="white", width=1.5)),
                hovertemplate=hover(s.label, vx, vy),
                selected=dict(marker=dict(opacity=1)),
                unselected=dict(marker=dict(opacity=1)),
            )
        )
        moving += [len(traces) - 3, len(traces) - 2, len(traces) - 1]
        traces.append(dict(common, **_end_marker(s, path, loss, n_last, status, vx, vy, f)))

    frames: list[dict] = []
    if do_frames:
        frames = _frames(paths, kept, last, frame_steps, moving)
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
) -> list[dict]:
    """Base frames (drawn path up to each chunk start) and play frames (newest stretch, head)."""
    drawn_idx = moving[0::3]
    frames: list[dict] = []
    for c in range(0, len(frame_steps), _CHUNK):
        step0 = int(frame_steps[c])
        data = [
            _xy(_pts(path, keep, 0, min(step0, n)))
            for (path, _), keep, n in zip(paths, kept, last, strict=True)
        ]
        frames.append(dict(name=f"base{c // _CHUNK}", group="base", data=data, traces=drawn_idx))
    stretch_heads = [i for j, i in enumerate(moving) if j % 3]
    for fi, step in enumerate(frame_steps):
        step0 = int(frame_steps[fi - fi % _CHUNK])
        data = []
        for (path, loss), keep, n in zip(paths, kept, last, strict=True):
            k = min(int(step), n)
            data.append(_xy_typed(_pts(path, keep, min(step0, n), k)))
            data.append(_head(path, loss, k, typed=True))
        frames.append(
            dict(
                name=str(fi),
                group="play",
                baseframe=f"base{fi // _CHUNK}",
                data=data,
                traces=stretch_heads,
            )
        )
    return frames


def _pts(path: np.ndarray, keep: np.ndarray, a: int, b: int) -> np.ndarray:
    """Kept points strictly between steps ``a`` and ``b``, plus the exact ends."""
    if len(path) == 0:
        return path
    inner = keep[(keep > a) & (keep < b)]
    idx = np.concatenate([[a], inner, [b]]) if b > a else np.array([a])
    return path[idx]


def _xy(points: np.ndarray) -> dict:
    return dict(x=f32(points[:, 0]), y=f32(points[:, 1]))


def _typed(a: np.ndarray) -> dict:
    """Plotly.js's typed-array form, encoded here: plotly.py's own encoder spends ~0.1 ms
    per array, which adds up over a thousand frame arrays."""
    data = np.ascontiguousarray(a, dtype="<f4").tobytes()
    return {"dtype": "f4", "bdata": base64.b64encode(data).decode("ascii")}


def _xy_typed(points: np.ndarray) -> dict:
    return dict(x=_typed(points[:, 0]), y=_typed(points[:, 1]))


def _head(path: np.ndarray, loss: np.ndarray, k: int, typed: bool = False) -> dict:
    point = path[k : k + 1]
    xy = _xy_typed(point) if typed else _xy(point)
    return dict(**xy, customdata=[[k, float(loss[k])]] if len(point) else [])


def _end_marker(
    s: Series,
    path: np.ndarray,
    loss: np.ndarray,
    n_last: int,
    status: str,
    vx: str,
    vy: str,
    f: dict,
) -> dict:
    """'x' where a path blew up, a dot where it converged; nothing after ``max_steps``."""
    symbol = {"diverged": "x", "converged": "circle"}.get(status)
    end = path[-1:] if (symbol and len(path)) else path[:0]
    msg = run_message(s.traj) or status
    return dict(
        **_xy(end),
        customdata=[[n_last, float(v)] for v in loss[-1:][: len(end)]],
        mode="markers",
        marker=dict(
            symbol=symbol or "circle",
            size=f["end"] if symbol == "x" else f["end"] - 3,
            color=s.color,
            line=dict(color=INK if symbol == "x" else "white", width=1.5),
        ),
        hovertemplate=hover(s.label, vx, vy).replace(
            "<extra></extra>", f"<br>{msg}<extra></extra>"
        ),
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
