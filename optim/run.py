"""Run an optimizer on a surface and record everything the app plots.

One call runs a whole batch of trajectories in one pass: ``start`` of shape
``(k, 2)`` gives ``k`` starts, and a hyperparameter given as an array of shape
``(k,)`` gives each trajectory its own value. Trajectories stop on their own:

* ``"diverged"`` when the parameters or the loss stop being finite or exceed
  ``bound`` in absolute value; the row that blew up is dropped (NaN), the finite
  prefix is kept, and ``message`` says why in words;
* ``"converged"`` when the loss changed by less than ``tol`` for ``patience``
  consecutive steps;
* ``"max_steps"`` otherwise. Rows after a stop are NaN; a stopped trajectory does
  not move any more, and the loop ends as soon as every trajectory has stopped.

Stochastic gradients share one random stream across the batch (common random
numbers): every trajectory sees the same minibatches and the same gradient
noise at the same step, so differences between them come from the optimizer,
not from luck, and a batch equals the same runs made one at a time.

>>> import optim
>>> s = optim.make_surface("bowl")
>>> traj = optim.run(s, optim.make_optimizer("sgd", lr=0.1), s.start, 100)
>>> str(traj.status), traj.params.shape
('max_steps', (101, 2))
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .diagnose import explain
from .params import Param
from .schedules import Schedule, make_schedule

RECORDS = ("all", "path", "final")
biggest, smallest = np.maximum.reduce, np.minimum.reduce
PROGRESS_EVERY = 25  # steps between two progress calls


@dataclass
class Trajectory:
    """What a run did; ``B`` is the batch shape, ``()`` or ``(k,)``, ``d`` the dimension.

    History (``None`` where the ``record`` mode keeps it not): ``params``
    ``(T+1, *B, d)``, ``loss`` ``(T+1, *B)`` (both kept by ``"all"`` and ``"path"``),
    ``grad``, ``effective_lr`` ``(T, *B, d)``, ``lr`` ``(T, *B)`` (``"all"`` only) and
    ``batches`` (``"all"`` on a data problem with minibatches: the sample indices of
    each step, one array per step, in order). Rows after a stop are NaN.

    Per trajectory, in every mode: ``status`` (``"max_steps"``, ``"converged"``,
    ``"diverged"``), ``stop_step``, ``valid_length`` (rows that hold a real point),
    ``final_params`` ``(*B, d)`` and ``final_loss`` (the last valid row; NaN when the
    start itself was out of bounds), ``blowup_loss`` (the loss of the step that
    diverged, whose row is dropped; NaN for the others) and ``message`` (why it
    stopped, in words; computed on first use).

    The single-run accessors take ``i``, the trajectory's index in a batch, and no
    index for a run of one trajectory: :meth:`n_valid`, :meth:`path`, :meth:`valid`,
    :meth:`final_point`, :meth:`distance`, :meth:`steps_taken`.
    """

    params: np.ndarray | None
    loss: np.ndarray | None
    grad: np.ndarray | None
    effective_lr: np.ndarray | None
    lr: np.ndarray | None
    status: np.ndarray
    stop_step: np.ndarray
    valid_length: np.ndarray
    final_params: np.ndarray
    final_loss: np.ndarray
    blowup_loss: np.ndarray
    problem: Any = None
    optimizer: Any = None
    batches: list[np.ndarray] | None = None
    start: np.ndarray | None = None  # (*B, d), what the diagnosis needs when no history is kept
    start_loss: np.ndarray | None = None
    lr_factors: np.ndarray | None = None  # the schedule's factor of each step
    # ``(T, *B)``, ``"all"`` on a problem with ``batch_loss_and_grad``: each step's minibatch
    # loss at the point the step started from (what a training loop prints), NaN after a stop
    batch_loss: np.ndarray | None = None
    stopping: dict = field(default_factory=dict)  # tol, patience, bound: for the messages
    _message: np.ndarray | None = field(default=None, repr=False)

    @property
    def surface(self) -> Any:
        """The problem, under the name it had when every problem was a 2-D surface."""
        return self.problem

    @property
    def message(self) -> np.ndarray:
        if self._message is None:
            self._message = explain(self, **self.stopping).astype(str)
        return self._message

    @message.setter
    def message(self, value: Any) -> None:
        self._message = np.asarray(value)

    @property
    def steps(self) -> int:
        """Steps requested (the length of the step histories)."""
        return len(self.lr_factors) if self.lr_factors is not None else self.grad.shape[0]

    @property
    def batch_shape(self) -> tuple[int, ...]:
        return self.status.shape

    # -- one trajectory -----------------------------------------------------------------
    def _index(self, i: int | None) -> tuple:
        if i is None:
            if self.batch_shape:
                raise ValueError("this run holds several trajectories: pass the index i")
            return ()
        return (i,)

    def n_valid(self, i: int | None = None) -> int:
        """How many leading rows of the history hold real points (the start included)."""
        return int(self.valid_length[self._index(i)])

    def path(self, i: int | None = None) -> np.ndarray:
        """The valid (finite) rows of one trajectory, shape ``(n, d)``."""
        n, j = self.n_valid(i), self._index(i)
        return self.params[(slice(0, n), *j)]

    def valid(self, i: int | None = None) -> tuple[np.ndarray, np.ndarray]:
        """The valid rows of one trajectory and their losses, ``(n, d)`` and ``(n,)``."""
        n, j = self.n_valid(i), self._index(i)
        return self.params[(slice(0, n), *j)], self.loss[(slice(0, n), *j)]

    def final_point(self, i: int | None = None) -> np.ndarray | None:
        """The last valid point ``(d,)``; ``None`` when even the start was out of bounds."""
        return self.final_params[self._index(i)] if self.n_valid(i) else None

    def distance(self, i: int | None = None) -> float | None:
        """Distance from the final point to the nearest known minimum (``None``: no final
        point, or no known minimum)."""
        d = float(self.final_distance[self._index(i)])
        return d if np.isfinite(d) else None

    def steps_taken(self, i: int | None = None) -> int:
        """Steps the trajectory made before it stopped (the requested steps if it never did)."""
        return int(self.stop_step[self._index(i)])

    # -- every trajectory ----------------------------------------------------------------
    def _minima(self) -> np.ndarray:
        minima = getattr(self.problem, "minima", None)
        d = self.final_params.shape[-1]
        return np.empty((0, d)) if minima is None else np.asarray(minima, np.float64).reshape(-1, d)

    @property
    def final_distance(self) -> np.ndarray:
        """``(*B,)`` distance of each final point to the nearest known minimum (NaN if none)."""
        minima = self._minima()
        if len(minima) == 0:
            return np.full(self.batch_shape, np.nan)
        return np.linalg.norm(self.final_params[..., None, :] - minima, axis=-1).min(axis=-1)

    def distance_to_minimum(self) -> np.ndarray:
        """Distance from each params row to the nearest known minimum, ``(T+1, *B)``.

        NaN everywhere when the problem has no known minimum.
        """
        minima = self._minima()
        if len(minima) == 0:
            return np.full(self.loss.shape, np.nan)
        d = np.linalg.norm(self.params[..., None, :] - minima, axis=-1)
        return d.min(axis=-1)


def _batch_shape(start: np.ndarray, opt: Any) -> tuple[int, ...]:
    shapes = [start.shape[:-1]]
    for v in getattr(opt, "hyper", {}).values():
        for part in v if isinstance(v, tuple) else (v,):
            shapes.append(np.shape(part))
    try:
        return np.broadcast_shapes(*shapes)
    except ValueError:
        raise ValueError(
            f"start of shape {start.shape} and the optimizer's hyperparameter arrays do not "
            "broadcast to one batch"
        ) from None


def _resolve_schedule(schedule: Any) -> Schedule | None:
    if schedule is None:
        return None
    if isinstance(schedule, str):
        return None if schedule == "constant" else make_schedule(schedule)
    if not hasattr(schedule, "factors"):
        raise ValueError(f"schedule must be a name or have .factors(steps), got {schedule!r}")
    return schedule


def _minibatches(rng: np.random.Generator, n: int, size: int):
    """Shuffled minibatches of ``size``, a fresh permutation every epoch (last one may be short)."""
    while True:
        order = rng.permutation(n)
        for lo in range(0, n, size):
            yield order[lo : lo + size]


def run(
    problem: Any,
    opt: Any,
    start: Any,
    steps: int,
    *,
    batch_size: int | None = None,
    noise: float = 0.0,
    seed: int = 0,
    schedule: Any = None,
    tol: float | None = None,
    patience: int = 3,
    bound: float = 1e6,
    record: str = "all",
    progress: Any = None,
    loss_every: int = 1,
) -> Trajectory:
    """Run ``opt`` on ``problem`` from ``start`` for at most ``steps`` steps.

    ``problem`` is any :class:`optim.problems.Problem` (a surface, a data problem, an
    online problem, ...) and ``start`` has shape ``(dim,)`` or ``(k, dim)``.
    ``batch_size`` (data problems): ``None`` or at least ``n_samples`` is full-batch
    gradient descent, ``1`` is SGD, anything between is minibatch SGD, reshuffled
    every epoch. ``noise`` adds Gaussian noise of that standard deviation to every
    gradient. ``schedule`` is a schedule object or name; it multiplies the
    optimizer's ``lr``. A problem with ``project`` has every step projected onto its
    feasible set.

    ``record``: ``"all"`` keeps every history the app plots; ``"path"`` only
    ``params`` and ``loss`` (sweeps that need where the runs went); ``"final"`` no
    history at all, only each trajectory's outcome (``final_params``, ``final_loss``,
    ``status``, ``stop_step``, ``valid_length``): sweeps of 10^4-10^5 trajectories.
    A ``"final"`` run's divergence message is based on the start and the final point.

    ``progress``: called as ``progress(t, steps)`` after every ``PROGRESS_EVERY``-th step,
    for a caller that shows how far a long batch has come.

    ``loss_every`` (minibatch runs of a problem with ``full_loss``): the loss on all the
    data is evaluated at the start, after every ``loss_every``-th step and after the last
    one only; the ``loss`` rows between are NaN. Such a step needs no full pass over the
    data (its gradient comes from its minibatch), so a network trained for epochs of
    ``loss_every`` steps records its training loss once an epoch at a fraction of the cost.
    The parameters are checked against ``bound`` every step, the loss where it is
    evaluated. Needs ``tol=None`` (the tolerance compares the loss of consecutive steps).
    """
    if record not in RECORDS:
        raise ValueError(f"record must be one of {', '.join(map(repr, RECORDS))}, got {record!r}")
    full = record == "all"
    keep = record != "final"
    steps = int(steps)
    if steps < 0:
        raise ValueError(f"steps must be non-negative, got {steps}")
    if patience < 1:
        raise ValueError(f"patience must be at least 1, got {patience}")
    if noise < 0 or not np.isfinite(noise):
        raise ValueError(f"noise must be a non-negative number, got {noise}")
    if not bound > 0:
        raise ValueError(f"bound must be positive, got {bound}")
    if batch_size is not None and int(batch_size) < 1:
        raise ValueError(f"batch_size must be at least 1, got {batch_size}")
    if int(loss_every) < 1:
        raise ValueError(f"loss_every must be at least 1, got {loss_every}")
    if int(loss_every) > 1 and tol is not None:
        raise ValueError("tol compares the loss of consecutive steps: it needs loss_every=1")
    dim = int(problem.dim)
    start = np.asarray(start, dtype=np.float64)
    if start.ndim not in (1, 2) or start.shape[-1] != dim:
        raise ValueError(f"start must have shape ({dim},) or (k, {dim}), got {start.shape}")
    B = _batch_shape(start, opt)
    # the batch's memory layout: the problem's ``batch_order`` ("F": coordinate by coordinate,
    # see Surface), row by row otherwise. Set here, not left to the copy: copying one
    # broadcast start (a sweep's) came out column-major, and every buffer made row-major
    # met it with strided loops (a 100 x 100 Adam sweep took 1.3 times as long)
    p = np.array(np.broadcast_to(start, B + (dim,)), order=getattr(problem, "batch_order", "C"))

    # learning rate of every step: base lr (scalar or per trajectory) times the schedule
    sched = _resolve_schedule(schedule)
    base_lr = np.asarray(getattr(opt, "hyper", {}).get("lr", np.nan), dtype=np.float64)
    factors = np.ones(steps) if sched is None else np.asarray(sched.factors(steps), np.float64)
    if factors.shape != (steps,):
        raise ValueError(f"schedule gave {factors.shape} factors for {steps} steps")
    lrs = factors.reshape((steps,) + (1,) * len(B)) * base_lr

    # the objective: an online problem's changes with the step (f_t for step t)
    online = getattr(problem, "value_and_grad_at", None)
    project = getattr(problem, "project", None)
    value_and_grad = problem.value_and_grad

    # stochastic gradients: drawn from one stream, shared by the whole batch
    rng = np.random.default_rng(seed)
    n_samples = int(getattr(problem, "n_samples", 0) or 0)
    batches = None
    if n_samples and batch_size is not None and int(batch_size) < n_samples:
        batches = _minibatches(rng, n_samples, int(batch_size))
    used_batches: list[np.ndarray] | None = [] if full and batches is not None else None
    # a problem that can give its full loss alone (``full_loss``) skips the full gradient
    # after each minibatch step: the next step uses its minibatch's gradient instead
    full_loss = getattr(problem, "full_loss", None) if batches is not None else None
    every = int(loss_every) if full_loss is not None else 1
    # a problem that gives a minibatch's loss with its gradient: recorded for free ("all")
    loss_and_grad = getattr(problem, "batch_loss_and_grad", None) if batches is not None else None
    if not full:
        loss_and_grad = None
    noise_draws = rng.standard_normal((steps, dim)) * noise if noise > 0 else None

    # 1. preallocate the history. np.empty, not np.full: each cell is written once in
    # the loop, and the rows after a trajectory stopped are set to NaN at the end
    # (writing NaN everywhere first doubled the memory traffic of big batches).
    hist_p = np.empty((steps + 1,) + B + (dim,)) if keep else None
    hist_f = np.empty((steps + 1,) + B) if keep else None
    hist_g = np.empty((steps,) + B + (dim,)) if full else None
    hist_e = np.empty((steps,) + B + (dim,)) if full else None
    hist_lr = np.empty((steps,) + B) if full else None
    hist_bl = np.empty((steps,) + B) if loss_and_grad is not None else None
    unmeasured = np.full(B, np.nan) if B else np.float64(np.nan)  # a loss row not evaluated
    # fixed-width text, not objects: the final astype(str) of an object array cost a
    # millisecond per 10^4 trajectories
    status = np.full(B, "max_steps", dtype="<U9")
    stop_step = np.full(B, steps, dtype=np.int64)
    quiet: Any = np.zeros(B, dtype=np.int64) if B else 0  # consecutive steps, |Δloss| < tol
    moving = np.ones(B, dtype=bool)
    blowup = np.full(B, np.nan)  # the loss that ended a diverged trajectory
    two = dim == 2

    with np.errstate(all="ignore"):
        if full_loss is not None and online is None:
            # every step's gradient comes from its minibatch: the start's full gradient,
            # a whole backward pass over the data, would never be read
            f, g = full_loss(p), None
        else:
            f, g = online(p, 1) if online is not None else value_and_grad(p)
        f0 = np.array(f, dtype=np.float64)
        if keep:
            hist_p[0] = p
            hist_f[0] = f
        bad = ~((np.abs(p).max(-1) <= bound) & (np.abs(f) <= bound))
        if np.any(bad):  # a start outside the finite region never moves
            status[bad] = "diverged"
            stop_step[bad] = 0
            np.copyto(blowup, f, where=bad)
            if keep:
                # slices keep views even for a single trajectory (batch shape ())
                np.copyto(hist_p[0:1], np.nan, where=bad[..., None])
                np.copyto(hist_f[0:1], np.nan, where=bad)
            moving &= ~bad
        state = opt.init(p)
        # a batch steps in place (``step_into``: the same bits as ``step``) into a second
        # buffer; the two buffers swap every step, the state's arrays are updated in place
        into = getattr(opt, "step_into", None) if B else None
        spare = np.empty_like(p) if into is not None else None
        # an optimizer that can write its effective lr in place writes it into the history
        eff_into = getattr(opt, "effective_lr_into", None) if full and B else None

        # 2. the loop: one optimizer step per iteration, every trajectory at once.
        # `everyone` (a Python bool) short-cuts the common case where nothing has
        # stopped yet; a single trajectory (B == ()) checks its bounds on scalars.
        scalar = not B
        everyone = bool(moving.all())
        for t in range(1, steps + 1):
            if not everyone and not moving.any():
                break
            if batches is not None:
                idx = next(batches)
                if loss_and_grad is not None:
                    batch_loss, g = loss_and_grad(p, idx)
                else:
                    g = problem.batch_grad(p, idx)
                if used_batches is not None:
                    used_batches.append(idx)
            if noise_draws is not None:
                g = g + noise_draws[t - 1]
            lr = lrs[t - 1] if sched is not None else None
            if into is not None:
                p_new, state_new = spare, into(p, g, state, spare, lr=lr)
            else:
                p_new, state_new = opt.step(p, g, state, lr=lr)
            if project is not None:
                p_new = project(p_new)
            measured = every == 1 or t % every == 0 or t == steps
            if full_loss is not None:
                f_new, g_new = full_loss(p_new) if measured else unmeasured, g
            else:
                f_new, g_new = online(p_new, t + 1) if online is not None else value_and_grad(p_new)
            if eff_into is not None:
                eff = hist_e[t - 1]
                eff_into(state_new, eff, lr=lr)
            else:
                eff = opt.effective_lr(state_new, lr=lr) if full else None

            # comparisons with NaN are False, so NaN counts as out of bounds
            if scalar:
                if two:
                    ok = (not measured or abs(f_new) <= bound) and (
                        abs(p_new[0]) <= bound and abs(p_new[1]) <= bound
                    )
                else:
                    ok = (not measured or abs(f_new) <= bound) and np.abs(p_new).max() <= bound
                ok_all = bool(ok)
            else:
                # reductions first (NaN propagates through max and min: no temporary |p|
                # to allocate); details only on failure. The ufuncs' own reduce: np.max's
                # Python wrapper cost as much as the reduction of 10^4 values
                ok_all = (
                    biggest(p_new, axis=None, initial=0.0) <= bound
                    and smallest(p_new, axis=None, initial=0.0) >= -bound
                    and (
                        not measured
                        or biggest(f_new, axis=None, initial=0.0) <= bound
                        and smallest(f_new, axis=None, initial=0.0) >= -bound
                    )
                )
                ok = ok_all or (np.abs(p_new) <= bound).all(-1) & (
                    (np.abs(f_new) <= bound) if measured else True
                )
            if everyone and ok_all:
                if full:
                    hist_g[t - 1] = g
                    if eff_into is None:
                        hist_e[t - 1] = eff
                    hist_lr[t - 1] = lrs[t - 1]
                    if hist_bl is not None:
                        hist_bl[t - 1] = batch_loss
                if keep:
                    hist_p[t] = p_new
                    hist_f[t] = f_new
            else:
                # 3. some trajectory blew up now or stopped before: record, then freeze
                everyone = False
                ok = np.asarray(ok)
                blew = moving & ~ok
                status[blew] = "diverged"
                stop_step[blew] = t
                np.copyto(blowup, f_new, where=blew)
                # slices t:t+1 keep a view even when the batch shape is ()
                if full:
                    np.copyto(hist_g[t - 1 : t], g, where=moving[..., None])
                    np.copyto(hist_e[t - 1 : t], eff, where=moving[..., None])
                    np.copyto(hist_lr[t - 1 : t], lrs[t - 1], where=moving)
                    if hist_bl is not None:
                        np.copyto(hist_bl[t - 1 : t], batch_loss, where=moving)
                moving = moving & ok
                if keep:
                    np.copyto(hist_p[t : t + 1], p_new, where=moving[..., None])
                    np.copyto(hist_f[t : t + 1], f_new, where=moving)
                if not scalar:
                    # a stopped trajectory stays on its last valid point. Its optimizer
                    # state may run on: nothing reads it (its rows are NaN, its final
                    # point is this p, and every update rule is elementwise per row)
                    p_new = np.where(moving[..., None], p_new, p)
                    f_new = np.where(moving, f_new, f)
                    g_new = np.where(moving[..., None], g_new, g)
                elif not moving:  # the single trajectory ends on its last valid point
                    p_new, f_new, g_new, state_new = p, f, g, state

            if tol is not None:
                if scalar:
                    quiet = quiet + 1 if abs(f_new - f) < tol else 0
                    converged = bool(moving) and quiet >= patience
                else:
                    quiet = np.where(np.abs(f_new - f) < tol, quiet + 1, 0)
                    converged = moving & (quiet >= patience)
                if np.any(converged):
                    everyone = False
                    status[converged] = "converged"
                    stop_step[converged] = t
                    moving = moving & ~np.asarray(converged)
            if into is not None:
                spare = p  # the point before this step: nothing else holds it any more
            p, f, g, state = p_new, f_new, g_new, state_new
            if progress is not None and t % PROGRESS_EVERY == 0:
                progress(t, steps)

    status = status.astype(str, copy=False)
    valid = np.where(status == "diverged", stop_step, stop_step + 1)
    # 4. NaN after each stop: params/loss rows from valid on, step rows from stop_step on
    if keep and np.any(valid < steps + 1):
        rows = np.arange(steps + 1).reshape((-1,) + (1,) * len(B))
        after = rows >= valid
        hist_p[after] = np.nan
        hist_f[after] = np.nan
        if full:
            late = rows[:-1] >= stop_step
            hist_g[late] = np.nan
            hist_e[late] = np.nan
            hist_lr[late] = np.nan
            if hist_bl is not None:
                hist_bl[late] = np.nan
    # the final point: where each trajectory stopped (stopped ones were frozen in place)
    none = valid == 0
    final_p = np.where(none[..., None], np.nan, p)
    final_f = np.where(none, np.nan, f)
    if every > 1:
        # a trajectory that stopped between two evaluated rows: its final loss, now
        missing = ~none & np.isnan(final_f)
        if np.any(missing):
            with np.errstate(all="ignore"):
                np.copyto(final_f, full_loss(np.where(missing[..., None], p, 0.0)), where=missing)
            if keep:  # and in the history's last valid row
                last = np.expand_dims(valid - 1, 0)
                lost = np.take_along_axis(hist_f, np.maximum(last, 0), 0)
                np.copyto(lost, final_f, where=missing)
                np.put_along_axis(hist_f, np.maximum(last, 0), lost, 0)
    return Trajectory(
        params=hist_p,
        loss=hist_f,
        grad=hist_g,
        effective_lr=hist_e,
        lr=hist_lr,
        status=status,
        stop_step=stop_step,
        valid_length=valid,
        final_params=final_p,
        final_loss=final_f,
        blowup_loss=blowup,
        problem=problem,
        optimizer=opt,
        batches=used_batches,
        start=np.array(np.broadcast_to(start, B + (dim,))),
        start_loss=f0,
        lr_factors=factors,
        batch_loss=hist_bl,
        stopping={"tol": tol, "patience": patience, "bound": bound},
    )


# The run controls, described like every other control (defaults are run()'s own).
RUN_PARAMS: dict[str, Param] = {
    p.name: p
    for p in (
        Param(
            "steps",
            200,
            "How many updates every optimizer makes.",
            kind="int",
            low=10,
            high=2000,
            label="Steps",
        ),
        Param(
            "batch_size",
            None,
            "Samples per minibatch (data problems); none: all of them.",
            kind="int",
            low=1,
            label="Batch size",
            symbol="B",
        ),
        Param(
            "noise",
            0.0,
            "Gaussian noise added to every gradient, a stand-in for mini-batch sampling.",
            low=0.0,
            high=10.0,
            label="Gradient noise (std)",
        ),
        Param(
            "seed",
            0,
            "Random seed of the noise and of the mini-batches.",
            kind="int",
            low=0,
            high=2**31 - 1,
            label="Seed",
        ),
        Param(
            "tol",
            None,
            "Stop when the loss changes by less than this for `patience` steps in a row.",
            low=0.0,
            label="Tolerance",
        ),
        Param(
            "patience",
            3,
            "Steps in a row below the tolerance before stopping.",
            kind="int",
            low=1,
            high=100,
            label="Patience",
        ),
    )
}
