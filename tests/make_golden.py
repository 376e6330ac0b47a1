"""Record golden trajectories from torch.optim for tests/test_optimizers.py.

Every case runs one torch optimizer in float64 on a two-parameter problem whose
gradient is a fixed function of the parameters and the step (a tilted quadratic
plus a deterministic wobble), and saves the parameters after every step together
with the gradients it was fed. The test replays those gradients through our
optimizers, so it needs neither torch nor the exact gradient function.

Usage, with the test oracles of requirements-oracle.txt installed (torch 2.13 and
lion-pytorch)::

    python tests/make_golden.py          # rewrites tests/golden/torch_trajectories.json

Lion is not part of torch.optim: its cases come from an independent implementation,
``lion_pytorch.Lion`` (named by the optimizer's ``reference``), not from our own
transcription of the paper.
"""

from __future__ import annotations

import importlib
import json
import math
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from optim.optimizers import OPTIMIZERS  # noqa: E402

OUT = Path(__file__).with_name("golden") / "torch_trajectories.json"
STEPS = 30
START = (1.5, -0.8)
# a schedule for the cases that change lr between steps (torch: group["lr"] = lr * factor)
SCHEDULE = [0.5 + 0.5 * math.cos(math.pi * t / STEPS) + 0.1 * (t % 3) for t in range(STEPS)]


# (optimizer, hyperparameters, use SCHEDULE): together they take every branch of every update.
CASES = [
    ("sgd", {"lr": 0.05}, False),
    ("sgd", {"lr": 0.05, "weight_decay": 0.1}, False),
    ("sgd", {"lr": 0.05, "maximize": True}, False),
    ("sgd", {"lr": 0.05, "momentum": 0.8, "dampening": 0.3}, True),
    ("sgd", {"lr": 0.05, "momentum": 0.9, "nesterov": True, "weight_decay": 0.05}, False),
    ("momentum", {"lr": 0.03}, False),
    ("momentum", {"lr": 0.03, "dampening": 0.5, "maximize": True}, True),
    ("nesterov", {"lr": 0.03}, False),
    ("nesterov", {"lr": 0.02, "momentum": 0.5}, True),
    ("adagrad", {"lr": 0.3}, False),
    ("adagrad", {"lr": 0.3, "lr_decay": 0.1, "weight_decay": 0.1}, False),
    (
        "adagrad",
        {"lr": 0.3, "initial_accumulator_value": 0.5, "eps": 1e-3, "maximize": True},
        False,
    ),
    ("adagrad", {"lr": 0.3, "lr_decay": 0.05}, True),
    ("adadelta", {}, False),
    ("adadelta", {"lr": 0.5, "rho": 0.5, "eps": 1e-3, "weight_decay": 0.1}, True),
    ("adadelta", {"lr": 2.0, "rho": 0.95, "maximize": True}, False),
    ("rmsprop", {"lr": 0.01}, False),
    ("rmsprop", {"lr": 0.01, "centered": True}, False),
    ("rmsprop", {"lr": 0.005, "momentum": 0.7}, True),
    (
        "rmsprop",
        {"lr": 0.005, "alpha": 0.9, "centered": True, "momentum": 0.5, "weight_decay": 0.1},
        False,
    ),
    ("rmsprop", {"lr": 0.01, "eps": 1e-2, "maximize": True}, False),
    ("adam", {"lr": 0.05}, False),
    ("adam", {"lr": 0.05, "amsgrad": True}, False),
    ("adam", {"lr": 0.05, "weight_decay": 0.1}, False),
    (
        "adam",
        {"lr": 0.05, "weight_decay": 0.1, "decoupled_weight_decay": True, "amsgrad": True},
        True,
    ),
    ("adam", {"lr": 0.05, "betas": (0.5, 0.9), "eps": 1e-3, "maximize": True}, False),
    ("adamw", {"lr": 0.05}, False),
    ("adamw", {"lr": 0.05, "weight_decay": 0.3, "amsgrad": True}, True),
    ("nadam", {"lr": 0.05}, False),
    ("nadam", {"lr": 0.05, "momentum_decay": 0.3}, False),
    ("nadam", {"lr": 0.05, "weight_decay": 0.1}, False),
    ("nadam", {"lr": 0.05, "weight_decay": 0.1, "decoupled_weight_decay": True}, True),
    ("nadam", {"lr": 0.05, "betas": (0.7, 0.95), "eps": 1e-4, "maximize": True}, False),
    # default beta2: rho_t > 5 from step 6 on, so the first five steps are unrectified
    ("radam", {"lr": 0.05}, False),
    # beta2 = 0.6 gives rho_inf = 4: never rectified
    ("radam", {"lr": 0.05, "betas": (0.9, 0.6)}, False),
    ("radam", {"lr": 0.05, "betas": (0.8, 0.99), "weight_decay": 0.1}, False),
    ("radam", {"lr": 0.05, "weight_decay": 0.1, "decoupled_weight_decay": True}, True),
    ("radam", {"lr": 0.05, "eps": 1e-3, "maximize": True}, False),
    ("adamax", {"lr": 0.05}, False),
    ("adamax", {"lr": 0.05, "betas": (0.8, 0.9), "weight_decay": 0.1}, True),
    ("adamax", {"lr": 0.05, "eps": 1e-2, "maximize": True}, False),
    ("lion", {"lr": 0.01}, False),
    ("lion", {"lr": 0.01, "betas": (0.8, 0.95), "weight_decay": 0.5}, True),
]


