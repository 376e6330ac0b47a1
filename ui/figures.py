"""Figure builders: trajectories over a loss surface, effective learning rates and loss curves.

Pure functions, data in and ``go.Figure`` out, so every figure can be tested without
Streamlit. The contour plot is built for smooth animation in the browser:

* the surface is a banded raster image in ``layout.images`` (a PNG encoded here) plus
  the iso-lines as one scatter trace, because a Contour trace disappears as soon as
  frames play without a full redraw;
* frames only touch the moving traces (growing path and head marker of each series);
  the faint full path, minima, start and iso-lines are drawn once;
* arrays are float32 and the growing paths are thinned by arc length, so six
  optimizers over a thousand steps stay well under a megabyte of figure JSON.

No LaTeX anywhere in here: the page has no MathJax, so formulas go through ``st.latex``.
"""

from __future__ import annotations

import base64
import hashlib
import struct
import threading
import zlib
from dataclasses import dataclass
from typing import Any

import numpy as np
import plotly.graph_objects as go
import plotly.io as pio

# Okabe-Ito colours (without yellow, which vanishes on a light background, and black,
# which marks minima and starts): distinguishable with every common colour-vision deficiency.
PALETTE: tuple[str, ...] = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9")

# Set on every figure: importing Streamlit changes Plotly's global default template, and
# a PNG export must look like the screen.
TEMPLATE = "plotly_white"

FRAME_MS = 30  # 1x speed. Plotly steps frames on requestAnimationFrame ticks (60 Hz):
# 30 ms lands on every second tick, 30 fps; 40 ms would land on every third, 20 fps.
_INK = "#222222"
_ISO_COLOR = "rgba(40, 40, 60, 0.35)"
# Viridis anchors, lightened towards white so that the coloured paths stay readable.
_VIRIDIS = np.array(
    [
        [68, 1, 84],
        [72, 40, 120],
        [62, 73, 137],
        [49, 104, 142],
        [38, 130, 142],
        [31, 158, 137],
        [53, 183, 121],
        [110, 206, 88],
        [181, 222, 43],
        [253, 231, 37],
    ],
    dtype=np.float64,
)
_LIGHTEN = 0.55
_NAN_RGB = (235, 235, 235)
_MAX_GROWING_POINTS = 300  # thinned points per growing path (frames resend them)
_MIN_STEP_FRACTION = 0.004  # thinning: keep points this far apart (fraction of the view)
_CLICK_GRID = 50  # click resolution: 1/49 of the window


@dataclass(frozen=True)
class Series:
    """One optimizer's single trajectory as shown: legend text, colour and the run."""

    label: str
    color: str
    traj: Any  # optim.Trajectory with batch shape (): params (T+1, 2), NaN rows after a stop


# -- data preparation ------------------------------------------------------------------------


