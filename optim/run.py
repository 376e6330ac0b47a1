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

from dataclasses import dataclass
from typing import Any

import numpy as np

from .diagnose import explain
from .schedules import Schedule, make_schedule
from .surfaces import DataSurface, Surface


@dataclass
class Trajectory:
    """History of a run; ``B`` is the batch shape, ``()`` or ``(k,)``.

    Attributes: ``params`` ``(T+1, *B, 2)``, ``loss`` ``(T+1, *B)``, ``grad``,
    ``effective_lr`` ``(T, *B, 2)``, ``lr`` ``(T, *B)``, and per trajectory
    ``status``, ``stop_step``, ``valid_length``, ``message`` ``(*B,)``, and
    ``blowup_loss`` ``(*B,)``: the loss at the step that diverged (that row is
    dropped from ``loss``), NaN for trajectories that did not diverge.
    """

    params: np.ndarray
    loss: np.ndarray
    grad: np.ndarray
    effective_lr: np.ndarray
    lr: np.ndarray
    status: np.ndarray
    stop_step: np.ndarray
    valid_length: np.ndarray
    message: np.ndarray
    blowup_loss: np.ndarray | None = None
    surface: Surface | None = None
    optimizer: Any = None

    @property
    def steps(self) -> int:
        return self.grad.shape[0]

    @property
    def batch_shape(self) -> tuple[int, ...]:
        return self.status.shape

    def path(self, i: int | None = None) -> np.ndarray:
        """The valid (finite) rows of one trajectory, shape ``(n, 2)``."""
        if i is None:
            if self.batch_shape:
                raise ValueError("this run holds several trajectories: pass path(i)")
            return self.params[: int(self.valid_length)]
        return self.params[: int(self.valid_length[i]), i]

    def distance_to_minimum(self) -> np.ndarray:
        """Distance from each params row to the nearest known minimum, ``(T+1, *B)``.

        NaN everywhere when the surface has no known minimum.
        """
        minima = self.surface.minima if self.surface is not None else np.empty((0, 2))
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


def _freeze(new: Any, old: Any, moving: np.ndarray) -> Any:
    """Keep the old optimizer state wherever a trajectory has stopped."""
    fields = []
    batch = moving.shape
    for n, o in zip(new, old, strict=True):
        # batch-leading arrays: (*B, d) buffers, (*B,) or (*B, 1) per-trajectory values
        if isinstance(n, np.ndarray) and np.shape(o) == n.shape and n.shape[: len(batch)] == batch:
            n = np.where(moving.reshape(batch + (1,) * (n.ndim - len(batch))), n, o)
        fields.append(n)
    return type(new)(*fields)


def _minibatches(rng: np.random.Generator, n: int, size: int):
    """Shuffled minibatches of ``size``, a fresh permutation every epoch (last one may be short)."""
    while True:
        order = rng.permutation(n)
        for lo in range(0, n, size):
            yield order[lo : lo + size]


