"""Figure builders: what a student sees on the contour, 3-D, effective-lr and loss charts."""

from __future__ import annotations

import base64
import io
import math
import struct
import time

import numpy as np
import plotly.io as pio
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

import optim
from ui import figures
from ui.figures import PALETTE, Series, layers
from ui.figures.style import fonts

SERIES_TRACES = 3  # faint path, drawn path, newest stretch ending in the head


def make_series(surface, specs, steps=200, start=None, **run_kw):
    """``specs``: (optimizer name, hyperparameters) pairs -> one Series each."""
    start = surface.start if start is None else start
    out = []
    for i, (name, hyper) in enumerate(specs):
        traj = optim.run(surface, optim.make_optimizer(name, **hyper), start, steps, **run_kw)
        label = f"{optim.OPTIMIZERS[name].label}  lr={hyper.get('lr', '')}"
        out.append(Series(label, PALETTE[i % len(PALETTE)], traj))
    return out


@pytest.fixture(scope="module")
def rosen():
    s = optim.make_surface("rosenbrock")
    return s, figures.surface_grid(s, n=80)


@pytest.fixture(scope="module")
def bowl():
    s = optim.make_surface("bowl")
    return s, figures.surface_grid(s, n=80)


def trace_by_name(fig, name):
    return [t for t in fig.data if t.name == name]


def series_traces(fig, k):
    """The three traces of series ``k`` (in the documented order)."""
    group = [i for i, t in enumerate(fig.data) if t.legendgroup == f"series{k}"]
    assert len(group) == SERIES_TRACES
    return group


def end_marker(fig, label):
    """The end marker of the run labelled ``label``: symbol, x, y and hover text."""
    (ends,) = trace_by_name(fig, "end markers")
    (i,) = [i for i, h in enumerate(ends.hovertemplate) if f"<b>{label}</b>" in h]
    return ends.marker.symbol[i], decode(ends.x)[i], decode(ends.y)[i], ends.hovertemplate[i]


def decode(arr):
    """A trace array as plotly.js will read it (plain list, ndarray or typed-array dict)."""
    if isinstance(arr, dict) and "bdata" in arr:
        return np.frombuffer(base64.b64decode(arr["bdata"]), dtype=np.dtype(arr["dtype"]))
    return np.asarray(arr, dtype=np.float64)


def frame_state(fig, name):
    """What plotly.js shows after jumping to frame ``name``: base frames merged first,
    then the frame, trace by trace (``Plots.computeFrame``)."""
    frames = {f["name"]: f for f in frame_dicts(fig)}
    chain, f = [], frames[name]
    while f is not None:
        chain.append(f)
        f = frames.get(f.get("baseframe"))
    state = {}
    for f in reversed(chain):
        for idx, data in zip(f["traces"], f["data"], strict=True):
            state[idx] = data
    return state


def frame_dicts(fig):
    """The frames as serialized for plotly.js."""
    return fig.to_dict().get("frames", [])


# -- contour: static layers --------------------------------------------------------------


def test_surface_grid_matches_loss_and_bounds(bowl):
    s, (xs, ys, Z) = bowl
    (x0, x1), (y0, y1) = s.bounds
    assert xs[0] == x0 and xs[-1] == x1 and ys[0] == y0 and ys[-1] == y1
    assert Z.shape == (len(ys), len(xs))
    assert Z[5, 7] == pytest.approx(float(s.loss(np.array([xs[7], ys[5]]))))


def test_log_levels_for_rosenbrock_linear_for_bowl_and_booth(rosen, bowl):
    levels, log = figures.contour_levels(rosen[1][2])
    assert log
    ratios = np.diff(levels - rosen[1][2].min())[1:] / np.diff(levels - rosen[1][2].min())[:-1]
    assert np.allclose(ratios, ratios[0])  # geometric spacing above the minimum
    for surface_grid in (bowl[1], figures.surface_grid(optim.make_surface("booth"), n=60)):
        levels, log = figures.contour_levels(surface_grid[2])
        assert not log
        assert np.allclose(np.diff(levels), np.diff(levels)[0])


