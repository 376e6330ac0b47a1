"""The quadratic theory against its closed forms, and against measured runs."""

from __future__ import annotations

import math

import numpy as np
import pytest

import optim
from optim.theory import QuadraticTheory, measured_rate, minimum_of, quadratic_hessian


def test_condition_100_gives_the_textbook_rates():
    t = QuadraticTheory(np.diag([1.0, 100.0]))
    assert t.kappa == pytest.approx(100.0)
    assert round(t.gd_rate, 4) == 0.9802
    assert round(t.heavy_ball_rate, 4) == 0.8182
    assert t.gd_edge == pytest.approx(0.02)
    assert t.gd_best_lr == pytest.approx(2 / 101)
    assert t.heavy_ball_lr == pytest.approx((2 / 11) ** 2)
    assert t.heavy_ball_momentum == pytest.approx((9 / 11) ** 2)
    # the spectral radius at the optimum settings is the closed form
    assert t.rate(t.gd_best_lr) == pytest.approx(t.gd_rate, rel=1e-12)
    assert t.rate(t.heavy_ball_lr, t.heavy_ball_momentum) == pytest.approx(9 / 11, rel=1e-6)
    assert t.heavy_ball_edge(0.5) == pytest.approx(0.03)


@pytest.mark.parametrize(
    "name, eigenvalues",
    [("bowl", [4 / 20, 4.0]), ("booth", [2.0, 18.0])],
)
def test_hessians_of_the_quadratic_surfaces(name, eigenvalues):
    t = QuadraticTheory(quadratic_hessian(optim.make_surface(name)))
    np.testing.assert_allclose(t.eigenvalues, eigenvalues, rtol=1e-12)


def test_data_fits_and_formulas_are_quadratic_and_others_are_not():
    assert quadratic_hessian(optim.make_surface("rosenbrock")) is None
    assert quadratic_hessian(optim.make_surface("rastrigin")) is None
    ls = optim.make_problem("least_squares", n=40, dim=3)
    np.testing.assert_allclose(quadratic_hessian(ls), 2 * ls.X.T @ ls.X / 40)
    lin = optim.make_surface("linear")
    x = np.linspace(-1, 1, 100)  # mean of (a x + b - y)^2: H = 2 [[mean x^2, mean x], [., 1]]
    np.testing.assert_allclose(
        quadratic_hessian(lin), 2 * np.array([[np.mean(x * x), 0], [0, 1]]), atol=1e-12
    )
    typed = optim.surface_from_expression("3*x**2 + x*y + y**2 - x")
    np.testing.assert_allclose(quadratic_hessian(typed), [[6, 1], [1, 2]])
    theta, f_star = minimum_of(typed, quadratic_hessian(typed))
    np.testing.assert_allclose(typed.grad(theta), 0, atol=1e-12)
    assert f_star == pytest.approx(float(typed.loss(theta)))


def test_measured_rates_match_the_predicted_ones_on_the_bowl():
    s = optim.make_surface("bowl", condition=100)
    t = QuadraticTheory(quadratic_hessian(s))
    assert t.kappa == pytest.approx(100)
    gd = optim.run(s, optim.make_optimizer("sgd", lr=t.gd_best_lr), s.start, 400)
    hb = optim.run(
        s,
        optim.make_optimizer("momentum", lr=t.heavy_ball_lr, momentum=t.heavy_ball_momentum),
        s.start,
        400,
    )
    assert measured_rate(gd.loss) == pytest.approx(0.9802, rel=0.02)
    assert measured_rate(hb.loss) == pytest.approx(0.8182, rel=0.02)
    # and heavy ball really is the faster one (not just two numbers that happen to fit)
    assert measured_rate(hb.loss) < measured_rate(gd.loss) - 0.1


def test_measured_rate_of_a_known_geometric_sequence():
    loss = 5.0 * 0.9 ** (2 * np.arange(60)) + 1.5
    assert measured_rate(loss, 1.5) == pytest.approx(0.9, rel=1e-9)
    assert math.isnan(measured_rate([1.0, 0.5]))


def test_the_stability_edges_are_where_runs_start_to_blow_up():
    s = optim.make_surface("booth")
    t = QuadraticTheory(quadratic_hessian(s))
    lrs = t.gd_edge * np.array([0.98, 1.02])
    res = optim.sweep(s, "sgd", {"lr": lrs}, steps=2000, bound=1e4)
    assert list(res.status) == ["max_steps", "diverged"]
    assert list(t.stable(lrs)) == [True, False]
    for beta in (0.3, 0.8):
        edge = t.heavy_ball_edge(beta) * np.array([0.98, 1.02])
        res = optim.sweep(s, "momentum", {"lr": edge, "momentum": [beta]}, steps=3000, bound=1e8)
        assert list(res.status[:, 0]) == ["max_steps", "diverged"], beta
        assert list(t.stable(edge, beta)) == [True, False]
        assert t.rate(edge[0], beta) < 1 < t.rate(edge[1], beta)


@pytest.mark.parametrize(
    "hyper",
    [
        {"momentum": 0.5, "dampening": 0.5, "weight_decay": 0.0},
        {"momentum": 0.0, "dampening": 0.5, "weight_decay": 0.5},  # no buffer: d ignored
        {"momentum": 0.0, "dampening": 0.0, "weight_decay": 3.0},
        {"momentum": 0.6, "dampening": 0.3, "weight_decay": 1.0},
    ],
)
def test_sgd_edge_with_dampening_and_weight_decay_is_where_runs_blow_up(hyper):
    s = optim.make_surface("booth")
    t = QuadraticTheory(quadratic_hessian(s))
    edge = float(t.sgd_edge(**hyper))
    assert edge != pytest.approx(t.heavy_ball_edge(hyper["momentum"]))  # the axes matter
    if hyper["momentum"] == 0:
        assert edge == pytest.approx(2 / (t.lam_max + hyper["weight_decay"]))
    lrs = edge * np.array([0.98, 1.02])
    fixed = {k: [v] for k, v in hyper.items()}
    res = optim.sweep(s, "sgd", {"lr": lrs, **fixed}, steps=4000, bound=1e8)
    assert list(res.status.ravel()) == ["max_steps", "diverged"], hyper


def test_plain_sgd_best_lr_with_weight_decay_is_the_fastest():
    s = optim.make_surface("booth")
    t = QuadraticTheory(quadratic_hessian(s))
    w = 2.0
    best = float(t.sgd_best_lr(w))
    shifted = QuadraticTheory(quadratic_hessian(s) + w * np.eye(2))
    assert best == pytest.approx(shifted.gd_best_lr)  # GD on the shifted Hessian
    assert shifted.rate(best) < min(shifted.rate(0.9 * best), shifted.rate(1.1 * best))
    # measured: the run at the best lr gets closest to the ridge solution (H + wI)⁻¹H θ*
    h = quadratic_hessian(s)
    ridge = np.linalg.solve(h + w * np.eye(2), h @ s.minima[0])
    gaps = []
    for lr in best * np.array([0.8, 1.0, 1.1]):
        traj = optim.run(s, optim.make_optimizer("sgd", lr=lr, weight_decay=w), s.start, 100)
        gaps.append(np.linalg.norm(traj.final_point() - ridge))
    assert gaps[1] < gaps[0] and gaps[1] < gaps[2], gaps