def gradient(p, t):
    """The test problem's gradient at parameters ``p`` (a float64 tensor) and step ``t``."""
    import torch

    a = torch.tensor([[3.0, 1.0], [1.0, 0.5]], dtype=torch.float64)
    centre = torch.tensor([0.3, -0.2], dtype=torch.float64)
    wobble = torch.tensor([math.cos(0.7 * t), math.sin(1.3 * t + 0.4)], dtype=torch.float64)
    return a @ (p - centre) + 0.4 * wobble


def record(name: str, hyper: dict, scheduled: bool) -> dict:
    import torch

    cls = OPTIMIZERS[name]
    kwargs = {**cls.defaults(), **hyper}
    p = torch.tensor(START, dtype=torch.float64, requires_grad=True)
    if cls.torch_class is None:  # Lion: lion-pytorch's implementation
        module, _, attr = cls.reference.rpartition(".")
        opt = getattr(importlib.import_module(module), attr)([p], **kwargs)
    else:
        opt = getattr(torch.optim, cls.torch_class)([p], foreach=False, **kwargs)
    base_lr = opt.param_groups[0]["lr"]
    params, grads = [p.detach().tolist()], []
    for t in range(STEPS):
        if scheduled:
            opt.param_groups[0]["lr"] = base_lr * SCHEDULE[t]
        g = gradient(p.detach(), t)
        p.grad = g.clone()
        opt.step()
        grads.append(g.tolist())
        params.append(p.detach().tolist())
    return {
        "optimizer": name,
        "hyper": hyper,
        "lr_factors": SCHEDULE if scheduled else None,
        "grads": grads,
        "params": params,
    }


def main() -> None:
    import torch

    # float64 everywhere, including the step counters and NAdam's mu product
    torch.set_default_dtype(torch.float64)
    cases = [record(*case) for case in CASES]
    from importlib.metadata import version

    header = {
        "torch_version": torch.__version__,
        # fails before anything is written when the Lion oracle is missing
        "lion_pytorch_version": version("lion-pytorch"),
        "steps": STEPS,
        "start": START,
    }
    # one case per line: small diffs when a case changes, exact float round-trips
    body = ",\n".join(json.dumps(case) for case in cases)
    OUT.parent.mkdir(exist_ok=True)
    OUT.write_text(json.dumps(header)[:-1] + ', "cases": [\n' + body + "\n]}\n")
    print(f"wrote {len(cases)} cases to {OUT}")


if __name__ == "__main__":
    main()
