"""The 3-D view: the loss as a surface, each path drawn on it."""

from __future__ import annotations

from typing import Any

import numpy as np
import plotly.graph_objects as go
import plotly.io as pio

from .layers import band_colors, contour_levels
from .plotly_fast import fast_figure
from .series import Series, f32, thin
from .style import INK, TEMPLATE, default_title, fmt, fonts, header, hover, style_axes, title_layout


def _mesh_height(xs: np.ndarray, ys: np.ndarray, H: np.ndarray, log: bool):
    """Bilinear interpolation of the drawn heights ``H[i, j]`` at ``(xs[j], ys[i])``,
    in log space on a log axis (as the mesh is drawn there); NaN outside the grid."""
    G = np.log10(H) if log else H

    def at(p: np.ndarray) -> np.ndarray:
        fx = np.interp(p[:, 0], xs, np.arange(len(xs)), left=np.nan, right=np.nan)
        fy = np.interp(p[:, 1], ys, np.arange(len(ys)), left=np.nan, right=np.nan)
        ok = np.isfinite(fx) & np.isfinite(fy)
        out = np.full(len(p), np.nan)
        j = np.minimum(fx[ok].astype(int), len(xs) - 2)
        i = np.minimum(fy[ok].astype(int), len(ys) - 2)
        tx, ty = fx[ok] - j, fy[ok] - i
        out[ok] = (
            G[i, j] * (1 - tx) * (1 - ty)
            + G[i, j + 1] * tx * (1 - ty)
            + G[i + 1, j] * (1 - tx) * ty
            + G[i + 1, j + 1] * tx * ty
        )
        return 10.0**out if log else out

    return at


def _log_loss_axis(zmin: float, offset: float, top: float) -> dict:
    """A log height axis labelled with the loss itself: round losses (0, 1, 10, ...; or
    the lowest loss and that plus 1, 10, ... when it is far from 0) at the heights they
    are drawn at (``loss - zmin + offset``), titled plainly."""
    base = 0.0 if abs(zmin) < offset else zmin
    losses = [base] + [base + 10.0**k for k in range(-3, 12)]
    ticks, text = [], []
    for loss in losses:
        h = loss - zmin + offset
        if h > 0 and (loss == base or offset * 1.5 < h <= top * 1.2):
            ticks.append(h)
            text.append(f"{loss:,.0f}" if abs(loss) >= 1000 else fmt(loss))
    if len(ticks) > 6:  # every other decade when there are many
        ticks, text = ticks[:1] + ticks[2::2], text[:1] + text[2::2]
    if len(ticks) > 2:  # the lowest label sits in the corner where the y axis's end
        ticks, text = ticks[1:], text[1:]
    title = "loss (log scale)" if base == 0 else f"loss (log scale above {fmt(zmin)})"
    return dict(type="log", tickvals=ticks, ticktext=text, title=dict(text=title))