def surface_grid(surface: Any, n: int = 160) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Loss on an ``n`` x ``n`` grid over ``surface.bounds``: ``xs (n,)``, ``ys (n,)``, ``Z (n, n)``.

    ``Z[i, j]`` is the loss at ``(xs[j], ys[i])``; non-finite values become NaN.
    """
    (x0, x1), (y0, y1) = surface.bounds
    xs = np.linspace(float(x0), float(x1), n)
    ys = np.linspace(float(y0), float(y1), n)
    gx, gy = np.meshgrid(xs, ys)
    with np.errstate(all="ignore"):
        z = np.asarray(surface.loss(np.stack([gx, gy], axis=-1)), dtype=np.float64)
    z = np.broadcast_to(z, gx.shape)
    return xs, ys, np.where(np.isfinite(z), z, np.nan)


def contour_levels(Z: np.ndarray, n_levels: int = 16) -> tuple[np.ndarray, bool]:
    """Iso-line levels for a loss grid and whether they are log-spaced.

    Levels are log-spaced (above the grid's minimum) when the loss range spans decades,
    as on Rosenbrock's narrow valley, where linear levels would all crowd the walls;
    otherwise they are evenly spaced.
    """
    z = Z[np.isfinite(Z)]
    if z.size == 0:
        return np.array([0.0]), False
    lo, hi = float(z.min()), float(z.max())
    if not hi > lo:
        return np.array([lo]), False
    above = z - lo
    above = above[above > 0]
    # The 1% quantile of the height above the minimum: a quadratic bowl has about 1/100
    # of its range there, a curved valley like Rosenbrock's far less.
    floor = float(np.quantile(above, 0.01))
    if floor > 0 and (hi - lo) / floor > 1e3:
        return lo + np.geomspace(floor, hi - lo, n_levels), True
    return np.linspace(lo, hi, n_levels + 2)[1:-1], False


def _band_colors(n_bands: int) -> np.ndarray:
    """``n_bands`` light colours from low (dark end of viridis) to high, uint8 RGB."""
    t = np.linspace(0.0, 1.0, n_bands) * (len(_VIRIDIS) - 1)
    i = np.minimum(t.astype(int), len(_VIRIDIS) - 2)
    f = (t - i)[:, None]
    rgb = _VIRIDIS[i] * (1 - f) + _VIRIDIS[i + 1] * f
    rgb = rgb + (255.0 - rgb) * _LIGHTEN
    return np.round(rgb).astype(np.uint8)


def _png_indexed(index: np.ndarray, palette: np.ndarray) -> bytes:
    """A palette PNG (colour type 3) from a uint8 index image, top row first."""
    h, w = index.shape
    raw = np.zeros((h, w + 1), dtype=np.uint8)  # each row starts with filter type 0
    raw[:, 1:] = index

    def chunk(tag: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(tag + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", w, h, 8, 3, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"PLTE", palette.astype(np.uint8).tobytes())
        + chunk(b"IDAT", zlib.compress(raw.tobytes(), 6))
        + chunk(b"IEND", b"")
    )


def _upsample(xs: np.ndarray, ys: np.ndarray, Z: np.ndarray, factor: int) -> np.ndarray:
    """Bilinear refinement of ``Z`` so band edges follow the iso-lines, not the grid cells."""
    n_y, n_x = Z.shape
    u = np.linspace(0, n_x - 1, (n_x - 1) * factor + 1)
    v = np.linspace(0, n_y - 1, (n_y - 1) * factor + 1)
    j = np.minimum(u.astype(int), n_x - 2)
    i = np.minimum(v.astype(int), n_y - 2)
    fu = (u - j)[None, :]
    fv = (v - i)[:, None]
    z00 = Z[i][:, j]
    z01 = Z[i][:, j + 1]
    z10 = Z[i + 1][:, j]
    z11 = Z[i + 1][:, j + 1]
    return (z00 * (1 - fu) + z01 * fu) * (1 - fv) + (z10 * (1 - fu) + z11 * fu) * fv


def raster_uri(xs: np.ndarray, ys: np.ndarray, Z: np.ndarray, levels: np.ndarray) -> str:
    """The banded surface as a PNG data URI (one colour per band between levels)."""
    factor = max(1, int(np.ceil(320 / max(len(xs) - 1, 1))))
    zf = _upsample(xs, ys, Z, factor) if min(Z.shape) > 1 else Z
    bands = np.searchsorted(levels, np.nan_to_num(zf, nan=np.inf)).astype(np.uint8)
    palette = np.vstack([_band_colors(len(levels) + 1), np.array([_NAN_RGB], dtype=np.uint8)])
    bands[~np.isfinite(zf)] = len(levels) + 1
    png = _png_indexed(bands[::-1], palette)  # image rows run top (y max) to bottom
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def iso_lines(
    xs: np.ndarray, ys: np.ndarray, Z: np.ndarray, levels: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Marching squares over every level at once: NaN-separated polylines ``(x, y)``.

    A cell's corners are compared with the level; each edge whose ends disagree is cut at
    the linearly interpolated crossing. Two cuts make one segment; four cuts (a saddle
    cell) make two, paired by the value at the cell's centre. Neighbouring cells compute
    a shared crossing identically, so segments are chained through their edge ids into
    polylines (a third of the points of separate segments).
    """
    empty = np.zeros(0, np.float32), np.zeros(0, np.float32)
    if min(Z.shape) < 2 or len(levels) == 0:
        return empty
    n_y, n_x = Z.shape
    lev = np.asarray(levels, dtype=np.float64)[:, None, None]
    z00, z01 = Z[None, :-1, :-1], Z[None, :-1, 1:]
    z10, z11 = Z[None, 1:, :-1], Z[None, 1:, 1:]
    a00, a01, a10, a11 = z00 > lev, z01 > lev, z10 > lev, z11 > lev
    cut = np.stack([a00 != a01, a01 != a11, a10 != a11, a00 != a10], axis=-1)  # b, r, t, l
    li, ci, cj = np.nonzero(cut.any(axis=-1))
    if li.size == 0:
        return empty
    L = lev[li, 0, 0]
    c00, c01 = Z[ci, cj], Z[ci, cj + 1]
    c10, c11 = Z[ci + 1, cj], Z[ci + 1, cj + 1]
    x0, x1 = xs[cj], xs[cj + 1]
    y0, y1 = ys[ci], ys[ci + 1]
    with np.errstate(all="ignore"):
        tb = (L - c00) / (c01 - c00)
        tr = (L - c01) / (c11 - c01)
        tt = (L - c10) / (c11 - c10)
        tl = (L - c00) / (c10 - c00)
    px = np.stack([x0 + tb * (x1 - x0), x1, x0 + tt * (x1 - x0), x0], axis=-1)
    py = np.stack([y0, y0 + tr * (y1 - y0), y1, y0 + tl * (y1 - y0)], axis=-1)
    # Edge ids, unique per level: horizontal edges first, then vertical ones.
    n_h, n_v = n_y * (n_x - 1), (n_y - 1) * n_x
    base = li * (n_h + n_v)
    eid = np.stack(
        [
            base + ci * (n_x - 1) + cj,
            base + n_h + ci * n_x + cj + 1,
            base + (ci + 1) * (n_x - 1) + cj,
            base + n_h + ci * n_x + cj,
        ],
        axis=-1,
    )
    flags = cut[li, ci, cj]
    count = flags.sum(axis=-1)
    rows = np.arange(li.size)
    two = rows[count == 2]
    order = np.argsort(~flags[two], axis=-1, kind="stable")[:, :2]
    pairs = [(two, order[:, 0], order[:, 1])]
    four = rows[count == 4]
    if four.size:
        centre_above = (c00 + c01 + c10 + c11)[four] / 4 > L[four]
        same = centre_above == (c00[four] > L[four])
        # same side as corner 00: cut around corners 01 (b, r) and 10 (t, l);
        # otherwise around corners 00 (b, l) and 11 (r, t)
        pairs.append((four, np.zeros(four.size, int), np.where(same, 1, 3)))
        pairs.append((four, np.where(same, 2, 1), np.where(same, 3, 2)))
    ea = np.concatenate([eid[r, a] for r, a, _ in pairs])
    eb = np.concatenate([eid[r, b] for r, _, b in pairs])
    pa = np.concatenate([np.stack([px[r, a], py[r, a]], -1) for r, a, _ in pairs])
    pb = np.concatenate([np.stack([px[r, b], py[r, b]], -1) for r, _, b in pairs])
    ok = np.isfinite(pa).all(axis=-1) & np.isfinite(pb).all(axis=-1)
    return _chain(ea[ok], eb[ok], pa[ok], pb[ok])


def _chain(
    ea: np.ndarray, eb: np.ndarray, pa: np.ndarray, pb: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Join segments sharing an end (same edge id) into NaN-separated polylines."""
    if ea.size == 0:
        return np.zeros(0, np.float32), np.zeros(0, np.float32)
    nodes, inv = np.unique(np.concatenate([ea, eb]), return_inverse=True)
    m = ea.size
    na, nb = inv[:m], inv[m:]
    point = np.zeros((nodes.size, 2))
    point[na], point[nb] = pa, pb
    # every node (an edge crossing) touches at most two segments
    link = np.full((nodes.size, 2), -1)
    for seg, node in enumerate(np.concatenate([na, nb])):
        s = seg % m
        slot = 0 if link[node, 0] < 0 else 1
        link[node, slot] = s
    seg_a, seg_b = na.tolist(), nb.tolist()
    links = link.tolist()
    used = [False] * m
    degree = (link >= 0).sum(axis=1)
    out: list[int] = []
    # open chains first (start at a node with one segment), then closed loops
    starts = np.nonzero(degree == 1)[0].tolist() + list(range(nodes.size))
    for first in starts:
        node = first
        seg = next((s for s in links[node] if s >= 0 and not used[s]), -1)
        if seg < 0:
            continue
        out.append(node)
        while seg >= 0 and not used[seg]:
            used[seg] = True
            node = seg_b[seg] if seg_a[seg] == node else seg_a[seg]
            out.append(node)
            seg = next((s for s in links[node] if s >= 0 and not used[s]), -1)
        out.append(-1)
    idx = np.asarray(out)
    pts = np.where((idx >= 0)[:, None], point[np.maximum(idx, 0)], np.nan)
    return _f32(pts[:, 0]), _f32(pts[:, 1])


_STATIC_CACHE: dict[tuple, tuple] = {}
_STATIC_LOCK = threading.Lock()  # Streamlit serves each browser tab from its own thread
_MAX_ISO_POINTS = 8_000  # ~90 kB of figure JSON and cheap to redraw; Rastrigin needs thinning


def _decimate(x: np.ndarray, y: np.ndarray, budget: int) -> tuple[np.ndarray, np.ndarray]:
    """Drop every other interior point of each polyline until ``budget`` points remain.

    Ends of every line are kept, so closed loops stay closed.
    """
    for _ in range(4):
        if len(x) <= budget:
            break
        gap = ~np.isfinite(x)
        idx = np.arange(len(x))
        first = np.concatenate([[True], gap[:-1]])
        last = np.concatenate([gap[1:], [True]])
        keep = gap | first | last | (idx % 2 == 0)
        x, y = x[keep], y[keep]
    return x, y


def _surface_layers(
    xs: np.ndarray, ys: np.ndarray, Z: np.ndarray
) -> tuple[np.ndarray, bool, np.ndarray, np.ndarray, str]:
    """Levels, iso-lines and raster for a grid, memoized: they depend on the grid only."""
    digest = hashlib.blake2b(digest_size=16)
    for a in (xs, ys, Z):
        digest.update(np.ascontiguousarray(a, dtype=np.float64).tobytes())
    key = (Z.shape, digest.hexdigest())
    with _STATIC_LOCK:
        hit = _STATIC_CACHE.get(key)
    if hit is None:
        levels, log_levels = contour_levels(Z)
        ix, iy = _decimate(*iso_lines(xs, ys, Z, levels), _MAX_ISO_POINTS)
        hit = (levels, log_levels, ix, iy, raster_uri(xs, ys, Z, levels))
        with _STATIC_LOCK:
            if len(_STATIC_CACHE) >= 16:
                _STATIC_CACHE.pop(next(iter(_STATIC_CACHE)))
            _STATIC_CACHE[key] = hit
    return hit


def _status(traj: Any) -> str:
    return str(np.asarray(traj.status).reshape(-1)[0])


def _message(traj: Any) -> str:
    msg = getattr(traj, "message", "")
    return str(np.asarray(msg).reshape(-1)[0]) if msg is not None else ""


def _n_valid(traj: Any) -> int:
    """Leading finite rows of ``traj.params`` (the path the optimizer really took)."""
    finite = np.isfinite(np.asarray(traj.params)).all(axis=-1)
    bad = np.nonzero(~finite)[0]
    return int(bad[0]) if bad.size else len(finite)


def _valid(traj: Any) -> tuple[np.ndarray, np.ndarray]:
    """Valid path rows ``(n, 2)`` and their losses ``(n,)``."""
    n = _n_valid(traj)
    return np.asarray(traj.params, dtype=np.float64)[:n], np.asarray(traj.loss, np.float64)[:n]


def _thin(path: np.ndarray, span: np.ndarray, budget: int, min_fraction: float) -> np.ndarray:
    """Indices of path points kept for drawing: one per arc-length bin of the view.

    Zig-zags wider than a bin keep every step; tiny steps near a minimum collapse.
    The first and last points are always kept.
    """
    n = len(path)
    if n <= 2:
        return np.arange(n)
    d = np.abs(np.diff(path, axis=0)) / span
    arc = np.concatenate([[0.0], np.cumsum(np.hypot(d[:, 0], d[:, 1]))])
    total = arc[-1]
    if not np.isfinite(total) or total == 0:
        return np.array([0, n - 1])
    delta = max(min_fraction, total / budget)
    bins = np.floor(arc / delta)
    keep = np.concatenate([[True], bins[1:] != bins[:-1]])
    keep[-1] = True
    return np.nonzero(keep)[0]


def _f32(a: Any) -> np.ndarray:
    return np.asarray(a, dtype=np.float32)


def _default_title(surface: Any, series: list[Series] | tuple[Series, ...]) -> str:
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


def _title(text: str, subtitle: str, size: int) -> dict:
    t: dict[str, Any] = dict(text=f"<b>{text}</b>", x=0.01, xanchor="left", font=dict(size=size))
    if subtitle:
        t["subtitle"] = dict(text=subtitle, font=dict(size=max(size - 4, 11), color="#555"))
    return t


_ASSUMED_WIDTH = 760  # px, a wide Streamlit column: only used to guess legend rows


def _legend_rows(items: list[str], size: int) -> int:
    """How many rows a horizontal legend of ``items`` needs at the assumed width."""
    rows, used = 1, 0.0
    for text in items:
        w = 46 + 0.56 * size * len(text)
        if used and used + w > _ASSUMED_WIDTH:
            rows, used = rows + 1, 0.0
        used += w
    return rows


def _header(
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


def relayout_header(layout: dict, title_size: float, base_size: float, height: int) -> None:
    """(Re)place title and legend for a figure ``height`` px tall with the given fonts."""
    info = (layout.get("meta") or {}).get("header")
    if not info:
        return
    lines = info["title"].count("<br>") + 1
    line_px = title_size * 1.3
    title_px = line_px * lines + (base_size * 1.5 if info["subtitle"] else 0)
    top = 14 + title_px + 10
    legend_px = _legend_rows(info["legend_items"], base_size) * (base_size * 1.5 + 5)
    layout["height"] = height
    # Plotly anchors a multi-line title by its first line: shift it down by the others.
    layout.setdefault("title", {}).update(
        yref="container", y=1 - (14 + line_px * (lines - 1)) / height, yanchor="top"
    )
    layout["legend"] = dict(
        layout.get("legend") or {},
        orientation="h",
        x=0.0,
        xanchor="left",
        yref="container",
        y=1 - top / height,
        yanchor="top",
    )
    layout.setdefault("margin", {})["t"] = int(top + legend_px + 8)


def _style_axes(layout: dict, f: dict) -> None:
    """Explicit axis fonts, so Streamlit's chart theme cannot shrink or grey them."""
    axes = [v for k, v in layout.items() if k.startswith(("xaxis", "yaxis"))]
    for scene in (v for k, v in layout.items() if k.startswith("scene")):
        axes += [scene.setdefault(a, {}) for a in ("xaxis", "yaxis", "zaxis")]
    for axis in axes:
        axis.setdefault("tickfont", dict(size=f["base"] - 1, color=_INK))
        title = axis.setdefault("title", {})
        title.setdefault("font", dict(size=f["base"] + 1, color=_INK))


def _fonts(classroom: bool) -> dict:
    return (
        dict(base=18, title=24, line=4.0, faint=2.5, head=16, end=18)
        if classroom
        else dict(base=13, title=17, line=2.5, faint=1.5, head=11, end=13)
    )


def _hover(label: str, vx: str, vy: str) -> str:
    return (
        f"<b>{label}</b><br>step %{{customdata[0]:.0f}}<br>"
        f"{vx} = %{{x:.4g}}, {vy} = %{{y:.4g}}<br>loss %{{customdata[1]:.4g}}<extra></extra>"
    )


# -- contour ------------------------------------------------------------------------------


def contour_figure(
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
) -> go.Figure:
    """Trajectories over the banded surface, animated in the browser.

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
    f = _fonts(classroom)
    (x0, x1), (y0, y1) = surface.bounds
    x0, x1, y0, y1 = float(x0), float(x1), float(y0), float(y1)
    span = np.array([x1 - x0, y1 - y0])
    vx, vy = tuple(getattr(surface, "variables", ("x", "y")))[:2]
    levels, log_levels, ix, iy, raster = _surface_layers(xs, ys, Z)

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
    paths = [_valid(s.traj) for s in series]
    last = [max(len(p) - 1, 0) for p, _ in paths]
    t_end = max(last, default=0)
    shown = t_end if upto_step is None else int(np.clip(upto_step, 0, t_end))
    do_frames = animate and upto_step is None and t_end > 0 and len(series) > 0
    frame_steps = frame_schedule(t_end, n_frames)

    # -- per series traces
    moving: list[int] = []  # per series: drawn path, newest stretch, head
    kept: list[np.ndarray] = []
    for si, (s, (path, loss), n_last) in enumerate(zip(series, paths, last, strict=True)):
        status = _status(s.traj)
        group = f"series{si}"
        faint_idx = _thin(path, span, 1200, 0.0015)
        custom = np.stack([faint_idx, loss[faint_idx]], axis=-1)
        common = dict(type="scatter", legendgroup=group, name=s.label, showlegend=False)
        traces.append(
            dict(
                common,
                x=_f32(path[faint_idx, 0]),
                y=_f32(path[faint_idx, 1]),
                customdata=_f32(custom),
                mode="lines",
                line=dict(color=s.color, width=f["faint"]),
                opacity=0.35,
                hovertemplate=_hover(s.label, vx, vy),
            )
        )
        keep = _thin(path, span, _MAX_GROWING_POINTS, _MIN_STEP_FRACTION)
        kept.append(keep)
        k = min(shown, n_last)
        suffix = {"diverged": "  (diverged)", "converged": "  (converged)"}.get(status, "")
        line = dict(color=s.color, width=f["line"])
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
                hovertemplate=_hover(s.label, vx, vy),
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
        title = _default_title(surface, series)
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
    )
    return _figure(traces, layout, frames)


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


class _PreparedFrame(go.Frame):
    """A frame whose (already valid) trace updates are kept as plain dicts.

    Plotly validates a frame's traces one property at a time, ~2 ms per frame; these
    frames are built from known-good dicts, so they skip that. ``data`` and ``layout``
    read the dicts back as they will be sent to the browser.
    """

    @property
    def data(self) -> tuple:
        return tuple(self._orphan_props.get("data", ()))

    @property
    def layout(self) -> dict | None:
        return self._orphan_props.get("layout")

    def __repr__(self) -> str:
        return f"Frame(name={self.name!r}, traces={self.traces!r})"


def _figure(data: list[dict], layout: dict, frames: list[dict] = ()) -> go.Figure:
    """A ``go.Figure`` built without Plotly's per-property validation.

    The dicts here are known-good; validating them, and above all a hundred frames,
    would cost ~200 ms per figure.
    """
    fig = go.Figure(dict(data=data, layout=layout), _validate=False)
    if frames:
        objs = []
        for fr in frames:
            obj = _PreparedFrame()
            obj._orphan_props.update(fr)
            objs.append(obj)
        fig._frame_objs = tuple(objs)
    return fig


def _pts(path: np.ndarray, keep: np.ndarray, a: int, b: int) -> np.ndarray:
    """Kept points strictly between steps ``a`` and ``b``, plus the exact ends."""
    if len(path) == 0:
        return path
    inner = keep[(keep > a) & (keep < b)]
    idx = np.concatenate([[a], inner, [b]]) if b > a else np.array([a])
    return path[idx]


def _xy(points: np.ndarray) -> dict:
    return dict(x=_f32(points[:, 0]), y=_f32(points[:, 1]))


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
    msg = _message(s.traj) or status
    return dict(
        **_xy(end),
        customdata=[[n_last, float(v)] for v in loss[-1:][: len(end)]],
        mode="markers",
        marker=dict(
            symbol=symbol or "circle",
            size=f["end"] if symbol == "x" else f["end"] - 3,
            color=s.color,
            line=dict(color=_INK if symbol == "x" else "white", width=1.5),
        ),
        hovertemplate=_hover(s.label, vx, vy).replace(
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
        x=_f32(gx.ravel()),
        y=_f32(gy.ravel()),
        mode="markers",
        marker=dict(size=14, symbol="square", color="rgba(0,0,0,0.004)", maxdisplayed=1),
        hovertemplate=f"click to start here<br>{vx} = %{{x:.3g}}, {vy} = %{{y:.3g}}<extra></extra>",
        hoverlabel=dict(bgcolor="white", font=dict(color=_INK)),
        showlegend=False,
        name="click targets",
        selected=dict(marker=dict(opacity=1)),
        unselected=dict(marker=dict(opacity=1)),
    )


def _point_marker(points: np.ndarray, kind: str, vx: str, vy: str, f: dict) -> dict:
    """Minima as gold stars, the start as a black ring."""
    if kind == "minimum":
        marker = dict(
            symbol="star", size=f["end"] + 6, color="#FFD700", line=dict(color=_INK, width=1.5)
        )
    else:
        marker = dict(symbol="circle-open", size=f["end"] + 4, color=_INK, line=dict(width=2.5))
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


def _fmt(v: float) -> str:
    return f"{v:.3g}"


def _colour_key(levels: np.ndarray, log_levels: bool, f: dict) -> dict:
    """An invisible trace whose colour bar explains the raster's bands."""
    n_bands = len(levels) + 1
    colors = _band_colors(n_bands)
    scale = []
    for b, c in enumerate(colors):
        css = f"rgb({c[0]},{c[1]},{c[2]})"
        scale += [[b / n_bands, css], [(b + 1) / n_bands, css]]
    # ticks on band boundaries, labelled with the level value (every other when crowded)
    every = 1 if len(levels) <= 10 else 2
    tickvals = [(i + 1) / n_bands for i in range(0, len(levels), every)]
    ticktext = [_fmt(levels[i]) for i in range(0, len(levels), every)]
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
) -> dict:
    x0, x1, y0, y1 = box
    w, h = x1 - x0, y1 - y0
    square_ish = 0.4 <= h / w <= 2.5 if w > 0 else False
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
        title=_title(title, subtitle, f["title"]),
        font=dict(size=f["base"], color=_INK),
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
        margin=dict(l=60, r=30, t=80, b=60),
        plot_bgcolor="white",
        uirevision="contour",
    )
    height = 860 if f["base"] > 15 else 720
    _header(layout, title, subtitle, legend_items, f, height)
    _style_axes(layout, f)
    if frame_steps is not None:
        # Controls go below the x axis title: tick labels and title take ~2.6 lines.
        below_axis = 2.6 * f["base"] + 14
        layout["margin"]["b"] = int(below_axis + 4.6 * f["base"] + 20)
        plot_h = height - layout["margin"]["t"] - layout["margin"]["b"]
        y = -below_axis / max(plot_h, 1)
        layout["updatemenus"] = [_buttons(f, y)]
        layout["sliders"] = [_scrubber(frame_steps, f, y)]
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


