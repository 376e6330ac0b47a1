"""The optimizer spec: one table drives every generic test, golden torch trajectories pin the math."""

from __future__ import annotations

import copy
import inspect
import json
import math
import textwrap
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import optim
from optim.optimizers import make_optimizer

TEACHING_ORDER = [
    "sgd",
    "momentum",
    "nesterov",
    "adagrad",
    "adadelta",
    "rmsprop",
    "adam",
    "adamw",
    "nadam",
    "radam",
    "adamax",
    "lion",
]

# name -> a configuration that switches on most of its options (no weight decay, so that
# the step is lr * effective_lr * direction exactly), used by the generic tests below
RICH = {
    "sgd": {"lr": 0.05, "momentum": 0.8, "dampening": 0.2},
    "momentum": {"lr": 0.02},
    "nesterov": {"lr": 0.02},
    "adagrad": {"lr": 0.3, "lr_decay": 0.05, "initial_accumulator_value": 0.1},
    "adadelta": {"lr": 0.8, "rho": 0.8},
    "rmsprop": {"lr": 0.01, "centered": True},
    "adam": {"lr": 0.05, "amsgrad": True},
    "adamw": {"lr": 0.05, "weight_decay": 0.0},
    "nadam": {"lr": 0.05, "momentum_decay": 0.1},
    "radam": {"lr": 0.05, "betas": (0.8, 0.99)},
    "adamax": {"lr": 0.05},
    "lion": {"lr": 0.01},
}
# and one with weight decay / maximize, for the equivalence tests
DECAYED = {
    "sgd": {"lr": 0.05, "momentum": 0.9, "nesterov": True, "weight_decay": 0.1},
    "momentum": {"lr": 0.02, "weight_decay": 0.1, "maximize": True},
    "nesterov": {"lr": 0.02, "weight_decay": 0.1},
    "adagrad": {"lr": 0.3, "weight_decay": 0.1},
    "adadelta": {"weight_decay": 0.1, "maximize": True},
    "rmsprop": {"lr": 0.01, "momentum": 0.6, "weight_decay": 0.1},
    "adam": {"lr": 0.05, "weight_decay": 0.1, "decoupled_weight_decay": True},
    "adamw": {"lr": 0.05, "weight_decay": 0.2, "amsgrad": True},
    "nadam": {"lr": 0.05, "weight_decay": 0.1, "decoupled_weight_decay": True},
    "radam": {"lr": 0.05, "weight_decay": 0.1},
    "adamax": {"lr": 0.05, "weight_decay": 0.1, "maximize": True},
    "lion": {"lr": 0.01, "weight_decay": 0.5},
}


def rosenbrock_grad(p):
    x, y = p[..., 0], p[..., 1]
    return np.stack([-2 * (1 - x) - 400 * x * (y - x * x), 200 * (y - x * x)], axis=-1)


def rosenbrock(p):
    return (1 - p[..., 0]) ** 2 + 100 * (p[..., 1] - p[..., 0] ** 2) ** 2


def bowl_grad(p):  # f = 0.1 x^2 + 2 y^2
    return p * np.array([0.2, 4.0])


def bowl(p):
    return 0.1 * p[..., 0] ** 2 + 2 * p[..., 1] ** 2


def wavy_grad(p):
    """A bounded, coupled gradient field: the bowl plus ripples that mix the coordinates."""
    x, y = p[..., 0], p[..., 1]
    return np.stack([0.2 * x + np.sin(3 * y), 4 * y + 0.5 * np.cos(2 * x)], axis=-1)


def trajectory(opt, grad_fn, start, steps, lrs=None):
    """Every params row (steps + 1) and every state of a run driven by ``grad_fn``."""
    p = np.array(start, dtype=np.float64)
    state = opt.init(p)
    rows, states = [p], [state]
    for t in range(steps):
        p, state = opt.step(p, grad_fn(p), state, lr=None if lrs is None else lrs[t])
        rows.append(p)
        states.append(state)
    return np.array(rows), states


def state_arrays(state):
    return [np.asarray(x) for x in state[1:]]


# -- the registry and what the app renders ---------------------------------------------------
def test_registry_in_teaching_order_and_make_optimizer_builds_each():
    assert list(optim.OPTIMIZERS) == TEACHING_ORDER
    for name, cls in optim.OPTIMIZERS.items():
        assert cls.name == name
        assert isinstance(optim.make_optimizer(name), cls)