def test_raster_is_a_png_covering_the_plot_window(bowl):
    s, grid = bowl
    fig = figures.contour_figure(s, [], grid=grid)
    (image,) = fig.layout.images
    assert image.source.startswith("data:image/png;base64,")
    png = base64.b64decode(image.source.split(",", 1)[1])
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    w, h = struct.unpack(">II", png[16:24])
    assert w >= 160 and h >= 160
    (x0, x1), (y0, y1) = s.bounds
    assert (image.x, image.y, image.sizex, image.sizey) == (x0, y1, x1 - x0, y1 - y0)
    assert image.xref == "x" and image.yref == "y" and image.layer == "below"


def test_iso_lines_lie_on_their_levels(bowl):
    s, grid = bowl
    fig = figures.contour_figure(s, [], grid=grid)
    (iso,) = trace_by_name(fig, "iso-lines")
    x, y = decode(iso.x), decode(iso.y)
    assert np.isnan(x).any(), "several lines, NaN-separated"
    pts = np.stack([x, y], axis=-1)[np.isfinite(x)]
    assert len(pts) > 100
    levels, _ = figures.contour_levels(grid[2])
    loss = s.loss(pts.astype(np.float64))
    nearest = np.abs(loss[:, None] - levels[None, :]).min(axis=1)
    assert np.all(nearest < 0.02 * (levels[-1] - levels[0]))


@settings(max_examples=25, deadline=None)
@given(
    st.lists(st.floats(-3, 3), min_size=6, max_size=6),
    st.floats(-2.0, 2.0),
)
def test_iso_lines_cut_cell_edges_at_the_level(coef, level):
    xs = np.linspace(-1, 1, 17)
    ys = np.linspace(-1, 2, 13)
    gx, gy = np.meshgrid(xs, ys)
    a, b, c, d, e, f = coef
    Z = a * gx**2 + b * gy**2 + c * gx * gy + d * gx + e * gy + f * np.sin(3 * gx)
    x, y = layers.iso_lines(xs, ys, Z, np.array([level]))
    ok = np.isfinite(x)
    # every point sits on a grid line (a cell edge), and linear interpolation along that
    # edge gives the level
    for px, py in zip(x[ok], y[ok], strict=True):
        on_col = np.isclose(xs, px, atol=1e-6)
        on_row = np.isclose(ys, py, atol=1e-6)
        assert on_col.any() or on_row.any()
        if on_row.any():
            i = int(np.argmax(on_row))
            z = np.interp(px, xs, Z[i])
        else:
            j = int(np.argmax(on_col))
            z = np.interp(py, ys, Z[:, j])
        assert z == pytest.approx(level, abs=1e-4 * (1 + np.abs(Z).max()))


def test_minima_are_stars_and_start_is_marked(rosen):
    s, grid = rosen
    fig = figures.contour_figure(s, make_series(s, [("adam", {"lr": 0.05})], 50), grid=grid)
    (minimum,) = trace_by_name(fig, "minimum")
    assert minimum.marker.symbol == "star"
    assert np.allclose(np.stack([decode(minimum.x), decode(minimum.y)], -1), s.minima)
    (start,) = trace_by_name(fig, "start")
    assert np.allclose([decode(start.x)[0], decode(start.y)[0]], s.start)


def test_view_is_the_surface_window_with_readable_axes(rosen):
    s, grid = rosen
    fig = figures.contour_figure(s, [], grid=grid)
    (x0, x1), (y0, y1) = s.bounds
    assert tuple(fig.layout.xaxis.range) == (x0, x1)
    assert tuple(fig.layout.yaxis.range) == (y0, y1)
    assert fig.layout.xaxis.title.text == "x" and fig.layout.yaxis.title.text == "y"
    assert fig.layout.yaxis.scaleanchor == "x"  # 4 x 4 window: equal aspect


def test_data_surface_axes_are_named_after_its_parameters():
    s = optim.make_surface("linear")
    fig = figures.contour_figure(s, [], grid=figures.surface_grid(s, n=40))
    assert (fig.layout.xaxis.title.text, fig.layout.yaxis.title.text) == tuple(s.variables)


