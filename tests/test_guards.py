"""The guard on Streamlit's chart-selection decoder, and the internals it relies on."""

from __future__ import annotations

import json

import pytest
from streamlit.elements import plotly_chart

from ui import guards


def test_the_decoder_it_wraps_is_where_it_expects():
    # if a Streamlit release moves or renames it, the guard would silently do nothing
    assert guards.Serde is plotly_chart.PlotlyChartSelectionSerde
    assert callable(getattr(plotly_chart.PlotlyChartSelectionSerde, "deserialize", None))


def test_install_wraps_once_and_keeps_good_events():
    guards.install()
    first = plotly_chart.PlotlyChartSelectionSerde.deserialize
    guards.install()
    assert plotly_chart.PlotlyChartSelectionSerde.deserialize is first
    event = {"selection": {"points": [{"x": 1, "y": 2}], "point_indices": [0]}}
    state = plotly_chart.PlotlyChartSelectionSerde().deserialize(json.dumps(event))
    assert state["selection"]["points"] == [{"x": 1, "y": 2}]


@pytest.mark.parametrize("text", ["not json", '{"selection": "x"}', "[1, 2]", "null", "7"])
def test_an_undecodable_event_is_an_empty_selection(text):
    guards.install()
    state = plotly_chart.PlotlyChartSelectionSerde().deserialize(text)
    assert state["selection"]["points"] == []
