"""The Playground's one figure and its step inspector: every part on one clock, to scale."""

from __future__ import annotations

import json
import time

import numpy as np
import plotly.io as pio
import pytest

import optim
from ui import figures, stepview
from ui.figures import Series
from ui.figures.race import FIT_MODELS, at_step
from ui.figures.series import status_words
from ui.figures.style import log_axis, nice_ticks


def run(surface, name, steps=60, **hyper):
    traj = optim.run(surface, optim.make_optimizer(name, **hyper), surface.start, steps)
    return traj, stepview.replay(traj, name, optim.make_optimizer(name, **hyper).hyper)


def race(surface, specs, steps=60, **kw):
    series, reps = [], []
    for i, (name, hyper) in enumerate(specs):
        traj, rep = run(surface, name, steps, **hyper)
        series.append(Series(f"{name} {i}", "#0072B2", traj))
        reps.append(rep)
    grid = figures.surface_grid(surface, n=60)
    fig = figures.race_figure(surface, series, grid=grid, replays=reps, **kw)
    return fig, series, reps


def decode(arr):
    if isinstance(arr, dict):
        import base64

        return np.frombuffer(base64.b64decode(arr["bdata"]), dtype=arr["dtype"]).astype(float)
    return np.asarray(arr, dtype=float)


def plays(fig):
    return [fr for fr in fig.to_dict()["frames"] if fr.get("group") == "play"]


@pytest.mark.parametrize("name", list(optim.OPTIMIZERS))
def test_the_replayed_state_lands_on_the_recorded_path(name):
    # the inspector's state comes from replaying the recorded gradients: same path or wrong
    surface = optim.make_surface("rosenbrock")
    traj, rep = run(surface, name, 40, lr=0.001)
    n = traj.n_valid()
    np.testing.assert_array_equal(rep.path, np.asarray(traj.params)[:n])


def test_adams_first_step_taken_apart():
    surface = optim.make_surface("bowl")
    traj, rep = run(surface, "adam", 10, lr=0.1)
    rows = {r["quantity"]: (r["x"], r["y"]) for r in stepview.step_rows(traj, rep, 1, ("x", "y"))}
    g = np.asarray(traj.grad)[0]
    assert rows["g (gradient)"] == pytest.approx(tuple(g))
    assert rows["m (exp_avg)"] == pytest.approx(tuple(0.1 * g))
    assert rows["v (exp_avg_sq)"] == pytest.approx(tuple(0.001 * g**2))
    assert rows["m̂ (bias-corrected)"] == pytest.approx(tuple(g))
    assert rows["v̂ (bias-corrected)"] == pytest.approx(tuple(g**2))
    # Adam's first step is lr times the sign of the gradient, whatever its size
    assert rows["Δθ (the step)"] == pytest.approx(tuple(-0.1 * np.sign(g)), rel=1e-6)
    assert rows["θ after the step"] == pytest.approx(tuple(np.asarray(traj.params)[1]))
    assert stepview.step_rows(traj, rep, 0, ("x", "y")) == []  # the start took no step
    assert stepview.step_rows(traj, rep, 11, ("x", "y")) == []


def test_state_fields_the_update_does_not_use_are_left_out():
    surface = optim.make_surface("bowl")
    _, sgd = run(surface, "sgd", 10, lr=0.1)
    _, mom = run(surface, "momentum", 10, lr=0.1)
    _, rms = run(surface, "rmsprop", 10, lr=0.01)
    assert sgd.fields == {} and sgd.momentum is None  # no momentum: no buffer, no arrow
    assert list(mom.fields) == ["momentum_buffer"] and mom.symbols["momentum_buffer"] == "b"
    assert list(rms.fields) == ["square_avg"]  # not centred, no momentum


def _arrow(fig_dict, meta, kind, run_i):
    idx = meta["arrows"][["grad", "momentum", "step"].index(kind)]
    x, y = decode(fig_dict["data"][idx]["x"]), decode(fig_dict["data"][idx]["y"])
    return np.array([[x[3 * run_i], y[3 * run_i]], [x[3 * run_i + 1], y[3 * run_i + 1]]])


