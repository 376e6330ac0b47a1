"""Problems of any dimension: the protocol run() accepts, a data problem, an online one."""

from __future__ import annotations

import numpy as np
import pytest

import optim


class InverseSqrt:
    """lr / sqrt(t): the step size of Reddi, Kale & Kumar's counterexample."""

    def factors(self, steps):
        return 1.0 / np.sqrt(np.arange(1, steps + 1))


class Quartic:
    """A problem written from the protocol alone: f(p) = sum((p - c)^4), any dimension."""

    def __init__(self, c):
        self.c = np.asarray(c, dtype=np.float64)
        self.dim = len(self.c)
        self.minima = self.c[None, :]

    def value_and_grad(self, p):
        d = p - self.c
        return np.sum(d**4, axis=-1), 4 * d**3


def test_any_object_with_dim_and_value_and_grad_is_a_problem():
    q = Quartic([1.0, -2.0, 0.5, 3.0, 0.0])
    assert isinstance(q, optim.Problem) and isinstance(optim.make_surface("bowl"), optim.Problem)
    opt = optim.make_optimizer("adam", lr=0.05)
    t = optim.run(q, opt, np.zeros(5), 400)
    assert t.params.shape == (401, 5) and t.grad.shape == (400, 5)
    assert t.distance() < 0.5 and np.linalg.norm(q.c) > 3.5  # from 3.8 to a flat bottom
    starts = np.random.default_rng(0).normal(size=(4, 5))
    batch = optim.run(q, opt, starts, 100)
    for i, p0 in enumerate(starts):
        np.testing.assert_array_equal(batch.params[:, i], optim.run(q, opt, p0, 100).params)
    with pytest.raises(ValueError, match=r"shape \(5,\) or \(k, 5\)"):
        optim.run(q, opt, np.zeros(2), 10)


def test_least_squares_gradients_and_minimum():
    prob = optim.make_problem("least_squares", n=40, dim=6, noise=0.2, seed=3)
    rng = np.random.default_rng(1)
    p = rng.normal(size=(3, 6))
    f, g = prob.value_and_grad(p)
    h = 1e-6
    for k in range(6):
        e = np.zeros(6)
        e[k] = h
        fd = (prob.value_and_grad(p + e)[0] - prob.value_and_grad(p - e)[0]) / (2 * h)
        np.testing.assert_allclose(g[:, k], fd, rtol=1e-6, atol=1e-8)
    # the minibatch gradients of one epoch average to the full gradient
    idx = np.arange(40).reshape(4, 10)
    np.testing.assert_allclose(np.mean([prob.batch_grad(p, i) for i in idx], axis=0), g)
    t = optim.run(prob, optim.make_optimizer("sgd", lr=0.1), prob.start, 2000)
    np.testing.assert_allclose(t.final_point(), prob.minima[0], atol=1e-8)


def test_online_linear_problem_changes_with_the_step_and_stays_in_its_box():
    prob = optim.make_problem("online_linear")  # C = 3, period 3: f_t = 3x, -x, -x, 3x, ...
    t = optim.run(prob, optim.make_optimizer("sgd", lr=0.1), np.array([0.0]), 7)
    # each step follows the gradient of its own round: -0.3, +0.1, +0.1, -0.3, ...
    np.testing.assert_allclose(t.grad[:, 0], [3, -1, -1, 3, -1, -1, 3])
    np.testing.assert_allclose(t.params[:, 0], [0, -0.3, -0.2, -0.1, -0.4, -0.3, -0.2, -0.5])
    # the loss of a row is its round's: row r is the start of step r + 1
    np.testing.assert_allclose(t.loss, [3, -1, -1, 3, -1, -1, 3, -1] * t.params[:, 0])
    far = optim.run(prob, optim.make_optimizer("sgd", lr=5.0), np.array([0.0]), 50)
    assert far.params.min() == -1.0 and far.params.max() == 1.0  # projected onto [-1, 1]


@pytest.mark.parametrize(
    "kw,betas",
    [({}, None), ({"C": 1010.0, "period": 101, "other": -10.0}, (0.9, 0.99))],
)
def test_adam_fails_and_amsgrad_succeeds_on_the_online_counterexample(kw, betas):
    """Reddi, Kale & Kumar (2018), section 3: Adam ends at the worst point +1, AMSGrad
    near the optimum -1."""
    prob = optim.make_problem("online_linear", **kw)
    C = prob.C
    betas = betas or (0.0, 1.0 / (1.0 + C * C))
    end = {}
    for ams in (False, True):
        opt = optim.make_optimizer("adam", lr=0.5, betas=betas, amsgrad=ams)
        t = optim.run(prob, opt, prob.start, 20000, schedule=InverseSqrt(), record="final")
        end[ams] = float(t.final_params[0])
    assert prob.minima.tolist() == [[-1.0]]
    assert end[False] > 0.99 and end[True] < -0.9, end


def test_make_problem_knows_problems_and_surfaces():
    assert optim.make_problem("rosenbrock", b=10.0).params == {"a": 1.0, "b": 10.0}
    with pytest.raises(ValueError, match="unknown problem 'nope'"):
        optim.make_problem("nope")
