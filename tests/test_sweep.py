"""Sweeps, random searches and basin maps: every cell is the run made on its own."""

from __future__ import annotations

import numpy as np
import pytest

import optim
from optim.sweep import axis_values, sample_settings, settings_kwargs, slider_specs, tunable


def single(problem, name, kwargs, start, steps, **opts):
    return optim.run(problem, optim.make_optimizer(name, **kwargs), start, steps, **opts)


def assert_cell_is_single_run(res, problem, index, start, steps, **opts):
    traj = single(problem, res.optimizer, res.cell(*index), start, steps, **opts)
    assert res.status[index] == str(traj.status)
    assert res.steps[index] == traj.steps_taken()
    np.testing.assert_array_equal(res.final_params[index], traj.final_params)
    if traj.status == "diverged":
        assert np.isnan(res.final_loss[index]) and np.isnan(res.distance[index])
    else:
        assert res.final_loss[index] == float(traj.final_loss)  # bit for bit
        assert res.distance[index] == traj.distance()


def test_every_cell_of_a_momentum_map_is_the_single_run():
    s = optim.make_surface("rosenbrock")
    lrs = axis_values(slider_specs("momentum")["lr"], 9, 1e-5, 1e-2)
    mus = axis_values(slider_specs("momentum")["momentum"], 7)
    res = optim.sweep(s, "momentum", {"lr": lrs, "momentum": mus}, steps=300, tol=1e-4, chunk=10)
    assert res.shape == (9, 7)
    statuses = set(res.status.ravel())
    assert statuses == {"diverged", "max_steps", "converged"}, statuses  # all three covered
    for index in np.ndindex(res.shape):
        assert_cell_is_single_run(res, s, index, s.start, 300, tol=1e-4)
    assert res.cell(2, 3)["lr"] == lrs[2] and res.cell(2, 3)["momentum"] == mus[3]


def test_a_pair_part_is_an_axis_and_fixed_values_hold():
    s = optim.make_surface("beale")
    res = optim.sweep(
        s,
        "adam",
        {"betas[0]": [0.0, 0.5, 0.9], "lr": [0.01, 0.1]},
        start=(1.0, 1.0),
        steps=120,
        fixed={"betas[1]": 0.99, "eps": 1e-6},
    )
    assert res.shape == (3, 2)
    assert res.cell(1, 0) == {**res.cell(1, 0), "betas": (0.5, 0.99), "lr": 0.01, "eps": 1e-6}
    for index in np.ndindex(res.shape):
        assert_cell_is_single_run(res, s, index, np.array([1.0, 1.0]), 120)
    # the settings changed the outcome: the map is not one run repeated
    assert len(set(res.final_loss.ravel())) == 6


def test_metrics_read_what_a_user_expects():
    s = optim.make_surface("bowl")
    res = optim.sweep(s, "sgd", {"lr": [0.01, 0.3, 0.6]}, steps=400, tol=1e-12)
    assert list(res.status) == ["max_steps", "converged", "diverged"]
    steps = res.metric("steps")
    assert np.isnan(steps[0]) and np.isnan(steps[2]) and 0 < steps[1] < 400
    assert np.isnan(res.metric("final_loss")[2])
    assert res.metric("distance")[1] < 1e-5 < res.metric("distance")[0]
    with pytest.raises(ValueError, match="unknown metric"):
        res.metric("speed")


def test_log_sliders_give_log_axes_and_bad_axes_are_refused():
    lr = slider_specs("adam")["lr"]
    np.testing.assert_allclose(axis_values(lr, 4, 1e-4, 1e-1), [1e-4, 1e-3, 1e-2, 1e-1])
    np.testing.assert_allclose(
        axis_values(slider_specs("sgd")["momentum"], 3, 0, 0.9), [0, 0.45, 0.9]
    )
    with pytest.raises(ValueError, match="log scale"):
        axis_values(lr, 3, 0.0, 1.0)
    s = optim.make_surface("bowl")
    with pytest.raises(ValueError, match="nesterov"):
        optim.sweep(s, "sgd", {"nesterov": [0, 1]})
    with pytest.raises(ValueError, match="no hyperparameter"):
        settings_kwargs("sgd", {"betas": (0.9, 0.9)})


def test_evaluate_runs_a_list_of_settings():
    s = optim.make_surface("rosenbrock")
    draws = sample_settings("rmsprop", 12, seed=3)
    res = optim.evaluate(s, "rmsprop", draws, steps=150, chunk=5)
    assert res.shape == (12,)
    for i in range(12):
        assert_cell_is_single_run(res, s, (i,), s.start, 150)