def test_arrows_at_the_head_are_the_step_its_gradient_and_momentum_to_scale():
    surface = optim.make_surface("bowl")
    fig, series, reps = race(surface, [("momentum", {"lr": 0.02}), ("sgd", {"lr": 0.05})])
    d = fig.to_dict()
    meta = d["layout"]["meta"]["race"]
    k = 25
    d = at_step(d, series, reps, k)
    for i, s in enumerate(series):
        p = np.asarray(s.traj.params)
        g = np.asarray(s.traj.grad)[k - 1]
        lr = float(np.asarray(s.traj.lr)[k - 1])
        step = _arrow(d, meta, "step", i)
        np.testing.assert_allclose(step, [p[k - 1], p[k]], rtol=1e-5, atol=1e-6)  # at the head
        grad = _arrow(d, meta, "grad", i)
        np.testing.assert_allclose(grad, [p[k - 1], p[k - 1] - lr * g], rtol=1e-5, atol=1e-6)
    mom = _arrow(d, meta, "momentum", 0)
    buf = reps[0].fields["momentum_buffer"][k - 1]
    np.testing.assert_allclose(mom[1] - mom[0], -0.02 * buf, rtol=1e-4, atol=1e-6)
    # for momentum SGD the step IS the momentum arrow
    np.testing.assert_allclose(mom, _arrow(d, meta, "step", 0), rtol=1e-5, atol=1e-6)
    assert np.isnan(_arrow(d, meta, "momentum", 1)).all()  # plain SGD has none


def test_every_play_frame_moves_cursors_arrows_and_fits_together():
    surface = optim.make_surface("linear")
    fig, series, reps = race(surface, [("sgd", {"lr": 0.1}), ("adam", {"lr": 0.05})], 40)
    d = fig.to_dict()
    meta = d["layout"]["meta"]["race"]
    model = FIT_MODELS["linear"]
    frames = plays(fig)
    assert [int(v) for v in meta["frame_steps"]] == list(range(41))  # every step a frame
    for fr, step in zip(frames, meta["frame_steps"], strict=True):
        upd = dict(zip(fr["traces"], fr["data"], strict=True))
        for c in meta["cursors"]:
            assert list(upd[c]["x"]) == [step, step]
        for f_idx, s in zip(meta["fits"], series, strict=True):
            a, b = np.asarray(s.traj.params)[step]
            xs = decode(d["data"][f_idx]["x"])
            np.testing.assert_allclose(
                decode(upd[f_idx]["y"]), model(a, b, xs), rtol=1e-5, atol=1e-5
            )
        for a_idx in meta["arrows"]:
            assert a_idx in upd


def test_long_runs_thin_the_frames_but_every_step_is_reachable_by_stepping():
    surface = optim.make_surface("bowl")
    fig, series, reps = race(surface, [("sgd", {"lr": 0.05})], 2000)
    steps = fig.to_dict()["layout"]["meta"]["race"]["frame_steps"]
    assert len(steps) <= 201 and steps[-1] == 2000
    for k in (1, 1234, 1999):  # a step between frames, shown exactly
        d = at_step(fig.to_dict(), series, reps, k)
        head = d["data"][d["layout"]["meta"]["race"]["moving"][1]]
        np.testing.assert_allclose(
            [head["x"][-1], head["y"][-1]],
            np.asarray(series[0].traj.params)[k],
            rtol=1e-6,
            atol=1e-9,
        )
        hovers = d["data"][d["layout"]["meta"]["race"]["heads"]]
        assert hovers["customdata"][0][0] == k  # and its hover says so
        assert steps[d["layout"]["sliders"][0]["active"]] <= k


def test_at_step_draws_the_path_to_that_step_and_puts_the_cursors_there():
    surface = optim.make_surface("rosenbrock")
    fig, series, reps = race(surface, [("adam", {"lr": 0.05}), ("sgd", {"lr": 0.001})], 80)
    base = fig.to_dict()
    d = at_step(base, series, reps, 30)
    meta = d["layout"]["meta"]["race"]
    for j, s in enumerate(series):
        drawn = d["data"][meta["moving"][2 * j]]
        assert len(drawn["x"]) == 31
        assert drawn["x"][-1] == pytest.approx(np.asarray(s.traj.params)[30][0], rel=1e-6)
    assert all(list(d["data"][c]["x"]) == [30, 30] for c in meta["cursors"])
    assert d["layout"]["sliders"][0]["active"] == 30
    assert base["layout"]["sliders"][0]["active"] == 80  # the built figure is untouched


