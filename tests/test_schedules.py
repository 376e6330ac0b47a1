"""Learning-rate schedules: closed forms with torch.optim.lr_scheduler's semantics."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import optim

GOLDEN = json.loads((Path(__file__).with_name("golden") / "torch_schedules.json").read_text())

SPEC_KEYS = {"key", "label", "symbol", "default", "low", "high", "log", "help", "kind"}


def test_registry():
    assert list(optim.SCHEDULES) == [
        "constant",
        "step",
        "exponential",
        "cosine",
        "warmup_cosine",
        "inverse_time",
    ]


@pytest.mark.parametrize("name", list(optim.SCHEDULES))
def test_defaults_give_finite_positive_factors(name):
    sched = optim.make_schedule(name)
    f = sched.factors(300)
    assert f.shape == (300,) and f.dtype == np.float64
    assert np.all(np.isfinite(f)) and np.all(f >= 0) and np.all(f <= 1)
    assert sched.factors(0).shape == (0,)
    for spec in sched.params:
        assert set(spec) == SPEC_KEYS
        assert spec["low"] <= spec["default"] <= spec["high"]
    assert sched.label and sched.latex


def test_constant_step_exponential_inverse_time():
    np.testing.assert_array_equal(optim.make_schedule("constant").factors(5), 1.0)
    step = optim.make_schedule("step", step_size=3, gamma=0.1).factors(7)
    np.testing.assert_allclose(step, [1, 1, 1, 0.1, 0.1, 0.1, 0.01])
    exp = optim.make_schedule("exponential", gamma=0.9).factors(4)
    np.testing.assert_allclose(exp, [1, 0.9, 0.81, 0.729])
    inv = optim.make_schedule("inverse_time", decay=0.5).factors(4)
    np.testing.assert_allclose(inv, [1, 1 / 1.5, 1 / 2, 1 / 2.5])
    for name in ("step", "exponential", "inverse_time"):
        assert np.all(np.diff(optim.make_schedule(name).factors(500)) <= 0)


def test_cosine_reaches_its_floor_at_t_max_and_whole_run_by_default():
    c = optim.make_schedule("cosine", T_max=100, eta_min=0.1).factors(201)
    assert c[0] == 1.0 and c[100] == pytest.approx(0.1) and c[50] == pytest.approx(0.55)
    assert np.all(np.diff(c[:101]) <= 0)
    assert c[200] == pytest.approx(1.0)  # past T_max the closed form climbs back, as torch's
    whole = optim.make_schedule("cosine").factors(80)
    assert whole[0] == 1.0 and np.all(np.diff(whole) < 0) and whole[-1] < 0.001


def test_warmup_then_cosine():
    f = optim.make_schedule(
        "warmup_cosine", warmup=10, start_factor=0.2, T_max=110, eta_min=0.0
    ).factors(110)
    assert f[0] == pytest.approx(0.2)
    assert np.all(np.diff(f[:11]) > 0) and f[10] == pytest.approx(1.0)
    assert np.all(np.diff(f[10:]) < 0)
    assert f[60] == pytest.approx(0.5)


@pytest.mark.parametrize(
    "name,kw,match",
    [
        ("nope", {}, "unknown schedule 'nope'"),
        ("step", {"gamma": 0.5, "T_max": 3}, "no parameter 'T_max'"),
        ("step", {"step_size": 0}, "step_size must be positive"),
        ("step", {"step_size": 2.5}, "whole number"),
        ("exponential", {"gamma": -0.5}, "gamma must be positive"),
        ("cosine", {"eta_min": 1.5}, "eta_min"),
        ("cosine", {"T_max": -1}, "T_max"),
        ("warmup_cosine", {"warmup": 50, "T_max": 20}, "must exceed warmup"),
        ("inverse_time", {"decay": float("nan")}, "finite"),
        ("constant", {"gamma": 0.5}, "takes none"),
    ],
)
def test_bad_parameters(name, kw, match):
    with pytest.raises(ValueError, match=match):
        optim.make_schedule(name, **kw)


def torch_lrs(make_scheduler, steps):
    """The lr torch uses at each of ``steps`` optimizer steps (base lr 1)."""
    torch = pytest.importorskip("torch")
    param = torch.zeros(1, requires_grad=True)
    opt = torch.optim.SGD([param], lr=1.0)
    sched = make_scheduler(torch.optim.lr_scheduler, opt)
    out = []
    for _ in range(steps):
        out.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    return np.array(out)


@pytest.mark.torch
@pytest.mark.parametrize(
    "name,kw,make",
    [
        ("step", {"step_size": 7, "gamma": 0.3}, lambda m, o: m.StepLR(o, step_size=7, gamma=0.3)),
        ("exponential", {"gamma": 0.97}, lambda m, o: m.ExponentialLR(o, gamma=0.97)),
        (
            "cosine",
            {"T_max": 40, "eta_min": 0.05},
            lambda m, o: m.CosineAnnealingLR(o, T_max=40, eta_min=0.05),
        ),
        (
            "warmup_cosine",
            {"warmup": 10, "start_factor": 0.25, "T_max": 60, "eta_min": 0.0},
            lambda m, o: m.SequentialLR(
                o,
                [
                    m.LinearLR(o, start_factor=0.25, total_iters=10),
                    m.CosineAnnealingLR(o, T_max=50),
                ],
                milestones=[10],
            ),
        ),
    ],
)
def test_matches_torch_lr_scheduler(name, kw, make):
    steps = 60 if name == "warmup_cosine" else 120
    ours = optim.make_schedule(name, **kw).factors(steps)
    np.testing.assert_allclose(ours, torch_lrs(make, steps), rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize(
    "case", GOLDEN["cases"], ids=[f"{c['name']}-{i}" for i, c in enumerate(GOLDEN["cases"])]
)
def test_matches_torch_golden(case):
    # recorded from torch.optim.lr_scheduler by tests/make_golden_schedules.py: no torch needed
    ours = optim.make_schedule(case["name"], **case["params"]).factors(case["steps"])
    np.testing.assert_allclose(ours, case["lr"], rtol=1e-12, atol=1e-15)


def test_every_schedule_with_parameters_has_golden_cases():
    covered = {c["name"] for c in GOLDEN["cases"]}
    assert covered == {n for n in optim.SCHEDULES if optim.make_schedule(n).params}
