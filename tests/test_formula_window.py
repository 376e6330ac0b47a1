"""A typed formula on a window of the user's choice, and surfaces with a kink (the cone)."""

from __future__ import annotations

import numpy as np
import pytest

import optim
from optim.expression import (
    MAX_BOUND,
    WINDOW,
    check_window,
    default_start,
    shortest_in_hull,
    surface_from_expression,
)

FAR = "(x - 7)^2 + 2*(y + 5)^2"  # its minimum, (7, -5), lies outside [-3, 3]²


# -- the window ---------------------------------------------------------------------------------
def test_a_minimum_outside_the_default_window_is_found_in_a_chosen_one():
    assert surface_from_expression(FAR).minima.shape == (0, 2)  # lowest on the border
    s = surface_from_expression(FAR, ((0, 10), (-10, 0)))
    assert s.bounds == ((0.0, 10.0), (-10.0, 0.0))
    np.testing.assert_allclose(s.minima, [[7.0, -5.0]], atol=1e-9)
    # the start lies in the window, where (-2, 2) lies in [-3, 3]²
    assert default_start(WINDOW) == (-2.0, 2.0)
    np.testing.assert_allclose(s.start, [0 + 10 / 6, 0 - 10 / 6])
    t = optim.run(s, optim.make_optimizer("adam", lr=0.1), s.start, 2000)
    assert np.linalg.norm(t.final_point() - [7.0, -5.0]) < 1e-3


def test_the_window_decides_where_the_formula_must_be_finite():
    with pytest.raises(ValueError, match=r"not finite at \(x, y\) = \(0, .*\[-3, 3\] x \[-3, 3\]"):
        surface_from_expression("1/x + y^2")
    s = surface_from_expression("1/x + y^2", ((0.5, 4), (-1, 1)))
    assert np.isfinite(s.loss(s.start))
    with pytest.raises(ValueError, match=r"in the window \[-0.5, 4\] x \[-1, 1\]"):
        surface_from_expression("1/x + y^2", ((-0.5, 4), (-1, 1)))


def test_a_pole_between_evenly_spaced_points_is_still_found():
    # 1 and 0.5 are not on 201 evenly spaced points of [-3, 3] or of [-1, 2]
    for text, window in (("1/(x - 1) + y^2", None), ("1/(2*x - 1) + y^2", ((-1, 2), (-1, 1)))):
        with pytest.raises(ValueError, match="not finite at"):
            surface_from_expression(text, window)


def test_answers_are_kept_per_formula_and_window():
    wide = surface_from_expression("x^2 + y^2", ((-8, 8), (-8, 8)))
    plain = surface_from_expression("x^2 + y^2")
    assert wide.bounds == ((-8.0, 8.0), (-8.0, 8.0)) and plain.bounds == WINDOW
    assert surface_from_expression("x^2 + y^2", [[-8, 8], [-8, 8]]) is wide
    assert surface_from_expression("x^2 + y^2", WINDOW) is plain


@pytest.mark.parametrize(
    "window,message",
    [
        (((3, -3), (-3, 3)), "the x range must go from a lower to a higher number"),
        (((-3, 3), (1, 1)), "the y range must go from a lower to a higher number"),
        (((-3, 3), (0, 0.005)), "at least 0.01 apart"),
        (((-3, float("nan")), (-3, 3)), "the x range must be finite"),
        (((-3, 3), (-3, float("inf"))), "the y range must be finite"),
        (((-3, 2 * MAX_BOUND), (-3, 3)), "within [-1000, 1000]"),
        (((-3, 3),), "two ranges"),
        ("abc", "two ranges"),
        (((-3, 3), ("a", 3)), "two ranges"),
    ],
)
def test_a_bad_window_is_refused_before_any_work(window, message):
    with pytest.raises(ValueError) as err:
        surface_from_expression("x^2 + y^2", window)
    assert message in str(err.value)


def test_the_window_reaches_the_worker_process():
    # answered by a worker (not cached in this process under another window)
    s = surface_from_expression("(x - 40)^2 + (y - 30)^2 + 0.5", ((20, 60), (10, 50)))
    np.testing.assert_allclose(s.minima, [[40.0, 30.0]], atol=1e-9)
    assert check_window(((20, 60), (10, 50))) == s.bounds