def test_the_heads_are_drawn_in_their_runs_colours_over_lines_without_markers():
    surface = optim.make_surface("rosenbrock")
    colors = ["#0072B2", "#D55E00"]
    series = [
        Series(f"{name} {i}", c, run(surface, name, 150, lr=lr)[0])
        for i, (name, lr, c) in enumerate([("adam", 0.05, colors[0]), ("sgd", 0.001, colors[1])])
    ]
    fig = figures.race_figure(surface, series, grid=figures.surface_grid(surface, n=40))
    d = fig.to_dict()
    meta = d["layout"]["meta"]["race"]
    heads = d["data"][meta["heads"]]
    # seen: each run's colour, opaque, outlined in white, as its head marker was
    marker = heads["marker"]
    assert heads["mode"] == "markers" and marker["color"] == colors
    assert marker["opacity"] == 1 and marker["line"] == {"color": "white", "width": 1.5}
    assert heads["selected"]["marker"]["opacity"] == 1  # a click leaves them as they are
    assert heads["unselected"]["marker"]["opacity"] == 1
    # the chart hides a run's head with its legend group: point i is run i's
    drawn = [d["data"][i] for i in meta["moving"][0::2]]
    assert meta["head_groups"] == [t["legendgroup"] for t in drawn] == ["series0", "series1"]
    assert [t["name"] for t in drawn] == [s.label for s in series]
    # the newest stretches are lines: no marker for any point, in the figure or a frame
    stretches = set(meta["moving"][1::2])
    for i in stretches:
        assert d["data"][i]["mode"] == "lines" and "marker" not in d["data"][i]
    played = 0
    for fr in d["frames"]:
        for i, data in zip(fr["traces"], fr["data"], strict=True):
            if i in stretches:
                assert set(data) == {"x", "y"}
                played += 1
            if i == meta["heads"]:
                assert set(data) == {"x", "y", "customdata"}  # the opacity is left alone
    assert played == 2 * len(plays(fig))


def test_log_axes_spanning_less_than_a_decade_show_real_numbers():
    assert nice_ticks(0.18, 0.55) == [0.2, 0.3, 0.4, 0.5]
    axis = log_axis([np.array([0.12, 0.35])])
    assert axis["ticktext"] == ["0.15", "0.2", "0.25", "0.3", "0.35"]
    assert "dtick" not in axis
    wide = log_axis([np.array([1e-9, 10.0])])
    assert wide["dtick"] >= 2  # ten decades in a small panel: every second decade


def test_the_loss_axis_can_be_linear_and_says_so():
    surface = optim.make_surface("bowl")
    fig, _, _ = race(surface, [("sgd", {"lr": 0.05})], 20, loss_log=False)
    assert fig.layout.yaxis2.type == "linear"
    assert any("loss</b> (linear scale)" in a.text for a in fig.layout.annotations)
    fig, _, _ = race(surface, [("sgd", {"lr": 0.05})], 20)
    assert fig.layout.yaxis2.type == "log"


def test_data_problems_are_not_squeezed_to_equal_aspect_and_get_a_data_view():
    fig, _, _ = race(optim.make_surface("linear"), [("sgd", {"lr": 0.1})], 20)
    assert fig.layout.yaxis.scaleanchor is None
    assert any(t.name == "data" for t in fig.data)
    fig, _, _ = race(optim.make_surface("bowl"), [("sgd", {"lr": 0.1})], 20)
    assert not any(t.name == "data" for t in fig.data)
    # the map's height follows its window's shape: a wide window a lower map
    wide = fig.layout.yaxis.domain[1] - fig.layout.yaxis.domain[0]
    fig, _, _ = race(optim.make_surface("rosenbrock"), [("sgd", {"lr": 0.001})], 20)
    assert fig.layout.yaxis.domain[1] - fig.layout.yaxis.domain[0] > wide


def test_classroom_puts_the_charts_beside_a_wide_map():
    fig, _, _ = race(optim.make_surface("bowl"), [("sgd", {"lr": 0.1})], 20, classroom=True)
    assert fig.layout.xaxis.domain[1] >= 0.6 and fig.layout.xaxis2.domain[0] > 0.65
    assert fig.layout.yaxis.scaleanchor is None  # the map fills its width on a projector
    assert fig.layout.height <= 800


