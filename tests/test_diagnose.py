"""Divergence explanations quote the right stability limit, and the limit is the real one.

On f = x² + 10y² the largest curvature is L = 20. Each limit below is derived in the test
from theory, then checked twice: the optimizer really is stable just below it and blows up
just above it, and the message of the run above it quotes that number.
"""

from __future__ import annotations

import numpy as np
import pytest

import optim
from optim.diagnose import step_limit

L = 20.0
FORMULA = "x^2 + 10*y^2"
START = (1.0, 1.0)


@pytest.fixture(scope="module")
def surface():
    return optim.surface_from_expression(FORMULA)


CASES = {
    # name: optimizer, its settings, the limit the theory gives
    "plain SGD": ("sgd", {}, 2 / L),
    "heavy ball": ("momentum", {"momentum": 0.5, "dampening": 0.0}, 2 * 1.5 / L),
    "dampened heavy ball": ("momentum", {"momentum": 0.5, "dampening": 0.5}, 2 * 1.5 / (0.5 * L)),
    "Nesterov": ("nesterov", {"momentum": 0.9}, 2 * 1.9 / (2.8 * L)),
    "coupled weight decay": ("sgd", {"weight_decay": 5.0}, 2 / (L + 5.0)),
    "Nesterov with weight decay": (
        "nesterov",
        {"momentum": 0.5, "weight_decay": 4.0},
        2 * 1.5 / (2.0 * (L + 4.0)),
    ),
}


def _run(surface, name, kw, lr, steps=400):
    return optim.run(surface, optim.make_optimizer(name, lr=lr, **kw), START, steps)


@pytest.mark.parametrize("case", list(CASES))
def test_the_quoted_limit_is_where_the_run_starts_to_blow_up(surface, case):
    name, kw, limit = CASES[case]
    below = _run(surface, name, kw, 0.97 * limit)
    above = _run(surface, name, kw, 1.03 * limit, steps=3000)
    assert str(below.status) != "diverged"
    assert str(above.status) == "diverged"
    message = str(above.message)
    assert f"≈ {limit:.2g} " in message, message
    assert step_limit(optim.make_optimizer(name, lr=0.1, **kw), L)[0] == pytest.approx(limit)


def test_a_batch_of_momentum_arrays_explains_each_trajectory_as_alone(surface):
    lrs, mus = np.array([0.2, 0.01, 0.3]), np.array([0.9, 0.5, 0.0])
    batch = optim.run(surface, optim.make_optimizer("momentum", lr=lrs, momentum=mus), START, 300)
    for i in range(3):
        alone = _run(surface, "momentum", {"momentum": float(mus[i])}, float(lrs[i]), steps=300)
        assert str(batch.status[i]) == str(alone.status)
        assert str(batch.message[i]) == str(alone.message)
