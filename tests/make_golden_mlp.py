"""Record golden network trainings from torch.nn + torch.optim for tests/test_mlp.py.

Each case builds the network of an ``optim.make_problem("mlp", ...)`` problem as
``torch.nn.Sequential`` of ``nn.Linear`` layers in float64, loads the problem's initial
vector into it with ``vector_to_parameters``, and trains it the way the PyTorch post
does (minibatch forward, ``MSELoss``, ``backward``, ``step``) on minibatches drawn here
from the seed the way ``optim.run`` documents them (a fresh permutation every epoch,
cut into batches of 32, the last one short). It saves the batches, the weights after
the first epoch and at the end, and the losses torch computed on each minibatch.

It also saves torch's autograd loss and gradient at a few weight vectors, on all the
training data and on one minibatch, for the backpropagation test.

Usage, with the oracles of requirements-oracle.txt installed (torch 2.13, lion-pytorch)::

    python tests/make_golden_mlp.py      # rewrites tests/golden/torch_mlp.json
"""

from __future__ import annotations

import importlib
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import optim  # noqa: E402
from optim.optimizers import OPTIMIZERS  # noqa: E402

OUT = Path(__file__).with_name("golden") / "torch_mlp.json"
EPOCHS = 12
BATCH = 32
SEED = 7  # the minibatches' seed

# the networks: the post's 1-20-1 ReLU on x², and a 2-hidden-layer tanh net on sin(3x)
NETS = {
    "post": dict(widths=(1, 20, 1), activation="relu", dataset="square", noise=0.1, seed=0),
    "deep": dict(widths=(1, 8, 6, 1), activation="tanh", dataset="sin", noise=0.2, seed=3),
}

# (net, optimizer, hyperparameters): the post's four, then every other optimizer
CASES = [
    ("post", "sgd", {"lr": 0.01}),
    ("post", "momentum", {"lr": 0.01, "momentum": 0.8}),
    ("post", "rmsprop", {"lr": 0.01, "alpha": 0.9}),
    ("post", "adam", {"lr": 0.01, "betas": (0.9, 0.99)}),
    ("post", "nesterov", {"lr": 0.01}),
    ("post", "adagrad", {"lr": 0.05}),
    ("post", "adadelta", {}),
    ("post", "adamw", {"lr": 0.01}),
    ("post", "nadam", {"lr": 0.01}),
    ("post", "radam", {"lr": 0.01}),
    ("post", "adamax", {"lr": 0.01}),
    ("post", "lion", {"lr": 0.001}),
    ("deep", "sgd", {"lr": 0.05, "momentum": 0.9, "nesterov": True, "weight_decay": 1e-3}),
    ("deep", "adam", {"lr": 0.01, "amsgrad": True}),
    ("deep", "rmsprop", {"lr": 0.003, "centered": True, "momentum": 0.5}),
    ("deep", "lion", {"lr": 0.003, "weight_decay": 0.1}),
]


def batches(n: int, seed: int = SEED, epochs: int = EPOCHS, size: int = BATCH) -> list[list[int]]:
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(epochs):
        order = rng.permutation(n)
        out += [order[lo : lo + size].tolist() for lo in range(0, n, size)]
    return out


def torch_net(problem):
    import torch

    layers = []
    for i, (a, b) in enumerate(zip(problem.widths[:-1], problem.widths[1:], strict=True)):
        layers.append(torch.nn.Linear(a, b))
        if i < len(problem.widths) - 2:
            layers.append(torch.nn.ReLU() if problem.activation == "relu" else torch.nn.Tanh())
    return torch.nn.Sequential(*layers).double()


def load(net, vector) -> None:
    import torch

    torch.nn.utils.vector_to_parameters(torch.tensor(np.asarray(vector)), net.parameters())


def loss_and_grad(problem, vector, idx=None):
    import torch

    net = torch_net(problem)
    load(net, vector)
    x, y = torch.tensor(problem.x), torch.tensor(problem.y)
    if idx is not None:
        x, y = x[idx], y[idx]
    loss = torch.nn.functional.mse_loss(net(x), y)
    loss.backward()
    grad = torch.cat([p.grad.reshape(-1) for p in net.parameters()])
    return loss.item(), grad.tolist()


def torch_optimizer(name: str, params, hyper: dict):
    import torch

    cls = OPTIMIZERS[name]
    kwargs = {**cls.defaults(), **hyper}
    if cls.torch_class is None:  # Lion: lion-pytorch's implementation
        module, _, attr = cls.reference.rpartition(".")
        return getattr(importlib.import_module(module), attr)(params, **kwargs)
    return getattr(torch.optim, cls.torch_class)(params, foreach=False, **kwargs)


def train(problem, name: str, hyper: dict, order: list[list[int]]) -> dict:
    import torch

    net = torch_net(problem)
    load(net, problem.start)
    opt = torch_optimizer(name, net.parameters(), hyper)
    x, y = torch.tensor(problem.x), torch.tensor(problem.y)
    per_epoch = len(order) // EPOCHS
    losses, after_epoch = [], None
    for t, idx in enumerate(order, 1):
        loss = torch.nn.functional.mse_loss(net(x[idx]), y[idx])
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
        if t == per_epoch:
            after_epoch = torch.nn.utils.parameters_to_vector(net.parameters()).tolist()
    final = torch.nn.utils.parameters_to_vector(net.parameters()).tolist()
    return {"after_epoch1": after_epoch, "final": final, "batch_losses": losses}


def main() -> None:
    import torch

    torch.set_default_dtype(torch.float64)  # step counters and NAdam's mu product too
    from importlib.metadata import version

    problems = {key: optim.make_problem("mlp", **spec) for key, spec in NETS.items()}
    order = batches(problems["post"].n_samples)
    gradients = []
    for key, problem in problems.items():
        rng = np.random.default_rng(11)
        points = [
            problem.start,
            problem.init(5),
            problem.start + 0.3 * rng.normal(size=problem.dim),
        ]
        for point in points:
            for idx in (None, order[3]):
                loss, grad = loss_and_grad(problem, point, idx)
                gradients.append(
                    {"net": key, "point": point.tolist(), "idx": idx, "loss": loss, "grad": grad}
                )
    cases = []
    for key, name, hyper in CASES:
        cases.append(
            {
                "net": key,
                "optimizer": name,
                "hyper": hyper,
                **train(problems[key], name, hyper, order),
            }
        )
    header = {
        "torch_version": torch.__version__,
        "lion_pytorch_version": version("lion-pytorch"),
        "nets": NETS,
        "epochs": EPOCHS,
        "batch_size": BATCH,
        "seed": SEED,
        "starts": {key: p.start.tolist() for key, p in problems.items()},
        "batches": order,
    }
    # one item per line: small diffs when a case changes, exact float round-trips
    lines = {k: ",\n".join(map(json.dumps, v)) for k, v in (("g", gradients), ("c", cases))}
    OUT.parent.mkdir(exist_ok=True)
    OUT.write_text(
        json.dumps(header)[:-1]
        + f', "gradients": [\n{lines["g"]}\n], "cases": [\n{lines["c"]}\n]}}\n'
    )
    print(f"wrote {len(gradients)} gradients and {len(cases)} trainings to {OUT}")


if __name__ == "__main__":
    main()
