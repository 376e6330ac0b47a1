"""When a run stops: early stopping counts only consecutive quiet steps; the bound on parameters.

The early-stop rule is checked against a brute-force reading of the same losses: a run with
``tol`` must stop at the first step that ends ``patience`` consecutive steps whose loss
changed by less than ``tol``. Gradient noise makes quiet and loud steps alternate, so a rule
that forgets to start counting again after a loud step stops too early and fails here.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import optim


def _first_quiet_run(loss: np.ndarray, tol: float, patience: int) -> int | None:
    quiet = np.abs(np.diff(loss)) < tol  # quiet[s - 1]: step s changed the loss by < tol
    for t in range(patience, len(quiet) + 1):
        if quiet[t - patience : t].all():
            return t
    return None


@settings(max_examples=25, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    quantile=st.sampled_from([0.3, 0.5, 0.7]),
    patience=st.integers(2, 5),
)
def test_early_stop_needs_patience_quiet_steps_in_a_row(seed, quantile, patience):
    s = optim.make_surface("bowl")
    opt = optim.make_optimizer("sgd", lr=0.05)
    full = optim.run(s, opt, s.start, 300, noise=0.5, seed=seed)
    tol = float(np.quantile(np.abs(np.diff(full.loss))[50:], quantile))
    expected = _first_quiet_run(full.loss, tol, patience)
    stopped = optim.run(s, opt, s.start, 300, noise=0.5, seed=seed, tol=tol, patience=patience)
    if expected is None:
        assert str(stopped.status) == "max_steps"
    else:
        assert str(stopped.status) == "converged"
        assert int(stopped.stop_step) == expected


def test_parameters_past_the_bound_diverge_even_when_the_loss_stays_small():
    # a gentle slope: lr 100 moves x by -1 a step while |loss| stays near 0.01·|x|
    s = optim.surface_from_expression("0.01*x + y^2")
    traj = optim.run(s, optim.make_optimizer("sgd", lr=100.0), (0.0, 0.0), 50, bound=10.0)
    assert str(traj.status) == "diverged"
    assert int(traj.stop_step) == 11  # x = -11 is the first point past 10
    assert np.all(np.abs(traj.loss[: int(traj.valid_length)]) < 1)
    assert "parameters" in str(traj.message)


@pytest.mark.parametrize("slope", ["0.01*x", "-0.01*x"])
def test_in_a_batch_parameters_past_either_side_of_the_bound_diverge(slope):
    # the batch's check reduces over every row at once: the largest and the smallest value
    s = optim.surface_from_expression(f"{slope} + y^2")
    opt = optim.make_optimizer("sgd", lr=np.array([100.0, 1.0]))
    traj = optim.run(s, opt, np.zeros((2, 2)), 50, bound=10.0, record="final")
    assert traj.status.tolist() == ["diverged", "max_steps"]
    assert traj.stop_step.tolist() == [11, 50]
    assert abs(traj.final_params[0, 0]) == pytest.approx(10.0)  # the last point inside


@pytest.mark.parametrize("bound", [10.0, 100.0])
def test_the_loss_past_the_bound_diverges_too(bound):
    s = optim.surface_from_expression("x^2 + y^2")
    traj = optim.run(s, optim.make_optimizer("sgd", lr=1.5), (1.0, 1.0), 50, bound=bound)
    assert str(traj.status) == "diverged"
    path = traj.params[: int(traj.valid_length)]
    assert np.all(np.abs(path) <= bound) and np.all(traj.loss[: int(traj.valid_length)] <= bound)
