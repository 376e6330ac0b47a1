"""Many runs at once: hyperparameter maps, basins of attraction, random-search races.

A race shows one setting; these show how the outcome changes with the setting.
Each function runs every cell in one vectorized :func:`optim.run` pass with
``record="final"`` (cut into chunks of some ten thousand trajectories, which keeps the
working set near the processor's cache). A cell is the
very run :func:`optim.run` makes with that cell's settings alone: every update rule
is elementwise per trajectory, so batching changes no bit of the result.

* :func:`sweep`: the outcome over a grid of hyperparameter values;
* :func:`evaluate`: the outcome of a list of settings (a random search);
* :func:`basins`: which minimum each start of a grid of starts ends in;
* :func:`find_minima`: the local minima of a 2-D surface, found numerically;
* :func:`axis_values`, :func:`sample_settings`: grids and random draws that follow each
  hyperparameter's slider (log-spaced where the slider is logarithmic).

A big batch (``PARALLEL_FROM`` trajectory-steps and more) is cut into one part per worker
process (:data:`WORKERS`, one a usable CPU) and the parts run at once, on every core; the
parts are joined as the passes are, so the answer is the same to the bit. When the
workers are not ready, busy with another map, or fail, the batch runs here instead.

>>> import numpy as np, optim
>>> s = optim.make_surface("bowl")
>>> res = optim.sweep(s, "momentum", {"lr": [0.01, 0.1, 1.0], "momentum": [0.0, 0.9]}, steps=100)
>>> res.final_loss.shape, str(res.status[2, 1])
((3, 2), 'diverged')
"""

from __future__ import annotations

import logging
import math
import os
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from .optimizers import OPTIMIZERS, make_optimizer
from .params import Param
from .run import run
from .workers import Busy, WorkerPool

# trajectories per pass at most: bigger batches are cut into equal parts, which bounds the
# memory of a pass (a few MB). Every pass pays the same Python cost per step whatever its
# size, so fewer passes are faster: a 200 x 200 basin map ran about 12% faster in one pass
# than in three of 13,334 (glibc's fresh pages above 128 KiB, which once made passes over
# 16,384 points slower, came to some 3,000 minor page faults for the whole map)
CHUNK = 65536
Progress = Callable[[int, int], Any]  # (cells done, cells in all)

# Worker processes: a batch of PARALLEL_FROM trajectory-steps or more is split between them,
# in parts of MIN_PART trajectories at least. Every part pays Python's cost of a step again
# (some 50 us, the arithmetic of several thousand trajectories), and a call costs ~3 ms of
# pickles and wake-ups. Measured on two cores (CPU time of the busiest worker against one
# process, Adam on Rosenbrock): 2 x 1,000 trajectories gain 5%, 2 x 2,000 15-20%,
# 2 x 5,000 40%, 2 x 10,000 and more 50-60%; 10,000 x 100 steps (1M) nothing, 2M 15%.
PARALLEL_FROM = 2_000_000
MIN_PART = 2000
MAX_WORKERS = 4  # a map's parts at most
# wall time for a batch in the workers, past which they are killed (and the batch computed
# here): LIMIT_S, plus 1 us per trajectory-step of a part (some 30 times what one takes)
LIMIT_S, LIMIT_PER_STEP_S = 60.0, 1e-6
CPU_LIMIT_S = 600.0  # CPU seconds a worker may spend on one part (if its server is gone)
CPU_MAX = Path("/sys/fs/cgroup/cpu.max")  # the cgroup v2 CPU quota, where there is one
_log = logging.getLogger(__name__)


# -- hyperparameters as sliders -------------------------------------------------------------
def slider_specs(optimizer: str) -> dict[str, Param]:
    """Every slider of an optimizer by name (``betas[0]``, ``betas[1]`` for a pair)."""
    return {p.name: p for p in OPTIMIZERS[optimizer].slider_specs()}


