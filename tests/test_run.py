"""run(): shapes, batch = loop, stochastic gradients, stopping rules and their messages."""

from __future__ import annotations

import re
import time
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import optim

FIELDS = ("params", "loss", "grad", "effective_lr", "lr")


def assert_same(a, b):
    """Two trajectories (or slices of them) hold the same numbers, NaN included."""
    for f in FIELDS:
        np.testing.assert_array_equal(getattr(a, f), getattr(b, f), err_msg=f)


def column(traj, i):
    """Trajectory ``i`` of a batched run, as a plain namespace of arrays."""
    out = type("Column", (), {})()
    for f in FIELDS:
        setattr(out, f, getattr(traj, f)[:, i])
    return out


def test_shapes_and_first_row():
    s = optim.make_surface("rosenbrock")
    opt = optim.make_optimizer("momentum", lr=1e-3)
    t = optim.run(s, opt, s.start, 50)
    assert t.params.shape == (51, 2) and t.loss.shape == (51,)
    assert t.grad.shape == (50, 2) and t.effective_lr.shape == (50, 2) and t.lr.shape == (50,)
    assert t.status.shape == () and str(t.status) == "max_steps"
    assert int(t.stop_step) == 50 and int(t.valid_length) == 51 and str(t.message) == ""
    np.testing.assert_array_equal(t.params[0], s.start)
    np.testing.assert_allclose(t.loss, s.loss(t.params))
    np.testing.assert_allclose(t.grad, s.grad(t.params[:-1]))
    np.testing.assert_array_equal(t.path(), t.params)
    np.testing.assert_array_equal(t.lr, 1e-3)
    assert t.loss[-1] < t.loss[0]

    starts = np.array([[-1.5, 2.0], [0.5, 0.5], [0.0, 0.0]])
    tb = optim.run(s, opt, starts, 50)
    assert tb.params.shape == (51, 3, 2) and tb.loss.shape == (51, 3)
    assert tb.grad.shape == (50, 3, 2) and tb.lr.shape == (50, 3)
    assert tb.status.shape == (3,) and tb.stop_step.shape == (3,) and tb.message.shape == (3,)
    assert tb.path(1).shape == (51, 2)
    with pytest.raises(ValueError):
        tb.path()


def test_each_step_is_the_optimizers_step():
    """The recorded rows replay exactly with the optimizer's own step()."""
    s = optim.make_surface("beale")
    opt = optim.make_optimizer("nesterov", lr=1e-3)
    t = optim.run(s, opt, s.start, 30)
    p, state = np.array(s.start), opt.init(np.array(s.start))
    for k in range(30):
        p, state = opt.step(p, s.grad(p), state)
        np.testing.assert_array_equal(t.params[k + 1], p)
        np.testing.assert_array_equal(t.effective_lr[k], opt.effective_lr(state))


@pytest.mark.parametrize(
    "surface,kw",
    [
        ("bowl", {}),
        ("bowl", {"noise": 0.5, "seed": 3}),
        ("linear", {"batch_size": 7, "seed": 1}),
        ("rosenbrock", {"tol": 1e-7, "schedule": "cosine"}),
    ],
)
def test_batch_equals_loop(surface, kw):
    s = optim.make_surface(surface)
    (x0, x1), (y0, y1) = s.bounds
    rng = np.random.default_rng(0)
    starts = np.stack([rng.uniform(x0, x1, 5), rng.uniform(y0, y1, 5)], axis=-1)
    opt = optim.make_optimizer("momentum", lr=0.002)
    batch = optim.run(s, opt, starts, 120, **kw)
    for i, p0 in enumerate(starts):
        one = optim.run(s, opt, p0, 120, **kw)
        assert_same(column(batch, i), one)
        assert batch.status[i] == one.status and batch.stop_step[i] == one.stop_step
        assert batch.message[i] == one.message