def surface3d_figure(
    surface: Any,
    series: list[Series] | tuple[Series, ...],
    *,
    grid: tuple[np.ndarray, np.ndarray, np.ndarray],
    title: str = "",
    classroom: bool = False,
) -> go.Figure:
    """The loss as a 3-D surface with each path drawn on it.

    When the loss spans decades the height is ``log10(loss - min + floor)`` (said on the
    z axis), otherwise the loss itself. Paths are shown where they are inside the window.
    """
    xs, ys, Z = grid
    f = fonts(classroom)
    (x0, x1), (y0, y1) = surface.bounds
    vx, vy = tuple(getattr(surface, "variables", ("x", "y")))[:2]
    levels, log_levels = contour_levels(Z)
    zmin = float(np.nanmin(Z)) if np.isfinite(Z).any() else 0.0
    # On a log z axis the height is the loss above the grid's minimum plus a small offset
    # (a hundredth of the lowest iso-level), so the minimum itself stays on the chart.
    offset = float(levels[0] - zmin) if log_levels else 0.0

    def height(v: np.ndarray) -> np.ndarray:
        v = np.asarray(v, dtype=np.float64)
        return np.maximum(v - zmin, 0.0) + offset if log_levels else v

    # full grid: a coarser mesh bridges narrow valleys (Rosenbrock's) high above their floor
    step = max(1, int(np.ceil(len(xs) / 160)))
    sx, sy, sz = xs[::step], ys[::step], Z[::step, ::step]
    colors = band_colors(10)
    scale = [[i / 9, f"rgb({c[0]},{c[1]},{c[2]})"] for i, c in enumerate(colors)]
    if not log_levels:
        z_axis = dict(title=dict(text="loss"), nticks=5)
    else:
        z_axis = _log_loss_axis(zmin, offset, float(np.nanmax(sz)) - zmin + offset)
    traces: list[dict] = [
        dict(
            type="surface",
            x=f32(sx),
            y=f32(sy),
            z=f32(height(sz)),
            colorscale=scale,
            showscale=False,
            surfacecolor=f32(np.log10(height(sz)) if log_levels else sz),
            # see-through: on a log axis the paths run inside narrow valleys
            opacity=0.45 if log_levels else 0.8,
            customdata=f32(sz),
            hovertemplate=(
                f"{vx} = %{{x:.3g}}, {vy} = %{{y:.3g}}<br>loss %{{customdata:.4g}}<extra></extra>"
            ),
            name="surface",
        )
    ]
    # Draw each path point at least as high as the drawn mesh at that point, plus a
    # lift: between grid nodes the mesh is interpolated, and across a valley narrower
    # than a cell it floats above the valley floor, hiding a path drawn at its true loss.
    # Only the drawing height changes; x, y and the hover's loss are the run's own.
    lift = 1.15 if log_levels else 1.0
    rise = 0.0 if log_levels else 0.01 * float(np.nanmax(sz) - np.nanmin(sz) or 1.0)
    mesh = _mesh_height(sx, sy, height(sz), log_levels)
    for s in series:
        path, loss = s.traj.valid()
        inside = (path[:, 0] >= x0) & (path[:, 0] <= x1) & (path[:, 1] >= y0) & (path[:, 1] <= y1)
        keep = thin(path, np.array([x1 - x0, y1 - y0]), 600, 0.002)
        p, lo = path[keep].copy(), loss[keep]
        p[~inside[keep]] = np.nan
        traces.append(
            dict(
                type="scatter3d",
                x=f32(p[:, 0]),
                y=f32(p[:, 1]),
                z=f32(np.fmax(height(lo), mesh(p)) * lift + rise),
                customdata=f32(np.stack([keep, lo], axis=-1)),
                mode="lines",
                line=dict(color=s.color, width=f["line"] + 4),
                name=s.label,
                hovertemplate=hover(s.label, vx, vy),
            )
        )
    minima = np.asarray(getattr(surface, "minima", np.zeros((0, 2))), np.float64).reshape(-1, 2)
    if len(minima):
        mz = height(np.asarray(surface.loss(minima), dtype=np.float64))
        traces.append(
            dict(
                type="scatter3d",
                x=f32(minima[:, 0]),
                y=f32(minima[:, 1]),
                z=f32(mz * lift + rise),
                mode="markers",
                marker=dict(symbol="diamond", size=6, color="#FFD700", line=dict(color=INK)),
                name="minimum",
            )
        )
    title = title or default_title(surface, series)
    layout = dict(
        template=pio.templates[TEMPLATE],
        title=title_layout(title, "", f["title"]),
        font=dict(size=f["base"], color=INK),
        scene=dict(
            xaxis=dict(title=dict(text=vx), range=[x0, x1], nticks=5),
            yaxis=dict(title=dict(text=vy), range=[y0, y1], nticks=5),
            zaxis=z_axis,
            aspectmode="manual",
            aspectratio=dict(x=1, y=1, z=0.7),
            # from the front left and above: valleys (where the paths run) stay in view
            # and the z axis's labels stand apart from the y axis's
            camera=dict(eye=dict(x=-1.35, y=-1.65, z=1.35)),
        ),
        margin=dict(l=10, r=10, t=80, b=10),
        uirevision="surface3d",
    )
    header(layout, title, "", [t["name"] for t in traces[1:]], f, 780 if classroom else 640)
    style_axes(layout, f)
    return fast_figure(traces, layout)
