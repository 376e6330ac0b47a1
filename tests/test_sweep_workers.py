"""Big maps on every core: a batch split between worker processes gives the answer the
server's own process gives, to the bit, with progress; any trouble with the workers only
means the batch is computed in-process."""

from __future__ import annotations

import copy
import importlib
import logging
import os
import pickle
import signal
import time

import numpy as np
import pytest

import optim
from optim.sweep import sample_settings
from optim.workers import WorkerPool

sweep_module = importlib.import_module("optim.sweep")  # optim.sweep is the function

FIELDS = ("final_loss", "status", "steps", "distance", "final_params")


@pytest.fixture(scope="module")
def pool():
    """Two map workers, booted, whatever this machine's CPUs (1 CPU would mean none)."""
    pool = WorkerPool("optim.sweep:_work", 2, None, sweep_module.CPU_LIMIT_S, progress=True)
    assert pool.wait_ready(every=True)
    yield pool
    pool.close()


class Calls:
    """The pool's ``call_each``, counting the batches the workers answered."""

    def __init__(self, pool: WorkerPool) -> None:
        self.pool, self.answered, self.sent = pool, 0, []

    def call_each(self, args, timeout, on_progress=None):
        self.sent.append(args)
        out = self.pool.call_each(args, timeout, on_progress)
        self.answered += 1
        self.replies = out
        return out


@pytest.fixture
def workers(pool, monkeypatch):
    """Every batch of at least 2 trajectories goes to the two workers."""
    assert pool.wait_ready(every=True)  # a test that killed one: its replacement is up
    calls = Calls(pool)
    monkeypatch.setattr(sweep_module, "_pool", calls)
    monkeypatch.setattr(sweep_module, "WORKERS", 2)
    monkeypatch.setattr(sweep_module, "PARALLEL_FROM", 0)
    monkeypatch.setattr(sweep_module, "MIN_PART", 1)
    return calls


def in_process(fn, monkeypatch):
    with monkeypatch.context() as m:
        m.setattr(sweep_module, "WORKERS", 0)
        return fn()


def assert_same(a, b) -> None:
    for name in FIELDS:
        x, y = getattr(a, name), getattr(b, name)
        assert x.dtype == y.dtype and x.shape == y.shape, name
        np.testing.assert_array_equal(x, y, err_msg=name, strict=True)  # NaN where NaN
        assert x.tobytes() == y.tobytes(), name  # and the very bits (-0.0 is not 0.0)


def momentum_map(problem=None, **kw):
    s = problem or optim.make_surface("rosenbrock")
    lrs = np.geomspace(1e-5, 1e-2, 23)
    mus = np.linspace(0.0, 0.99, 17)
    return optim.sweep(s, "momentum", {"momentum": mus, "lr": lrs}, steps=300, tol=1e-4, **kw)


def test_a_map_in_the_workers_is_the_map_computed_here(workers, monkeypatch):
    res = momentum_map(chunk=100)  # 391 cells: 2 workers x 2 passes
    assert workers.answered == 1 and len(workers.sent[0]) == 2
    # stopped early, diverged and ran-out cells in both halves of the batch
    for half in np.array_split(res.status.ravel(), 4):  # each pass
        assert set(half) == {"converged", "diverged", "max_steps"}
    assert_same(res, in_process(momentum_map, monkeypatch))
    # what crosses the pipes is a few numbers per trajectory
    for args, reply in zip(workers.sent[0], workers.replies, strict=True):
        cells = sum(p.k for p in args[1])
        assert len(pickle.dumps(args)) < 2000 + 100 * cells
        assert len(pickle.dumps(reply)) < 1000 + 100 * cells