def test_batch_equals_loop_with_mixed_outcomes():
    """Diverged, converged and running trajectories in one batch: each equals its solo run."""
    s = optim.make_surface("bowl")
    lrs = np.array([0.05, 0.3, 0.7, 1.2])
    batch = optim.run(s, optim.make_optimizer("sgd", lr=lrs), s.start, 400, tol=1e-10)
    assert batch.params.shape == (401, 4, 2)
    assert list(batch.status) == ["max_steps", "converged", "diverged", "diverged"]
    for i, lr in enumerate(lrs):
        one = optim.run(s, optim.make_optimizer("sgd", lr=lr), s.start, 400, tol=1e-10)
        assert_same(column(batch, i), one)
        assert batch.stop_step[i] == one.stop_step and batch.message[i] == one.message
    # stopped trajectories do not move: every row after the stop is NaN
    for i in range(4):
        n = batch.valid_length[i]
        assert np.all(np.isfinite(batch.params[:n, i]))
        assert np.all(np.isnan(batch.params[n:, i]))


def test_deterministic_for_a_seed():
    s = optim.make_surface("linear")
    opt = optim.make_optimizer("sgd", lr=0.05)
    a = optim.run(s, opt, s.start, 80, batch_size=5, seed=7)
    b = optim.run(s, opt, s.start, 80, batch_size=5, seed=7)
    c = optim.run(s, opt, s.start, 80, batch_size=5, seed=8)
    assert_same(a, b)
    assert not np.array_equal(a.params, c.params)
    bowl = optim.make_surface("bowl")
    n1 = optim.run(bowl, opt, bowl.start, 50, noise=1.0, seed=7)
    n2 = optim.run(bowl, opt, bowl.start, 50, noise=1.0, seed=7)
    n3 = optim.run(bowl, opt, bowl.start, 50, noise=1.0, seed=9)
    assert_same(n1, n2)
    assert not np.array_equal(n1.params, n3.params)


def test_minibatch_gradients_average_to_the_full_gradient():
    s = optim.make_surface("linear")
    frozen = optim.make_optimizer("sgd", lr=0.0)  # lr 0: every gradient is taken at the start
    full = s.grad(s.start)
    for size in (1, 10, 25):
        epoch = s.n_samples // size
        t = optim.run(s, frozen, s.start, 2 * epoch, batch_size=size, seed=2)
        for e in range(2):
            grads = t.grad[e * epoch : (e + 1) * epoch]
            np.testing.assert_allclose(grads.mean(axis=0), full, rtol=1e-12, atol=1e-12)
            assert np.ptp(grads[:, 0]) > 1e-3  # the minibatches really differ
    # no batch size, or one at least the data size, is full-batch gradient descent
    for size in (None, 100, 1000):
        t = optim.run(s, frozen, s.start, 5, batch_size=size)
        np.testing.assert_allclose(t.grad, np.broadcast_to(full, (5, 2)))


def test_gradient_noise_has_the_requested_spread():
    s = optim.make_surface("bowl")
    frozen = optim.make_optimizer("sgd", lr=0.0)
    t = optim.run(s, frozen, s.start, 4000, noise=0.3, seed=0)
    err = t.grad - s.grad(s.start)
    assert np.std(err, axis=0) == pytest.approx([0.3, 0.3], rel=0.05)
    assert np.abs(np.mean(err, axis=0)).max() < 0.03


def test_stochastic_gradients_reach_the_minimum_region():
    s = optim.make_surface("linear")
    t = optim.run(s, optim.make_optimizer("sgd", lr=0.05), s.start, 2000, batch_size=1)
    np.testing.assert_allclose(t.params[-1], s.minima[0], atol=0.05)


def test_divergence_is_explained_without_warnings():
    s = optim.make_surface("bowl")  # largest curvature L = 4, so 2/L = 0.5
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        t = optim.run(s, optim.make_optimizer("sgd", lr=0.6), s.start, 500)
    assert str(t.status) == "diverged"
    k = int(t.stop_step)
    assert 1 <= k < 500 and int(t.valid_length) == k
    assert np.all(np.isfinite(t.params[:k])) and np.all(np.isnan(t.params[k:]))
    assert np.all(np.isfinite(t.loss[:k])) and np.all(np.isnan(t.loss[k:]))
    # y grows by |1 - 0.6 * 4| = 1.4 per step; the step that blows up passes the 1e6 bound
    assert t.loss[k - 1] <= 1e6 and 2 * (2 * 1.4**k) ** 2 > 1e6
    msg = str(t.message)
    assert msg.startswith(f"diverged at step {k}:")
    assert "lr 0.6" in msg and "2/L ≈ 0.5" in msg
    assert t.path().shape == (k, 2)


