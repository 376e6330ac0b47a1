"""Figures built without Plotly's per-property validation: the one place we lean on
plotly.py internals.

Plotly validates every property of every trace and frame as it is set: about 2 ms per
frame, some 200 ms for an animated contour of a hundred frames. The figure builders
hand over dicts they made themselves, known to be valid, so they skip that through
three internals of plotly.py 7 (``requirements.txt`` pins ``plotly<8``):

* ``go.Figure(..., _validate=False)`` stores data and layout without checking them;
* a ``go.Frame``'s ``_orphan_props`` dict holds its properties before it joins a figure;
* ``Figure._frame_objs`` is the tuple that ``fig.frames`` and ``to_dict()`` read.

``tests/test_plotly_fast.py`` asserts each of them, so a Plotly release that moves one
fails there, by name, not somewhere in a chart.
"""

from __future__ import annotations

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