def axis_values(spec: Param, n: int, low: float | None = None, high: float | None = None):
    """``n`` values of one hyperparameter from ``low`` to ``high`` (its slider's range by
    default), evenly spaced on the slider's own scale: geometric where it is logarithmic.

    >>> from optim.optimizers.base import lr_hparam
    >>> axis_values(lr_hparam(1e-3), 3, 1e-3, 1e-1).tolist()
    [0.001, 0.01, 0.1]
    """
    if spec.kind not in ("float", "int"):
        raise ValueError(f"{spec.name} is not a number that can be swept")
    lo = float(spec.low if low is None else low)
    hi = float(spec.high if high is None else high)
    if not (math.isfinite(lo) and math.isfinite(hi) and lo <= hi):
        raise ValueError(f"the range of {spec.name} must be finite with low <= high")
    if n < 1:
        raise ValueError("an axis needs at least one value")
    if spec.log:
        if lo <= 0:
            raise ValueError(f"{spec.name} is on a log scale: its range must be positive")
        return np.geomspace(lo, hi, n)
    return np.linspace(lo, hi, n)


def settings_kwargs(optimizer: str, values: Mapping[str, Any]) -> dict[str, Any]:
    """Slider values (``lr``, ``betas[0]`` ...) to constructor arguments; sliders not
    given keep their defaults, a pair given whole (``betas=(0.9, 0.99)``) is accepted.

    >>> settings_kwargs("adam", {"betas[0]": 0.5})["betas"]
    (0.5, 0.999)
    """
    specs = slider_specs(optimizer)
    flat = {name: spec.default for name, spec in specs.items()}
    for key, value in values.items():
        parent = [n for n in specs if n.startswith(f"{key}[")]
        if parent and isinstance(value, (tuple, list)):
            for i, name in enumerate(parent):
                flat[name] = value[i]
        elif key in specs:
            flat[key] = value
        else:
            raise ValueError(
                f"{OPTIMIZERS[optimizer].label} has no hyperparameter {key!r}; "
                f"it takes {', '.join(specs)}"
            )
    out: dict[str, Any] = {}
    for name, value in flat.items():
        m = re.fullmatch(r"(\w+)\[(\d+)\]", name)
        if m:
            out[m[1]] = (*out.get(m[1], ()), value)
        else:
            out[name] = value
    return out


# -- running a batch of settings ------------------------------------------------------------
@dataclass
class SweepResult:
    """The outcome of every cell; arrays have the grid's ``shape`` (one axis per swept
    hyperparameter, in the order given; a flat list of settings has one axis).

    ``final_loss`` and ``distance`` (to the nearest known minimum) are NaN where a run
    diverged; ``status`` is ``"max_steps"``, ``"converged"`` or ``"diverged"``; ``steps``
    the steps taken; ``final_params`` ``(*shape, dim)`` where each run stopped.
    """

    optimizer: str
    axes: dict[str, np.ndarray]
    settings: dict[str, np.ndarray]  # every slider, broadcast to the grid's shape
    final_loss: np.ndarray
    status: np.ndarray
    steps: np.ndarray
    distance: np.ndarray
    final_params: np.ndarray
    run_options: dict = field(default_factory=dict)  # start, steps, tol, ... as passed to run

    @property
    def shape(self) -> tuple[int, ...]:
        return self.status.shape

    @property
    def diverged(self) -> np.ndarray:
        return self.status == "diverged"

    def cell(self, *index: int) -> dict[str, Any]:
        """The constructor arguments of one cell: ``make_optimizer(res.optimizer, **res.cell(i, j))``."""
        return settings_kwargs(
            self.optimizer, {k: _plain(v[index]) for k, v in self.settings.items()}
        )

    def metric(self, name: str) -> np.ndarray:
        """``"final_loss"``, ``"steps"`` (steps to the tolerance: NaN where the run did
        not converge) or ``"distance"``; NaN where a run diverged."""
        if name == "final_loss":
            return self.final_loss
        if name == "distance":
            return self.distance
        if name == "steps":
            return np.where(self.status == "converged", self.steps.astype(np.float64), np.nan)
        raise ValueError(f"unknown metric {name!r}; choose final_loss, steps or distance")


def _plain(v: Any) -> Any:
    return v.item() if isinstance(v, np.generic) else v