def test_random_search_formula_and_data_problems_in_the_workers(workers, monkeypatch):
    draws = sample_settings("adam", 301, seed=4)
    formula = optim.surface_from_expression("sin(3*x)*cos(2*y) + 0.1*(x^2 + y^2) + exp(-x*y)")
    fit = optim.make_surface("linear", label_noise=0.5)  # a data set, as a surface
    cases = [
        lambda: optim.evaluate(optim.make_surface("rastrigin"), "adam", draws, steps=200),
        lambda: optim.evaluate(formula, "adam", draws, steps=200, tol=1e-9),
        lambda: momentum_map(fit, batch_size=7, seed=3, start=(4.0, -0.5)),  # minibatches
        lambda: momentum_map(optim.make_problem("online_linear")),
    ]
    for case in cases:
        before = workers.answered
        res = case()
        assert workers.answered == before + 1
        assert_same(res, in_process(case, monkeypatch))
    assert workers.answered == len(cases)


def test_problems_whose_points_depend_on_their_batch_stay_here(workers):
    # a least-squares fit multiplies matrices: BLAS may round a point differently in
    # another batch, so its sweeps are not split
    data = optim.make_problem("least_squares")
    assert not getattr(data, "elementwise", False)
    momentum_map(data)
    assert workers.sent == []


def test_basins_in_the_workers_are_the_basins_computed_here(workers, monkeypatch):
    s = optim.make_surface("himmelblau")
    xs, ys = np.linspace(-5, 5, 31), np.linspace(-5, 5, 29)

    def both():
        opt = optim.make_optimizer("sgd", lr=0.025)
        return optim.basins(s, opt, xs, ys, steps=100, tol=1e-12)

    b = both()
    assert workers.answered == 1
    here = in_process(both, monkeypatch)
    np.testing.assert_array_equal(b.labels, here.labels, strict=True)
    # every outcome, in each half of the grid the workers shared
    for half in np.array_split(b.labels.ravel(), 2):
        assert {-2, -1} <= set(half) and len(set(half) - {-2, -1}) >= 2


def test_progress_sums_what_each_worker_has_done(workers):
    seen = []
    res = momentum_map(progress=lambda done, total: seen.append((done, total)))
    n = res.status.size
    assert workers.answered == 1
    assert {total for _, total in seen} == {n}
    done = [d for d, _ in seen]
    assert done == sorted(done) and done[-1] == n
    # both workers' progress is in the sums: more than one worker's share before the end
    assert any(n / 2 < d < n for d in done), done
    assert len(set(done)) >= 10


def test_busy_or_broken_workers_mean_the_same_map_computed_here(pool, workers, monkeypatch, caplog):
    expected = in_process(momentum_map, monkeypatch)
    caplog.set_level(logging.INFO, logger="optim.sweep")

    # busy: another map holds a worker; no waiting for it
    with pool._cond:
        held = pool._idle.pop()
    try:
        assert_same(momentum_map(), expected)
        assert workers.answered == 0 and "not free (busy" in caplog.text
    finally:
        pool._release(held)

    # a worker was killed (out of memory, say) while idle
    os.kill(pool.pids()[0], signal.SIGKILL)
    time.sleep(0.1)
    caplog.clear()
    assert_same(momentum_map(), expected)
    assert workers.answered == 0 and "map workers failed" in caplog.text
    assert pool.wait_ready(every=True)  # replaced

    # past the time limit: both workers killed, the batch computed here
    before = set(pool.pids())
    monkeypatch.setattr(sweep_module, "LIMIT_S", -1.0)
    caplog.clear()
    t0 = time.perf_counter()
    assert_same(momentum_map(), expected)
    assert time.perf_counter() - t0 < 30
    assert workers.answered == 0 and "TimedOut" in caplog.text
    assert not before & set(pool.pids())
    monkeypatch.setattr(sweep_module, "LIMIT_S", 60.0)
    assert pool.wait_ready(every=True)
    assert_same(momentum_map(), expected)
    assert workers.answered == 1