@pytest.mark.parametrize("name", TEACHING_ORDER)
def test_texts_and_latex_shown_in_docstring(name):
    cls = optim.OPTIMIZERS[name]
    assert cls.label and cls.direction
    assert cls.latex.startswith(r"\begin{aligned}") and cls.latex.endswith(r"\end{aligned}")
    # the docstring shows the very string the app renders (written once, put in by the
    # base class where the docstring says {{latex}}), as a math block
    doc = inspect.cleandoc(cls.__doc__)
    assert textwrap.indent(cls.latex, "    ") in doc and "{{latex}}" not in doc
    for part in ("effective_lr", ".. note::", "References:", ">>>"):
        assert part in doc, part
    assert 2 <= cls.summary.count(". ") + 1 <= 4
    assert any(str(year) in cls.history for year in range(1840, 2030))


@pytest.mark.parametrize("name", TEACHING_ORDER)
def test_slider_specs_cover_every_hyperparameter(name):
    cls = optim.OPTIMIZERS[name]
    specs = cls.slider_specs()
    keys = [s["key"] for s in specs]
    assert len(keys) == len(set(keys))
    expected = []
    for h in cls.hparams:
        expected += [f"{h.name}[0]", f"{h.name}[1]"] if h.kind == "pair" else [h.name]
    assert keys == expected
    defaults = cls.defaults()
    for spec in specs:
        assert set(spec) == {
            "key",
            "label",
            "symbol",
            "default",
            "low",
            "high",
            "log",
            "help",
            "kind",
        }
        assert spec["kind"] in ("float", "int", "bool") and spec["help"]
        if spec["kind"] == "bool":
            assert isinstance(spec["default"], bool)
            continue
        assert spec["low"] <= spec["default"] <= spec["high"], spec
        if spec["key"] in ("lr", "eps"):
            assert spec["log"] and spec["low"] > 0
        # a slider's default is the optimizer's own default
        key, _, idx = spec["key"].partition("[")
        default = defaults[key] if not idx else defaults[key][int(idx[0])]
        assert spec["default"] == default


def test_torch_defaults():
    assert optim.OPTIMIZERS["adagrad"].defaults()["lr"] == 1e-2
    assert optim.OPTIMIZERS["adagrad"].defaults()["eps"] == 1e-10
    assert optim.OPTIMIZERS["rmsprop"].defaults()["alpha"] == 0.99
    assert optim.OPTIMIZERS["adadelta"].defaults() == {
        "lr": 1.0,
        "rho": 0.9,
        "eps": 1e-6,
        "weight_decay": 0.0,
        "maximize": False,
    }
    assert optim.OPTIMIZERS["adamw"].defaults()["weight_decay"] == 1e-2
    assert "decoupled_weight_decay" not in optim.OPTIMIZERS["adamw"].defaults()
    assert optim.OPTIMIZERS["nadam"].defaults()["momentum_decay"] == 4e-3
    assert optim.OPTIMIZERS["lion"].defaults() == {
        "lr": 1e-4,
        "betas": (0.9, 0.99),
        "weight_decay": 0.0,
    }
    assert optim.OPTIMIZERS["momentum"].defaults()["momentum"] == 0.9
    assert optim.OPTIMIZERS["nesterov"].defaults()["nesterov"] is True


def test_hyper_keeps_what_was_given():
    opt = optim.make_optimizer("adam", lr=0.01, betas=[0.9, 0.99])
    assert opt.hyper["betas"] == (0.9, 0.99) and opt.hyper["lr"] == 0.01
    assert opt.hyper["amsgrad"] is False


