"""The network problem: backprop, torch's layout and init law, data, and exact trainings.

The golden file (tests/make_golden_mlp.py) holds torch's autograd values and the weights
torch.nn + torch.optim (lion-pytorch for Lion) reach in float64 from the same initial
vector on the same minibatches; these tests need no torch.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import optim
from optim.mlp import DATASETS

GOLDEN = json.loads((Path(__file__).with_name("golden") / "torch_mlp.json").read_text())
NETS = {key: optim.make_problem("mlp", **spec) for key, spec in GOLDEN["nets"].items()}
STEPS = len(GOLDEN["batches"])


def hyper_of(case: dict) -> dict:
    return {k: tuple(v) if isinstance(v, list) else v for k, v in case["hyper"].items()}


def test_the_post_network_has_61_parameters_in_torch_order():
    net = optim.make_problem("mlp")
    assert net.dim == 61 and net.x.shape == net.y.shape == (1000, 1)
    assert [(name, shape) for name, shape, _ in net.layers] == [
        ("hidden.weight", (20, 1)),
        ("hidden.bias", (20,)),
        ("predict.weight", (1, 20)),
        ("predict.bias", (1,)),
    ]
    deep = optim.make_problem("mlp", widths=(1, 8, 6, 1))
    assert deep.dim == 8 + 8 + 48 + 6 + 6 + 1
    assert [s for _, s, _ in deep.layers][2] == (6, 8)  # (out, in), row-major as torch


def test_init_follows_torch_linear_law_from_a_seed():
    net = optim.make_problem("mlp", widths=(1, 20, 1))
    draws = net.init(list(range(200)))
    assert draws.shape == (200, 61)
    np.testing.assert_array_equal(net.init(3), draws[3])  # a seed is a seed
    assert not np.array_equal(draws[0], draws[1])
    for (name, _, where), bound in zip(net.layers, (1.0, 1.0, 20**-0.5, 20**-0.5), strict=True):
        values = draws[:, where]
        # uniform on ±1/sqrt(fan_in): inside the bound, filling it, mean near zero
        assert np.abs(values).max() <= bound, name
        assert np.abs(values).max() > 0.97 * bound, name
        assert abs(values.mean()) < 0.1 * bound, name
        assert abs(values.std() - bound / np.sqrt(3)) < 0.08 * bound, name


# beyond the golden nets: no hidden layer (the output layer is the first), three hidden
SHAPES = {
    "linear": optim.make_problem("mlp", widths=(1, 1)),
    "three": optim.make_problem("mlp", widths=(1, 4, 3, 2, 1), dataset="abs", seed=1),
}


@pytest.mark.parametrize("key", list(NETS) + list(SHAPES))
def test_backprop_matches_finite_differences(key):
    net = NETS.get(key) or SHAPES[key]
    rng = np.random.default_rng(0)
    p = net.init([1, 2]) + 0.05 * rng.normal(size=(2, net.dim))
    f, g = net.value_and_grad(p)
    h = 1e-6
    for k in range(net.dim):
        e = np.zeros(net.dim)
        e[k] = h
        fd = (net.loss(p + e) - net.loss(p - e)) / (2 * h)
        np.testing.assert_allclose(g[:, k], fd, rtol=1e-5, atol=1e-8, err_msg=net.layers)


def test_backprop_equals_torch_autograd():
    assert len(GOLDEN["gradients"]) == 12
    for item in GOLDEN["gradients"]:
        net, point = NETS[item["net"]], np.array(item["point"])
        if item["idx"] is None:
            loss, grad = net.value_and_grad(point)
        else:
            idx = np.array(item["idx"])
            loss, grad = net.batch_loss(point, idx), net.batch_grad(point, idx)
        np.testing.assert_allclose(loss, item["loss"], rtol=1e-13)
        np.testing.assert_allclose(grad, item["grad"], rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("key", list(NETS))
def test_a_batch_of_networks_equals_each_one_alone(key):
    net = NETS[key]
    p = net.init([4, 5, 6]).reshape(3, net.dim)
    f, g = net.value_and_grad(p)
    idx = np.arange(0, 1000, 7)
    for i in range(3):
        fi, gi = net.value_and_grad(p[i])
        np.testing.assert_allclose(f[i], fi, rtol=1e-14)
        np.testing.assert_allclose(g[i], gi, rtol=1e-13, atol=1e-16)
        np.testing.assert_allclose(net.batch_grad(p, idx)[i], net.batch_grad(p[i], idx), 1e-13)
    # any leading shape
    assert net.value_and_grad(p.reshape(3, 1, net.dim))[1].shape == (3, 1, net.dim)
    assert net.predict(p, np.linspace(-1, 1, 9)).shape == (3, 9)


@pytest.mark.parametrize(
    "case", GOLDEN["cases"], ids=lambda c: f"{c['net']}-{c['optimizer']}-{len(c['hyper'])}"
)
def test_training_matches_torch_after_every_epoch(case):
    net = NETS[case["net"]]
    start = np.array(GOLDEN["starts"][case["net"]])
    np.testing.assert_array_equal(start, net.start)  # the problem's default init is torch's input
    opt = optim.make_optimizer(case["optimizer"], **hyper_of(case))
    traj = optim.run(net, opt, start, STEPS, batch_size=32, seed=GOLDEN["seed"])
    # the same minibatches torch was fed: reshuffled every epoch, the last one short
    assert [b.tolist() for b in traj.batches] == GOLDEN["batches"]
    per_epoch = STEPS // GOLDEN["epochs"]
    np.testing.assert_allclose(traj.params[per_epoch], case["after_epoch1"], rtol=1e-9, atol=1e-14)
    np.testing.assert_allclose(traj.final_params, case["final"], rtol=1e-9, atol=1e-14)
    # and the loss torch printed on every minibatch
    batch_losses = [net.batch_loss(traj.params[t], b) for t, b in enumerate(traj.batches)]
    np.testing.assert_allclose(batch_losses, case["batch_losses"], rtol=1e-9)


def test_every_optimizer_is_checked_against_torch():
    assert {c["optimizer"] for c in GOLDEN["cases"]} == set(optim.OPTIMIZERS)


def test_the_post_race_in_one_pass_equals_four_separate_runs():
    post = [c for c in GOLDEN["cases"] if c["net"] == "post"][:4]
    assert [c["optimizer"] for c in post] == ["sgd", "momentum", "rmsprop", "adam"]
    race = optim.Ensemble([optim.make_optimizer(c["optimizer"], **hyper_of(c)) for c in post])
    net = NETS["post"]
    traj = optim.run(
        net, race, np.stack([net.start] * 4), STEPS, batch_size=32, seed=GOLDEN["seed"]
    )
    for i, case in enumerate(post):
        np.testing.assert_allclose(traj.final_params[i], case["final"], rtol=1e-9, atol=1e-14)
        alone = optim.run(net, race.members[i], net.start, STEPS, batch_size=32, seed=7)
        np.testing.assert_array_equal(traj.params[:, i], alone.params)
        np.testing.assert_array_equal(traj.effective_lr[:, i], alone.effective_lr)
    # the recorded loss is the full training loss at each step's weights
    np.testing.assert_array_equal(traj.loss[0], net.loss(np.stack([net.start] * 4)))
    np.testing.assert_allclose(traj.loss[-1], net.loss(traj.final_params), rtol=1e-14)
    assert np.all(traj.loss[-1] < traj.loss[0])


def test_an_ensemble_member_with_a_batch_of_settings_and_a_schedule():
    net = NETS["post"]
    race = optim.Ensemble(
        [optim.make_optimizer("sgd", lr=np.array([0.01, 0.1])), optim.make_optimizer("adam")],
        sizes=[2, 1],
    )
    np.testing.assert_array_equal(race.hyper["lr"], [0.01, 0.1, 1e-3])
    starts = net.init([0, 1, 2])
    halve = optim.make_schedule("step", step_size=10)  # lr halved every 10 steps
    traj = optim.run(net, race, starts, 40, batch_size=32, schedule=halve)
    np.testing.assert_allclose(traj.lr[[0, 39]], [[0.01, 0.1, 1e-3], [0.00125, 0.0125, 1.25e-4]])
    alone = optim.run(
        net, optim.make_optimizer("sgd", lr=0.1), starts[1], 40, batch_size=32, schedule=halve
    )
    np.testing.assert_array_equal(traj.params[:, 1], alone.params)
    # the scheduled lr, member by member, in the recorded effective lr too
    np.testing.assert_array_equal(traj.effective_lr[:, 1], alone.effective_lr)
    with pytest.raises(ValueError, match="do not broadcast"):
        optim.run(net, race, starts[:2], 5)
    with pytest.raises(ValueError, match="drives 3 rows"):
        race.init(starts[:2])
    # one start for all: every member begins from the same weights
    shared = optim.run(net, race, starts[0], 3, batch_size=32)
    np.testing.assert_array_equal(shared.params[0], np.stack([starts[0]] * 3))


@pytest.mark.parametrize("dataset", list(DATASETS))
def test_datasets_are_their_function_plus_the_noise_asked_for(dataset):
    net = optim.make_problem("mlp", dataset=dataset, noise=0.2, seed=1)
    target = DATASETS[dataset][1]
    resid = net.y - target(net.x)
    assert abs(resid.std() - 0.2) < 0.02 and abs(resid.mean()) < 0.03
    np.testing.assert_array_equal(net.x[:, 0], np.linspace(-1, 1, 1000))
    # validation: other points, fresh noise, same law
    assert net.x_val.shape == (250, 1) and not np.isin(net.x_val, net.x).any()
    v = net.y_val - target(net.x_val)
    assert abs(v.std() - 0.2) < 0.04
    same = optim.make_problem("mlp", dataset=dataset, noise=0.2, seed=1)
    np.testing.assert_array_equal(same.y, net.y)
    other = optim.make_problem("mlp", dataset=dataset, noise=0.2, seed=2)
    assert not np.array_equal(other.y, net.y)
    clean = optim.make_problem("mlp", dataset=dataset, noise=0.0)
    np.testing.assert_array_equal(clean.y, target(clean.x))


def test_validation_loss_is_measured_on_the_validation_points():
    net = optim.make_problem("mlp", dataset="sin", noise=0.0)
    p = net.init(0)
    np.testing.assert_allclose(
        net.loss(p, "validation"), np.mean((net.predict(p, net.x_val) - net.y_val[:, 0]) ** 2)
    )
    np.testing.assert_allclose(net.loss(p), np.mean((net.predict(p, net.x) - net.y[:, 0]) ** 2))


@pytest.mark.parametrize(
    "kw, match",
    [
        (dict(widths=(2, 20, 1)), "1-D"),
        (dict(widths=(1,)), "at least"),
        (dict(activation="sigmoid"), "activation"),
        (dict(dataset="cubic"), "unknown dataset"),
        (dict(noise=-0.1), "noise"),
    ],
)
def test_bad_settings_are_refused(kw, match):
    with pytest.raises(ValueError, match=match):
        optim.make_problem("mlp", **kw)


# -- the loss once an epoch, the minibatch loss every step ------------------------------------
def post_four():
    race = optim.Ensemble(
        [
            optim.make_optimizer("sgd", lr=0.01),
            optim.make_optimizer("momentum", lr=0.01, momentum=0.8),
            optim.make_optimizer("rmsprop", lr=0.01, alpha=0.9),
            optim.make_optimizer("adam", lr=0.01, betas=(0.9, 0.99)),
        ]
    )
    return race, np.stack([NETS["post"].start] * 4)


def test_loss_every_epoch_keeps_the_weights_and_evaluates_the_loss_where_asked():
    net = NETS["post"]
    race, start = post_four()
    every = optim.run(net, race, start, 70, batch_size=32, seed=3)
    epochs = optim.run(net, race, start, 70, batch_size=32, seed=3, loss_every=32)
    np.testing.assert_array_equal(epochs.params, every.params)  # the same training
    measured = [0, 32, 64, 70]  # the start, each epoch's end, the last step
    np.testing.assert_array_equal(epochs.loss[measured], every.loss[measured])
    others = np.setdiff1d(np.arange(71), measured)
    assert np.isnan(epochs.loss[others]).all()
    np.testing.assert_array_equal(epochs.final_loss, every.final_loss)
    # each step's minibatch loss, at the point the step started from: what torch prints
    assert epochs.batch_loss.shape == (70, 4)
    for t in (0, 33, 69):
        np.testing.assert_array_equal(
            epochs.batch_loss[t], net.batch_loss(epochs.params[t], epochs.batches[t])
        )
    with pytest.raises(ValueError, match="loss_every=1"):
        optim.run(net, race, start, 5, batch_size=32, loss_every=2, tol=1e-9)
    with pytest.raises(ValueError, match="at least 1"):
        optim.run(net, race, start, 5, batch_size=32, loss_every=0)


def test_loss_every_epoch_still_stops_a_run_that_blows_up():
    net = NETS["post"]
    race = optim.Ensemble(
        [optim.make_optimizer("sgd", lr=0.01), optim.make_optimizer("sgd", lr=60.0)]
    )
    start = np.stack([net.start] * 2)
    # the parameters are checked every step: a blow-up ends the run where it happens
    t = optim.run(net, race, start, 64, batch_size=32, seed=1, loss_every=32, bound=50.0)
    assert list(t.status) == ["max_steps", "diverged"]
    stop = int(t.stop_step[1])
    assert 0 < stop < 32 and np.abs(t.params[stop - 1, 1]).max() <= 50.0
    np.testing.assert_array_equal(t.final_params[1], t.params[stop - 1, 1])
    # its final loss, between two evaluated rows, is evaluated at the end
    assert t.final_loss[1] == net.loss(t.final_params[1]) == t.loss[stop - 1, 1]
    assert "diverged at step" in t.message[1] and "nan" not in t.message[1].lower()
    assert np.isnan(t.params[stop:, 1]).all() and np.isnan(t.batch_loss[stop:, 1]).all()
    np.testing.assert_array_equal(
        t.final_params[0],
        optim.run(net, race.members[0], net.start, 64, batch_size=32, seed=1).final_params,
    )
    # a loss past the bound is caught where the loss is evaluated (the end of epoch 1)
    sgd = optim.Ensemble(
        [optim.make_optimizer("sgd", lr=0.01), optim.make_optimizer("sgd", lr=0.005, maximize=True)]
    )
    free = optim.run(net, sgd, start, 64, batch_size=32, seed=1, loss_every=32)
    level = float(free.loss[32, 1]) / 2  # below its loss after epoch 1, above the start's
    assert free.loss[0, 1] < level and free.loss[32, 0] < level
    assert np.abs(free.params[:33]).max() < level
    caught = optim.run(net, sgd, start, 64, batch_size=32, seed=1, loss_every=32, bound=level)
    assert list(caught.status) == ["max_steps", "diverged"] and caught.stop_step[1] == 32
    # and at the last step, evaluated whether or not it ends an epoch
    free = optim.run(net, sgd, start, 40, batch_size=32, seed=1, loss_every=32)
    level = float(free.loss[32, 1] + free.loss[40, 1]) / 2
    assert free.loss[32, 1] < level < free.loss[40, 1] and np.abs(free.params).max() < level
    caught = optim.run(net, sgd, start, 40, batch_size=32, seed=1, loss_every=32, bound=level)
    assert list(caught.status) == ["max_steps", "diverged"] and caught.stop_step[1] == 40
