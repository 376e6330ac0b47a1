"""The contour's static layers: the loss on a grid, its levels, a banded raster, iso-lines.

They depend on the surface's grid only, so they are computed once per grid and shared
(:func:`surface_layers`). Library parts do the work: contourpy the iso-lines, Pillow
the PNG, Plotly's Viridis the colours; the contour module draws them.
"""

from __future__ import annotations

import base64
import hashlib
import io
import threading
from typing import Any

import contourpy
import numpy as np
from PIL import Image
from plotly.colors import sample_colorscale

from .series import f32

# Viridis, lightened towards white so that the coloured paths stay readable.
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
    rgb = 255.0 * np.array(sample_colorscale("Viridis", n_bands, colortype="tuple"))
    rgb = rgb + (255.0 - rgb) * _LIGHTEN
    return np.round(rgb).astype(np.uint8)


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
    image = Image.fromarray(bands[::-1])  # image rows run top (y max) to bottom
    image.putpalette(palette.tobytes())  # an indexed PNG: one byte per pixel
    png = io.BytesIO()
    image.save(png, format="PNG", compress_level=6)
    return "data:image/png;base64," + base64.b64encode(png.getvalue()).decode("ascii")


def iso_lines(
    xs: np.ndarray, ys: np.ndarray, Z: np.ndarray, levels: np.ndarray, budget: int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """The iso-lines of every level as NaN-separated polylines ``(x, y)``, float32.

    Lines are cut where the linear interpolation along a grid cell's edge meets the level
    (contourpy's ``serial`` algorithm; NaN cells are left out). With a ``budget``, each line
    keeps every k-th point (and its last, so closed lines stay closed), the smallest k
    that fits: Rastrigin's hundreds of small rings would otherwise dominate the figure.
    """
    empty = np.zeros(0, np.float32), np.zeros(0, np.float32)
    if min(Z.shape) < 2 or len(levels) == 0:
        return empty
    gen = contourpy.contour_generator(
        xs, ys, np.ma.masked_invalid(Z), line_type=contourpy.LineType.ChunkCombinedOffset
    )
    points, lengths = [], []
    for level in levels:
        chunk_points, chunk_offsets = gen.lines(float(level))
        for pts, offsets in zip(chunk_points, chunk_offsets, strict=True):
            if pts is not None:
                points.append(pts)
                lengths.append(np.diff(offsets))
    if not points:
        return empty
    pts, lengths = np.concatenate(points), np.concatenate(lengths).astype(np.int64)
    stride = 1
    if budget:  # points drawn at stride k: ceil((length - 1) / k) + 1 per line, plus a NaN
        while stride < lengths.max() and (-((1 - lengths) // stride) + 2).sum() > budget:
            stride += 1
    line = np.repeat(np.arange(len(lengths)), lengths)
    pos = np.arange(len(pts)) - np.repeat(np.cumsum(lengths) - lengths, lengths)
    last = pos == lengths[line] - 1
    keep = (pos % stride == 0) | last
    pts, last = pts[keep], last[keep]
    # a NaN row after each line's last point separates it from the next
    pts = np.insert(pts, np.nonzero(last)[0] + 1, np.nan, axis=0)
    return f32(pts[:, 0]), f32(pts[:, 1])


_STATIC_CACHE: dict[tuple, tuple] = {}

_STATIC_LOCK = threading.Lock()  # Streamlit serves each browser tab from its own thread

_MAX_ISO_POINTS = 8_000  # ~90 kB of figure JSON and cheap to redraw; Rastrigin needs thinning


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
        ix, iy = iso_lines(xs, ys, Z, levels, _MAX_ISO_POINTS)
        hit = (levels, log_levels, ix, iy, raster_uri(xs, ys, Z, levels))
        with _STATIC_LOCK:
            if len(_STATIC_CACHE) >= 16:
                _STATIC_CACHE.pop(next(iter(_STATIC_CACHE)))
            _STATIC_CACHE[key] = hit
    return hit
