"""Live comparison with torch.optim on random configurations (runs only where torch is installed)."""

from __future__ import annotations

import inspect

import numpy as np
import pytest

from optim.optimizers import OPTIMIZERS, make_optimizer

torch = pytest.importorskip("torch")
pytestmark = pytest.mark.torch


def random_hyper(name: str, rng: np.random.Generator) -> dict:
    """A random configuration: every hyperparameter of ``name`` drawn from a sensible range."""
    cls = OPTIMIZERS[name]
    hyper = {}
    for h in cls.hparams:
        if h.kind == "bool":
            hyper[h.name] = bool(rng.integers(2))
        elif h.kind == "pair":
            hyper[h.name] = (float(rng.uniform(0.0, 0.95)), float(rng.uniform(0.5, 0.999)))
        elif h.name == "lr":
            hyper[h.name] = float(np.exp(rng.uniform(np.log(1e-3), np.log(0.2))))
        elif h.name == "eps":
            hyper[h.name] = float(np.exp(rng.uniform(np.log(1e-10), np.log(1e-2))))
        elif h.name == "alpha":
            # (alpha = 0 with centered makes the variance exactly 0: torch's fused
            # multiply-add then rounds it below zero and returns NaN, we return lr g / eps)
            hyper[h.name] = float(rng.uniform(0.5, 0.999))
        elif h.name in ("momentum", "rho"):
            hyper[h.name] = float(rng.choice([0.0, rng.uniform(0.0, 0.99)]))
        else:
            hyper[h.name] = float(rng.choice([0.0, rng.uniform(0.0, 0.5)]))
    if name == "nesterov" or hyper.get("nesterov"):
        hyper["dampening"] = 0.0
        hyper["momentum"] = hyper["momentum"] or 0.5
    if name == "adadelta":
        hyper["lr"] *= 10.0  # Adadelta's steps are sqrt(eps)-sized at first
    return hyper


# in torch.optim; Lion is not: it is checked against its independent implementation
TORCH = [name for name, cls in OPTIMIZERS.items() if cls.torch_class is not None]
REFERENCED = [name for name, cls in OPTIMIZERS.items() if cls.torch_class or cls.reference]
# our presets: torch.optim.SGD with these arguments
PRESETS = {"momentum": {"momentum": 0.9}, "nesterov": {"momentum": 0.9, "nesterov": True}}


def reference_class(name: str):
    """torch.optim's class, or the independent implementation named by ``reference``."""
    cls = OPTIMIZERS[name]
    if cls.torch_class:
        return getattr(torch.optim, cls.torch_class)
    module, _, attr = cls.reference.rpartition(".")
    return getattr(pytest.importorskip(module), attr)


def torch_optimizer(name: str, params, hyper: dict):
    kwargs = {**OPTIMIZERS[name].defaults(), **hyper}
    if OPTIMIZERS[name].torch_class:
        kwargs["foreach"] = False
    return reference_class(name)(params, **kwargs)


@pytest.fixture(autouse=True)
def float64_default():
    # torch keeps step counters and NAdam's mu product in its default dtype
    previous = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    yield
    torch.set_default_dtype(previous)


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("name", REFERENCED)
def test_random_configuration_matches_torch(name, seed):
    rng = np.random.default_rng([seed, REFERENCED.index(name)])
    hyper = random_hyper(name, rng)
    start = rng.uniform(-2.0, 2.0, size=(3, 2))
    a = rng.normal(size=(2, 2))
    curvature = torch.tensor(a @ a.T + 0.1 * np.eye(2))
    freq = torch.tensor(rng.uniform(0.5, 3.0, size=2))
    lr_factors = rng.uniform(0.2, 1.0, size=25) if rng.integers(2) else None

    p = torch.tensor(start, requires_grad=True)
    theirs = torch_optimizer(name, [p], hyper)
    ours = make_optimizer(name, **hyper)
    q = start.copy()
    state = ours.init(q)
    for t in range(25):
        lr = None if lr_factors is None else hyper["lr"] * lr_factors[t]
        if lr is not None:
            theirs.param_groups[0]["lr"] = lr
        theirs.zero_grad()
        loss = 0.5 * ((p @ curvature) * p).sum() + torch.sin(freq * p).sum()
        loss.backward()
        g = p.grad.detach().numpy().copy()
        theirs.step()
        q, state = ours.step(q, g, state, lr=lr)
        np.testing.assert_allclose(
            q, p.detach().numpy(), rtol=1e-9, atol=1e-12, err_msg=f"step {t + 1}"
        )


@pytest.mark.parametrize("name", REFERENCED)
def test_defaults_are_torch_defaults(name):
    cls = OPTIMIZERS[name]
    signature = inspect.signature(reference_class(name).__init__).parameters
    for key, value in cls.defaults().items():
        expected = PRESETS.get(name, {}).get(key, signature[key].default)
        assert value == expected, key


@pytest.mark.parametrize(
    "name, hyper",
    [
        ("sgd", {"lr": -1.0}),
        ("sgd", {"momentum": -0.1}),
        ("sgd", {"weight_decay": -0.1}),
        ("sgd", {"nesterov": True}),
        ("adagrad", {"lr_decay": -0.5}),
        ("adagrad", {"initial_accumulator_value": -0.5}),
        ("adagrad", {"eps": -1.0}),
        ("adadelta", {"rho": 1.5}),
        ("rmsprop", {"alpha": -0.5}),
        ("adam", {"betas": (0.9, 1.0)}),
        ("adamw", {"betas": (-0.1, 0.9)}),
        ("nadam", {"momentum_decay": -1.0}),
        ("radam", {"eps": -1e-3}),
        ("adamax", {"weight_decay": -2.0}),
    ],
)
def test_validation_messages_are_torch_messages(name, hyper):
    with pytest.raises(ValueError) as theirs:
        torch_optimizer(name, [torch.zeros(2, requires_grad=True)], hyper)
    with pytest.raises(ValueError) as ours:
        make_optimizer(name, **hyper)
    assert str(ours.value) == str(theirs.value)
