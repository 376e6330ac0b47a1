"""PNG export of what the pages show (CSV export lives in ``export_csv``).

PNG goes through kaleido 1.x, which drives a headless Chromium (via choreographer).
Starting that browser takes seconds, so one renderer stays alive for the whole
process: a kaleido instance opened once on an event loop of its own, in a daemon
thread. Calls are serialized by a lock, because kaleido mixes up the images of
concurrent callers. No caller holds that lock for long: a render that has not finished
within :data:`RENDER_TIMEOUT_S` is abandoned with its browser (closed in the background),
and the next export starts a fresh one. Nothing here ever downloads a browser: without a Chromium the
export says so (``ExportUnavailable``) and the chart's own camera button still works.
"""

from __future__ import annotations

import asyncio
import atexit
import concurrent.futures
import contextlib
import copy
import glob
import logging
import os
import shutil
import threading
import time
from typing import Any

import plotly.graph_objects as go

from .figures import relayout_header

_CANDIDATES = ("/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome")
_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome")
# where Playwright's own browser download puts Chromium (the last resort of `make test`
# on systems without a packaged Chromium)
_PLAYWRIGHT_GLOBS = (
    "~/.cache/ms-playwright/chromium-*/chrome-linux*/chrome",
    "~/Library/Caches/ms-playwright/chromium-*/chrome-mac*/Chromium.app/Contents/MacOS/Chromium",
)
# What one export may take under the lock, everyone else's exports waiting: a render
# (about 2 s) or a browser start (a few seconds) that takes longer is given up.
RENDER_TIMEOUT_S = 15.0
_START_TIMEOUT_S = 30.0
# How long an export waits for the others' (five at once take ~10 s)
_QUEUE_TIMEOUT_S = 60.0


CAMERA = "The camera icon above each chart still saves what you see."
NO_PNG = f"PNG export needs a Chromium browser on the server, and none was found. {CAMERA}"
_log = logging.getLogger(__name__)


class ExportUnavailable(RuntimeError):
    """PNG export cannot run here; the message says why in plain words."""


def _is_exe(path: str | None) -> bool:
    return bool(path) and os.path.isfile(path) and os.access(path, os.X_OK)


def chromium_path() -> str | None:
    """The Chromium to render with: ``$CHROMIUM_PATH``, then the usual places, else None."""
    env = os.environ.get("CHROMIUM_PATH")
    if _is_exe(env):
        return env
    for path in _CANDIDATES:
        if _is_exe(path):
            return path
    for name in _NAMES:
        found = shutil.which(name)
        if _is_exe(found):
            return found
    for pattern in _PLAYWRIGHT_GLOBS:
        for found in sorted(glob.glob(os.path.expanduser(pattern)), reverse=True):
            if _is_exe(found):
                return found
    return None


def export_available() -> bool:
    """True when a Chromium exists and kaleido can be imported."""
    if chromium_path() is None:
        return False
    try:
        import kaleido  # noqa: F401
    except ImportError:
        return False
    return True


class _Renderer:
    """One kaleido browser on a private event loop, living in a daemon thread."""

    def __init__(self, browser: str) -> None:
        import kaleido

        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._loop.run_forever, name="png-export", daemon=True
        )
        self._thread.start()

        async def open_kaleido() -> Any:
            # mathjax=False: our figures carry no LaTeX, and it would load from a CDN.
            k = kaleido.Kaleido(n=1, timeout=RENDER_TIMEOUT_S, mathjax=False, path=browser)
            await k.open()
            return k

        try:
            self._kaleido = self._call(open_kaleido(), _START_TIMEOUT_S)
        except BaseException:
            self._stop_loop()
            raise

    def _call(self, coroutine: Any, timeout: float) -> Any:
        future = asyncio.run_coroutine_threadsafe(coroutine, self._loop)
        try:
            return future.result(timeout)
        except BaseException:
            future.cancel()  # a render given up must not go on in the browser
            raise

    def render(self, fig: dict, width: int, height: int, timeout: float) -> bytes:
        opts = dict(format="png", width=width, height=height, scale=1)
        return self._call(self._kaleido.calc_fig(fig, opts=opts), timeout)

    def close(self) -> None:
        # closing a crashed browser is best effort
        with contextlib.suppress(Exception):
            self._call(self._kaleido.close(), 20.0)
        self._stop_loop()

    def _stop_loop(self) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=5.0)


_lock = threading.Lock()
_renderer: _Renderer | None = None


def _get_renderer() -> _Renderer:
    global _renderer
    if _renderer is None:
        browser = chromium_path()
        if browser is None:
            _log.warning(
                "PNG export: no Chromium found; install the 'chromium' package or set "
                "CHROMIUM_PATH to a Chromium or Chrome executable"
            )
            raise ExportUnavailable(NO_PNG)
        try:
            _renderer = _Renderer(browser)
        except ImportError as err:
            raise ExportUnavailable(f"PNG export needs the 'kaleido' package. {CAMERA}") from err
        except Exception as err:
            # the browser's own words are for the server's log, not for a student
            _log.warning("PNG export: Chromium at %s did not start", browser, exc_info=True)
            raise ExportUnavailable(
                "The server's browser that draws the pictures did not start; try again "
                f"in a moment. {CAMERA}"
            ) from err
    return _renderer


def shutdown() -> None:
    """Close the export browser (also done automatically at exit)."""
    global _renderer
    with _lock:
        if _renderer is not None:
            _renderer.close()
            _renderer = None


atexit.register(shutdown)


def _abandon(renderer: _Renderer) -> None:
    """Close a renderer that failed or hung, in the background: closing a hung browser
    can itself hang, and nobody should wait for it."""
    threading.Thread(target=renderer.close, name="png-export-close", daemon=True).start()


