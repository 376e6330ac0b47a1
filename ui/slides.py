"""Slides export of a race: an animated GIF, an MP4 and a standalone interactive HTML file.

The GIF and MP4 frames are drawn directly with Pillow, not through a browser: the
banded surface and its iso-lines (the contour's own layers, :mod:`ui.figures.layers`),
a title stating the setup, a legend and a step counter are drawn once; the paths grow
on a separate layer, so each frame only adds its newest segments and the head markers.
Frames are palette images from the start, so the GIF writer never has to quantize.

Layout of a 1280 x 720 frame: the title across the top, the plot box (``PLOT_BOX``) on
the left, the legend on the right. A data point ``(x, y)`` lands at pixel
``(left + (x - x0) / (x1 - x0) * width, bottom - (y - y0) / (y1 - y0) * height)``
(:func:`to_pixels`). Paths are never clipped to the window: a run that leaves it is
drawn up to the box's edge, and its head sits on the edge where the run left it,
drawn as a diamond instead of a dot. A run that blew up ends in an "x" at its last
finite point once the animation reaches that step.

Frames: one per step of :func:`frame_steps` (the animated contour's schedule, at most
``MAX_FRAMES``: a 200-step race shows every third step, 68 frames), then the last frame is
held (``HOLD_S`` seconds: one long GIF frame, ``HOLD_FRAMES`` repeated MP4 frames).
"""

from __future__ import annotations

import base64
import html
import io
import os
import re
import tempfile
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import plotly.graph_objects as go
from PIL import Image, ImageColor, ImageDraw, ImageFont

from .figures import Series, frame_schedule, surface_grid
from .figures.layers import surface_layers
from .race_heads import HEADS_JS

WIDTH, HEIGHT = 1280, 720
PLOT_BOX = (24, 96, 884, 700)  # left, top, right, bottom of the surface, in pixels
MAX_FRAMES = 100
FPS = 20
HOLD_S = 1.5
HOLD_FRAMES = round(FPS * HOLD_S)  # the MP4's repeats of its last frame

_GRID = 120  # loss grid behind the raster and iso-lines
_INK = (34, 34, 34)
_WHITE = (255, 255, 255)
_ISO = (90, 90, 110)
_PANEL = (250, 250, 250)
_N_BACKGROUND = 224  # palette entries for the static picture; the rest are fixed colours
_PATH_W, _HEAD_R = 3, 8

Progress = Callable[[float], None] | None


def frame_steps(series: Sequence[Series], max_frames: int = MAX_FRAMES) -> np.ndarray:
    """The steps the frames show: 0, s, 2s, ... up to the longest run's last step."""
    t_end = max((max(s.traj.n_valid() - 1, 0) for s in series), default=0)
    return frame_schedule(t_end, max_frames)


def to_pixels(surface: Any, points: np.ndarray) -> np.ndarray:
    """Data coordinates ``(n, 2)`` to frame pixels ``(n, 2)`` (float; y grows downwards)."""
    (x0, x1), (y0, y1) = surface.bounds
    left, top, right, bottom = PLOT_BOX
    p = np.asarray(points, dtype=np.float64).reshape(-1, 2)
    with np.errstate(all="ignore"):
        px = left + (p[:, 0] - float(x0)) / (float(x1) - float(x0)) * (right - left)
        py = bottom - (p[:, 1] - float(y0)) / (float(y1) - float(y0)) * (bottom - top)
    return np.stack([px, py], axis=1)


def race_gif(
    surface: Any, series: Sequence[Series], title: str, *, progress: Progress = None
) -> bytes:
    """The race as an animated GIF, 1280 x 720, looping."""
    frames = list(_frames(surface, series, title, progress, share=0.9))
    ms = round(1000 / FPS)
    durations = [ms] * (len(frames) - 1) + [round(1000 * HOLD_S)]
    out = io.BytesIO()
    frames[0].save(
        out,
        format="GIF",
        save_all=True,
        append_images=frames[1:],
        duration=durations,
        loop=0,
        optimize=False,
        disposal=1,
    )
    _report(progress, 1.0)
    return out.getvalue()