def test_eight_runs_of_2000_steps_stay_under_a_megabyte():
    surface = optim.make_surface("rosenbrock")
    names = ["sgd", "momentum", "nesterov", "adagrad", "adadelta", "rmsprop", "adam", "lion"]
    t = time.perf_counter()
    fig, _, _ = race(surface, [(n, {"lr": 0.0005}) for n in names], 2000)
    size = len(pio.to_json(fig, validate=False))
    assert size <= 1_000_000, size
    assert time.perf_counter() - t < 60  # a generous bound: never a timing test


def test_status_words_say_stopped_early_unless_at_a_minimum():
    surface = optim.make_surface("rosenbrock")
    traj = optim.run(surface, optim.make_optimizer("sgd", lr=1e-4), surface.start, 500, tol=1e-3)
    assert status_words(traj) == "stopped early (loss change < 0.001 for 3 steps)"
    bowl = optim.make_surface("bowl")
    traj = optim.run(bowl, optim.make_optimizer("adam", lr=0.1), bowl.start, 2000, tol=1e-12)
    assert status_words(traj).startswith("reached a minimum")
    traj = optim.run(bowl, optim.make_optimizer("sgd", lr=0.001), bowl.start, 30)
    assert status_words(traj) == "ran all 30 steps"
    assert json.dumps(status_words(traj)).isascii()


def _step_titles(fig):
    layout = fig.to_dict()["layout"]
    return {
        k: (v.get("title") or {}).get("text", "")
        for k, v in layout.items()
        if k.startswith("xaxis") and k != "xaxis"
    }


def test_beside_the_map_only_the_lowest_line_chart_says_step_and_not_above_a_data_view():
    fig, _, _ = race(optim.make_surface("bowl"), [("sgd", {"lr": 0.1})], 20, classroom=True)
    titles = _step_titles(fig)
    assert list(titles.values()) == ["", "", "", "step"]  # loss, ‖g‖, eff lr x, eff lr y
    # a data problem adds the data view under them: its heading would meet "step"
    data, _, _ = race(optim.make_surface("linear"), [("sgd", {"lr": 0.1})], 20, classroom=True)
    titles = _step_titles(data)
    assert len(titles) == 5 and "step" not in list(titles.values())[:4]


def _decade_labels(axis: dict) -> int:
    a, b = axis["range"]
    d = axis["dtick"]
    return int(np.floor(b / d) - np.ceil(a / d) + 1)


def test_a_short_log_panel_gets_few_decade_labels_that_do_not_overlap():
    # Linear regression falls through many decades; beside the map, with the data view,
    # each line chart is only a few text lines high
    specs = [("sgd", {"lr": 0.1}), ("adam", {"lr": 0.1})]
    fig, _, _ = race(optim.make_surface("linear"), specs, 200, classroom=True)
    layout = fig.to_dict()["layout"]
    plot_h = layout["height"] - layout["margin"]["t"] - layout["margin"]["b"]
    loss = layout["yaxis2"]
    assert loss["range"][1] - loss["range"][0] > 6  # many decades
    px = (loss["domain"][1] - loss["domain"][0]) * plot_h
    font = loss["tickfont"]["size"]
    assert _decade_labels(loss) == 2 and px / 2 > 2 * font  # two labels, well apart
    # a tall panel keeps a label every few decades
    tall, _, _ = race(optim.make_surface("linear"), specs, 200)
    axis = tall.to_dict()["layout"]["yaxis2"]
    assert _decade_labels(axis) >= 4


