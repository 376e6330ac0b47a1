"""The plotly.py internals that :mod:`ui.figures.plotly_fast` relies on are where it expects.

Each test names one internal. When a Plotly release moves or changes one, the failure
says which, instead of a chart quietly losing its frames or a figure taking 200 ms.
"""

from __future__ import annotations

import json
import time

import plotly.graph_objects as go
import plotly.io as pio
import pytest

from ui.figures.plotly_fast import PreparedFrame, fast_figure

BAD_TRACE = dict(type="scatter", x=[0, 1], y=[0, 1], mode="not-a-mode")


def test_figure_validate_false_stores_data_and_layout_unchecked():
    with pytest.raises(ValueError):  # the check that _validate=False skips
        go.Figure(dict(data=[BAD_TRACE]))
    fig = go.Figure(dict(data=[BAD_TRACE], layout=dict(title=dict(text="t"))), _validate=False)
    assert fig.to_dict()["data"][0]["mode"] == "not-a-mode"
    assert fig.layout.title.text == "t"


def test_a_frame_keeps_its_properties_in_orphan_props_before_joining_a_figure():
    frame = go.Frame()
    assert isinstance(frame._orphan_props, dict)
    frame._orphan_props.update(name="3", traces=[1])
    assert frame.name == "3" and frame.traces == (1,)


def test_frame_objs_is_what_fig_frames_and_the_serialized_figure_read():
    frames = [
        dict(name="0", data=[dict(x=[0.0], y=[1.0])], traces=[0]),
        dict(name="1", group="play", baseframe="0", data=[dict(x=[2.0], y=[3.0])], traces=[0]),
    ]
    fig = fast_figure([dict(type="scatter", x=[0.0], y=[0.0])], dict(), frames)
    assert [f.name for f in fig.frames] == ["0", "1"]
    assert all(isinstance(f, PreparedFrame) for f in fig.frames)
    # what the browser gets is exactly the dicts we built, through both encoders
    assert fig.to_dict()["frames"] == frames
    assert json.loads(pio.to_json(fig))["frames"] == frames
    # and the same as Plotly's own, validated frames would give (which add each trace's type)
    checked = go.Figure(dict(data=[dict(type="scatter", x=[0.0], y=[0.0])], frames=frames))
    for frame in json.loads(pio.to_json(checked))["frames"]:
        for trace in frame["data"]:
            assert trace.pop("type") == "scatter"
        assert frame == frames[int(frame["name"])]


def test_prepared_frames_skip_validation_and_so_are_fast():
    frames = [
        dict(name=str(i), data=[dict(x=[float(i)] * 50, y=[0.0] * 50)] * 12, traces=list(range(12)))
        for i in range(100)
    ]
    data = [dict(type="scatter", x=[0.0], y=[0.0]) for _ in range(12)]
    t0 = time.perf_counter()
    fast_figure(data, dict(), frames)
    fast = time.perf_counter() - t0
    t0 = time.perf_counter()
    go.Figure(dict(data=data, frames=frames))
    checked = time.perf_counter() - t0
    assert fast < checked / 3, (fast, checked)


def test_plotly_dict_is_to_dict_without_its_cost():
    import numpy as np

    from ui.figures.plotly_fast import plotly_dict

    data = [
        dict(
            type="scatter",
            x=np.linspace(0, 1, 5, dtype=np.float32),
            y=np.arange(5, dtype=np.float64) ** 2,
            customdata=np.arange(10).reshape(5, 2),  # int64, fits int8: narrowed
            ids=np.array([2**40, 1]),  # int64 beyond int32: left as it is
            text=("a", "b"),
            marker=dict(size=np.array([], dtype=np.float64), color=np.array([1, 2], np.uint64)),
        ),
        dict(type="heatmap", z=np.eye(3)),
    ]
    layout = dict(xaxis=dict(range=np.array([0.0, 1.0])), title=dict(text="t"))
    frames = [dict(name="0", data=[dict(x=np.array([0.5]), y=np.array([1.5]))], traces=[0])]
    fig = fast_figure(data, layout, frames)
    # the same JSON, typed arrays and all (arrays left as arrays compare by their text)
    same = pio.to_json(plotly_dict(fig), validate=False)
    assert same == pio.to_json(fig.to_dict(), validate=False)
    assert plotly_dict(fig)["frames"][0]["data"][0]["x"]["dtype"] == "f8"
    # a copy: changing it leaves the figure as built
    out = plotly_dict(fig)
    out["layout"]["title"]["text"] = "changed"
    out["data"][0]["text"].append("c")
    assert fig.to_dict()["layout"]["title"]["text"] == "t"
    assert list(fig.to_dict()["data"][0]["text"]) == ["a", "b"]


def test_parts_dict_is_the_built_figures_dictionary_without_building_it():
    import numpy as np

    from ui.figures.plotly_fast import parts_dict, plotly_dict

    def parts():  # fresh dicts each time: building a figure may not touch them
        data = [
            dict(type="scatter", x=np.linspace(0, 1, 4), y=np.arange(4, dtype=np.float32)),
            dict(type="scatter", mode="markers", marker=dict(size=np.array([0, 3], np.uint8))),
        ]
        layout = dict(xaxis=dict(range=[0, 1]), title=dict(text="t"), template={})
        frames = [dict(name="0", data=[dict(x=np.array([0.5]))], traces=[1])]
        return data, layout, frames

    def canonical(spec):
        return json.dumps(json.loads(pio.to_json(spec, validate=False)), sort_keys=True)

    assert canonical(parts_dict(*parts())) == canonical(plotly_dict(fast_figure(*parts())))
    assert "frames" not in parts_dict(*parts()[:2])
    with pytest.raises(ValueError):  # a figure would add Plotly's default template
        parts_dict([], {"title": {"text": "t"}})
    # a copy of the containers: changing it leaves the parts as they were
    data, layout, frames = parts()
    out = parts_dict(data, layout, frames)
    out["layout"]["title"]["text"] = "changed"
    assert layout["title"]["text"] == "t"


def test_the_playground_sends_its_race_without_building_a_plotly_figure(monkeypatch):
    # the race goes to the browser as a dictionary: a figure object (about 10 ms of a
    # rerun) is built only when something asks for it
    from ui import runs as page_runs
    from ui.controls import OptimizerChoice, RunSettings
    from ui.figures.plotly_fast import plotly_dict

    run = RunSettings(30, None, 0.0, 0, "constant", (), 1e-5, 3)
    choices = (OptimizerChoice("sgd", (("lr", 0.01),)), OptimizerChoice("adam", (("lr", 0.1),)))
    view = page_runs.View(("bowl", (), ""), choices, (-5.0, -2.0), run, False, "")
    built = []
    monkeypatch.setattr(page_runs, "fast_figure", lambda *a: built.append(a) or fast_figure(*a))
    for cache in (page_runs.chart, page_runs.shown, page_runs.race_at):
        cache.cache_clear()
    try:
        sent = page_runs.shown(view, "race")
        at_10 = page_runs.race_at(view, 10)
        assert built == []
        spec = sent.to_dict()
        assert len(spec["frames"]) > 10 and spec["layout"]["meta"]["race"]["cursors"]
        # asked for, the figure is the one sent
        same = json.dumps(json.loads(pio.to_json(plotly_dict(sent.source))), sort_keys=True)
        assert same == json.dumps(json.loads(pio.to_json(spec)), sort_keys=True)
        assert at_10.source is sent.source and len(built) == 1
    finally:
        for cache in (page_runs.chart, page_runs.shown, page_runs.race_at):
            cache.cache_clear()