def png_bytes(fig: go.Figure, *, width: int = 1600, height: int = 1000) -> bytes:
    """A classroom-ready PNG of ``fig`` (restyled copy: large fonts, legend, no controls).

    Raises :class:`ExportUnavailable` when no Chromium can render it, when the render
    does not finish within :data:`RENDER_TIMEOUT_S` (the next export starts afresh), or
    when the other exports in the queue take too long.
    """
    spec = classroom_copy(fig, width=width, height=height)
    global _renderer
    if not _lock.acquire(timeout=_QUEUE_TIMEOUT_S):
        raise ExportUnavailable("Many pictures are being made at the moment; try again.")
    try:
        deadline = None
        for attempt in (1, 2):
            renderer = _get_renderer()
            if deadline is None:
                # the clock starts once a browser is up: starting one has its own limit,
                # and the first picture after a (slow) start must not pay for it
                deadline = time.monotonic() + RENDER_TIMEOUT_S
            left = deadline - time.monotonic()
            try:
                if left <= 0:
                    raise TimeoutError
                return renderer.render(spec, width, height, left)
            except (TimeoutError, concurrent.futures.TimeoutError) as err:
                # a hung render: give up on it and on its browser; the next export
                # (someone else's, waiting on the lock) starts a fresh one
                _abandon(renderer)
                _renderer = None
                raise ExportUnavailable(
                    f"The picture took longer than {RENDER_TIMEOUT_S:.0f} s and was given up; "
                    "try again."
                ) from err
            except Exception as err:
                # a browser that crashed is replaced once; a second failure is reported
                _abandon(renderer)
                _renderer = None
                if attempt == 2:
                    _log.warning("PNG export: the render failed twice", exc_info=True)
                    raise ExportUnavailable(
                        f"The server's browser could not draw this picture; try again. {CAMERA}"
                    ) from err
        raise AssertionError("unreachable")
    finally:
        _lock.release()


def _at_least(d: dict, key: str, size: float) -> None:
    font = d.setdefault(key, {})
    font["size"] = max(font.get("size") or 0, size)


def classroom_copy(fig: go.Figure, *, width: int = 1600, height: int = 1000) -> dict:
    """A restyled copy of ``fig`` as a dict, for a projector: fonts of 18 px and more,
    a legend, room in the margins; the animation controls are dropped (a PNG cannot
    play). The figure itself is left untouched."""
    spec = copy.deepcopy(fig.to_dict())
    spec.pop("frames", None)
    layout = spec.setdefault("layout", {})
    layout.pop("updatemenus", None)
    layout.pop("sliders", None)
    _at_least(layout, "font", 20)
    title = layout.setdefault("title", {})
    if isinstance(title, dict):
        _at_least(title, "font", 28)
        if isinstance(title.get("subtitle"), dict):
            _at_least(title["subtitle"], "font", 20)
    _at_least(layout.setdefault("legend", {}), "font", 20)
    for key, axis in layout.items():
        if key.startswith(("xaxis", "yaxis")) and isinstance(axis, dict):
            _at_least(axis, "tickfont", 18)
            if isinstance(axis.get("title"), dict):
                _at_least(axis["title"], "font", 22)
        if key.startswith("scene") and isinstance(axis, dict):
            for sub in ("xaxis", "yaxis", "zaxis"):
                ax = axis.setdefault(sub, {})
                _at_least(ax, "tickfont", 16)
                if isinstance(ax.get("title"), dict):
                    _at_least(ax["title"], "font", 20)
    for note in layout.get("annotations", []) or []:
        _at_least(note, "font", 22)
    for trace in spec.get("data", []):
        if trace.get("showlegend") is not False and trace.get("type") != "surface":
            layout["showlegend"] = True
        colorbar = (trace.get("marker") or {}).get("colorbar") or trace.get("colorbar")
        if isinstance(colorbar, dict):
            _at_least(colorbar, "tickfont", 18)
            if isinstance(colorbar.get("title"), dict):
                _at_least(colorbar["title"], "font", 20)
    margin = layout.setdefault("margin", {})
    for side, least in (("l", 90), ("r", 40), ("t", 120), ("b", 90)):
        margin[side] = max(margin.get(side, 0) or 0, least)
    # title and legend pinned in pixels by the figure builder: redo them at this size
    relayout_header(layout, layout["title"]["font"]["size"], layout["font"]["size"], height, width)
    if "images" in layout:
        _center_contour(spec, margin, height, width)
    return spec


def _center_contour(spec: dict, margin: dict, height: int, width: int = 1600) -> None:
    """Centre an equal-aspect contour plot and put its colour bar right beside it."""
    layout = spec["layout"]
    margin["b"] = 90  # a static picture needs no room for the animation controls
    for axis in ("xaxis", "yaxis"):
        layout.get(axis, {}).pop("constraintoward", None)
    xr = layout.get("xaxis", {}).get("range")
    yr = layout.get("yaxis", {}).get("range")
    if not (xr and yr and layout.get("yaxis", {}).get("scaleanchor")):
        return
    plot_h = height - margin["t"] - margin["b"]
    plot_w = plot_h * (xr[1] - xr[0]) / (yr[1] - yr[0])
    area_w = width - margin["l"] - margin["r"]
    right_edge = 0.5 + min(plot_w / area_w, 1.0) / 2
    for trace in spec["data"]:
        bar = (trace.get("marker") or {}).get("colorbar")
        if isinstance(bar, dict):
            bar["x"] = right_edge + 0.015


# -- CSV ---------------------------------------------------------------------------------
