"""Networks trained live by torch.nn + torch.optim against optim.run (only where torch is installed).

Random architectures, activations, data sets and optimizer settings; the same initial
vector and the same recorded minibatches on both sides; float64; two epochs.
"""

from __future__ import annotations

import numpy as np
import pytest

import optim

torch = pytest.importorskip("torch")
pytestmark = pytest.mark.torch

from tests.make_golden_mlp import load, torch_net, torch_optimizer  # noqa: E402
from tests.test_torch_live import REFERENCED, random_hyper  # noqa: E402


@pytest.fixture(autouse=True)
def float64_default():
    previous = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    yield
    torch.set_default_dtype(previous)


def random_net(rng: np.random.Generator):
    hidden = [int(rng.integers(2, 24)) for _ in range(int(rng.integers(1, 3)))]
    return optim.make_problem(
        "mlp",
        widths=(1, *hidden, 1),
        activation=str(rng.choice(["relu", "tanh"])),
        dataset=str(rng.choice(["square", "sin", "abs", "step"])),
        noise=float(rng.uniform(0.0, 0.3)),
        seed=int(rng.integers(100)),
    )


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("name", REFERENCED)
def test_random_network_training_matches_torch(name, seed):
    rng = np.random.default_rng([seed, REFERENCED.index(name), 10])
    net = random_net(rng)
    hyper = random_hyper(name, rng)
    if "maximize" in hyper:
        hyper["maximize"] = False  # climbing the loss blows up, and run() stops there; torch not
    start = net.init(int(rng.integers(1000)))
    batch = int(rng.choice([16, 32, 100]))
    steps = 2 * -(-net.n_samples // batch)  # two epochs
    traj = optim.run(
        net, optim.make_optimizer(name, **hyper), start, steps, batch_size=batch, seed=seed
    )

    model = torch_net(net)
    load(model, start)
    theirs = torch_optimizer(name, model.parameters(), hyper)
    x, y = torch.tensor(net.x), torch.tensor(net.y)
    assert str(traj.status) == "max_steps"
    for t, idx in enumerate(traj.batches, 1):
        loss = torch.nn.functional.mse_loss(model(x[idx]), y[idx])
        theirs.zero_grad()
        loss.backward()
        theirs.step()
        vector = torch.nn.utils.parameters_to_vector(model.parameters()).detach().numpy()
        # relative to the whole vector: a weight near 0 that a sign-like update (Adamax,
        # Lion) nudges one way or the other is judged against the weights' size
        error = np.linalg.norm(traj.params[t] - vector) / np.linalg.norm(vector)
        assert error <= 1e-9, f"{net.label}, {hyper}, step {t}: relative error {error:.2e}"