def run(
    surface: Surface,
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
) -> Trajectory:
    """Run ``opt`` on ``surface`` from ``start`` for at most ``steps`` steps.

    ``batch_size`` (data surfaces): ``None`` or at least ``n_samples`` is full-batch
    gradient descent, ``1`` is SGD, anything between is minibatch SGD. ``noise``
    adds Gaussian noise of that standard deviation to every gradient. ``schedule``
    is a schedule object or name; it multiplies the optimizer's ``lr``.
    ``record="path"`` keeps only ``params`` and ``loss`` (``grad``, ``effective_lr``
    and ``lr`` are ``None``): for sweeps over thousands of trajectories that only
    need where they went, it saves most of the memory traffic.
    """
    if record not in ("all", "path"):
        raise ValueError(f"record must be 'all' or 'path', got {record!r}")
    full = record == "all"
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
    start = np.asarray(start, dtype=np.float64)
    if start.ndim not in (1, 2) or start.shape[-1] != 2:
        raise ValueError(f"start must have shape (2,) or (k, 2), got {start.shape}")
    B = _batch_shape(start, opt)
    p = np.array(np.broadcast_to(start, B + (2,)))

    # learning rate of every step: base lr (scalar or per trajectory) times the schedule
    sched = _resolve_schedule(schedule)
    base_lr = np.asarray(getattr(opt, "hyper", {}).get("lr", np.nan), dtype=np.float64)
    factors = np.ones(steps) if sched is None else np.asarray(sched.factors(steps), np.float64)
    if factors.shape != (steps,):
        raise ValueError(f"schedule gave {factors.shape} factors for {steps} steps")
    lrs = factors.reshape((steps,) + (1,) * len(B)) * base_lr

    # stochastic gradients: drawn from one stream, shared by the whole batch
    rng = np.random.default_rng(seed)
    data = isinstance(surface, DataSurface)
    batches = None
    if data and batch_size is not None and int(batch_size) < surface.n_samples:
        batches = _minibatches(rng, surface.n_samples, int(batch_size))
    noise_draws = rng.standard_normal((steps, 2)) * noise if noise > 0 else None

    # 1. preallocate the history. np.empty, not np.full: each cell is written once in
    # the loop, and the rows after a trajectory stopped are set to NaN at the end
    # (writing NaN everywhere first doubled the memory traffic of big batches).
    hist_p = np.empty((steps + 1,) + B + (2,))
    hist_f = np.empty((steps + 1,) + B)
    hist_g = np.empty((steps,) + B + (2,)) if full else None
    hist_e = np.empty((steps,) + B + (2,)) if full else None
    hist_lr = np.empty((steps,) + B) if full else None
    status = np.full(B, "max_steps", dtype=object)
    stop_step = np.full(B, steps, dtype=np.int64)
    quiet: Any = np.zeros(B, dtype=np.int64) if B else 0  # consecutive steps, |Δloss| < tol
    moving = np.ones(B, dtype=bool)
    blowup = np.full(B, np.nan)  # the loss that ended a diverged trajectory

    with np.errstate(all="ignore"):
        f, g = surface.value_and_grad(p)
        hist_p[0] = p
        hist_f[0] = f
        bad = ~((np.abs(p).max(-1) <= bound) & (np.abs(f) <= bound))
        if np.any(bad):  # a start outside the finite region never moves
            status[bad] = "diverged"
            stop_step[bad] = 0
            np.copyto(blowup, f, where=bad)
            # slices keep views even for a single trajectory (batch shape ())
            np.copyto(hist_p[0:1], np.nan, where=bad[..., None])
            np.copyto(hist_f[0:1], np.nan, where=bad)
            moving &= ~bad
        state = opt.init(p)

        # 2. the loop: one optimizer step per iteration, every trajectory at once.
        # `everyone` (a Python bool) short-cuts the common case where nothing has
        # stopped yet; a single trajectory (B == ()) checks its bounds on scalars.
        scalar = not B
        everyone = bool(moving.all())
        for t in range(1, steps + 1):
            if not everyone and not moving.any():
                break
            if batches is not None:
                g = surface.batch_grad(p, next(batches))
            if noise_draws is not None:
                g = g + noise_draws[t - 1]
            lr = lrs[t - 1] if sched is not None else None
            p_new, state_new = opt.step(p, g, state, lr=lr)
            f_new, g_new = surface.value_and_grad(p_new)
            eff = opt.effective_lr(state_new, lr=lr) if full else None

            # comparisons with NaN are False, so NaN counts as out of bounds
            if scalar:
                ok = abs(f_new) <= bound and abs(p_new[0]) <= bound and abs(p_new[1]) <= bound
                ok_all = bool(ok)
            else:
                # two reductions first (NaN propagates through max); details only on failure
                ok_all = bool(np.abs(p_new).max(initial=0.0) <= bound) and bool(
                    np.abs(f_new).max(initial=0.0) <= bound
                )
                ok = ok_all or (np.abs(p_new) <= bound).all(-1) & (np.abs(f_new) <= bound)
            if everyone and ok_all:
                if full:
                    hist_g[t - 1] = g
                    hist_e[t - 1] = eff
                    hist_lr[t - 1] = lrs[t - 1]
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
                moving = moving & ok
                np.copyto(hist_p[t : t + 1], p_new, where=moving[..., None])
                np.copyto(hist_f[t : t + 1], f_new, where=moving)
                if not scalar:
                    p_new = np.where(moving[..., None], p_new, p)
                    f_new = np.where(moving, f_new, f)
                    g_new = np.where(moving[..., None], g_new, g)
                    state_new = _freeze(state_new, state, moving)

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
            p, f, g, state = p_new, f_new, g_new, state_new

    status = status.astype(str)
    valid = np.where(status == "diverged", stop_step, stop_step + 1)
    # 4. NaN after each stop: params/loss rows from valid on, step rows from stop_step on
    if np.any(valid < steps + 1):
        rows = np.arange(steps + 1).reshape((-1,) + (1,) * len(B))
        after = rows >= valid
        hist_p[after] = np.nan
        hist_f[after] = np.nan
        if full:
            late = rows[:-1] >= stop_step
            hist_g[late] = np.nan
            hist_e[late] = np.nan
            hist_lr[late] = np.nan
    traj = Trajectory(
        params=hist_p,
        loss=hist_f,
        grad=hist_g,
        effective_lr=hist_e,
        lr=hist_lr,
        status=status,
        stop_step=stop_step,
        valid_length=valid,
        message=np.full(B, "", dtype=object),
        blowup_loss=blowup,
        surface=surface,
        optimizer=opt,
    )
    traj.message = explain(traj, tol=tol, patience=patience, bound=bound).astype(str)
    return traj