def _buttons(f: dict, y: float) -> dict:
    pause = [[None], dict(frame=dict(duration=0, redraw=False), mode="immediate")]
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
            dict(label="Play", method="animate", args=_play_args(FRAME_MS)),
            dict(label="Pause", method="animate", args=pause),
            dict(label="0.5×", method="animate", args=_play_args(FRAME_MS * 2)),
            dict(label="1×", method="animate", args=_play_args(FRAME_MS)),
            dict(label="2×", method="animate", args=_play_args(FRAME_MS // 2)),
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
        x=0.33,
        xanchor="left",
        len=0.67,
        y=y,
        yanchor="top",
        pad=dict(t=0, b=0),
        currentvalue=dict(prefix="step ", font=dict(size=f["base"])),
        font=dict(size=max(f["base"] - 4, 9)),
        ticklen=3,
        minorticklen=0,
        transition=dict(duration=0),
    )


# -- 3-D surface -------------------------------------------------------------------------


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
    f = _fonts(classroom)
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
    colors = _band_colors(10)
    scale = [[i / 9, f"rgb({c[0]},{c[1]},{c[2]})"] for i, c in enumerate(colors)]
    if not log_levels:
        z_axis = dict(title=dict(text="loss"))
    elif abs(zmin) < offset:
        z_axis = dict(type="log", dtick=1, title=dict(text=f"loss + {_fmt(offset)} (log)"))
    else:
        z_axis = dict(type="log", dtick=1, title=dict(text=f"loss − {_fmt(zmin)} (log)"))
    traces: list[dict] = [
        dict(
            type="surface",
            x=_f32(sx),
            y=_f32(sy),
            z=_f32(height(sz)),
            colorscale=scale,
            showscale=False,
            surfacecolor=_f32(np.log10(height(sz)) if log_levels else sz),
            # see-through: on a log axis the paths run inside narrow valleys
            opacity=0.45 if log_levels else 0.8,
            customdata=_f32(sz),
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
        path, loss = _valid(s.traj)
        inside = (path[:, 0] >= x0) & (path[:, 0] <= x1) & (path[:, 1] >= y0) & (path[:, 1] <= y1)
        keep = _thin(path, np.array([x1 - x0, y1 - y0]), 600, 0.002)
        p, lo = path[keep].copy(), loss[keep]
        p[~inside[keep]] = np.nan
        traces.append(
            dict(
                type="scatter3d",
                x=_f32(p[:, 0]),
                y=_f32(p[:, 1]),
                z=_f32(np.fmax(height(lo), mesh(p)) * lift + rise),
                customdata=_f32(np.stack([keep, lo], axis=-1)),
                mode="lines",
                line=dict(color=s.color, width=f["line"] + 4),
                name=s.label,
                hovertemplate=_hover(s.label, vx, vy),
            )
        )
    minima = np.asarray(getattr(surface, "minima", np.zeros((0, 2))), np.float64).reshape(-1, 2)
    if len(minima):
        mz = height(np.asarray(surface.loss(minima), dtype=np.float64))
        traces.append(
            dict(
                type="scatter3d",
                x=_f32(minima[:, 0]),
                y=_f32(minima[:, 1]),
                z=_f32(mz * lift + rise),
                mode="markers",
                marker=dict(symbol="diamond", size=6, color="#FFD700", line=dict(color=_INK)),
                name="minimum",
            )
        )
    title = title or _default_title(surface, series)
    layout = dict(
        template=pio.templates[TEMPLATE],
        title=_title(title, "", f["title"]),
        font=dict(size=f["base"], color=_INK),
        scene=dict(
            xaxis=dict(title=dict(text=vx), range=[x0, x1]),
            yaxis=dict(title=dict(text=vy), range=[y0, y1]),
            zaxis=z_axis,
            aspectmode="manual",
            aspectratio=dict(x=1, y=1, z=0.7),
            # from above and in front: valleys (where the paths run) stay in view
            camera=dict(eye=dict(x=-0.5, y=-1.2, z=2.1)),
        ),
        margin=dict(l=10, r=10, t=80, b=10),
        uirevision="surface3d",
    )
    _header(layout, title, "", [t["name"] for t in traces[1:]], f, 780 if classroom else 640)
    _style_axes(layout, f)
    return _figure(traces, layout)


# -- line charts ------------------------------------------------------------------------


def _steps_end(series: list[Series] | tuple[Series, ...]) -> int:
    return max((max(_n_valid(s.traj) - 1, 0) for s in series), default=0)


# Line charts: one dash pattern per series on top of its colour, so that series with
# the same values (SGD and Lion share lr along every axis) stay visible one over another.
_DASHES = ("solid", "dash", "dot", "dashdot", "longdash", "longdashdot")


def _line(s: Series, k: int, f: dict) -> dict:
    return dict(color=s.color, width=f["line"] - 0.5, dash=_DASHES[k % len(_DASHES)])


def _log_axis(values: list[np.ndarray], **extra: Any) -> dict:
    """A log axis; decade ticks only when the data span more than one decade
    (Plotly otherwise labels 2, 3, ... 9 in between, unreadable on a projector)."""
    # powers of ten (10⁻⁴), not SI prefixes (100µ), which read as units to a student
    axis: dict[str, Any] = dict(type="log", exponentformat="power", **extra)
    v = np.concatenate([np.ravel(a) for a in values] or [np.zeros(0)])
    v = v[np.isfinite(v) & (v > 0)]
    if v.size and np.log10(v.max() / v.min()) > 1:
        axis["dtick"] = 1
    return axis


def _two_panel_layout(
    title: str, f: dict, left: str, right: str, x_end: int, y_left: dict, y_right: dict
) -> dict:
    xr = [0, max(x_end, 1)]
    layout = dict(
        template=pio.templates[TEMPLATE],
        title=_title(title, "", f["title"]),
        font=dict(size=f["base"], color=_INK),
        xaxis=dict(domain=[0.0, 0.45], range=xr, title=dict(text="step"), ticks="outside"),
        xaxis2=dict(
            domain=[0.55, 1.0], range=xr, title=dict(text="step"), ticks="outside", anchor="y2"
        ),
        yaxis=dict(ticks="outside", **y_left),
        # the right panel's numbers on its right: between the panels they would run
        # into the left one on a half-width chart, and more so with classroom fonts
        yaxis2=dict(anchor="x2", ticks="outside", side="right", automargin=True, **y_right),
        annotations=[
            dict(
                text=f"<b>{text}</b>",
                x=x,
                xref="paper",
                xanchor="center",
                y=1.0,
                yref="paper",
                yanchor="bottom",
                showarrow=False,
                font=dict(size=f["base"] + 1),
            )
            for text, x in ((left, 0.225), (right, 0.775))
        ],
        legend=dict(orientation="h", x=0, xanchor="left", y=-0.22, yanchor="top"),
        hovermode="x unified",
        margin=dict(l=70, r=30, t=90, b=110),
    )
    _style_axes(layout, f)
    return layout


def effective_lr_figure(
    series: list[Series] | tuple[Series, ...],
    *,
    title: str = "",
    classroom: bool = False,
    variables: tuple[str, str] | None = None,
) -> go.Figure:
    """Per-coordinate effective learning rate against step: one panel per parameter, log y.

    Panels are named after the surface's variables (taken from the runs when not given).
    """
    f = _fonts(classroom)
    traces: list[dict] = []
    for k, s in enumerate(series):
        n = max(_n_valid(s.traj) - 1, 0)
        elr = np.asarray(s.traj.effective_lr, dtype=np.float64)[:n]
        steps = np.arange(1, n + 1, dtype=np.float32)
        for c, axis in ((0, ""), (1, "2")):
            v = elr[:, c] if n else np.zeros(0)
            v = np.where(np.isfinite(v) & (v > 0), v, np.nan)
            traces.append(
                dict(
                    type="scatter",
                    x=steps,
                    y=_f32(v),
                    xaxis=f"x{axis}",
                    yaxis=f"y{axis}",
                    mode="lines",
                    line=_line(s, k, f),
                    name=s.label,
                    legendgroup=s.label,
                    showlegend=c == 0,
                    hovertemplate="%{y:.3g}",
                )
            )
    if variables is None:
        surface = getattr(series[0].traj, "surface", None) if series else None
        variables = tuple(getattr(surface, "variables", ("x", "y")))
    vx, vy = variables[:2]
    layout = _two_panel_layout(
        title or "Effective learning rate per coordinate",
        f,
        f"along {vx}",
        f"along {vy}",
        _steps_end(series),
        _log_axis([t["y"] for t in traces[0::2]], title=dict(text="effective lr (log scale)")),
        _log_axis([t["y"] for t in traces[1::2]]),
    )
    return _figure(traces, layout)


def loss_figure(
    series: list[Series] | tuple[Series, ...], *, title: str = "", classroom: bool = False
) -> go.Figure:
    """Loss per step (log y when every loss is positive) beside the gradient norm (log y)."""
    f = _fonts(classroom)
    losses, norms = [], []
    for s in series:
        n = _n_valid(s.traj)
        loss = np.asarray(s.traj.loss, dtype=np.float64)[:n]
        grad = np.asarray(s.traj.grad, dtype=np.float64)[: max(n - 1, 0)]
        losses.append(np.where(np.isfinite(loss), loss, np.nan))
        with np.errstate(all="ignore"):
            norms.append(np.hypot(grad[:, 0], grad[:, 1]) if len(grad) else np.zeros(0))
    finite = np.concatenate([v[np.isfinite(v)] for v in losses] or [np.zeros(0)])
    log_loss = finite.size == 0 or bool(finite.min() > 0)
    traces: list[dict] = []
    for k, (s, loss, norm) in enumerate(zip(series, losses, norms, strict=True)):
        traces.append(
            dict(
                type="scatter",
                x=np.arange(len(loss), dtype=np.float32),
                y=_f32(loss),
                mode="lines",
                line=_line(s, k, f),
                name=s.label,
                legendgroup=s.label,
                hovertemplate="%{y:.4g}",
            )
        )
        traces.append(
            dict(
                type="scatter",
                x=np.arange(1, len(norm) + 1, dtype=np.float32),
                y=_f32(np.where(norm > 0, norm, np.nan)),
                xaxis="x2",
                yaxis="y2",
                mode="lines",
                line=_line(s, k, f),
                name=s.label,
                legendgroup=s.label,
                showlegend=False,
                hovertemplate="%{y:.3g}",
            )
        )
    y_left = (
        _log_axis(losses, title=dict(text="loss (log scale)"))
        if log_loss
        else dict(type="linear", title=dict(text="loss (linear scale: some values ≤ 0)"))
    )
    layout = _two_panel_layout(
        title or "Loss and gradient norm",
        f,
        "loss",
        "gradient norm ‖g‖",
        _steps_end(series),
        y_left,
        _log_axis(norms, title=dict(text="‖g‖ (log scale)")),
    )
    return _figure(traces, layout)