def test_elongated_window_is_not_forced_to_equal_aspect():
    s = optim.surface_from_expression("x**2 + y**2")

    class Wide:
        label, variables, minima, start = "wide", ("x", "y"), np.zeros((1, 2)), np.ones(2)
        bounds = ((-10.0, 10.0), (-1.0, 1.0))
        loss = staticmethod(s.loss)

    fig = figures.contour_figure(Wide(), [], grid=figures.surface_grid(Wide(), n=30))
    assert fig.layout.yaxis.scaleanchor is None


def test_click_targets_cover_the_window(bowl):
    s, grid = bowl
    fig = figures.contour_figure(s, [], grid=grid)
    (targets,) = trace_by_name(fig, "click targets")
    x, y = decode(targets.x), decode(targets.y)  # a click reports these as the new start
    (x0, x1), (y0, y1) = s.bounds
    assert x.min() == pytest.approx(x0) and x.max() == pytest.approx(x1)
    assert y.min() == pytest.approx(y0) and y.max() == pytest.approx(y1)
    assert not trace_by_name(
        figures.contour_figure(s, [], grid=grid, click_targets=False), "click targets"
    )


# -- contour: trajectories and animation ------------------------------------------------


def test_frames_touch_only_trajectory_traces(rosen):
    s, grid = rosen
    series = make_series(s, [("sgd", {"lr": 1e-3}), ("adam", {"lr": 0.05})], 300)
    fig = figures.contour_figure(s, series, grid=grid)
    moving = {i for i, t in enumerate(fig.data) if t.name == "heads"}  # their hover points
    for k in range(len(series)):
        group = series_traces(fig, k)
        moving |= set(group[1:3])  # drawn path, newest stretch ending in the head
    frames = frame_dicts(fig)
    assert frames
    for frame in frames:
        assert set(frame["traces"]) <= moving
        assert "layout" not in frame
    played = [f for f in frames if f.get("group") == "play"]
    assert 50 <= len(played) <= 100


def test_each_frame_shows_the_path_up_to_its_step(rosen):
    s, grid = rosen
    series = make_series(s, [("momentum", {"lr": 1e-3}), ("adam", {"lr": 0.02})], 400)
    fig = figures.contour_figure(s, series, grid=grid, n_frames=40)
    slider = fig.layout.sliders[0]
    steps = [int(st_.label) for st_ in slider.steps]
    assert steps[0] == 0 and steps[-1] == 400 and steps == sorted(steps)
    (heads_idx,) = [i for i, t in enumerate(fig.data) if t.name == "heads"]
    for pick in (0, 7, 23, len(steps) - 1):
        name = slider.steps[pick].args[0][0]
        state = frame_state(fig, name)
        for k, ser in enumerate(series):
            _, drawn, tip = series_traces(fig, k)
            want = ser.traj.params[steps[pick]]
            hx, hy = decode(state[tip]["x"]), decode(state[tip]["y"])
            assert np.allclose([hx[-1], hy[-1]], want, rtol=1e-6, atol=1e-6)
            # the head's hover point: there, with its step and loss
            heads = state[heads_idx]
            px, py = decode(heads["x"])[k], decode(heads["y"])[k]
            assert np.allclose([px, py], want, rtol=1e-6, atol=1e-6)
            assert heads["customdata"][k][0] == steps[pick]
            assert heads["customdata"][k][1] == pytest.approx(ser.traj.loss[steps[pick]])
            # a marker on the head only: the stretch's points draw nothing
            size = decode(state[tip]["marker"]["size"])
            assert len(size) == len(hx) and size[-1] > 0 and not size[:-1].any()
            # drawn path + newest stretch form one line from the start to the head
            px = np.concatenate([decode(state[drawn]["x"]), hx])
            py = np.concatenate([decode(state[drawn]["y"]), hy])
            assert np.allclose([px[0], py[0]], ser.traj.params[0], atol=1e-6)
            assert np.allclose([px[-1], py[-1]], want, rtol=1e-6, atol=1e-6)