def evaluate(
    problem: Any,
    optimizer: str,
    settings: Mapping[str, Any],
    *,
    start: Any = None,
    steps: int = 500,
    fixed: Mapping[str, Any] | None = None,
    progress: Progress | None = None,
    chunk: int = CHUNK,
    **run_options: Any,
) -> SweepResult:
    """Run one trajectory per entry of the ``settings`` arrays (all of one length ``k``,
    or scalars), from the same ``start`` (the problem's own by default).

    ``settings`` and ``fixed`` use slider names (``lr``, ``betas[0]``) or whole pairs;
    ``run_options`` go to :func:`optim.run` (``tol``, ``patience``, ``bound``, ``noise``,
    ``seed``, ``batch_size``). The result's arrays have shape ``(k,)``.
    """
    arrays = {k: np.asarray(v, dtype=np.float64) for k, v in settings.items()}
    lengths = {a.size for a in arrays.values() if a.ndim}
    if len(lengths) > 1 or any(a.ndim > 1 for a in arrays.values()):
        raise ValueError("every setting must be a number or a 1-D array, all of one length")
    k = lengths.pop() if lengths else 1
    flat = {k_: np.broadcast_to(a, (k,)) for k_, a in arrays.items()}
    return _run_cells(
        problem, optimizer, flat, (k,), {}, start, steps, fixed, progress, chunk, run_options
    )


def sweep(
    problem: Any,
    optimizer: str,
    axes: Mapping[str, Sequence[float]],
    *,
    start: Any = None,
    steps: int = 500,
    fixed: Mapping[str, Any] | None = None,
    progress: Progress | None = None,
    chunk: int = CHUNK,
    **run_options: Any,
) -> SweepResult:
    """The outcome of every combination of the ``axes`` values (``{"lr": lrs, ...}``).

    The result's arrays have shape ``(len(axis 1), len(axis 2), ...)``. Any float
    hyperparameter can be an axis (a pair's part by its slider name, ``betas[0]``);
    ``fixed`` sets others (defaults: torch's). ``run_options`` as in :func:`evaluate`.
    """
    specs = slider_specs(optimizer)
    values = {}
    for name, v in axes.items():
        if name not in specs or specs[name].kind == "bool":
            raise ValueError(f"{name!r} is not a numeric hyperparameter of {optimizer!r}")
        values[name] = np.asarray(v, dtype=np.float64).reshape(-1)
    grids = np.meshgrid(*values.values(), indexing="ij")
    shape = grids[0].shape if grids else ()
    flat = {name: g.reshape(-1) for name, g in zip(values, grids, strict=True)}
    return _run_cells(
        problem, optimizer, flat, shape, values, start, steps, fixed, progress, chunk, run_options
    )


def _run_cells(
    problem, optimizer, flat, shape, axes, start, steps, fixed, progress, chunk, run_options
) -> SweepResult:
    if optimizer not in OPTIMIZERS:
        raise ValueError(f"unknown optimizer {optimizer!r}; choose one of {', '.join(OPTIMIZERS)}")
    start = np.asarray(problem.start if start is None else start, dtype=np.float64)
    n = int(np.prod(shape))
    # every slider's value per cell: fixed ones first, the swept ones over them
    base = settings_kwargs(optimizer, dict(fixed or {}))
    scalars = {s: base_value(base, s) for s in slider_specs(optimizer)}

    def cells(lo: int, hi: int) -> _Pass:
        values = {**scalars, **{k: v[lo:hi] for k, v in flat.items()}}
        return _Pass(
            make_optimizer(optimizer, **settings_kwargs(optimizer, values)), start, hi - lo
        )

    out = _outcomes(problem, cells, n, steps, chunk, progress, run_options)
    diverged = out.status == "diverged"
    loss = np.where(diverged, np.nan, out.final_loss)
    dist = np.where(diverged, np.nan, out.final_distance)
    settings = {
        k: (flat[k].reshape(shape) if k in flat else np.full(shape, v, dtype=object))
        for k, v in scalars.items()
    }
    return SweepResult(
        optimizer=optimizer,
        axes=dict(axes),
        settings=settings,
        final_loss=loss.reshape(shape),
        status=out.status.reshape(shape),
        steps=out.stop_step.reshape(shape),
        distance=dist.reshape(shape),
        final_params=out.final_params.reshape(shape + (-1,)),
        run_options={"start": start, "steps": int(steps), **run_options},
    )


