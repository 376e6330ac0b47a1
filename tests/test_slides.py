"""Slides export: the race as GIF, MP4 and standalone HTML, as a teacher would show it."""

from __future__ import annotations

import io
import re

import numpy as np
import pytest
from PIL import Image, ImageColor

import optim
from ui import figures, slides
from ui.figures import PALETTE, Series

TITLE = "Rosenbrock: Adam, Momentum, RMSprop, SGD from (-1.5, 2), 60 steps"


@pytest.fixture(scope="module")
def race():
    s = optim.make_surface("rosenbrock")
    runs = (("adam", 0.3), ("momentum", 0.001), ("rmsprop", 0.05), ("sgd", 0.02))
    series = []
    for i, (name, lr) in enumerate(runs):
        traj = optim.run(s, optim.make_optimizer(name, lr=lr), s.start, 60)
        series.append(Series(f"{optim.OPTIMIZERS[name].label} lr={lr}", PALETTE[i], traj))
    assert str(series[-1].traj.status) == "diverged"  # the race needs a run that blows up
    return s, series


@pytest.fixture(scope="module")
def gif(race):
    seen: list[float] = []
    data = slides.race_gif(*race, TITLE, progress=seen.append)
    return data, seen


@pytest.fixture(scope="module")
def mp4(race):
    seen: list[float] = []
    data = slides.race_mp4(*race, TITLE, progress=seen.append)
    return data, seen


def gif_frames(data: bytes) -> list[np.ndarray]:
    im = Image.open(io.BytesIO(data))
    out = []
    for i in range(im.n_frames):
        im.seek(i)
        out.append(np.asarray(im.convert("RGB")).astype(int))
    return out


def pixel(surface, point) -> tuple[float, float]:
    """Data to pixels, written out from the documented layout (not the renderer's code)."""
    (x0, x1), (y0, y1) = surface.bounds
    left, top, right, bottom = slides.PLOT_BOX
    return (
        left + (point[0] - x0) / (x1 - x0) * (right - left),
        bottom - (point[1] - y0) / (y1 - y0) * (bottom - top),
    )


def has_colour(img: np.ndarray, xy, color: str, radius: int = 6, tol: int = 24) -> bool:
    x, y = round(xy[0]), round(xy[1])
    patch = img[max(y - radius, 0) : y + radius + 1, max(x - radius, 0) : x + radius + 1]
    rgb = np.array(ImageColor.getrgb(color)[:3])
    return bool((np.abs(patch - rgb).max(axis=-1) <= tol).any())


def test_frame_rule_thins_long_races_to_round_steps():
    """At most MAX_FRAMES frames, evenly spaced by a round number, always ending on the last step."""
    for t_end, spacing in ((60, 1), (99, 1), (200, 3), (1000, 12)):
        steps = slides.frame_steps([Series("a", PALETTE[0], _fake_traj(t_end))])
        assert len(steps) <= slides.MAX_FRAMES
        assert steps[0] == 0 and steps[-1] == t_end
        assert (np.diff(steps)[:-1] == spacing).all()


def _fake_traj(t_end: int):
    class T:
        def n_valid(self):
            return t_end + 1

    return T()


def test_gif_is_720p_with_one_frame_per_shown_step(race, gif):
    data, _ = gif
    im = Image.open(io.BytesIO(data))
    assert im.format == "GIF" and im.size == (1280, 720)
    assert im.n_frames == len(slides.frame_steps(race[1])) == 61


def test_last_frame_draws_each_path_the_first_does_not(race, gif):
    s, series = race
    frames = gif_frames(gif[0])
    first, last = frames[0], frames[-1]
    pix = [np.array([pixel(s, p) for p in run.traj.path()]) for run in series]
    for i, run in enumerate(series[:3]):  # the runs that stay in the window
        # paths cross: test the points of this run that are away from every other run
        others = np.concatenate([dense(p) for j, p in enumerate(pix) if j != i])
        mine = dense(pix[i])
        gap = np.hypot(*(mine[:, None, :] - others[None, :, :]).transpose(2, 0, 1)).min(1)
        alone = mine[gap > 12]
        assert len(alone) >= 5, run.label
        assert np.mean([has_colour(last, p, run.color, radius=2) for p in alone]) > 0.8
        assert np.mean([has_colour(first, p, run.color, radius=2) for p in alone]) < 0.2
        # the head marker sits on the run's final point
        assert has_colour(last, pix[i][-1], run.color, radius=3), run.label