# -- kinks -------------------------------------------------------------------------------------
CONE = "sqrt(x^2 + y^2)"


def test_the_cone_is_accepted_with_its_tip_as_a_kink_and_a_zero_subgradient():
    s = surface_from_expression(CONE)
    assert s.kinks.tolist() == [[0.0, 0.0]]
    assert s.grad(np.zeros(2)).tolist() == [0.0, 0.0]  # the single-point path
    assert s.grad(np.zeros((3, 2))).tolist() == [[0.0, 0.0]] * 3  # the batched path
    np.testing.assert_allclose(s.grad([3.0, 4.0]), [0.6, 0.8])  # elsewhere: the formula's
    np.testing.assert_allclose(s.minima, [[0.0, 0.0]])


@pytest.mark.parametrize("name,lr", [("sgd", 0.05), ("adam", 0.05)])
def test_runs_on_the_cone_reach_its_tip_without_nan(name, lr):
    s = surface_from_expression(CONE)
    t = optim.run(s, optim.make_optimizer(name, lr=lr), s.start, 400)
    assert np.isfinite(t.loss).all()
    assert str(t.status) == "max_steps"
    # gradient descent on a cone circles the tip at about one step's length
    assert t.distance() < 2 * lr


def test_a_run_that_lands_on_the_tip_stays_there():
    s = surface_from_expression(CONE)
    t = optim.run(s, optim.make_optimizer("sgd", lr=1.0), np.array([1.0, 0.0]), 5)
    assert t.path().tolist() == [[1.0, 0.0]] + [[0.0, 0.0]] * 5
    assert t.loss.tolist() == [1.0] + [0.0] * 5


def test_the_subgradient_is_the_shortest_slope_around_the_kink_not_always_zero():
    # sqrt(x^2 + y^2) + 2x: the slopes around (0, 0) fill a disc of radius 1 around (2, 0);
    # 0 is not among them, (1, 0) is the shortest
    s = surface_from_expression("sqrt(x^2 + y^2) + 2*x")
    assert s.kinks.tolist() == [[0.0, 0.0]]
    np.testing.assert_allclose(s.grad(np.zeros(2)), [1.0, 0.0], atol=1e-6)
    # a kink away from the origin, on a quarter of the grid
    off = surface_from_expression("sqrt((x - 0.5)^2 + y^2)")
    assert off.kinks.tolist() == [[0.5, 0.0]]
    assert off.grad(np.array([0.5, 0.0])).tolist() == [0.0, 0.0]


def test_shortest_in_hull():
    ring = np.stack([np.cos(np.arange(8)), np.sin(np.arange(8))], axis=-1)
    assert shortest_in_hull(ring).tolist() == [0.0, 0.0]
    np.testing.assert_allclose(shortest_in_hull(ring + [3.0, 0.0]), [2.0, 0.0], atol=0.2)
    np.testing.assert_allclose(shortest_in_hull(np.array([[1.0, 1.0], [1.0, -1.0]])), [1.0, 0.0])
    batch = np.stack([ring, ring + [0.0, -5.0]])
    assert shortest_in_hull(batch).shape == (2, 2)
    assert np.isnan(shortest_in_hull(np.array([[1.0, 0.0], [np.nan, 0.0]]))).all()


@pytest.mark.parametrize(
    "text,message",
    [
        ("1/x", "the formula is not finite at (x, y) = (0, -3)"),
        ("log(x)", "the formula is not finite at (x, y) = (-3, -3)"),
        ("log(x) + y", "the formula is not finite at"),
        ("sqrt(x) + y^2", "the formula is not finite at"),
        ("1/(x^2 + y^2)", "the formula is not finite at (x, y) = (0, 0)"),
        ("sqrt(abs(x)) + y^2", "not differentiable at (x, y) = (0, -3) and at points next to it"),
        ("(x^2 + y^2)^0.25", "slope grows without bound towards that point (a cusp)"),
        ("sqrt(sqrt(x^2 + y^2))", "(a cusp)"),
    ],
)
def test_truly_broken_formulas_are_still_refused(text, message):
    with pytest.raises(ValueError) as err:
        surface_from_expression(text)
    assert message in str(err.value)