def race_mp4(
    surface: Any, series: Sequence[Series], title: str, *, progress: Progress = None
) -> bytes:
    """The race as an H.264 MP4 (yuv420p, plays everywhere), 1280 x 720 at ``FPS``."""
    import imageio.v2 as imageio  # imported here: only this export needs ffmpeg

    fd, path = tempfile.mkstemp(suffix=".mp4")
    os.close(fd)
    try:
        writer = imageio.get_writer(
            path,
            format="FFMPEG",
            fps=FPS,
            codec="libx264",
            pixelformat="yuv420p",
            quality=7,
            macro_block_size=16,
            ffmpeg_log_level="error",
            output_params=["-preset", "veryfast", "-movflags", "+faststart"],
        )
        try:
            last = None
            for frame in _frames(surface, series, title, progress, share=0.95):
                last = np.asarray(frame.convert("RGB"))
                writer.append_data(last)
            for _ in range(HOLD_FRAMES):
                writer.append_data(last)
        finally:
            writer.close()
        with open(path, "rb") as f:
            data = f.read()
    finally:
        os.unlink(path)
    _report(progress, 1.0)
    return data


# a run hidden from the legend hides its head too, as on the page (see ui.race_heads)
_HEADS_SCRIPT = HEADS_JS + 'watchHeads(Plotly, document.getElementById("{plot_id}"));\n'


def race_html(fig: go.Figure, title: str = "Optimizer race") -> bytes:
    """The animated figure as one HTML file with plotly.js inlined: plays with no server."""
    page = fig.to_html(
        include_plotlyjs=True,
        full_html=True,
        auto_play=False,
        include_mathjax=False,
        config=dict(displaylogo=False, responsive=True),
        post_script=_HEADS_SCRIPT,
    )
    page = page.replace("<head>", f"<head><title>{html.escape(title)}</title>", 1)
    return page.encode("utf-8")


# -- drawing --------------------------------------------------------------------------------


def _report(progress: Progress, fraction: float) -> None:
    if progress is not None:
        progress(min(max(float(fraction), 0.0), 1.0))