def test_three_runs_take_few_traces_and_each_keeps_its_head_and_end_marker():
    # plotly.js redoes its per-trace work over every trace for each animation frame:
    # a run's newest stretch carries its head, all end markers share one trace, and the
    # colour key rides on the click targets, without losing a marker
    surface = optim.make_surface("bowl")
    specs = [("sgd", 0.005, None), ("adam", 0.1, 1e-8), ("sgd", 0.55, None)]
    series, reps = [], []
    for i, (name, lr, tol) in enumerate(specs):
        opt = optim.make_optimizer(name, lr=lr)
        traj = optim.run(surface, opt, surface.start, 200, tol=tol)
        series.append(Series(f"{name} lr={lr}", ["#0072B2", "#332288", "#D55E00"][i], traj))
        reps.append(stepview.replay(traj, name, opt.hyper))
    statuses = [str(s.traj.status) for s in series]
    assert statuses == ["max_steps", "converged", "diverged"]
    grid = figures.surface_grid(surface, n=60)
    fig = figures.race_figure(surface, series, grid=grid, replays=reps)
    d = fig.to_dict()
    # iso-lines, key with click targets, minimum, start; 3 per run; the heads; the end
    # markers; 3 arrows; 4 line panels of a line per run and a cursor
    assert len(d["data"]) <= 4 + 3 * 3 + 1 + 1 + 3 + 4 * (3 + 1)  # 34 (was 39)
    meta = d["layout"]["meta"]["race"]
    stretches = meta["moving"][1::2]
    head = figures.style.fonts(False)["head"]

    def heads_at(state, step):
        for s, idx in zip(series, stretches, strict=True):
            stretch = {**d["data"][idx], **state.get(idx, {})}
            k = min(step, s.traj.n_valid() - 1)
            x, y = decode(stretch["x"]), decode(stretch["y"])
            np.testing.assert_allclose([x[-1], y[-1]], s.traj.params[k], rtol=1e-5, atol=1e-6)
            assert stretch["hoverinfo"] == "skip"  # the stretch never takes the head's hover
        # the heads: a dot of the head's size on each, its run's text and values
        heads = {**d["data"][meta["heads"]], **state.get(meta["heads"], {})}
        for i, s in enumerate(series):
            k = min(step, s.traj.n_valid() - 1)
            at = [decode(heads["x"])[i], decode(heads["y"])[i]]
            np.testing.assert_allclose(at, s.traj.params[k], rtol=1e-5, atol=1e-6)
            assert heads["customdata"][i] == [k, pytest.approx(float(s.traj.loss[k]))]
            assert f"<b>{s.label}</b>" in d["data"][meta["heads"]]["hovertemplate"][i]
        assert d["data"][meta["heads"]]["marker"]["size"] == head

    heads_at({}, 200)  # the figure as drawn: the last step
    frames = {fr["name"]: fr for fr in fig.to_dict()["frames"]}
    for name in ("7", "55"):  # a play frame over its base frame, as plotly.js merges them
        state = {}
        for fr in (frames[frames[name]["baseframe"]], frames[name]):
            state.update(zip(fr["traces"], fr["data"], strict=True))
        heads_at(state, int(meta["frame_steps"][int(name)]))
    (ends,) = [t for t in d["data"] if t.get("name") == "end markers"]
    assert ends["marker"]["symbol"] == ["circle", "x"]  # converged, diverged; none at max_steps
    assert ends["marker"]["color"] == [series[1].color, series[2].color]
    assert ends["marker"].get("opacity") == 1
    for i, s in zip((0, 1), series[1:], strict=True):
        end = s.traj.params[s.traj.n_valid() - 1]
        ex, ey = decode(ends["x"])[i], decode(ends["y"])[i]
        np.testing.assert_allclose([ex, ey], end, rtol=1e-5, atol=1e-7)
        assert f"<b>{s.label}</b>" in ends["hovertemplate"][i]
    assert "diverged" in ends["hovertemplate"][1]
    (key,) = [t for t in d["data"] if "colorbar" in t.get("marker", {})]
    assert key["name"] == "click targets" and key["marker"]["showscale"]


# -- the template, written into the figure ------------------------------------------------------
def test_the_race_figure_carries_its_templates_values_and_no_template():
    # plotly.js looks every unset attribute up in a template again on every animation
    # frame; the race figure has the values written in instead
    fig, _, _ = race(optim.make_surface("rosenbrock"), [("sgd", {}), ("adam", {})])
    spec = fig.to_dict()
    layout = spec["layout"]
    assert not layout["template"]
    white = pio.templates["plotly_white"].layout
    axes = [k for k in layout if k.startswith(("xaxis", "yaxis"))]
    assert len(axes) >= 4
    for name in axes:
        axis = layout[name]
        assert axis["gridcolor"] == white.xaxis.gridcolor
        assert axis["zerolinecolor"] == white.xaxis.zerolinecolor
        assert axis["showline"] is False  # the template's line colour never draws a line
    assert layout["xaxis"]["title"]["standoff"] == white.xaxis.title.standoff
    assert layout["colorway"] == list(white.colorway)
    assert layout["paper_bgcolor"] == "white"
    assert layout["font"]["color"] == figures.style.INK  # the figure's own value wins
    for trace in spec["data"]:
        assert trace["fillpattern"]["solidity"] == 0.2  # the template's scatter entry