def dense(path: np.ndarray, per_segment: int = 12) -> np.ndarray:
    t = np.linspace(0, 1, per_segment)[:, None, None]
    path = path[np.isfinite(path).all(1) & (np.abs(path) < 1e5).all(1)]
    return (path[:-1] + t * (path[1:] - path[:-1])).reshape(-1, 2)


def test_diverged_run_is_drawn_until_it_leaves_and_marked_at_the_edge(race, gif):
    s, series = race
    run = series[-1]
    last = gif_frames(gif[0])[-1]
    left, top, right, bottom = slides.PLOT_BOX
    pts = np.array([pixel(s, p) for p in run.traj.path()])
    inside = (pts[:, 0] > left) & (pts[:, 0] < right) & (pts[:, 1] > top) & (pts[:, 1] < bottom)
    k = int(np.argmin(inside))  # the first point outside the window
    assert k > 0 and not inside[k:].any(), "the race should leave the window for good"
    # every segment's part inside the window is drawn, out to the edge (not only the
    # segments that start or end in the window)
    others = np.concatenate(
        [dense(np.array([pixel(s, p) for p in r.traj.path()])) for r in series[:-1]]
    )
    checked = 0
    for a, b in zip(pts[:-1], pts[1:], strict=True):
        line = a + np.linspace(0, 1, 20_000)[:, None] * (b - a)
        inset = (line[:, 0] > left + 3) & (line[:, 0] < right - 3)
        inset &= (line[:, 1] > top + 3) & (line[:, 1] < bottom - 3)
        line = line[inset][:: max(inset.sum() // 200, 1)]
        if len(line) < 2:
            continue
        exit_xy = line[-1]
        gap = np.hypot(*(line[:, None, :] - others[None, :, :]).transpose(2, 0, 1)).min(1)
        samples = line[gap > 12]
        assert np.mean([has_colour(last, p, run.color, radius=2) for p in samples]) > 0.9
        checked += 1
    assert checked >= 2
    # the head: where the run was last, pulled onto the window's edge
    r = slides._HEAD_R
    edge = np.clip(pts[-1], (left + r, top + r), (right - r, bottom - r))
    assert has_colour(last, edge, run.color, radius=3)
    # and nothing of it is drawn outside the window, over the title or legend
    assert not has_colour(last, (exit_xy[0], top - 12), run.color, radius=6)


def test_gif_progress_reaches_one(gif):
    _, seen = gif
    assert seen and seen[-1] == 1.0
    assert all(0 <= a <= b <= 1 for a, b in zip(seen, seen[1:], strict=False))
    assert len(seen) > 10  # a bar that moves, not one jump


def test_mp4_decodes_to_720p_with_the_held_last_frame(race, mp4):
    iio = pytest.importorskip("imageio.v3")
    data, seen = mp4
    frames = iio.imread(data, extension=".mp4")
    n = len(slides.frame_steps(race[1]))
    assert frames.shape == (n + slides.HOLD_FRAMES, 720, 1280, 3)
    assert seen[-1] == 1.0 and len(seen) > 10
    # the video shows the paths too (lossy: a wider colour tolerance)
    s, series = race
    path = series[0].traj.path()
    assert has_colour(frames[-1].astype(int), pixel(s, path[-1]), series[0].color, 3, 40)
    assert not has_colour(frames[0].astype(int), pixel(s, path[-1]), series[0].color, 3, 40)


def test_html_plays_without_any_server(race):
    s, series = race
    fig = figures.contour_figure(s, series, grid=figures.surface_grid(s, n=40))
    page = slides.race_html(fig).decode("utf-8")
    assert not re.search(r"""src\s*=\s*["']?\s*(https?:)?//""", page, re.IGNORECASE)
    assert not re.search(r"""<link[^>]+href\s*=\s*["']?https?:""", page, re.IGNORECASE)
    assert "Plotly.newPlot" in page and "frames" in page
    assert len(page) > 3_000_000  # plotly.js itself is inside
