"""Figures built without Plotly's per-property validation: the one place we lean on
plotly.py internals.

Plotly validates every property of every trace and frame as it is set: about 2 ms per
frame, some 200 ms for an animated contour of a hundred frames. The figure builders
hand over dicts they made themselves, known to be valid, so they skip that through
three internals of plotly.py 7 (``requirements.txt`` pins ``plotly<8``):

* ``go.Figure(..., _validate=False)`` stores data and layout without checking them;
* a ``go.Frame``'s ``_orphan_props`` dict holds its properties before it joins a figure;
* ``Figure._frame_objs`` is the tuple that ``fig.frames`` and ``to_dict()`` read.

:func:`plotly_dict` is ``to_dict()`` without its deep copy and per-array checks: it
reads the same ``_data``, ``_layout`` and frames' ``_props``.

``tests/test_plotly_fast.py`` asserts each of them, so a Plotly release that moves one
fails there, by name, not somewhere in a chart.
"""

from __future__ import annotations

import base64
from typing import Any

import numpy as np
import plotly.graph_objects as go


class PreparedFrame(go.Frame):
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


def fast_figure(data: list[dict], layout: dict, frames: list[dict] = ()) -> go.Figure:
    """A ``go.Figure`` built without Plotly's per-property validation.

    The dicts here are known-good; validating them, and above all a hundred frames,
    would cost ~200 ms per figure.
    """
    fig = go.Figure(dict(data=data, layout=layout), _validate=False)
    if frames:
        objs = []
        for fr in frames:
            obj = PreparedFrame()
            obj._orphan_props.update(fr)
            objs.append(obj)
        fig._frame_objs = tuple(objs)
    return fig


# plotly.js typed-array names of the dtypes it reads, and the keys whose arrays stay
# plain lists (as plotly.py's own ``convert_to_base64`` leaves them)
_TYPED = {
    np.dtype(t): code
    for t, code in (
        ("int8", "i1"),
        ("uint8", "u1"),
        ("int16", "i2"),
        ("uint16", "u2"),
        ("int32", "i4"),
        ("uint32", "u4"),
        ("float32", "f4"),
        ("float64", "f8"),
    )
}
_NARROWER = {
    "i": (np.int8, np.int16, np.int32),
    "u": (np.uint8, np.uint16, np.uint32),
}
_PLAIN_KEYS = frozenset({"geojson", "layer", "layers", "range"})


def _typed(a: np.ndarray) -> Any:
    """A NumPy array as plotly.js's typed-array spec (base64 of its bytes)."""
    if a.size == 0:
        return a
    if a.dtype.kind in _NARROWER and a.dtype.itemsize == 8:  # plotly.js has no 64-bit ints
        lo, hi = a.min(), a.max()
        fits = [
            t for t in _NARROWER[a.dtype.kind] if np.iinfo(t).min <= lo and hi <= np.iinfo(t).max
        ]
        if not fits:
            return a
        a = a.astype(fits[0])
    code = _TYPED.get(a.dtype)
    if code is None:
        return a
    spec = {"dtype": code, "bdata": base64.b64encode(np.ascontiguousarray(a)).decode("ascii")}
    if a.ndim > 1:
        spec["shape"] = str(a.shape)[1:-1]
    return spec


def _plain(obj: Any) -> Any:
    """A copy of the containers of ``obj`` with every NumPy array in its typed-array form."""
    if isinstance(obj, dict):
        return {k: v if k in _PLAIN_KEYS else _plain(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_plain(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return _typed(obj)
    return obj


def plotly_dict(fig: go.Figure) -> dict:
    """What ``fig.to_dict()`` returns, in a tenth of the time.

    ``to_dict`` deep-copies the whole figure and then inspects every array through
    plotly.py's generic converters: ~0.1 s for an animated race of a few thousand
    arrays, on every new setting. This walks the same dictionaries once, copying
    containers and encoding arrays as it goes.
    """
    out = {"data": _plain(fig._data), "layout": _plain(fig._layout)}
    frames = [_plain(frame._props) for frame in fig._frame_objs]
    if frames:
        out["frames"] = frames
    return out


def parts_dict(data: list[dict], layout: dict, frames: list[dict] = ()) -> dict:
    """What ``plotly_dict(fast_figure(data, layout, frames))`` returns, without building
    the figure: for a figure only ever sent to the browser (about 10 ms of a rerun for
    the race). The layout must name its template (``bake_template`` leaves an empty
    one): a figure gives a layout without one Plotly's default template."""
    if "template" not in layout:
        raise ValueError("parts_dict needs a layout that names its template")
    out = {"data": _plain(data), "layout": _plain(layout)}
    if frames:
        out["frames"] = [_plain(frame) for frame in frames]
    return out