def _font(size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.load_default(size=size)


def _rgb(color: str) -> tuple[int, int, int]:
    return ImageColor.getrgb(color)[:3]


def run_colors(series: Sequence[Series]) -> list[tuple[int, int, int]]:
    """Each run's colour in the frames: its optimizer's, and for a repeat of one optimizer
    (drawn dashed on the page; a frame's paths are solid) a lighter, then darker shade."""
    seen: dict[tuple[int, int, int], int] = {}
    out = []
    for s in series:
        rgb = _rgb(s.color)
        k = seen.get(rgb, 0)
        seen[rgb] = k + 1
        if k:
            towards, share = ((255, 255, 255), 0.5) if k % 2 else ((0, 0, 0), 0.45)
            rgb = tuple(round(c + share * (t - c)) for c, t in zip(rgb, towards, strict=True))
        out.append(rgb)
    return out


def _plain(text: str) -> list[str]:
    """Plotly title markup to plain lines: ``<br>`` breaks, other tags dropped."""
    lines = re.split(r"<br\s*/?>", text or "", flags=re.IGNORECASE)
    return [html.unescape(re.sub(r"<[^>]+>", "", line)).strip() for line in lines if line]


def _wrap(draw: ImageDraw.ImageDraw, lines: list[str], font: Any, width: int) -> list[str]:
    out = []
    for line in lines:
        words, cur = line.split(" "), ""
        for word in words:
            trial = f"{cur} {word}" if cur else word
            if cur and draw.textlength(trial, font=font) > width:
                out.append(cur)
                cur = word
            else:
                cur = trial
        out.append(cur)
    return out


def _background(surface: Any, series: Sequence[Series], title: str) -> Image.Image:
    """The static RGB picture: title, banded surface, iso-lines, minima, start, legend."""
    img = Image.new("RGB", (WIDTH, HEIGHT), _WHITE)
    draw = ImageDraw.Draw(img)
    left, top, right, bottom = PLOT_BOX
    xs, ys, Z = surface_grid(surface, _GRID)
    _, _, ix, iy, raster = surface_layers(xs, ys, Z)
    band = Image.open(io.BytesIO(base64.b64decode(raster.split(",", 1)[1]))).convert("RGB")
    img.paste(band.resize((right - left, bottom - top), Image.Resampling.BILINEAR), (left, top))
    # iso-lines: NaN rows separate the polylines
    pix = to_pixels(surface, np.stack([ix, iy], axis=1))
    breaks = np.nonzero(~np.isfinite(pix[:, 0]))[0]
    for part in np.split(pix, breaks):
        part = part[np.isfinite(part[:, 0])]
        if len(part) > 1:
            draw.line([tuple(p) for p in part], fill=_ISO, width=1)
    draw.rectangle((left - 1, top - 1, right, bottom), outline=_INK, width=1)
    for m in np.asarray(
        getattr(surface, "minima", None) if getattr(surface, "minima", None) is not None else [],
        dtype=float,
    ).reshape(-1, 2):
        px, py = to_pixels(surface, m[None])[0]
        if left <= px <= right and top <= py <= bottom:
            _star(draw, px, py, 9)
    starts = {tuple(np.round(s.traj.path()[0], 12)) for s in series if s.traj.n_valid()}
    for start in starts:
        px, py = to_pixels(surface, np.array([start]))[0]
        if left <= px <= right and top <= py <= bottom:
            _ring(draw, px, py)
    # title (top band), wrapped to the frame: two lines, or three smaller ones when the
    # setup needs them (eight runs' names and how they ran)
    lines, size, spacing = _title_lines(draw, title)
    for i, line in enumerate(lines):
        draw.text((24, 12 + spacing * i), line, fill=_INK, font=_font(size))
    # legend panel
    lx = right + 20
    draw.rectangle((lx, top, WIDTH - 16, bottom), fill=_PANEL, outline=(210, 210, 210))
    font = _font(18)
    for i, (s, rgb) in enumerate(zip(series, run_colors(series), strict=True)):
        y = top + 56 + 62 * i
        draw.line((lx + 14, y + 11, lx + 50, y + 11), fill=rgb, width=5)
        draw.ellipse((lx + 40, y + 3, lx + 56, y + 19), fill=rgb, outline=_WHITE)
        label = _wrap(draw, [s.label], font, WIDTH - 16 - (lx + 66) - 8)[0]
        draw.text((lx + 66, y), label, fill=_INK, font=font)
    small = _font(15)
    _star(draw, lx + 30, bottom - 22, 8)
    draw.text((lx + 48, bottom - 31), "minimum", fill=_INK, font=small)
    _ring(draw, lx + 140, bottom - 22)
    draw.text((lx + 156, bottom - 31), "start", fill=_INK, font=small)
    return img


def _title_lines(draw: ImageDraw.ImageDraw, title: str) -> tuple[list[str], int, int]:
    """The title's lines, font size and line spacing: two lines of 26 px, else three of
    19 px (cut there: the plot starts below)."""
    for size, spacing, most in ((26, 34, 2), (19, 26, 3)):
        lines = _wrap(draw, _plain(title), _font(size), WIDTH - 48)
        if len(lines) <= most:
            return lines, size, spacing
    return lines[:most], size, spacing


def _ring(draw: ImageDraw.ImageDraw, x: float, y: float, r: float = 8) -> None:
    draw.ellipse((x - r, y - r, x + r, y + r), fill=_WHITE, outline=_INK, width=3)


def _star(draw: ImageDraw.ImageDraw, x: float, y: float, r: float) -> None:
    angles = np.pi / 2 + np.arange(10) * np.pi / 5
    radii = np.where(np.arange(10) % 2 == 0, r, r * 0.45)
    pts = [(x + rr * np.cos(a), y - rr * np.sin(a)) for a, rr in zip(angles, radii, strict=True)]
    draw.polygon(pts, fill=_INK, outline=_WHITE)


def _palette(bg: Image.Image, colors: list[tuple[int, int, int]]) -> tuple[Image.Image, dict]:
    """Quantize the background once and reserve palette entries for the drawn colours."""
    q = bg.quantize(colors=_N_BACKGROUND, method=Image.Quantize.MEDIANCUT, dither=0)
    pal = q.getpalette()[: 3 * _N_BACKGROUND]
    pal += [0] * (3 * _N_BACKGROUND - len(pal))
    index = {}
    for c in [_INK, _WHITE, *colors]:
        if c not in index:
            index[c] = _N_BACKGROUND + len(index)
            pal += list(c)
    pal += [0] * (768 - len(pal))
    q.putpalette(pal)
    return q, index


def _clip(a: np.ndarray, b: np.ndarray, box: tuple) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Liang-Barsky: segments ``a -> b`` cut to ``box``; returns new ends and which survive."""
    x0, y0, x1, y1 = box
    d = b - a
    t0, t1 = np.zeros(len(a)), np.ones(len(a))
    edges = ((-d[:, 0], a[:, 0] - x0), (d[:, 0], x1 - a[:, 0]))
    edges += ((-d[:, 1], a[:, 1] - y0), (d[:, 1], y1 - a[:, 1]))
    with np.errstate(all="ignore"):
        for p, q in edges:
            r = q / p
            t0 = np.where((p < 0) & (r > t0), r, t0)
            t1 = np.where((p > 0) & (r < t1), r, t1)
            t1 = np.where((p == 0) & (q < 0), -1.0, t1)
    ok = (t0 <= t1) & np.isfinite(a).all(1) & np.isfinite(b).all(1)
    return a + t0[:, None] * d, a + t1[:, None] * d, ok


def _frames(surface: Any, series: Sequence[Series], title: str, progress: Progress, share: float):
    """Yield the palette frames; report ``share`` of the progress while drawing them."""
    colors = run_colors(series)
    full, index = _palette(_background(surface, series, title), colors)
    left, top, right, bottom = PLOT_BOX
    trail = full.crop(PLOT_BOX)  # paths are drawn here, clipped to the plot box
    tdraw = ImageDraw.Draw(trail)
    pad = 2.0 * _PATH_W
    clip_box = (-pad, -pad, right - left + pad, bottom - top + pad)
    paths = [to_pixels(surface, s.traj.valid()[0]) - (left, top) for s in series]
    losses = [s.traj.valid()[1] for s in series]
    status = [str(np.asarray(s.traj.status).reshape(-1)[0]) for s in series]
    steps = frame_steps(series)
    drawn = [0] * len(series)  # last path row drawn so far
    font, small = _font(20), _font(16)
    lx = right + 20
    for fi, step in enumerate(steps):
        for i, path in enumerate(paths):
            k = min(int(step), len(path) - 1)
            if k > drawn[i]:
                a, b, ok = _clip(path[drawn[i] : k], path[drawn[i] + 1 : k + 1], clip_box)
                c = index[colors[i]]
                for p, q in zip(a[ok], b[ok], strict=True):
                    tdraw.line((*p, *q), fill=c, width=_PATH_W, joint="curve")
                drawn[i] = k
        plot = trail.copy()
        pdraw = ImageDraw.Draw(plot)
        frame = full.copy()
        fdraw = ImageDraw.Draw(frame)
        for i, path in enumerate(paths):
            if not len(path):
                continue
            k = min(int(step), len(path) - 1)
            _head(pdraw, path[k], index[colors[i]], index, (right - left, bottom - top))
            if status[i] == "diverged" and int(step) >= len(path) - 1:
                _cross(pdraw, path[k], index[_INK])
            y = top + 56 + 62 * i + 26
            text = f"loss {losses[i][k]:.3g}"
            if status[i] == "diverged" and int(step) >= len(path) - 1:
                text += f"  (blew up at step {len(path)})"
            fdraw.text((lx + 66, y), text, fill=index[_INK], font=small)
        frame.paste(plot, (left, top))
        fdraw.text((lx + 14, top + 14), f"step {int(step)} / {int(steps[-1])}", index[_INK], font)
        _report(progress, share * (fi + 1) / len(steps))
        yield frame


def _head(draw, p: np.ndarray, fill: int, index: dict, size: tuple[int, int]) -> None:
    """A dot at the run's newest point; a diamond on the edge when it is outside the view."""
    w, h = size
    r = _HEAD_R
    x, y = float(np.clip(p[0], r, w - r)), float(np.clip(p[1], r, h - r))
    if (x, y) == (float(p[0]), float(p[1])):
        draw.ellipse((x - r, y - r, x + r, y + r), fill=fill, outline=index[_WHITE], width=2)
    else:
        pts = [(x, y - r - 2), (x + r + 2, y), (x, y + r + 2), (x - r - 2, y)]
        draw.polygon(pts, fill=fill, outline=index[_INK], width=2)


def _cross(draw, p: np.ndarray, fill: int) -> None:
    x, y, r = float(p[0]), float(p[1]), 9
    draw.line((x - r, y - r, x + r, y + r), fill=fill, width=3)
    draw.line((x - r, y + r, x + r, y - r), fill=fill, width=3)
