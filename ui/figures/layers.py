"""The contour's static layers: the loss on a grid, its levels, a banded raster, iso-lines.

They depend on the surface's grid only, so they are computed once per grid and shared
(:func:`surface_layers`). No Plotly in here: the contour module draws them.
"""

from __future__ import annotations

import base64
import hashlib
import struct
import threading
import zlib
from typing import Any

import numpy as np

from .series import f32

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


def band_colors(n_bands: int) -> np.ndarray:
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
    palette = np.vstack([band_colors(len(levels) + 1), np.array([_NAN_RGB], dtype=np.uint8)])
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
    return f32(pts[:, 0]), f32(pts[:, 1])


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


def surface_layers(
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