def test_momentum_divergence_names_its_limit():
    s = optim.make_surface("bowl")
    t = optim.run(s, optim.make_optimizer("momentum", lr=1.0), s.start, 300)  # limit 0.95
    assert str(t.status) == "diverged"
    assert "2(1+μ)/L ≈ 0.95" in str(t.message)
    ok = optim.run(s, optim.make_optimizer("momentum", lr=0.9), s.start, 300)
    assert str(ok.status) == "max_steps"


def test_a_saddle_diverges_downhill():
    s = optim.make_surface("saddle")
    t = optim.run(s, optim.make_optimizer("sgd", lr=0.1), s.start, 1000)
    assert str(t.status) == "diverged"
    assert "no minimum" in str(t.message)


def test_adaptive_divergence_says_what_grew():
    s = optim.surface_from_expression("-exp(x) + y^2")
    opts = [n for n in ("adam", "rmsprop") if n in optim.OPTIMIZERS]
    for name in opts:
        t = optim.run(s, optim.make_optimizer(name, lr=0.5), s.start, 3000)
        assert str(t.status) == "diverged"
        msg = str(t.message)
        assert "diverged at step" in msg and "effective learning rate" in msg


def test_a_start_outside_the_bound_never_moves():
    s = optim.make_surface("bowl")
    t = optim.run(s, optim.make_optimizer("sgd", lr=0.1), np.array([[1e7, 0.0], [1.0, 1.0]]), 20)
    assert list(t.status) == ["diverged", "max_steps"] and t.valid_length[0] == 0
    assert np.all(np.isnan(t.params[:, 0])) and "start" in t.message[0]


def test_early_stopping():
    s = optim.make_surface("bowl")
    opt = optim.make_optimizer("sgd", lr=0.2)
    tol = 1e-8
    t = optim.run(s, opt, s.start, 2000, tol=tol)
    assert str(t.status) == "converged"
    k = int(t.stop_step)
    assert k < 2000 and int(t.valid_length) == k + 1
    dl = np.abs(np.diff(t.loss[: k + 1]))
    assert np.all(dl[-3:] < tol)
    # it stops at the first step where the rule holds
    quiet = dl < tol
    first = next(j for j in range(2, len(quiet)) if quiet[j - 2 : j + 1].all())
    assert first + 1 == k
    assert (
        str(t.message) == f"converged at step {k}: loss changed by less than tol=1e-08 for 3 steps"
    )
    assert np.all(np.isnan(t.params[k + 1 :]))
    longer = optim.run(s, opt, s.start, 2000, tol=tol, patience=10)
    assert int(longer.stop_step) > k


def test_schedule_sets_the_learning_rate_of_each_step():
    s = optim.make_surface("bowl")
    opt = optim.make_optimizer("sgd", lr=0.3)
    sched = optim.make_schedule("step", step_size=10, gamma=0.5)
    t = optim.run(s, opt, s.start, 40, schedule=sched)
    np.testing.assert_allclose(t.lr, 0.3 * sched.factors(40))
    np.testing.assert_allclose(t.effective_lr, np.broadcast_to(t.lr[:, None], (40, 2)))
    p = np.array(s.start)
    for k in range(40):
        p = p - t.lr[k] * s.grad(p)
        np.testing.assert_allclose(t.params[k + 1], p, rtol=1e-14)
    named = optim.run(s, opt, s.start, 40, schedule="cosine")
    np.testing.assert_allclose(named.lr, 0.3 * optim.make_schedule("cosine").factors(40))