def test_play_pause_speed_buttons_and_scrubber(rosen):
    s, grid = rosen
    fig = figures.contour_figure(s, make_series(s, [("adam", {"lr": 0.05})], 100), grid=grid)
    buttons = {b.label: b for b in fig.layout.updatemenus[0].buttons}
    assert set(buttons) >= {"Pause", "0.25×", "0.5×", "▶ 1×", "2×"}
    durations = {
        k: buttons[k].args[1]["frame"]["duration"] for k in ("0.25×", "0.5×", "▶ 1×", "2×")
    }
    # Plotly shows the next frame on the first 60 Hz tick after the duration: real speeds
    # 0.25x, 0.5x, 1x and 2x need 16, 8, 4 and 2 ticks a frame
    ticks = [math.ceil(d / (1000 / 60)) for d in durations.values()]
    assert ticks == [16, 8, 4, 2], durations
    for b in buttons.values():
        assert b.args[1]["frame"]["redraw"] is False  # redraw would drop the iso-lines' speed
    assert buttons["▶ 1×"].args[0] == "play"  # the play group, not the base frames
    played = {f["name"] for f in frame_dicts(fig) if f.get("group") == "play"}
    assert {st_.args[0][0] for st_ in fig.layout.sliders[0].steps} == played
    # the scrubber states what 1x means, and sits on a row of its own under the buttons
    labels = [int(st_.label) for st_ in fig.layout.sliders[0].steps]
    rate = 15 * (labels[1] - labels[0])  # 15 frames a second at 1x
    assert f"1× plays {rate} steps a second" in fig.layout.sliders[0].currentvalue.suffix
    assert fig.layout.sliders[0].y < fig.layout.updatemenus[0].y


def test_static_picture_at_a_step_has_no_frames(rosen):
    s, grid = rosen
    (ser,) = make_series(s, [("adam", {"lr": 0.05})], 200)
    fig = figures.contour_figure(s, [ser], grid=grid, upto_step=60, animate=False)
    assert not fig.frames and not fig.layout.sliders and not fig.layout.updatemenus
    _, drawn, tip = series_traces(fig, 0)
    d = fig.data[drawn]
    assert len(d.x) == 61  # every step up to 60, nothing after
    assert np.allclose([d.x[-1], d.y[-1]], ser.traj.params[60], rtol=1e-6)
    head = fig.data[tip]  # the head alone: its stretch is all drawn
    assert np.allclose([head.x[0], head.y[0]], ser.traj.params[60], rtol=1e-6)
    assert list(head.marker.size) == [fonts(False)["head"]]
    assert not figures.contour_figure(s, [ser], grid=grid, animate=False).frames


def test_diverged_path_is_drawn_to_where_it_blew_up_and_never_clipped(bowl):
    s, grid = bowl
    (ser,) = make_series(s, [("sgd", {"lr": 1.2})], 100)
    assert str(ser.traj.status) == "diverged"
    n = int(ser.traj.valid_length)
    valid = ser.traj.params[:n]
    (x0, x1), (y0, y1) = s.bounds
    assert np.abs(valid[:, 1]).max() > y1  # it left the window before blowing up
    fig = figures.contour_figure(s, [ser], grid=grid)
    faint, drawn, _ = series_traces(fig, 0)
    fx, fy = decode(fig.data[faint].x), decode(fig.data[faint].y)
    assert np.isfinite(fx).all() and np.isfinite(fy).all()
    assert np.allclose([fx[-1], fy[-1]], valid[-1], rtol=1e-6)  # kept, not clipped
    assert np.abs(fy).max() > y1
    symbol, ex, ey, hover = end_marker(fig, ser.label)
    assert symbol == "x"
    assert np.allclose([ex, ey], valid[-1], rtol=1e-6)
    assert "diverged" in fig.data[drawn].name
    assert "diverged" in hover


def test_converged_path_ends_with_a_dot(bowl):
    s, grid = bowl
    (ser,) = make_series(s, [("adam", {"lr": 0.1})], 3000, tol=1e-8)
    assert str(ser.traj.status) == "converged"
    fig = figures.contour_figure(s, [ser], grid=grid)
    symbol, ex, ey, _ = end_marker(fig, ser.label)
    assert symbol == "circle"
    assert np.allclose([ex, ey], ser.traj.path()[-1], rtol=1e-5, atol=1e-7)


def test_hover_shows_step_coordinates_and_loss(rosen):
    s, grid = rosen
    (ser,) = make_series(s, [("adam", {"lr": 0.05})], 50)
    fig = figures.contour_figure(s, [ser], grid=grid)
    faint = fig.data[series_traces(fig, 0)[0]]
    for word in ("step", "x =", "y =", "loss", ser.label):
        assert word in faint.hovertemplate
    custom = np.asarray(faint.customdata)
    steps = custom[:, 0].astype(int)
    assert np.allclose(custom[:, 1], ser.traj.loss[steps], rtol=1e-6)


