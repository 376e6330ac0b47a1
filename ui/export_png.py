"""A chart's PNG, made when asked for: a "Make" button, then the ready file's download.

The picture is rendered in the run the "Make" button starts (a spinner meanwhile; the
page run gives up its slot while it waits, :func:`ui.nav.outside_slot`, so other
students' pages go on). When the export fails, its reason (written for users by
:mod:`ui.export`) is shown in place and nothing else changes; when it works, the
download button hands over the bytes already made. A made picture is kept in the
session for what it shows (``Picture.shows``) and dropped as soon as that changes, so a
download is always of the chart as it is now.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from typing import Any

import streamlit as st

from . import export, nav
from .state import escape_markdown

_STORE = "_pngs"  # session state: {picture key: (what it shows, bytes)}


@dataclass(frozen=True)
class Picture:
    label: str  # "Loss (PNG)": the make button says "Make Loss (PNG)"
    file_name: str
    key: str  # widget keys "<key>_make" and "<key>_dl" (and the made file's place)
    shows: Hashable  # the setup it is a picture of; compared with what is shown now
    figure: Callable[[], Any]  # the figure to render, built only when asked for


def png_buttons(pictures: Sequence[Picture], cols: Sequence[Any]) -> None:
    """In each column, a picture's "Make" button, or the download of the one made for
    what it shows now; a failed export says why below them."""
    store = st.session_state.setdefault(_STORE, {})
    for p in pictures:
        if p.key in store and store[p.key][0] != p.shows:
            del store[p.key]  # made for other settings: not offered, not kept
    slots = [col.empty() for col in cols]
    asked = None
    for slot, p in zip(slots, pictures, strict=False):
        if p.key in store:
            _download(slot, p, store[p.key][1])
        elif slot.button(f"Make {p.label}", key=f"{p.key}_make", icon=":material/image:"):
            asked = slot, p
    if asked is None:
        return
    slot, p = asked
    fig = p.figure()
    try:
        with st.spinner(f"Making {p.label}…"), nav.outside_slot():
            data = export.png_bytes(fig)
    except export.ExportUnavailable as err:
        # the reason as written, never read as Markdown
        st.warning(
            f"{p.label} could not be made. {escape_markdown(str(err))}", icon=":material/error:"
        )
        return
    store[p.key] = (p.shows, data)
    _download(slot, p, data)


def size_text(n_bytes: int) -> str:
    """A file's size as a download button states it.

    >>> size_text(85_000), size_text(1_234_567)
    ('85 kB', '1.2 MB')
    """
    return f"{n_bytes / 1e6:.1f} MB" if n_bytes >= 1e5 else f"{max(n_bytes / 1e3, 1):.0f} kB"


def _download(slot: Any, p: Picture, data: bytes) -> None:
    slot.download_button(
        f"{p.label}, {size_text(len(data))}",
        data=lambda: data,  # deferred, as the CSV's: the prepared file outlives others' reruns
        file_name=p.file_name,
        mime="image/png",
        key=f"{p.key}_dl",
        on_click="ignore",
        icon=":material/download:",
    )