def _passes(n: int, chunk: int, multiple: int = 1) -> list[tuple[int, int]]:
    """``(lo, hi)`` of each pass: ``n`` cells in equal parts of at most ``chunk``, as many
    parts as a multiple of ``multiple``."""
    fewest = -(-n // max(1, int(chunk)))  # ceil(n / chunk)
    parts = -(-fewest // multiple) * multiple
    edges = [n * i // max(parts, 1) for i in range(parts + 1)]
    return list(zip(edges[:-1], edges[1:], strict=True))


def _within(progress: Progress | None, lo: int, hi: int, n: int):
    """A run's ``progress(t, steps)`` as the cells of the whole batch done so far."""
    if progress is None:
        return None
    return lambda t, steps: progress(lo + (hi - lo) * t // max(steps, 1), n)


# -- passes, here or in worker processes --------------------------------------------------------
class _Pass(NamedTuple):
    """``k`` trajectories run together: ``opt`` (its hyperparameters per trajectory or
    shared) from ``start``, one point ``(dim,)`` for all or ``(k, dim)``."""

    opt: Any
    start: np.ndarray
    k: int


class _Final(NamedTuple):
    """What a sweep keeps of each trajectory: a few numbers, small enough to send back
    through a worker's pipe (a 10,000-trajectory part is well under a megabyte)."""

    final_params: np.ndarray
    final_loss: np.ndarray
    status: np.ndarray
    stop_step: np.ndarray
    final_distance: np.ndarray

    @classmethod
    def of(cls, traj: Any) -> _Final:
        return cls(
            traj.final_params, traj.final_loss, traj.status, traj.stop_step, traj.final_distance
        )

    @classmethod
    def join(cls, parts: Sequence[_Final]) -> _Final:
        """The parts one after the other, as one batch."""
        return cls(*(np.concatenate(column) for column in zip(*parts, strict=True)))


def _run_passes(problem, passes, steps, run_options, progress=None) -> _Final:
    """Run each pass in turn (``record="final"``) and join them; progress in trajectories."""
    n = sum(p.k for p in passes)
    parts, lo = [], 0
    for opt, start, k in passes:
        traj = run(
            problem,
            opt,
            np.broadcast_to(start, (k, start.shape[-1])),
            steps,
            record="final",
            progress=_within(progress, lo, lo + k, n),
            **run_options,
        )
        parts.append(_Final.of(traj))
        lo += k
        if progress is not None:
            progress(lo, n)
    return _Final.join(parts)


def _outcomes(
    problem: Any,
    cells: Callable[[int, int], _Pass],
    n: int,
    steps: int,
    chunk: int,
    progress: Progress | None,
    run_options: dict,
) -> _Final:
    """The outcome of ``n`` trajectories, ``cells(lo, hi)`` being those from ``lo`` to
    ``hi``: in the workers when the batch is big enough and they are free, else here."""
    workers = min(WORKERS, n // MIN_PART)
    exact = getattr(problem, "elementwise", False)  # the same bits in parts (see Problem)
    if workers > 1 and exact and n * int(steps) >= PARALLEL_FROM:
        parts = _parts(n, chunk, workers)
        groups = [[cells(lo, hi) for lo, hi in part] for part in parts]
        out = _in_workers(problem, groups, steps, run_options, progress)
        if out is not None:
            return out
        # the same passes here: the same bits, since the problem's points are independent
        return _run_passes(problem, [p for g in groups for p in g], steps, run_options, progress)
    passes = [cells(lo, hi) for lo, hi in _passes(n, chunk)]
    return _run_passes(problem, passes, steps, run_options, progress)


def _parts(n: int, chunk: int, workers: int) -> list[list[tuple[int, int]]]:
    """``(lo, hi)`` of each worker's passes, in order: equal passes of at most ``chunk``
    cells, as many for each worker (``n >= workers``)."""
    bounds = _passes(n, chunk, workers)
    per = len(bounds) // workers
    return [bounds[i * per : (i + 1) * per] for i in range(workers)]


def _in_workers(problem, groups, steps, run_options, progress) -> _Final | None:
    """Each group of passes in a worker of its own, all at once; ``None`` when the
    workers cannot take them (not started yet, busy with another map, or failing)."""
    sizes = [sum(p.k for p in group) for group in groups]
    n, done = sum(sizes), [0] * len(groups)

    def on_progress(i: int, cells: int) -> None:
        done[i] = min(int(cells), sizes[i])
        if progress is not None:
            progress(sum(done), n)

    args = [(problem, group, steps, run_options) for group in groups]
    limit = LIMIT_S + LIMIT_PER_STEP_S * max(sizes) * int(steps)
    try:
        parts = _pool.call_each(args, limit, on_progress)
    except Busy:
        _log.warning(
            "map workers not free (busy with another map, starting, or failing to start): "
            "%d trajectories computed in-process",
            n,
        )
        return None
    except Exception as err:  # noqa: BLE001 (any failure: the same answer, computed here)
        _log.warning("map workers failed (%s: %s); computing in-process", type(err).__name__, err)
        return None
    return _Final.join(parts)


def _work(arg: Any, report: Callable[[Any], Any]) -> _Final:
    """A worker's job: one group of passes; ``report`` sends the trajectories done."""
    if arg is None:  # the warm-up: a first run pays NumPy's and SymPy's first-use costs
        from .surfaces import make_surface  # noqa: PLC0415 (only the workers need it)

        rates = np.array([0.1, 0.01])
        arg = (
            make_surface("bowl"),
            [_Pass(make_optimizer("adam", lr=rates), np.ones(2), 2)],
            3,
            {},
        )
    problem, passes, steps, run_options = arg
    return _run_passes(problem, passes, steps, run_options, lambda cells, _: report(cells))


def usable_cpus() -> int:
    """The CPUs this process may run on: its affinity, within a cgroup's CPU quota."""
    try:
        n = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        n = os.cpu_count() or 1
    try:  # cgroup v2: "max 100000" (no quota) or "150000 100000" (1.5 CPUs: 1 whole one)
        quota, period = CPU_MAX.read_text().split()[:2]
        if quota != "max":
            n = min(n, max(1, int(quota) // int(period)))
    except (OSError, ValueError):
        pass
    return n


def map_workers() -> int:
    """How many worker processes share a big batch: ``PLAYGROUND_MAP_WORKERS`` if set, else
    the usable CPUs, at most MAX_WORKERS; 0 (every batch in-process) where that is one."""
    setting = os.environ.get("PLAYGROUND_MAP_WORKERS", "").strip()
    n = min(usable_cpus(), MAX_WORKERS)
    if setting:
        try:
            n = max(0, min(int(setting), MAX_WORKERS))
        except ValueError:
            _log.warning("PLAYGROUND_MAP_WORKERS=%r is not a number; using %d", setting, n)
    return n if n > 1 else 0


def start_workers() -> None:
    """Boot the map workers now, in the background, so that a first big map can use them
    (a map asked for before they are ready is computed in-process)."""
    if WORKERS > 1:
        _pool.start()


def base_value(kwargs: Mapping[str, Any], slider: str) -> Any:
    """One slider's value from constructor arguments (``betas[1]`` from ``betas``)."""
    m = re.fullmatch(r"(\w+)\[(\d+)\]", slider)
    return kwargs[m[1]][int(m[2])] if m else kwargs[slider]


# -- random search ---------------------------------------------------------------------------
# Weight decay is left at its default: it changes the objective being minimised, so a race
# that tuned it would compare optimizers on different problems.
NOT_TUNED = ("weight_decay",)


def tunable(optimizer: str) -> list[str]:
    """The sliders a fair race draws at random: every float one but those in ``NOT_TUNED``
    and those the optimizer only accepts at their default (Nesterov's dampening)."""
    out = []
    for name, spec in slider_specs(optimizer).items():
        if spec.kind != "float" or name in NOT_TUNED:
            continue
        try:
            mid = settings_kwargs(optimizer, {name: (spec.low + spec.high) / 2})
            make_optimizer(optimizer, **mid)
        except ValueError:
            continue
        out.append(name)
    return out


def sample_settings(
    optimizer: str,
    n: int,
    seed: int = 0,
    ranges: Mapping[str, tuple[float, float]] | None = None,
    names: Sequence[str] | None = None,
) -> dict[str, np.ndarray]:
    """``n`` random settings: each slider in ``names`` (default :func:`tunable`) drawn
    uniformly over its range, log-uniformly where the slider is logarithmic.

    The draws of one slider depend only on ``seed`` and the slider's name, so two
    optimizers with the same seed see the same luck on the sliders they share.

    >>> s = sample_settings("adam", 1000, seed=1)
    >>> bool(s["lr"].min() >= 1e-5 and s["lr"].max() <= 10 and np.median(s["lr"]) < 0.1)
    True
    """
    specs = slider_specs(optimizer)
    out = {}
    for name in tunable(optimizer) if names is None else names:
        spec = specs[name]
        lo, hi = (ranges or {}).get(name, (spec.low, spec.high))
        # a stable per-name stream (Python's hash() of a str changes between processes)
        rng = np.random.default_rng([int(seed), *name.encode()])
        u = rng.random(int(n))
        out[name] = (
            np.exp(np.log(lo) + u * (np.log(hi) - np.log(lo))) if spec.log else lo + u * (hi - lo)
        )
    return out


# -- basins of attraction --------------------------------------------------------------------
@dataclass
class Basins:
    """Where each start of a grid ended: ``labels`` ``(len(ys), len(xs))`` holds the index
    into ``minima`` of the minimum reached, ``-1`` for none (still on its way, or stuck
    elsewhere), ``-2`` for a diverged run. ``np.asarray(basins)`` is ``labels``.
    """

    labels: np.ndarray
    minima: np.ndarray  # (m, 2)
    values: np.ndarray  # (m,) the loss at each minimum
    xs: np.ndarray
    ys: np.ndarray
    radius: float

    NONE = -1
    DIVERGED = -2

    def __array__(self, dtype=None, copy=None):
        return self.labels if dtype is None else self.labels.astype(dtype)

    @property
    def shape(self) -> tuple[int, ...]:
        return self.labels.shape

    @property
    def is_global(self) -> np.ndarray:
        """``(m,)``: which minima are global (lowest loss, to rounding)."""
        if len(self.values) == 0:
            return np.zeros(0, dtype=bool)
        best = np.min(self.values)
        return self.values <= best + 1e-9 * (1.0 + abs(best))

    @property
    def share_global(self) -> float:
        """The share of starts that reached a global minimum."""
        hit = np.isin(self.labels, np.flatnonzero(self.is_global))
        return float(hit.mean()) if hit.size else float("nan")

    def shares(self) -> dict[int, float]:
        """Share of starts per label (minimum index, -1 none, -2 diverged)."""
        labels, counts = np.unique(self.labels, return_counts=True)
        return {int(k): float(c) / self.labels.size for k, c in zip(labels, counts, strict=True)}


def basins(
    problem: Any,
    optimizer: Any,
    xs: Sequence[float],
    ys: Sequence[float],
    steps: int = 300,
    *,
    minima: Any = None,
    radius: float | None = None,
    progress: Progress | None = None,
    chunk: int = CHUNK,
    **run_options: Any,
) -> Basins:
    """Run ``optimizer`` (an optimizer, or a name for torch's defaults) from every start
    ``(x, y)`` of the grid and label each start by the minimum it reached.

    ``minima`` defaults to ``problem.minima``; pass :func:`find_minima`'s result when the
    known list is incomplete. A run reached a minimum when it ends within ``radius`` of
    it: by default a quarter of the closest distance between two minima, at most 2% of
    the grid's diagonal.
    """
    opt = make_optimizer(optimizer) if isinstance(optimizer, str) else optimizer
    xs = np.asarray(xs, dtype=np.float64).reshape(-1)
    ys = np.asarray(ys, dtype=np.float64).reshape(-1)
    mins = np.asarray(problem.minima if minima is None else minima, np.float64).reshape(-1, 2)
    if radius is None:
        diag = math.hypot(np.ptp(xs), np.ptp(ys)) or 1.0
        radius = 0.02 * diag
        if len(mins) > 1:
            gaps = np.linalg.norm(mins[:, None] - mins[None], axis=-1)
            radius = min(radius, 0.25 * float(gaps[np.triu_indices(len(mins), 1)].min()))
    X, Y = np.meshgrid(xs, ys)  # rows follow y, like an image
    starts = np.stack([X.ravel(), Y.ravel()], axis=-1)
    out = _outcomes(
        problem,
        lambda lo, hi: _Pass(opt, starts[lo:hi], hi - lo),
        len(starts),
        steps,
        chunk,
        progress,
        run_options,
    )
    labels = _label(out.final_params, out.status == "diverged", mins, radius)
    values = (
        np.asarray(problem.value_and_grad(mins)[0], np.float64).reshape(-1)
        if len(mins)
        else np.zeros(0)
    )
    return Basins(labels.reshape(len(ys), len(xs)), mins, values, xs, ys, float(radius))


def _label(final: np.ndarray, diverged: np.ndarray, minima: np.ndarray, radius: float):
    """Each final point's nearest minimum within ``radius`` (the first of equally near ones),
    ``NONE`` or ``DIVERGED``. One minimum at a time: the distances are np.linalg.norm's,
    sqrt(dx^2 + dy^2), without an (n, m, 2) array of differences (a tenth of a basin map's
    time went to it)."""
    x, y = final[:, 0], final[:, 1]
    best = np.full(len(final), np.inf)
    nearest = np.full(len(final), Basins.NONE)
    for j, (mx, my) in enumerate(minima):
        dx, dy = x - mx, y - my
        d = np.sqrt(dx * dx + dy * dy)
        closer = d < best  # NaN (a diverged run) is never closer
        np.copyto(best, d, where=closer)
        nearest[closer] = j
    out = np.where(best <= radius, nearest, Basins.NONE)
    return np.where(diverged, Basins.DIVERGED, out)


def find_minima(
    surface: Any, bounds: Any = None, n: int = 41, known: Any = None, margin: float = 0.25
) -> np.ndarray:
    """The local minima of a 2-D surface in its window (widened by ``margin`` on each side),
    found by Newton's method from an ``n`` x ``n`` grid of starts and kept where the
    gradient vanishes and the Hessian is positive definite.

    ``known`` minima (default ``surface.minima``) come first, in their order, so their
    indices stay the same; the ones found are added after them, sorted by loss.

    >>> from optim.surfaces import make_surface
    >>> len(find_minima(make_surface("camel")))  # the two known global ones and four more
    6
    """
    from .surfaces import polish_minima

    (x0, x1), (y0, y1) = surface.bounds if bounds is None else bounds
    wx, wy = (x1 - x0) * margin, (y1 - y0) * margin
    X, Y = np.meshgrid(np.linspace(x0 - wx, x1 + wx, n), np.linspace(y0 - wy, y1 + wy, n))
    pts = polish_minima(surface, np.stack([X.ravel(), Y.ravel()], -1))
    scale = max(x1 - x0, y1 - y0)
    with np.errstate(all="ignore"):
        g = np.linalg.norm(surface.grad(pts), axis=-1)
        h = surface.hessian(pts)
        f = surface.loss(pts)
    a, b, d = h[:, 0, 0], h[:, 0, 1], h[:, 1, 1]
    inside = (
        (pts[:, 0] >= x0 - wx)
        & (pts[:, 0] <= x1 + wx)
        & (pts[:, 1] >= y0 - wy)
        & (pts[:, 1] <= y1 + wy)
    )
    gscale = 1e-6 * (1.0 + np.abs(f))
    ok = np.isfinite(f) & inside & (g <= gscale) & (a > 0) & (a * d - b * b > 0)
    known = np.asarray(surface.minima if known is None else known, np.float64).reshape(-1, 2)
    found = [tuple(p) for p in known]
    tol = 1e-6 * scale
    for i in np.argsort(np.where(ok, f, np.inf)):
        if not ok[i]:
            break
        p = pts[i]
        if all(math.hypot(p[0] - q[0], p[1] - q[1]) > tol for q in found):
            found.append((float(p[0]), float(p[1])))
    return np.array(found, dtype=np.float64).reshape(-1, 2)


# the workers are made at import but start only when asked (start_workers, or a big batch):
# a process that never computes a big map never starts them
WORKERS = map_workers()
_pool = WorkerPool("optim.sweep:_work", max(WORKERS, 1), None, CPU_LIMIT_S, progress=True)