def test_title_names_surface_and_optimizers_unless_given(rosen):
    s, grid = rosen
    series = make_series(s, [("sgd", {"lr": 1e-3}), ("adam", {"lr": 0.05})], 20)
    text = figures.contour_figure(s, series, grid=grid).layout.title.text
    assert s.label in text and "SGD  lr=0.001" in text and "Adam  lr=0.05" in text
    fig = figures.contour_figure(s, series, grid=grid, title="Mine", subtitle="lr sweep")
    assert "Mine" in fig.layout.title.text and fig.layout.title.subtitle.text == "lr sweep"


def test_legend_sits_between_title_and_plot(rosen):
    s, grid = rosen
    fig = figures.contour_figure(s, make_series(s, [("adam", {"lr": 0.05})] * 6, 20), grid=grid)
    lay = fig.layout
    title_bottom = (1 - lay.title.y) * lay.height + lay.title.font.size * 1.2
    legend_top = (1 - lay.legend.y) * lay.height
    assert legend_top >= title_bottom - 1
    assert lay.margin.t > legend_top  # the plot area starts below the legend


def test_six_optimizers_thousand_steps_stay_small_and_fast():
    s = optim.make_surface("rastrigin")  # many iso-lines: the heaviest default surface
    grid = figures.surface_grid(s)
    names = ["sgd", "momentum", "adam", "rmsprop", "lion", "nadam"]
    series = make_series(s, [(n, {"lr": 0.01}) for n in names], 1000, start=s.start)
    figures.contour_figure(s, series, grid=grid)  # surface layers are now cached
    t = time.perf_counter()
    fig = figures.contour_figure(s, series, grid=grid)
    elapsed = time.perf_counter() - t
    assert len(fig.to_json()) < 1_000_000
    assert elapsed < 0.5  # ~25 ms on a quiet machine; generous for a shared one


def test_templates_are_explicit_and_survive_a_changed_default(rosen):
    s, grid = rosen
    series = make_series(s, [("adam", {"lr": 0.05})], 30)
    old = pio.templates.default
    try:
        pio.templates.default = "plotly_dark"
        figs = [
            figures.contour_figure(s, series, grid=grid),
            figures.surface3d_figure(s, series, grid=grid),
            figures.effective_lr_figure(series),
            figures.loss_figure(series),
        ]
    finally:
        pio.templates.default = old
    contour, *others = figs
    for fig in others:
        assert fig.layout.template == pio.templates[figures.TEMPLATE]
    # the animated contour has the template's values written in, and no template
    spec = contour.to_dict()["layout"]
    assert not spec["template"]
    assert spec["paper_bgcolor"] == pio.templates[figures.TEMPLATE].layout.paper_bgcolor
    assert spec["xaxis"]["gridcolor"] == pio.templates[figures.TEMPLATE].layout.xaxis.gridcolor


def test_no_latex_in_any_text(rosen):
    s, grid = rosen
    series = make_series(s, [("adam", {"lr": 0.05}), ("sgd", {"lr": 1e-3})], 30)
    for fig in (
        figures.contour_figure(s, series, grid=grid),
        figures.surface3d_figure(s, series, grid=grid),
        figures.effective_lr_figure(series),
        figures.loss_figure(series),
    ):
        assert "$" not in fig.to_json()


class LogSurface:
    """Undefined for x <= 0: the grid gets NaN and -inf cells."""

    label, variables, minima, start = "log", ("x", "y"), np.zeros((0, 2)), np.ones(2)
    bounds = ((-1.0, 3.0), (-2.0, 2.0))

    @staticmethod
    def loss(p):
        return np.log(p[..., 0]) + p[..., 1] ** 2


def test_nan_regions_of_a_surface_do_not_warn():
    s = LogSurface()
    grid = figures.surface_grid(s, n=50)
    assert np.isnan(grid[2]).any()
    fig = figures.contour_figure(s, [], grid=grid)  # RuntimeWarning would be an error
    assert fig.layout.images[0].source.startswith("data:image/png")