def test_hyperparameter_arrays_run_as_a_batch():
    s = optim.make_surface("booth")
    lrs = np.geomspace(1e-3, 5e-2, 6)
    t = optim.run(s, optim.make_optimizer("sgd", lr=lrs), s.start, 60)
    assert t.params.shape == (61, 6, 2)
    np.testing.assert_allclose(t.lr, np.broadcast_to(lrs, (60, 6)))
    final = t.loss[-1]
    assert np.all(np.diff(final) < 0)  # larger (stable) steps get further in 60 steps


def test_distance_to_minimum():
    s = optim.make_surface("bowl")
    t = optim.run(s, optim.make_optimizer("sgd", lr=0.1), s.start, 100)
    d = t.distance_to_minimum()
    np.testing.assert_allclose(d, np.linalg.norm(t.params, axis=-1))
    assert d[-1] < d[0]
    saddle = optim.make_surface("saddle")
    assert np.all(
        np.isnan(
            optim.run(saddle, optim.make_optimizer("sgd"), saddle.start, 5).distance_to_minimum()
        )
    )


@pytest.mark.parametrize(
    "kw,match",
    [
        ({"steps": -1}, "steps"),
        ({"start": np.zeros(3)}, "start"),
        ({"start": np.zeros((2, 2, 2))}, "start"),
        ({"patience": 0}, "patience"),
        ({"noise": -1.0}, "noise"),
        ({"batch_size": 0}, "batch_size"),
        ({"bound": 0.0}, "bound"),
        ({"schedule": "nope"}, "unknown schedule"),
    ],
)
def test_bad_arguments(kw, match):
    s = optim.make_surface("bowl")
    args = {"start": s.start, "steps": 10} | kw
    with pytest.raises(ValueError, match=match):
        optim.run(s, optim.make_optimizer("sgd"), args.pop("start"), args.pop("steps"), **args)


def test_zero_steps():
    s = optim.make_surface("bowl")
    t = optim.run(s, optim.make_optimizer("sgd"), s.start, 0)
    assert t.params.shape == (1, 2) and t.grad.shape == (0, 2) and str(t.status) == "max_steps"


def test_one_step_costs_microseconds():
    """Generous bound (the benchmark has the real one): 2000 steps well under a second."""
    s = optim.make_surface("rosenbrock")
    opt = optim.make_optimizer("momentum", lr=1e-4)
    optim.run(s, opt, s.start, 10)
    best = min(_timed(lambda: optim.run(s, opt, s.start, 2000)) for _ in range(3))
    assert best / 2000 < 100e-6


def _timed(fn):
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


@pytest.mark.parametrize("name", list(optim.OPTIMIZERS))
def test_every_optimizer_batches_with_stops_like_solo_runs(name):
    """Trajectories stop at different steps (small bound on the saddle); the others carry on."""
    s = optim.make_surface("saddle")
    starts = np.array([[-1.8, 0.01], [0.5, 1.0], [1.0, -0.2]])
    opt = optim.make_optimizer(name, lr=5.0 if name == "adadelta" else 0.05)  # its lr is a scale
    kw = {"bound": 4.0, "tol": 1e-12}
    batch = optim.run(s, opt, starts, 150, **kw)
    assert len(set(batch.stop_step.tolist())) > 1
    for i, p0 in enumerate(starts):
        one = optim.run(s, opt, p0, 150, **kw)
        assert_same(column(batch, i), one)
        assert batch.status[i] == one.status and batch.stop_step[i] == one.stop_step


@settings(max_examples=30, deadline=None)
@given(
    lr=st.one_of(st.floats(0.005, 0.48), st.floats(0.52, 1.5)),
    y0=st.floats(0.1, 3.0),
)
def test_sgd_on_the_bowl_diverges_exactly_above_two_over_l(lr, y0):
    """The theory the divergence message quotes: on the bowl, L = 4, so the limit is 0.5."""
    s = optim.make_surface("bowl")
    t = optim.run(s, optim.make_optimizer("sgd", lr=lr), np.array([-5.0, y0]), 2000)
    if lr > 0.5:
        assert str(t.status) == "diverged" and "2/L ≈ 0.5" in str(t.message)
    else:
        assert str(t.status) == "max_steps" and t.loss[-1] <= t.loss[0]