def test_no_race_axis_makes_plotly_js_check_tick_labels_against_the_chart_edge():
    # plotly.js's default (ticklabeloverflow "hide past div") measures every tick label
    # once per label of its axis on each redraw, a tenth of a new setting's redraw; the
    # race's labels sit inside the chart, so every axis, data view included, opts out
    surface = optim.make_surface("linear")  # a data problem: it has a data view
    for kw in ({}, {"classroom": True}):
        fig, _, _ = race(surface, [("sgd", {}), ("adam", {})], **kw)
        layout = fig.to_dict()["layout"]
        axes = [k for k in layout if k.startswith(("xaxis", "yaxis"))]
        assert len(axes) >= 6
        assert {layout[k]["ticklabeloverflow"] for k in axes} == {"allow"}


def test_baking_keeps_what_a_figure_sets_itself():
    from ui.figures.style import bake_template

    traces = [dict(type="scatter", fillpattern=dict(size=3)), dict(type="heatmap")]
    layout = dict(
        xaxis=dict(linecolor="red", title=dict(text="a")),
        xaxis3=dict(showline=True),
        yaxis=dict(gridcolor="blue"),
        annotations=[dict(text="t", arrowhead=3)],
        template=pio.templates["plotly_white"],
    )
    bake_template(traces, layout)
    assert layout["template"] == {}
    assert "showline" not in layout["xaxis"] and layout["xaxis"]["linecolor"] == "red"
    assert layout["xaxis"]["title"] == dict(text="a", standoff=15)
    assert layout["xaxis3"]["showline"] is True
    assert layout["yaxis"]["gridcolor"] == "blue" and layout["yaxis"]["showline"] is False
    assert layout["annotations"][0]["arrowhead"] == 3
    assert layout["annotations"][0]["arrowcolor"] == "#2a3f5f"
    assert "scene" not in layout and "polar" not in layout  # no subplot made up
    assert traces[0]["fillpattern"] == dict(size=3, fillmode="overlay", solidity=0.2)
    assert traces[1]["colorscale"][0] == [0.0, "#0d0887"]
    # a template's list of entries for one type is cycled over that type's traces
    import plotly.graph_objects as go

    sizes = [dict(type="scatter", marker=dict(size=n)) for n in (1, 2)]
    monkey = go.layout.Template(data=dict(scatter=sizes))
    pio.templates["two sizes (test)"] = monkey
    try:
        traces = [dict(type="scatter"), dict(type="bar"), dict(type="scatter"), {}]
        bake_template(traces, {}, "two sizes (test)")
    finally:
        del pio.templates["two sizes (test)"]
    assert [t.get("marker", {}).get("size") for t in traces] == [1, None, 2, 1]


@pytest.mark.browser
@pytest.mark.usefixtures("chromium_executable")
def test_the_baked_figure_is_what_plotly_js_makes_of_the_template(monkeypatch):
    # plotly.js fills in every default; with the template or with its values written in,
    # it must come to the same full figure (lines, grid, fonts, colours: the same picture)
    import plotly.graph_objects as go

    from ui.figures import race as race_module

    specs = [("sgd", {}), ("momentum", {}), ("adam", {})]
    baked, _, _ = race(optim.make_surface("himmelblau"), specs)
    monkeypatch.setattr(race_module, "bake_template", lambda traces, layout: None)
    plain, _, _ = race(optim.make_surface("himmelblau"), specs)
    assert plain.to_dict()["layout"]["template"]

    def full(fig):
        spec = go.Figure(fig.to_dict(), skip_invalid=True).full_figure_for_development(warn=False)
        out = spec.to_plotly_json()
        out["layout"].pop("template", None)
        for trace in out["data"]:
            trace.pop("uid", None)
        return json.loads(json.dumps(out, default=str))

    a, b = full(baked), full(plain)
    assert a["layout"] == b["layout"]
    assert a["data"] == b["data"]