# -- 3-D ------------------------------------------------------------------------------


def test_surface3d_has_the_surface_and_one_path_per_series(rosen):
    s, grid = rosen
    series = make_series(s, [("adam", {"lr": 0.05}), ("sgd", {"lr": 1e-3})], 100)
    fig = figures.surface3d_figure(s, series, grid=grid)
    kinds = [t.type for t in fig.data]
    assert kinds.count("surface") == 1
    paths = [t for t in fig.data if t.type == "scatter3d" and t.name != "minimum"]
    assert [t.name for t in paths] == [x.label for x in series]
    assert fig.layout.scene.zaxis.type == "log"  # Rosenbrock spans decades
    assert fig.layout.scene.xaxis.title.text == "x"


def test_surface3d_paths_leave_a_gap_outside_the_window_and_stay_true_inside(bowl):
    # the 3-D mesh covers only the window: a path point outside it has no mesh to sit
    # on, so it is not drawn (a gap), while every point inside is the run's own
    s, grid = bowl
    (ser,) = make_series(s, [("sgd", {"lr": 1.2})], 100)
    valid = ser.traj.valid()[0]
    (x0, x1), (y0, y1) = s.bounds
    outside = (valid[:, 0] < x0) | (valid[:, 0] > x1) | (valid[:, 1] < y0) | (valid[:, 1] > y1)
    assert outside.any() and (~outside).any()
    fig = figures.surface3d_figure(s, [ser], grid=grid)
    (path,) = [t for t in fig.data if t.type == "scatter3d" and t.name == ser.label]
    px, py = decode(path.x), decode(path.y)
    drawn = np.isfinite(px) & np.isfinite(py)
    assert drawn.any() and not drawn.all()
    assert np.all((px[drawn] >= x0) & (px[drawn] <= x1) & (py[drawn] >= y0) & (py[drawn] <= y1))
    assert np.isfinite(decode(path.z)[drawn]).all()


# -- line charts ----------------------------------------------------------------------


def test_effective_lr_one_panel_per_parameter_log_y(bowl):
    s, _ = bowl
    series = make_series(s, [("adam", {"lr": 0.1}), ("sgd", {"lr": 0.05})], 120)
    fig = figures.effective_lr_figure(series)
    assert fig.layout.yaxis.type == "log" and fig.layout.yaxis2.type == "log"
    for k, ser in enumerate(series):
        left, right = fig.data[2 * k], fig.data[2 * k + 1]
        assert (left.xaxis, right.xaxis) == ("x", "x2")
        assert left.name == ser.label and left.line.color == ser.color
        n = int(ser.traj.valid_length) - 1
        assert np.array_equal(left.x, np.arange(1, n + 1))
        assert np.allclose(left.y, ser.traj.effective_lr[:n, 0], rtol=1e-6)
        assert np.allclose(right.y, ser.traj.effective_lr[:n, 1], rtol=1e-6)
    # Adam adapts per coordinate, SGD does not
    assert np.ptp(fig.data[0].y) > 0 and np.ptp(fig.data[2].y) == 0


def test_loss_and_gradient_norm_share_the_step_range(bowl):
    s, _ = bowl
    series = make_series(s, [("adam", {"lr": 0.1}), ("sgd", {"lr": 0.05})], 150)
    lf, ef = figures.loss_figure(series), figures.effective_lr_figure(series)
    assert tuple(lf.layout.xaxis.range) == tuple(ef.layout.xaxis.range) == (0, 150)
    assert tuple(lf.layout.xaxis2.range) == (0, 150)
    assert lf.layout.yaxis.type == "log" and lf.layout.yaxis2.type == "log"
    loss, gnorm = lf.data[0], lf.data[1]
    traj = series[0].traj
    assert np.allclose(loss.y, traj.loss[: int(traj.valid_length)], rtol=1e-6)
    assert np.allclose(gnorm.y, np.linalg.norm(traj.grad, axis=-1), rtol=1e-5)
    assert np.array_equal(gnorm.x, np.arange(1, 151))