def test_path_only_recording_matches_full_recording():
    # record="path" is for big sweeps: same params and loss, no per-step extras
    s = optim.make_surface("bowl")
    starts = np.array([[2.0, 1.0], [-1.0, 0.5], [0.5, -2.0]])
    opt = optim.make_optimizer("sgd", lr=np.array([0.1, 0.6, 0.3]))
    full = optim.run(s, opt, starts, 60, tol=1e-12)
    light = optim.run(s, opt, starts, 60, tol=1e-12, record="path")
    np.testing.assert_array_equal(light.params, full.params)
    np.testing.assert_array_equal(light.loss, full.loss)
    np.testing.assert_array_equal(light.status, full.status)
    assert light.grad is None and light.effective_lr is None and light.lr is None
    assert "diverged" in set(light.status) and light.message[1].startswith("diverged at step")
    with pytest.raises(ValueError, match="record"):
        optim.run(s, opt, starts, 5, record="nothing")


def test_rows_after_a_stop_are_nan_in_every_history():
    s = optim.make_surface("bowl")
    starts = np.array([[2.0, 1.0], [1.0, 1.0]])
    traj = optim.run(s, optim.make_optimizer("sgd", lr=np.array([0.1, 0.7])), starts, 40)
    assert list(traj.status) == ["max_steps", "diverged"]
    t = int(traj.stop_step[1])
    assert np.isnan(traj.params[traj.valid_length[1] :, 1]).all()
    assert np.isfinite(traj.params[: traj.valid_length[1], 1]).all()
    assert np.isnan(traj.grad[t:, 1]).all() and np.isnan(traj.effective_lr[t:, 1]).all()
    assert np.isnan(traj.lr[t:, 1]).all() and np.isfinite(traj.lr[:t, 1]).all()
    assert np.isfinite(traj.params[:, 0]).all() and np.isfinite(traj.grad[:, 0]).all()


@pytest.mark.parametrize("start", [[3.0, 3.0], [[3.0, 3.0], [0.5, 0.5]]])
def test_a_start_already_out_of_bounds_is_diverged_at_step_zero(start):
    s = optim.surface_from_expression("exp(x**2 + y**2)")
    traj = optim.run(s, optim.make_optimizer("sgd", lr=0.01), start, 10)
    first = (0,) * (np.ndim(start) - 1)
    assert traj.status[first] == "diverged" and traj.stop_step[first] == 0
    assert traj.valid_length[first] == 0 and np.isnan(traj.params[(slice(None), *first)]).all()
    assert "outside the region" in str(traj.message[first])
    if np.ndim(start) == 2:  # the other trajectory is unaffected
        assert traj.status[1] == "max_steps" and np.isfinite(traj.params[:, 1]).all()


def _batch_hyper(cls, lrs):
    """Every numeric hyperparameter of ``cls`` as a batch array of len(lrs) valid values."""
    hyper, solo = {"lr": np.asarray(lrs)}, [{"lr": lr} for lr in lrs]

    def other(v, hi):
        return 0.5 * hi if v == 0 else 0.5 * v

    for h in cls.hparams:
        if h.name == "lr" or h.kind in ("bool", "int"):
            continue
        if h.kind == "pair":
            parts = tuple(
                np.array([d, other(d, hi), d])
                for d, hi in zip(h.default, [p.high for p in h.parts], strict=True)
            )
            hyper[h.name] = parts
            for i, s in enumerate(solo):
                s[h.name] = tuple(float(a[i]) for a in parts)
            continue
        if h.name == "dampening" and cls.defaults()["nesterov"]:
            continue  # Nesterov needs zero dampening
        values = np.array([h.default, other(h.default, h.high), h.default])
        hyper[h.name] = values
        for i, s in enumerate(solo):
            s[h.name] = float(values[i])
    return hyper, solo