# -- validation --------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "name, hyper, message",
    [
        ("adamm", {}, "unknown optimizer 'adamm'"),
        ("adam", {"learning_rate": 0.1}, "no hyperparameter 'learning_rate'"),
        ("adamw", {"decoupled_weight_decay": False}, "no hyperparameter 'decoupled_weight_decay'"),
        ("sgd", {"lr": -0.1}, "Invalid learning rate: -0.1"),
        ("adam", {"lr": float("nan")}, "Invalid learning rate: nan"),
        ("sgd", {"momentum": -0.5}, "Invalid momentum value: -0.5"),
        ("sgd", {"nesterov": True}, "Nesterov momentum requires a momentum and zero dampening"),
        ("nesterov", {"dampening": 0.1}, "Nesterov momentum requires a momentum"),
        ("nesterov", {"momentum": 0.0}, "Nesterov momentum requires a momentum"),
        ("adam", {"betas": (1.0, 0.999)}, "Invalid beta parameter at index 0: 1.0"),
        ("nadam", {"betas": (0.9, -0.1)}, "Invalid beta parameter at index 1: -0.1"),
        ("lion", {"betas": (0.9, 1.5)}, "Invalid beta parameter at index 1: 1.5"),
        ("adam", {"betas": 0.9}, "betas must be a pair"),
        ("radam", {"eps": -1e-8}, "Invalid epsilon value: -1e-08"),
        ("adagrad", {"lr_decay": -1.0}, "Invalid lr_decay value: -1.0"),
        ("adagrad", {"initial_accumulator_value": -1.0}, "Invalid initial_accumulator_value value"),
        ("adadelta", {"rho": 1.1}, "Invalid rho value: 1.1"),
        ("rmsprop", {"alpha": -0.1}, "Invalid alpha value: -0.1"),
        ("rmsprop", {"momentum": -0.1}, "Invalid momentum value: -0.1"),
        ("adamax", {"weight_decay": -0.1}, "Invalid weight_decay value: -0.1"),
        ("nadam", {"momentum_decay": -1.0}, "Invalid momentum_decay value: -1.0"),
        ("adam", {"lr": np.array([0.1, -0.1])}, "Invalid learning rate"),
        ("adam", {"amsgrad": np.array([True, False])}, "amsgrad must be a single True or False"),
        ("lion", {"maximize": True}, "no hyperparameter 'maximize'"),
    ],
)
def test_invalid_hyperparameters_raise_value_error(name, hyper, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        make_optimizer(name, **hyper)


def test_boundary_values_accepted_like_torch():
    make_optimizer("adadelta", rho=1.0)
    make_optimizer("adam", lr=0.0, betas=(0.0, 0.0), eps=0.0)
    make_optimizer("sgd", dampening=-0.5, momentum=0.5)  # torch does not check dampening


# -- golden trajectories from torch.optim ------------------------------------------------------
GOLDEN = json.loads((Path(__file__).with_name("golden") / "torch_trajectories.json").read_text())


def _case_id(case):
    opts = ",".join(f"{k}={v}" for k, v in case["hyper"].items())
    return f"{case['optimizer']}({opts}){'-scheduled' if case['lr_factors'] else ''}"


def test_golden_cases_cover_every_optimizer_and_branch():
    seen = {(c["optimizer"], k) for c in GOLDEN["cases"] for k in c["hyper"]}
    assert {c["optimizer"] for c in GOLDEN["cases"]} == set(TEACHING_ORDER)
    for branch in [
        ("sgd", "nesterov"),
        ("sgd", "dampening"),
        ("sgd", "weight_decay"),
        ("sgd", "maximize"),
        ("adagrad", "lr_decay"),
        ("adagrad", "initial_accumulator_value"),
        ("rmsprop", "centered"),
        ("rmsprop", "momentum"),
        ("adam", "amsgrad"),
        ("adam", "decoupled_weight_decay"),
        ("adamw", "amsgrad"),
        ("nadam", "momentum_decay"),
        ("nadam", "decoupled_weight_decay"),
        ("radam", "decoupled_weight_decay"),
        ("radam", "betas"),
        ("lion", "weight_decay"),
    ]:
        assert branch in seen, branch
    assert sum(c["lr_factors"] is not None for c in GOLDEN["cases"]) >= 8


@pytest.mark.parametrize("case", GOLDEN["cases"], ids=_case_id)
def test_matches_torch_golden_trajectory(case):
    opt = make_optimizer(case["optimizer"], **case["hyper"])
    base_lr = opt.hyper["lr"]
    p = np.array(GOLDEN["start"])
    state = opt.init(p)
    rows = [p]
    for t, g in enumerate(case["grads"]):
        lr = None if case["lr_factors"] is None else base_lr * case["lr_factors"][t]
        p, state = opt.step(p, np.array(g), state, lr=lr)
        rows.append(p)
    np.testing.assert_allclose(np.array(rows), np.array(case["params"]), rtol=1e-10, atol=1e-14)


def test_radam_switches_to_adaptive_steps_at_step_six():
    # with beta2 = 0.999, rho_t first exceeds 5 at t = 6: before, plain steps lr * m_hat
    opt = make_optimizer("radam", lr=0.1)
    g = np.array([3.0, -0.02])
    rows, states = trajectory(opt, lambda p: g, [0.0, 0.0], 7)
    steps = np.diff(rows, axis=0)
    np.testing.assert_allclose(steps[:5], np.tile(-0.1 * g, (5, 1)), rtol=1e-12)
    # afterwards both coordinates move alike, whatever the gradient's size
    assert abs(steps[5, 0] / steps[5, 1] + 1) < 1e-3
    assert np.all(np.abs(steps[5]) < 0.1)


# -- every optimizer reaches the minimum -------------------------------------------------------
# (lr, steps) per optimizer, chosen once; the tolerance is on the distance to the minimum
BOWL_RUNS = {
    "sgd": (0.1, 1000),
    "momentum": (0.05, 1000),
    "nesterov": (0.05, 1000),
    "adagrad": (1.0, 1000),
    "adadelta": (0.45, 3000),
    "rmsprop": (0.005, 2000),
    "adam": (0.05, 1000),
    "adamw": (0.05, 1000),
    "nadam": (0.05, 1000),
    "radam": (0.05, 2000),
    "adamax": (0.05, 2000),
    "lion": (0.005, 2000),
}
ROSENBROCK_RUNS = {
    "sgd": (0.0015, 10000),
    "momentum": (0.0005, 3000),
    "nesterov": (0.0005, 3000),
    "adagrad": (0.6, 10000),
    "adadelta": (0.1, 10000),  # with eps=1e-7: Adadelta circles the minimum at ~1e-2
    "rmsprop": (0.001, 8000),
    "adam": (0.01, 4000),
    "adamw": (0.005, 8000),
    "nadam": (0.004, 10000),  # at 0.005 it circles the minimum: loss 2e-6 .. 2e-3
    "radam": (0.005, 10000),
    "adamax": (0.01, 6000),
    "lion": (0.001, 5000),
}


@pytest.mark.parametrize("name", TEACHING_ORDER)
def test_reaches_minimum_of_ill_conditioned_bowl(name):
    surface = optim.make_surface("bowl")  # f = 0.1 x^2 + 2 y^2 by default
    corners = np.array([[-5.0, -2.0], [3.0, 1.0]])
    np.testing.assert_allclose(surface.loss(corners), bowl(corners))
    lr, steps = BOWL_RUNS[name]
    traj = optim.run(surface, make_optimizer(name, lr=lr), surface.start, steps)
    assert traj.status == "max_steps"
    assert np.linalg.norm(traj.params[-1] - surface.minima[0]) < 1e-2
    assert traj.loss[-1] < 1e-4 * traj.loss[0]


@pytest.mark.parametrize("name", TEACHING_ORDER)
def test_reaches_minimum_of_rosenbrock(name):
    surface = optim.make_surface("rosenbrock")
    lr, steps = ROSENBROCK_RUNS[name]
    extra = {"eps": 1e-7} if name == "adadelta" else {}
    traj = optim.run(surface, make_optimizer(name, lr=lr, **extra), [-1.5, 2.0], steps)
    assert traj.status == "max_steps"
    assert np.linalg.norm(traj.params[-1] - [1.0, 1.0]) < 5e-2
    assert traj.loss[-1] < 1e-3


def test_maximize_climbs():
    for name in ["sgd", "adam", "rmsprop"]:
        rows, _ = trajectory(
            make_optimizer(name, lr=0.01, maximize=True), bowl_grad, [1.0, 1.0], 20
        )
        assert np.all(np.diff(bowl(rows)) > 0)


# -- vectorization ------------------------------------------------------------------------------
STARTS = np.array([[-1.5, 2.0], [0.5, -0.3], [1.2, 1.1], [-0.2, 0.1]])


@pytest.mark.parametrize("config", [RICH, DECAYED], ids=["rich", "decayed"])
@pytest.mark.parametrize("name", TEACHING_ORDER)
def test_batch_equals_loop(name, config):
    opt = make_optimizer(name, **config[name])
    lrs = np.linspace(1.0, 0.3, 25) * opt.hyper["lr"]
    batch, _ = trajectory(opt, wavy_grad, STARTS, 25, lrs)
    for i, start in enumerate(STARTS):
        alone, _ = trajectory(opt, wavy_grad, start, 25, lrs)
        np.testing.assert_allclose(batch[:, i], alone, rtol=1e-13, atol=0)
    # leading dimensions of any depth
    grid, _ = trajectory(opt, wavy_grad, STARTS.reshape(2, 2, 2), 25, lrs)
    np.testing.assert_allclose(grid.reshape(26, 4, 2), batch, rtol=1e-13, atol=0)


# name -> hyperparameters given as arrays (one value per trajectory)
ARRAY_HYPER = {
    "sgd": {
        "lr": [0.01, 0.002, 0.005, 0.0],
        "momentum": [0.0, 0.9, 0.5, 0.3],
        "dampening": [0.5, 0.0, 0.1, 0.0],
    },
    "momentum": {
        "momentum": [0.0, 0.9, 0.5, 0.99],
        "weight_decay": [0.0, 0.1, 0.2, 0.0],
        "lr": 0.001,
    },
    "nesterov": {"momentum": [0.1, 0.9, 0.5, 0.99], "lr": [1e-3, 1e-4, 2e-3, 1e-3]},
    "adagrad": {"lr_decay": [0.0, 0.1, 0.5, 1.0], "eps": [1e-10, 1e-3, 1.0, 0.0]},
    "adadelta": {"rho": [0.0, 0.5, 0.9, 1.0], "lr": [1.0, 0.5, 2.0, 1.0]},
    "rmsprop": {"momentum": [0.0, 0.9, 0.5, 0.0], "alpha": [0.9, 0.99, 0.5, 0.999], "lr": 1e-3},
    "adam": {
        "betas": ([0.0, 0.9, 0.5, 0.99], [0.999, 0.9, 0.5, 0.0]),
        "lr": [0.1, 0.01, 0.05, 0.001],
    },
    "adamw": {"weight_decay": [0.0, 0.1, 0.5, 0.01], "eps": [1e-8, 1e-3, 1e-1, 0.0]},
    "nadam": {"momentum_decay": [0.0, 4e-3, 0.1, 1.0], "betas": ([0.9, 0.0, 0.5, 0.95], 0.999)},
    # beta2 = 0.6 never rectifies, 0.999 rectifies from step 6, 0.9 earlier
    "radam": {"betas": (0.9, [0.6, 0.999, 0.9, 0.99]), "lr": 0.05},
    "adamax": {"betas": ([0.0, 0.9, 0.5, 0.8], [0.999, 0.5, 0.0, 0.9]), "lr": 0.02},
    "lion": {"lr": [1e-3, 1e-2, 0.0, 1e-4], "weight_decay": [0.0, 0.1, 1.0, 10.0]},
}


def _pick(value, i):
    if isinstance(value, tuple):
        return tuple(_pick(v, i) for v in value)
    return value[i] if isinstance(value, list) else value


def _as_arrays(value):
    if isinstance(value, tuple):
        return tuple(_as_arrays(v) for v in value)
    return np.array(value) if isinstance(value, list) else value


@pytest.mark.parametrize("name", TEACHING_ORDER)
def test_array_hyperparameters_equal_scalar_runs(name):
    hyper = ARRAY_HYPER[name]
    opt = make_optimizer(name, **{k: _as_arrays(v) for k, v in hyper.items()})
    batch, states = trajectory(opt, wavy_grad, STARTS, 20)
    eff = opt.effective_lr(states[-1])
    for i, start in enumerate(STARTS):
        single = make_optimizer(name, **{k: _pick(v, i) for k, v in hyper.items()})
        alone, alone_states = trajectory(single, wavy_grad, start, 20)
        # (a power of an array and of a float may round differently in the last bit)
        np.testing.assert_allclose(batch[:, i], alone, rtol=1e-11, atol=1e-300)
        np.testing.assert_allclose(eff[i], single.effective_lr(alone_states[-1]), rtol=1e-11)
        # the state of trajectory i is the state of the scalar run
        for field, one in zip(states[-1][1:], alone_states[-1][1:], strict=True):
            mine = field[i] if np.ndim(field) else field
            np.testing.assert_allclose(mine, one, rtol=1e-11)


def test_array_learning_rate_override_per_trajectory():
    opt = make_optimizer("adam")
    lr = np.array([0.1, 0.01])
    p, s = opt.step(np.zeros((2, 2)), np.ones((2, 2)), opt.init(np.zeros((2, 2))), lr=lr)
    np.testing.assert_allclose(p, -lr[:, None] * np.ones((2, 2)), rtol=1e-6)
    np.testing.assert_allclose(opt.effective_lr(s, lr=lr)[:, 0] / lr, [1.0, 1.0], rtol=1e-6)


# -- purity ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", TEACHING_ORDER)
def test_step_never_mutates_its_inputs(name):
    opt = make_optimizer(name, **DECAYED[name])
    params = STARTS.copy()
    state = opt.init(params)
    for _ in range(3):
        grad = wavy_grad(params)
        before = (params.copy(), grad.copy(), copy.deepcopy(state))
        new_params, new_state = opt.step(params, grad, state)
        np.testing.assert_array_equal(params, before[0])
        np.testing.assert_array_equal(grad, before[1])
        for a, b in zip(state, before[2], strict=True):
            np.testing.assert_array_equal(a, b)
        # and the new state shares no memory with the inputs
        for buf in state_arrays(new_state):
            assert not np.shares_memory(buf, params) and not np.shares_memory(buf, grad)
        params, state = new_params, new_state


def test_the_same_step_twice_gives_the_same_result():
    opt = make_optimizer("nadam", lr=0.1)
    state = opt.init(np.zeros(2))
    a = opt.step(np.ones(2), np.array([1.0, 2.0]), state)
    b = opt.step(np.ones(2), np.array([1.0, 2.0]), state)
    np.testing.assert_array_equal(a[0], b[0])


# -- effective_lr ---------------------------------------------------------------------------------
def _direction(name, opt, old, new, g):
    """The vector effective_lr multiplies, from each docstring's definition."""
    h = opt.hyper
    t = new.count
    if name == "sgd":
        return new.momentum_buffer
    if name == "momentum":
        return new.momentum_buffer
    if name == "nesterov":
        return g + h["momentum"] * new.momentum_buffer
    if name in ("adagrad", "adadelta", "rmsprop"):
        return g
    if name in ("adam", "adamw", "radam", "adamax"):
        return new.exp_avg / (1 - h["betas"][0] ** t)
    if name == "nadam":
        beta1, psi = h["betas"][0], h["momentum_decay"]

        def mu(i):
            return beta1 * (1 - 0.5 * 0.96 ** (i * psi))

        prod = math.prod(mu(i) for i in range(1, t + 1))
        return (1 - mu(t)) / (1 - prod) * g + mu(t + 1) / (1 - prod * mu(t + 1)) * new.exp_avg
    if name == "lion":
        beta1 = h["betas"][0]
        return np.sign(beta1 * old.exp_avg + (1 - beta1) * g)
    raise AssertionError(name)


@pytest.mark.parametrize("name", TEACHING_ORDER)
def test_effective_lr_times_direction_is_the_step(name):
    opt = make_optimizer(name, **RICH[name])
    p = STARTS.copy()
    state = opt.init(p)
    np.testing.assert_allclose(opt.effective_lr(state), opt.hyper["lr"])  # before any step
    for t in range(12):
        g = wavy_grad(p)
        lr = opt.hyper["lr"] * (1 - t / 24)  # a schedule: effective_lr takes the same lr
        new_p, new_state = opt.step(p, g, state, lr=lr)
        eff = opt.effective_lr(new_state, lr=lr)
        assert eff.shape == p.shape and eff.dtype == np.float64
        assert np.all(eff >= 0)
        d = _direction(name, opt, state, new_state, g)
        np.testing.assert_allclose(p - new_p, eff * d, rtol=1e-10, atol=1e-15)
        p, state = new_p, new_state


def test_effective_lr_definitions_by_hand():
    g = np.array([3.0, -4.0])
    # SGD: the learning rate, everywhere
    sgd = make_optimizer("sgd", lr=0.2)
    _, s = sgd.step(np.zeros(2), g, sgd.init(np.zeros(2)))
    np.testing.assert_array_equal(sgd.effective_lr(s), [0.2, 0.2])
    # Adagrad: lr / (|g| + eps) after one step
    ada = make_optimizer("adagrad", lr=0.5, eps=0.0)
    _, s = ada.step(np.zeros(2), g, ada.init(np.zeros(2)))
    np.testing.assert_allclose(ada.effective_lr(s), [0.5 / 3, 0.5 / 4])
    # Adam after one step: v_hat = g^2, so lr / (|g| + eps)
    adam = make_optimizer("adam", lr=0.1, eps=1.0)
    _, s = adam.step(np.zeros(2), g, adam.init(np.zeros(2)))
    np.testing.assert_allclose(adam.effective_lr(s), [0.1 / 4, 0.1 / 5])
    # Adamax: lr / (|g| + eps)
    amax = make_optimizer("adamax", lr=0.1, eps=1.0)
    _, s = amax.step(np.zeros(2), g, amax.init(np.zeros(2)))
    np.testing.assert_allclose(amax.effective_lr(s), [0.1 / 4, 0.1 / 5])


def test_amsgrad_divides_by_the_largest_second_moment():
    # a big gradient, then small ones: AMSGrad's steps stay small, Adam's grow back
    grads = [np.array([10.0])] + [np.array([0.1])] * 30
    plain, amsgrad = make_optimizer("adam", lr=0.1), make_optimizer("adam", lr=0.1, amsgrad=True)
    sp, sa = plain.init(np.zeros(1)), amsgrad.init(np.zeros(1))
    for g in grads:
        _, sp = plain.step(np.zeros(1), g, sp)
        _, sa = amsgrad.step(np.zeros(1), g, sa)
    assert sa.max_exp_avg_sq[0] == pytest.approx((1 - 0.999) * 100)  # the raw v of step 1
    assert amsgrad.effective_lr(sa)[0] < plain.effective_lr(sp)[0]


def test_adam_moves_every_coordinate_by_about_lr_first():
    opt = make_optimizer("adam", lr=0.1)
    p, _ = opt.step(np.zeros(3), np.array([1e4, 1.0, -1e-4]), opt.init(np.zeros(3)))
    np.testing.assert_allclose(p, [-0.1, -0.1, 0.1], rtol=1e-3)


def test_lion_moves_each_coordinate_by_exactly_lr():
    opt = make_optimizer("lion", lr=0.01)
    rows, _ = trajectory(opt, rosenbrock_grad, [-1.5, 2.0], 50)
    np.testing.assert_allclose(np.abs(np.diff(rows, axis=0)), 0.01, rtol=1e-9)


def test_adagrad_steps_shrink_on_a_constant_slope():
    rows, _ = trajectory(make_optimizer("adagrad", lr=0.1), lambda p: np.ones(2), [0.0, 0.0], 20)
    sizes = np.abs(np.diff(rows[:, 0]))
    assert np.all(np.diff(sizes) < 0)
    np.testing.assert_allclose(sizes, 0.1 / np.sqrt(np.arange(1, 21)), rtol=1e-8)


def test_sgd_momentum_learning_rate_applies_after_the_buffer():
    # torch: b = mu b + g, step lr * b. Changing lr rescales the whole accumulated velocity.
    opt = make_optimizer("momentum", lr=1.0)
    p, s = opt.step(np.zeros(1), np.ones(1), opt.init(np.zeros(1)), lr=1.0)
    p2, _ = opt.step(p, np.ones(1), s, lr=0.5)
    np.testing.assert_allclose(p - p2, [0.5 * (0.9 + 1.0)])


# -- properties -----------------------------------------------------------------------------------
finite = st.floats(-1e3, 1e3, allow_nan=False, allow_infinity=False)


@settings(max_examples=40, deadline=None)
@given(
    name=st.sampled_from(TEACHING_ORDER),
    batch=hnp.array_shapes(min_dims=0, max_dims=2, min_side=1, max_side=3),
    d=st.integers(1, 3),
    data=st.data(),
    config=st.sampled_from([{}, RICH, DECAYED]),
)
def test_shapes_dtypes_and_finiteness(name, batch, d, data, config):
    shape = (*batch, d)
    opt = make_optimizer(name, **config.get(name, {}))
    params = data.draw(hnp.arrays(np.float64, shape, elements=finite))
    state = opt.init(params)
    shapes = [np.shape(x) for x in state[1:]]
    for _ in range(3):
        grad = data.draw(hnp.arrays(np.float64, shape, elements=finite))
        params, state = opt.step(params, grad, state)
        assert params.shape == shape and params.dtype == np.float64
        assert np.all(np.isfinite(params))
        assert [np.shape(x) for x in state[1:]] == shapes
        for buf in state[1:]:
            assert np.asarray(buf).dtype == np.float64 and np.all(np.isfinite(buf))
        eff = opt.effective_lr(state)
        assert eff.shape == shape and eff.dtype == np.float64
        assert np.all(np.isfinite(eff)) and np.all(eff >= 0)
    assert state.count == 3


@settings(max_examples=30, deadline=None)
@given(name=st.sampled_from(TEACHING_ORDER), g=finite.filter(lambda x: abs(x) > 1e-3))
def test_a_first_step_goes_downhill(name, g):
    opt = make_optimizer(name, lr=0.01)
    p, _ = opt.step(np.zeros(1), np.array([g]), opt.init(np.zeros(1)))
    assert np.sign(p[0]) == -np.sign(g)


def test_float32_and_integer_inputs_become_float64():
    opt = make_optimizer("adam")
    p, s = opt.step(np.ones(2, dtype=np.float32), np.array([1, 2]), opt.init(np.ones(2)))
    assert p.dtype == np.float64 and s.exp_avg.dtype == np.float64


# -- the symbols of each update rule, explained -----------------------------------------------
def hyperparameter_symbols(cls) -> set[str]:
    return {spec["symbol"] for spec in cls.slider_specs() if spec["symbol"]}


@pytest.mark.parametrize("name", TEACHING_ORDER)
def test_every_state_field_has_its_symbol(name):
    cls = optim.OPTIMIZERS[name]
    fields = set(cls().init(np.zeros(2))._fields) - {"count"}
    stored = {field for _, field, _ in cls.symbols if field}
    assert fields <= stored, sorted(fields - stored)
    # and no symbol claims a field the state does not have
    assert stored <= fields | {"count"}, sorted(stored - fields - {"count"})


@pytest.mark.parametrize("name", TEACHING_ORDER)
def test_every_symbol_is_in_the_rule_and_is_no_hyperparameter(name):
    cls = optim.OPTIMIZERS[name]
    symbols = [symbol for symbol, _, _ in cls.symbols]
    assert len(symbols) == len(set(symbols))
    for symbol, field, meaning in cls.symbols:
        assert symbol in cls.latex, symbol  # the table cannot drift from the rule
        assert symbol not in hyperparameter_symbols(cls), symbol
        assert isinstance(field, str) and meaning.strip() and meaning.endswith("."), symbol
    # the gradient and the parameters are always explained
    assert {"g_t", r"\theta_t"} <= set(symbols)


def test_one_param_type_describes_every_control():
    """Optimizers, surfaces and schedules describe their sliders with the same Param, which
    still reads like the dict form (spec["low"], dict(spec)) the controls were built from."""
    specs = [s for cls in optim.OPTIMIZERS.values() for s in cls.slider_specs()]
    specs += [s for name in optim.SURFACES for s in optim.make_surface(name).param_specs]
    specs += [s for cls in optim.SCHEDULES.values() for s in cls().params]
    assert all(isinstance(s, optim.Param) for s in specs)
    keys = {"key", "label", "symbol", "default", "low", "high", "log", "help", "kind"}
    assert all(set(dict(s)) == keys and s["key"] == s.name for s in specs)
    betas = [s for s in optim.OPTIMIZERS["lion"].slider_specs() if s.name.startswith("betas")]
    assert [(s.name, s.label, s.default) for s in betas] == [
        ("betas[0]", "beta1", 0.9),
        ("betas[1]", "beta2", 0.99),
    ]


@pytest.mark.parametrize(
    "make,kind",
    [
        (optim.make_optimizer, "optimizer"),
        (optim.make_surface, "surface"),
        (optim.make_schedule, "schedule"),
    ],
)
def test_registries_name_the_unknown_entry_and_the_choices(make, kind):
    with pytest.raises(ValueError, match=f"unknown {kind} 'nope'; choose one of "):
        make("nope")


# -- in place (the batch loop's step_into) ---------------------------------------------------------
# step_into must give step's bits. The configurations reach every branch of the in-place code
# (both lerp formulas in one batch, momentum's first step, dampening, Nesterov, a schedule's
# per-row lr) and the fallbacks (weight decay, maximize, AMSGrad, momentum 0 in some rows).
IN_PLACE = [
    ("adam", {}),
    ("adam", {"lr": 0.05, "betas": ([0.0, 0.3, 0.5, 0.9], 0.99)}),
    ("adam", {"betas": (0.6, [0.999, 0.9, 0.5, 0.0]), "eps": [1e-8, 1e-3, 0.1, 0.0]}),
    ("adamw", {"lr": 0.05, "weight_decay": 0.0, "betas": (0.4, 0.9)}),
    ("sgd", {"lr": 0.05}),
    ("sgd", {"lr": 0.05, "momentum": 0.8, "dampening": 0.2}),
    ("sgd", {"momentum": [0.5, 0.9, 0.1, 0.99], "dampening": [0.0, 0.5, 0.1, 0.0]}),
    ("momentum", {"lr": 0.02}),
    ("nesterov", {"lr": 0.02, "momentum": [0.5, 0.9, 0.1, 0.99]}),
    ("rmsprop", {"lr": 0.01, "alpha": 0.9}),
    ("rmsprop", {"alpha": [0.9, 0.99, 0.5, 0.0], "eps": [1e-8, 1e-3, 0.1, 0.0], "lr": 0.05}),
    *((name, RICH[name]) for name in TEACHING_ORDER),
    *((name, DECAYED[name]) for name in TEACHING_ORDER),
    *((name, ARRAY_HYPER[name]) for name in TEACHING_ORDER),
]


@pytest.mark.parametrize("order", ["C", "F"])  # a surface's batch is column-major
@pytest.mark.parametrize("scheduled", [False, True], ids=["constant", "schedule"])
@pytest.mark.parametrize(("name", "hyper"), IN_PLACE, ids=lambda v: v if isinstance(v, str) else "")
def test_step_into_gives_the_bits_of_step(name, hyper, scheduled, order):
    opt = make_optimizer(name, **{k: _as_arrays(v) for k, v in hyper.items()})
    lrs = np.geomspace(0.5, 2.0, 4) * 0.01 if scheduled else None
    p = np.array(STARTS, order=order)
    pure, state = p.copy(), opt.init(p)
    born = state_arrays(state)
    pure_state = opt.init(p)
    out = np.empty_like(p)
    for t in range(12):
        g = wavy_grad(p)
        before = (p.copy(), g.copy())
        lr = None if lrs is None else lrs * (0.9**t)
        pure, pure_state = opt.step(pure, wavy_grad(pure), pure_state, lr=lr)
        state = opt.step_into(p, g, state, out, lr=lr)
        np.testing.assert_array_equal(p, before[0])  # inputs untouched
        np.testing.assert_array_equal(g, before[1])
        np.testing.assert_array_equal(out, pure)
        assert state.count == pure_state.count
        for mine, theirs in zip(state_arrays(state), state_arrays(pure_state), strict=True):
            np.testing.assert_array_equal(np.broadcast_to(mine, np.shape(theirs)), theirs)
        p, out = out, p
    # buffers updated in place keep the parameters' layout: a mixed pair runs strided loops
    for buf, first in zip(state_arrays(state), born, strict=True):
        if buf is first and buf.shape == p.shape:
            assert buf.flags.f_contiguous == (order == "F")