@pytest.mark.parametrize("classroom", [False, True])
def test_two_panel_charts_keep_the_right_panels_numbers_out_of_the_gap(bowl, classroom):
    # between the panels, the right panel's tick labels ran into the left panel
    s, _ = bowl
    series = make_series(s, [("adam", {"lr": 0.1})], 50)
    for fig in (
        figures.loss_figure(series, classroom=classroom),
        figures.effective_lr_figure(series, classroom=classroom),
    ):
        assert fig.layout.yaxis2.side == "right" and fig.layout.yaxis2.automargin
        assert fig.layout.yaxis.side in (None, "left")


def test_loss_that_goes_negative_is_plotted_linear_and_says_so():
    s = optim.make_surface("saddle")
    series = make_series(s, [("sgd", {"lr": 0.1})], 100)
    assert np.nanmin(series[0].traj.loss) < 0
    fig = figures.loss_figure(series)
    assert fig.layout.yaxis.type == "linear"
    assert "linear" in fig.layout.yaxis.title.text


def test_figures_accept_no_series(rosen):
    s, grid = rosen
    assert not figures.contour_figure(s, [], grid=grid).frames
    figures.surface3d_figure(s, [], grid=grid)
    figures.effective_lr_figure([])
    figures.loss_figure([])


def raster_rgb(fig) -> np.ndarray:
    """The contour's banded raster as the browser shows it: RGB rows, top (y max) first."""
    png = base64.b64decode(fig.layout.images[0].source.split(",", 1)[1])
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB"))


@pytest.mark.parametrize("name", ["rosenbrock", "himmelblau", "bowl"])
def test_raster_pixels_have_the_colour_of_the_band_of_the_loss_there(name):
    s = optim.make_surface(name)
    grid = figures.surface_grid(s, n=80)
    fig = figures.contour_figure(s, [], grid=grid)
    rgb = raster_rgb(fig)
    h, w, _ = rgb.shape
    levels, _ = figures.contour_levels(grid[2])
    colors = layers.band_colors(len(levels) + 1)
    assert len({tuple(c) for c in colors}) == len(colors)  # every band tells itself apart
    (x0, x1), (y0, y1) = s.bounds
    rng = np.random.default_rng(0)
    checked = 0
    px, py = (x1 - x0) / (w - 1), (y1 - y0) / (h - 1)  # one pixel
    for x, y in rng.uniform((x0, y0), (x1, y1), size=(200, 2)):
        # only where two pixels around give the same band: the raster is interpolated
        # from the grid, so right at a band edge either colour is fair
        near = np.array(
            [[x + dx, y + dy] for dx in (-2 * px, 0, 2 * px) for dy in (-2 * py, 0, 2 * py)]
        )
        bands = np.searchsorted(levels, s.loss(near))
        if len(set(bands.tolist())) > 1:
            continue
        col = round((x - x0) / px)
        row = round((y1 - y) / py)
        assert tuple(rgb[row, col]) == tuple(colors[bands[0]]), (x, y)
        checked += 1
    assert checked > 50


def test_band_colours_run_from_dark_to_light_viridis():
    colors = layers.band_colors(10).astype(float)
    light = colors.mean(axis=1)
    assert light[0] < light[-1]  # low loss dark, high loss light
    assert colors[0][2] > colors[0][1]  # viridis starts violet
    assert colors[-1][0] > colors[-1][2]  # and ends yellow
    assert colors.min() > 100  # lightened, so coloured paths stay readable


def test_iso_lines_of_a_busy_surface_keep_to_the_point_budget_and_their_levels():
    s = optim.make_surface("rastrigin")  # hundreds of small rings
    xs, ys, Z = figures.surface_grid(s)
    levels, _ = figures.contour_levels(Z)
    full = layers.iso_lines(xs, ys, Z, levels)
    x, y = layers.iso_lines(xs, ys, Z, levels, budget=8000)
    assert len(full[0]) > 8000 >= len(x) > 4000
    assert np.isnan(x[-1]) and np.isnan(full[0][-1])  # every line ends with a separator
    # the kept points are points of the full lines (each line thinned, none invented)
    full_pts = {(a, b) for a, b in zip(*full, strict=True) if np.isfinite(a)}
    assert {(a, b) for a, b in zip(x, y, strict=True) if np.isfinite(a)} <= full_pts
    # and closed rings stay closed: each line ends where the full line ends
    ends = lambda xs_: {  # noqa: E731
        (float(xs_[0][i - 1]), float(xs_[1][i - 1])) for i in np.nonzero(np.isnan(xs_[0]))[0]
    }
    assert ends((x, y)) == ends(full)