@pytest.mark.parametrize("name", list(optim.OPTIMIZERS))
def test_batch_hyperparameter_arrays_diverging_give_each_its_solo_message(name):
    """A hyperparameter map that diverges somewhere: no crash, each message is the solo run's."""
    s = optim.make_surface("rosenbrock")
    cls = optim.OPTIMIZERS[name]
    big = {"sgd": 0.5, "momentum": 0.5, "nesterov": 0.5, "adadelta": 500.0}.get(name, 50.0)
    hyper, solo = _batch_hyper(cls, [big, big / 3, 1e-5])
    assert len(hyper) > 1
    batch = optim.run(s, cls(**hyper), s.start, 300, bound=1e4)
    assert batch.status[0] == "diverged"
    for i, kw in enumerate(solo):
        one = optim.run(s, cls(**kw), s.start, 300, bound=1e4)
        assert batch.status[i] == one.status and batch.stop_step[i] == one.stop_step
        assert batch.message[i] == one.message


_QUOTED = re.compile(r"(?:from|to) (-?infinity|NaN|-?\d[\d.]*(?:e[+-]\d+)?)")


def _quoted_losses(msg):
    return [float(q.replace("infinity", "inf")) for q in _QUOTED.findall(msg)]


def _same_number(quoted, actual):
    if not np.isfinite(actual):
        return np.isnan(quoted) if np.isnan(actual) else quoted == actual
    return bool(np.isclose(quoted, actual, rtol=0.06, atol=0))  # 2 significant digits at least


def test_every_divergence_message_quotes_the_trajectorys_own_losses():
    """Sweep every optimizer x surface x large lrs: the numbers a message quotes are the
    start loss, the last finite loss and the loss that blew up, never 'from 11 to 11'."""
    lrs = np.array([0.5, 5.0, 50.0, 500.0])
    diverged = first_step = 0
    for sname in optim.SURFACES:
        s = optim.make_surface(sname)
        for oname in optim.OPTIMIZERS:
            t = optim.run(s, optim.make_optimizer(oname, lr=lrs), s.start, 200)
            for i in range(len(lrs)):
                if t.status[i] != "diverged":
                    continue
                diverged += 1
                msg, k = str(t.message[i]), int(t.stop_step[i])
                first_step += "the first step took the loss" in msg
                quoted = _quoted_losses(msg)
                if not quoted:
                    continue  # falling without bound or the parameters past the bound
                assert all(a != b for a, b in zip(quoted[:-1], quoted[1:], strict=True)), msg
                expected = [t.loss[0, i], t.loss[k - 1, i], t.blowup_loss[i]]
                if len(quoted) == 2:
                    expected = [expected[0], expected[2]]
                assert len(quoted) == len(expected), msg
                for q, v in zip(quoted, expected, strict=True):
                    assert _same_number(q, v), (msg, q, v)
    assert diverged > 200 and first_step > 50, (diverged, first_step)


@pytest.mark.parametrize("name", list(optim.OPTIMIZERS))
def test_final_record_equals_the_last_valid_row_of_the_full_record(name):
    """record="final" keeps no history; its outcome is the full run's last valid row,
    for every trajectory of a batch where some diverge, some converge, some run on."""
    s = optim.make_surface("saddle")
    starts = np.array([[-1.8, 0.01], [0.5, 1.0], [1.0, -0.2], [3.0, 3.0], [0.0, 0.0]])
    opt = optim.make_optimizer(name, lr=5.0 if name == "adadelta" else 0.05)
    kw = {"bound": 4.0, "tol": 1e-12}
    full = optim.run(s, opt, starts, 150, **kw)
    final = optim.run(s, opt, starts, 150, record="final", **kw)
    assert final.params is None and final.loss is None and final.grad is None
    assert {"diverged", "converged"} <= set(full.status)  # stops of both kinds
    for f in ("status", "stop_step", "valid_length", "blowup_loss"):
        np.testing.assert_array_equal(getattr(final, f), getattr(full, f), err_msg=f)
    for i in range(len(starts)):
        n = full.n_valid(i)
        want_p = full.params[n - 1, i] if n else np.full(2, np.nan)
        want_f = full.loss[n - 1, i] if n else np.nan
        np.testing.assert_array_equal(final.final_params[i], want_p)
        np.testing.assert_array_equal(full.final_params[i], want_p)
        np.testing.assert_array_equal(final.final_loss[i], want_f)
        assert final.steps_taken(i) == full.steps_taken(i)
    one = optim.run(s, opt, starts[0], 150, record="final", **kw)
    np.testing.assert_array_equal(one.final_params, full.final_params[0])


