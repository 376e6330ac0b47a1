"""The race for slides, from the Playground's export panel: GIF, MP4, standalone HTML.

Each file is made only when its button is pressed, with a progress bar fed by the
renderer (:mod:`ui.slides`); then a download button hands it over through the same
deferred download as the CSV (so the prepared file outlives other students' reruns, see
:mod:`ui.downloads`). The file is kept in the session for the settings it was made
from, and dropped as soon as the settings change.

A render takes a few seconds of the process (2.5 s for eight runs of 2,000 steps), so:

* while it renders, the page run gives up its run slot (:func:`ui.nav.outside_slot`):
  other students' pages go on;
* one render at a time per process; one that waits longer than
  :data:`QUEUE_TIMEOUT_S` for its turn is refused with a "try again";
* a render still going after :data:`RENDER_TIMEOUT_S` is abandoned (the progress
  callback stops it between two frames) and says so; the next one starts afresh.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import streamlit as st

from . import nav, slides
from .figures.plotly_fast import fast_figure
from .figures.style import default_title, relayout_header
from .runs import View, build_surface, chart

RENDER_TIMEOUT_S = 15.0
QUEUE_TIMEOUT_S = 30.0
_STORE = "_slides"  # session state: {format: (view, bytes)}
_render_turn = threading.Semaphore(1)  # one slides render at a time in this process


@dataclass(frozen=True)
class SlideFormat:
    key: str
    label: str
    mime: str
    file_name: str
    icon: str


FORMATS = (
    SlideFormat("gif", "Race (GIF)", "image/gif", "race.gif", ":material/gif_box:"),
    SlideFormat("mp4", "Race (MP4)", "video/mp4", "race.mp4", ":material/movie:"),
    SlideFormat("html", "Race (interactive HTML)", "text/html", "race.html", ":material/code:"),
)


class RenderGivenUp(RuntimeError):
    """The render took too long or could not get its turn; the message says which."""


def slides_title(view: View, series: list) -> tuple[str, str]:
    """The setup in words, as the PNGs state it: the surface and each run (title), and
    how they ran (subtitle)."""
    return default_title(build_surface(view.key), series), view.subtitle


def render(
    fmt: str, view: View, series: list, progress: Callable[[float], None] | None = None
) -> bytes:
    """The race of ``view`` as ``fmt`` (``gif``, ``mp4`` or ``html``).

    Raises :class:`RenderGivenUp` when another render keeps the process busy for more
    than :data:`QUEUE_TIMEOUT_S`, or when this one runs over :data:`RENDER_TIMEOUT_S`.
    """
    if not _render_turn.acquire(timeout=QUEUE_TIMEOUT_S):
        raise RenderGivenUp("Many races are being rendered at the moment; try again.")
    try:
        deadline = time.monotonic() + RENDER_TIMEOUT_S

        def report(fraction: float) -> None:
            if time.monotonic() > deadline:  # raised inside the renderer: it stops there
                raise RenderGivenUp(
                    f"The render took longer than {RENDER_TIMEOUT_S:.0f} s and was given "
                    "up; try fewer steps or runs."
                )
            if progress is not None:
                progress(fraction)

        title, subtitle = slides_title(view, series)
        if fmt == "html":
            report(0.1)
            fig = _titled(chart(view, "race"), title)
            plain = " · ".join(p for p in (title.replace("<br>", "  ·  "), subtitle) if p)
            page = slides.race_html(fig, plain)
            report(1.0)
            return page
        make = {"gif": slides.race_gif, "mp4": slides.race_mp4}[fmt]
        full = f"{title}<br>{subtitle}" if subtitle else title
        return make(build_surface(view.key), series, full, progress=report)
    finally:
        _render_turn.release()


def _titled(fig: Any, title: str) -> Any:
    """A copy of the race figure whose title names the runs too (the subtitle says how
    they ran), its header laid out again and the figure made taller by the added lines;
    the figure shown on the page is left as it is."""
    spec = fig.to_dict()  # a deep copy
    layout = spec["layout"]
    info = (layout.get("meta") or {}).get("header")
    layout["title"]["text"] = f"<b>{title}</b>"
    if info:
        size = layout["title"]["font"]["size"]
        added = title.count("<br>") - info["title"].count("<br>")
        info["title"] = title
        height = int(layout["height"] + max(added, 0) * size * 1.3)
        relayout_header(layout, size, layout["font"]["size"], height)
    return fast_figure(spec["data"], layout, spec.get("frames", []))


def slides_buttons(view: View, series: list) -> None:
    """One "make" button per format; once made, its download button instead."""
    store = st.session_state.setdefault(_STORE, {})
    for key in [k for k, (v, _) in store.items() if v != view]:
        del store[key]  # made for other settings: not offered, not kept
    st.caption(
        "The race for slides, its setup in the title: an animated GIF or MP4 "
        f"({slides.WIDTH}×{slides.HEIGHT}), or an interactive HTML page that plays with no "
        "server. Each is made when you ask for it."
    )
    slots = {f.key: col.empty() for col, f in zip(st.columns(len(FORMATS)), FORMATS, strict=True)}
    asked = None
    for f in FORMATS:
        if f.key in store:
            _download(slots[f.key], f, store[f.key][1])
        elif slots[f.key].button(f"Make {f.label}", key=f"make_{f.key}", icon=f.icon):
            asked = f
    if asked is None:
        return
    bar = st.progress(0.0, text=_doing(asked, 0.0))
    try:
        with nav.outside_slot():  # other students' pages go on meanwhile
            data = render(asked.key, view, series, lambda x: bar.progress(x, text=_doing(asked, x)))
    except RenderGivenUp as err:
        st.warning(str(err), icon=":material/timer_off:")
        return
    finally:
        bar.empty()
    store[asked.key] = (view, data)
    _download(slots[asked.key], asked, data)


def _doing(f: SlideFormat, fraction: float) -> str:
    return f"Rendering {f.label}… {fraction:.0%}"


def _download(slot: Any, f: SlideFormat, data: bytes) -> None:
    slot.download_button(
        f"{f.label}, {len(data) / 1e6:.1f} MB",
        data=lambda: data,  # deferred, as the CSV's: the prepared file outlives others' reruns
        file_name=f.file_name,
        mime=f.mime,
        key=f"dl_slides_{f.key}",
        on_click="ignore",
        icon=":material/download:",
    )