@pytest.mark.parametrize("t_end", [1, 7, 99, 100, 201, 1000, 4321])
def test_frame_steps_are_round_and_end_at_the_last_step(t_end):
    steps = figures.frame_schedule(t_end, 100)
    assert steps[0] == 0 and steps[-1] == t_end
    assert len(steps) <= 101  # at most n_frames, plus the final step
    assert len(steps) >= min(t_end + 1, 40)  # still a smooth animation
    spacing = np.diff(steps[:-1]) if len(steps) > 2 else np.diff(steps)
    assert len(set(spacing.tolist())) == 1  # evenly spaced up to the end
    # one more step in the run keeps every label but the last one (same spacing)
    longer = figures.frame_schedule(t_end + 1, 100)
    if longer[1] == steps[1]:
        assert set(steps.tolist()) - {t_end} <= set(longer.tolist())


def test_effective_lr_panels_are_named_after_the_surface_variables():
    s = optim.make_surface("linear")
    fig = figures.effective_lr_figure(make_series(s, [("adam", {"lr": 0.1})], 20))
    titles = [a.text for a in fig.layout.annotations]
    assert any("along a" in t for t in titles) and any("along b" in t for t in titles)


def test_3d_paths_are_drawn_on_or_above_the_mesh_in_a_narrow_valley():
    # Rosenbrock's valley is narrower than a grid cell: a path drawn at its true loss
    # would disappear under the interpolated mesh. Check every drawn point against the
    # mesh, interpolated here along x within the two bracketing rows, then along y.
    s = optim.make_surface("rosenbrock")
    traj = optim.run(s, optim.make_optimizer("adam", lr=0.05), s.start, 400)
    fig = figures.surface3d_figure(
        s, [Series("Adam", PALETTE[0], traj)], grid=figures.surface_grid(s)
    )
    mesh = next(t for t in fig.data if t.type == "surface")
    path = next(t for t in fig.data if t.type == "scatter3d" and t.name == "Adam")
    mx, my = np.asarray(mesh.x, float), np.asarray(mesh.y, float)
    logz = np.log10(np.asarray(mesh.z, float))
    px, py, pz = (np.asarray(v, float) for v in (path.x, path.y, path.z))
    ok = np.isfinite(px)
    assert ok.sum() > 50
    for x, y, z in zip(px[ok], py[ok], pz[ok], strict=True):
        i = min(int(np.searchsorted(my, y)) - 1, len(my) - 2)
        below = [np.interp(x, mx, logz[r]) for r in (max(i, 0), max(i, 0) + 1)]
        here = np.interp(y, my[max(i, 0) : max(i, 0) + 2], below)
        assert np.log10(z) >= here - 1e-3, (x, y)
    # the hover still reports the run's own loss
    np.testing.assert_allclose(
        np.asarray(path.customdata, float)[:, 1][ok],
        traj.loss[np.asarray(path.customdata, float)[:, 0][ok].astype(int)],
        rtol=1e-5,
    )


def test_3d_z_axis_says_loss_and_labels_real_losses(rosen):
    s, grid = rosen
    fig = figures.surface3d_figure(s, make_series(s, [("adam", {"lr": 0.05})], 50), grid=grid)
    z = fig.layout.scene.zaxis
    assert z.title.text == "loss (log scale)"  # not "loss + 0.525 (log)"
    assert "+" not in z.title.text
    values = [float(t.replace(",", "")) for t in z.ticktext]
    assert all(b > a for a, b in zip(values, values[1:], strict=False))
    assert all(v in (1, 10, 100, 1000, 10000) for v in values), values  # round losses
    assert len(values) <= 6  # room between the labels
    # each label sits at the height its loss is drawn at (loss - min + offset)
    zmin = float(np.nanmin(grid[2]))
    offset = z.tickvals[0] - values[0] + zmin
    for v, h in zip(values, z.tickvals, strict=True):
        assert h == pytest.approx(v - zmin + offset, rel=1e-6)