def test_a_problem_that_cannot_be_pickled_is_computed_here_and_costs_no_worker(
    pool, workers, monkeypatch, caplog
):
    s = copy.copy(optim.make_surface("rosenbrock"))  # surfaces are shared: change a copy
    s.note = lambda: "a lambda does not pickle"
    expected = in_process(lambda: momentum_map(s), monkeypatch)
    before = set(pool.pids())
    assert_same(momentum_map(s), expected)
    assert workers.answered == 0 and "map workers failed" in caplog.text
    assert set(pool.pids()) == before and pool.idle() == 2


def test_workers_that_cannot_start_mean_the_same_map_computed_here(workers, monkeypatch, caplog):
    expected = in_process(momentum_map, monkeypatch)
    broken = WorkerPool("optim.sweep:no_such_function", 2, None, progress=True)
    try:
        assert not broken.wait_ready()  # each worker failed at its start
        workers.pool = broken
        assert_same(momentum_map(), expected)
        assert workers.answered == 0 and "computed in-process" in caplog.text
    finally:
        broken.close()


def test_a_progress_callback_that_raises_stops_the_workers(pool, workers):
    class Stop(BaseException):  # a rerun of the page stops its script like this
        pass

    def stop(done, total):
        raise Stop

    before = set(pool.pids())
    with pytest.raises(Stop):
        momentum_map(progress=stop)
    # the workers computing the abandoned map were killed, not left to finish it
    assert not before & set(pool.pids())
    assert pool.wait_ready(every=True)


def test_one_usable_cpu_means_no_workers(monkeypatch, tmp_path):
    monkeypatch.delenv("PLAYGROUND_MAP_WORKERS", raising=False)
    quota = tmp_path / "cpu.max"
    monkeypatch.setattr(sweep_module, "CPU_MAX", quota)
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 1, 2, 3, 4, 5})
    assert sweep_module.map_workers() == 4  # no quota file: the CPUs, at most 4
    for text, expected in [("max 100000", 4), ("200000 100000", 2), ("150000 100000", 0)]:
        quota.write_text(text + "\n")
        assert sweep_module.map_workers() == expected, text
    quota.write_text("max 100000\n")
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {3})
    assert sweep_module.map_workers() == 0
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 1})
    for setting, expected in [("0", 0), ("1", 0), ("3", 3), ("many", 2)]:
        monkeypatch.setenv("PLAYGROUND_MAP_WORKERS", setting)
        assert sweep_module.map_workers() == expected, setting

    # no workers: a big map never starts or asks a pool (an error from the pool would
    # only make the map fall back in-process, so each ask is noted, not raised)
    asked = []

    class NoPool:
        def start(self, *args):
            asked.append("start")

        def call_each(self, *args, **kwargs):
            asked.append("call_each")
            raise AssertionError("asked")

    monkeypatch.setattr(sweep_module, "_pool", NoPool())
    monkeypatch.setattr(sweep_module, "WORKERS", 0)
    monkeypatch.setattr(sweep_module, "PARALLEL_FROM", 0)
    monkeypatch.setattr(sweep_module, "MIN_PART", 1)
    sweep_module.start_workers()
    assert momentum_map().status.shape == (17, 23)
    assert asked == []


def test_a_pool_refuses_a_cpu_limit_its_workers_could_not_start_with():
    # the limit is written into each worker's command line: inf or nan would not run there
    for limit in (float("inf"), float("nan"), 0.0):
        with pytest.raises(ValueError):
            WorkerPool("time:sleep", 1, 0, limit)


def test_small_batches_stay_in_this_process(workers, monkeypatch):
    monkeypatch.setattr(sweep_module, "PARALLEL_FROM", 23 * 17 * 300 + 1)
    momentum_map()
    monkeypatch.setattr(sweep_module, "PARALLEL_FROM", 0)
    monkeypatch.setattr(sweep_module, "MIN_PART", 23 * 17 // 2 + 1)  # parts too small
    momentum_map()
    assert workers.sent == []
    monkeypatch.setattr(sweep_module, "MIN_PART", 23 * 17 // 2)
    momentum_map()
    assert len(workers.sent) == 1