def test_random_settings_follow_the_sliders():
    draws = sample_settings("adam", 4000, seed=7)
    assert set(draws) == set(tunable("adam")) and "weight_decay" not in draws
    assert "dampening" in tunable("sgd") and "dampening" not in tunable("nesterov")
    lr, eps, b1 = draws["lr"], draws["eps"], draws["betas[0]"]
    # log-uniform: each decade of [1e-5, 10] gets about a sixth of the draws
    share = np.mean((lr >= 1e-3) & (lr < 1e-2))
    assert 0.14 < share < 0.19
    assert eps.min() >= 1e-12 and eps.max() <= 0.1
    # uniform on [0, 0.999]: the mean sits in the middle
    assert abs(b1.mean() - 0.4995) < 0.02
    # the same seed gives the same draws, and a shared slider the same luck
    np.testing.assert_array_equal(sample_settings("adam", 4000, seed=7)["lr"], lr)
    np.testing.assert_array_equal(sample_settings("sgd", 4000, seed=7)["lr"], lr)
    assert not np.array_equal(sample_settings("adam", 4000, seed=8)["lr"], lr)


def test_basins_label_each_start_by_the_minimum_its_single_run_reaches():
    s = optim.make_surface("himmelblau")
    opt = optim.make_optimizer("sgd", lr=0.01)
    xs, ys = np.linspace(-5, 5, 21), np.linspace(-5, 5, 17)
    b = optim.basins(s, opt, xs, ys, steps=300, chunk=50)
    assert np.asarray(b).shape == (17, 21)
    for j, i in [(0, 0), (3, 15), (8, 10), (16, 20), (12, 2)]:
        traj = optim.run(s, opt, np.array([xs[i], ys[j]]), 300)
        d = np.linalg.norm(s.minima - traj.final_point(), axis=1)
        expect = int(np.argmin(d)) if d.min() <= b.radius else -1
        assert b.labels[j, i] == expect
    # all four minima are global; gradient descent from a grid reaches each of them
    assert set(np.unique(b.labels)) == {0, 1, 2, 3}
    assert b.share_global == 1.0


def test_basins_report_diverged_and_unfinished_starts():
    s = optim.make_surface("himmelblau")
    xs = ys = np.linspace(-4.5, 4.5, 10)  # no start sits on a minimum
    b = optim.basins(s, optim.make_optimizer("sgd", lr=0.03), xs, ys, steps=50)
    assert 0 < b.shares()[-2] < 0.5  # some starts blow up at this learning rate
    assert b.labels[0, 1] == -2 and b.labels[5, 5] == -1
    assert b.share_global == 0.0  # the rest bounce across their valley: none reached
    slow = optim.basins(s, optim.make_optimizer("sgd", lr=1e-5), xs, ys, steps=10)
    assert (slow.labels == -1).all() and slow.share_global == 0.0


def test_numerical_minima_complete_the_known_ones():
    camel = optim.make_surface("camel")
    m = optim.find_minima(camel)
    np.testing.assert_array_equal(m[:2], camel.minima)  # known ones first, same order
    assert len(m) == 6  # two global, four local
    assert np.all(np.linalg.norm(camel.grad(m), axis=1) < 1e-8)
    rastrigin = optim.make_surface("rastrigin")
    m = optim.find_minima(rastrigin)
    # local minima sit near every integer point of the widened window [-6, 6]^2
    assert len(m) == 13 * 13
    b = optim.basins(rastrigin, "sgd", [-3.0, 0.1, 2.9], [0.1], steps=50, minima=m)
    assert b.is_global.sum() == 1 and b.is_global[0]
    formula = optim.surface_from_expression("(x**2 - 1)**2 + y**2")
    found = optim.find_minima(formula, known=np.empty((0, 2)))
    np.testing.assert_allclose(sorted(found[:, 0]), [-1.0, 1.0], atol=1e-9)


def test_progress_counts_the_cells_of_the_whole_batch():
    s = optim.make_surface("bowl")
    seen = []
    optim.sweep(
        s,
        "sgd",
        {"lr": np.geomspace(1e-3, 0.1, 10)},
        steps=100,
        chunk=4,
        progress=lambda done, total: seen.append((done, total)),
    )
    assert all(total == 10 for _, total in seen)
    done = [d for d, _ in seen]
    assert done == sorted(done) and done[-1] == 10 and len(set(done)) >= 8
    # and a run alone reports its steps
    steps = []
    optim.run(
        s, optim.make_optimizer("sgd", lr=0.1), s.start, 60, progress=lambda t, n: steps.append(t)
    )
    assert steps == [25, 50]
