"""A guard on what a browser sends: chart-selection events that Streamlit cannot decode.

A chart with ``on_select`` sends its selection back as JSON text. Streamlit 1.67 decodes
that text (``PlotlyChartSelectionSerde.deserialize``) before any of the page's code runs,
and for every rerun while the value stays in the session: text that is not JSON, or a
``selection`` that is not an object, raises inside Streamlit, so the page shows a
traceback instead of the charts, and keeps showing it. Only a crafted client sends such an
event, but the page must shrug it off. :func:`install` wraps the decoder once per process
so that an undecodable event reads as an empty selection, which is what Streamlit itself
returns when there is no event at all. The test suite checks the wrapped method still
exists where this module expects it, so a Streamlit release that moves it fails loudly.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any

from streamlit.elements import plotly_chart

Serde = plotly_chart.PlotlyChartSelectionSerde


def _tolerant(decode: Any) -> Any:
    @functools.wraps(decode)
    def deserialize(self: Any, ui_value: Any) -> Any:
        try:
            state = decode(self, ui_value)
            if isinstance(state.get("selection"), Mapping):
                return state
        except (ValueError, TypeError, AttributeError):  # JSONDecodeError is a ValueError
            pass
        return decode(self, None)  # Streamlit's own empty selection

    deserialize.tolerant = True  # type: ignore[attr-defined]
    return deserialize


def install() -> None:
    """Make chart-selection decoding tolerant (idempotent)."""
    if not getattr(Serde.deserialize, "tolerant", False):
        Serde.deserialize = _tolerant(Serde.deserialize)