def test_single_run_accessors():
    """Valid rows, final point, distance to the nearest minimum and steps taken."""
    s = optim.make_surface("himmelblau")  # four minima
    opt = optim.make_optimizer("sgd", lr=np.array([0.01, 0.2]))
    t = optim.run(s, opt, np.array([[0.0, 0.0], [0.0, 0.0]]), 300, tol=1e-9)
    assert list(t.status) == ["converged", "diverged"]
    for i in range(2):
        k = int(t.stop_step[i])
        rows, losses = t.valid(i)
        n = k + 1 if t.status[i] == "converged" else k
        assert t.n_valid(i) == n == len(rows) == len(losses)
        assert np.isfinite(rows).all() and np.isnan(t.params[n:, i]).all()
        np.testing.assert_array_equal(t.final_point(i), rows[-1])
        assert t.steps_taken(i) == k < 300  # steps taken, not steps requested
        nearest = np.linalg.norm(s.minima - rows[-1], axis=1).min()
        assert t.distance(i) == pytest.approx(nearest)
    assert t.distance(0) < 1e-3  # converged: at one minimum, far from the other three
    with pytest.raises(ValueError, match="several trajectories"):
        t.final_point()
    one = optim.run(s, optim.make_optimizer("sgd", lr=0.01), s.start, 50)
    assert one.steps_taken() == 50 and one.n_valid() == 51
    saddle = optim.make_surface("saddle")  # no minimum known
    assert optim.run(saddle, optim.make_optimizer("sgd"), saddle.start, 5).distance() is None


def test_minibatches_are_recorded_and_reshuffled_every_epoch():
    s = optim.make_surface("linear")  # 100 samples
    opt = optim.make_optimizer("sgd", lr=0.05)
    t = optim.run(s, opt, s.start, 30, batch_size=30, seed=4)
    assert len(t.batches) == 30
    sizes = [len(b) for b in t.batches]
    assert sizes[:8] == [30, 30, 30, 10, 30, 30, 30, 10]  # an epoch's last batch is short
    epochs = [np.concatenate(t.batches[4 * e : 4 * e + 4]) for e in range(7)]
    for e in epochs:
        assert sorted(e.tolist()) == list(range(100))  # each epoch sees every sample once
    assert len({tuple(e.tolist()) for e in epochs}) == 7  # in a new order every epoch
    # the recorded indices replay the run's gradients exactly
    for k in (0, 3, 17):
        np.testing.assert_array_equal(t.grad[k], s.batch_grad(t.params[k], t.batches[k]))
    assert optim.run(s, opt, s.start, 30, batch_size=30, record="path").batches is None
    assert optim.run(s, opt, s.start, 30).batches is None  # full batch: nothing to record


@pytest.mark.parametrize("name", ["sgd", "adam"])
def test_hyperparameter_columns_equal_batch_arrays_and_other_shapes_fail(name):
    s = optim.make_surface("rosenbrock")
    lrs = np.array([1e-4, 3e-4, 1e-3])
    flat = optim.run(s, optim.make_optimizer(name, lr=lrs), s.start, 50)
    col = optim.run(s, optim.make_optimizer(name, lr=lrs[:, None]), s.start, 50)
    assert col.params.shape == flat.params.shape == (51, 3, 2)
    assert_same(col, flat)
    for i, lr in enumerate(lrs):
        assert_same(column(col, i), optim.run(s, optim.make_optimizer(name, lr=lr), s.start, 50))
    for bad in (np.ones((3, 2)) * 1e-3, np.ones((1, 3)) * 1e-3, np.ones((2, 2, 1)) * 1e-3):
        with pytest.raises(ValueError, match=r"shape \(k,\).*\(k, 1\)"):
            optim.make_optimizer(name, lr=bad)
