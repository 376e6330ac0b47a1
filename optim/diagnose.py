"""Explain in words why a trajectory stopped.

For gradient descent on a quadratic with largest curvature ``L`` (the largest
Hessian eigenvalue), a step ``lr`` is stable only when ``lr < 2/L``: each step
multiplies the error along that eigenvector by ``1 - lr*L``. Heavy-ball momentum
``mu`` (with dampening ``tau``) widens the limit to ``2(1+mu) / ((1-tau) L)``, and
Nesterov momentum to ``2(1+mu) / ((1+2mu) L)``. On a non-quadratic surface we use
the largest curvature met along the finite part of the path, which is the one
that matters for the blow-up.

Adaptive methods rescale every coordinate, so that limit does not apply; for
them the message says what grew (the loss, the parameters) and how large the
effective learning rate had become.
"""

from __future__ import annotations

from typing import Any

import numpy as np


def _fmt(v: float, digits: int = 2) -> str:
    if not np.isfinite(v):
        return "NaN" if np.isnan(v) else ("infinity" if v > 0 else "-infinity")
    if 1e-3 <= abs(v) < 1e4 or v == 0:
        return f"{v:.{digits}g}"
    return f"{v:.{digits - 1}e}"


def _fmt_distinct(*values: float) -> tuple[str, ...]:
    """The values at the fewest digits (2 at least) that keep neighbours that differ apart.

    "from 11 to 11" says nothing; 11.2 and 11.4 are quoted as "11.2" and "11.4".
    """
    for digits in range(2, 18):
        out = tuple(_fmt(v, digits) for v in values)
        pairs = zip(out[:-1], out[1:], values[:-1], values[1:], strict=True)
        if all(x != y for x, y, u, v in pairs if u != v):
            return out
    return out


def step_limit(opt: Any, L: float, i: tuple = ()) -> tuple[float, str] | None:
    """The largest stable learning rate of an SGD-type optimizer at curvature ``L``.

    Returns ``(limit, formula)`` or ``None`` for optimizers it does not apply to.

    >>> import optim
    >>> step_limit(optim.make_optimizer("sgd", lr=0.1), 4.0)
    (0.5, '2/L')
    """
    if lim_missing(opt):
        return None
    h = opt.hyper

    def pick(v: Any) -> float:
        # a batch hyperparameter (k,) gives trajectory i its own value
        a = np.asarray(v, dtype=np.float64)
        if a.ndim and not i:
            raise ValueError("a batch hyperparameter needs the trajectory index i")
        return float(a[i] if a.ndim else a)

    L = L + pick(h.get("weight_decay", 0.0))  # coupled L2 adds to every curvature
    if not L > 0:
        return None
    mu, tau = pick(h["momentum"]), pick(h["dampening"])
    if mu == 0:
        return 2.0 / L, "2/L"
    if h["nesterov"]:
        return 2.0 * (1 + mu) / ((1 + 2 * mu) * L), "2(1+μ)/((1+2μ)L)"
    if tau == 0:
        return 2.0 * (1 + mu) / L, "2(1+μ)/L"
    return 2.0 * (1 + mu) / ((1 - tau) * L), "2(1+μ)/((1−τ)L)"


def _diverged(traj: Any, i: tuple, bound: float) -> str:
    t = int(traj.stop_step[i])
    n = int(traj.valid_length[i])
    opt = traj.optimizer
    head = f"diverged at step {t}"
    if n == 0:
        return f"{head}: the start is outside the region where the loss is finite (|value| ≤ {bound:g})"
    if traj.params is not None:
        path = traj.params[:n][(slice(None),) + i]
        losses = traj.loss[:n][(slice(None),) + i]
    else:  # record="final": the start and the last valid point are all there is
        ends = (traj.start[i], traj.final_params[i])[: min(n, 2)]
        path = np.stack(ends)
        losses = np.array([traj.start_loss[i], traj.final_loss[i]][: min(n, 2)])
    lr = _step_lr(traj, t, i)

    # what grew: the loss down (unbounded below), the parameters, or the loss up
    last = losses[-1]
    blown = float(traj.blowup_loss[i]) if traj.blowup_loss is not None else float("nan")
    if (
        np.nanmin(losses) < -bound / 10  # (NaN: rows of a run that skipped the loss)
        or blown < -bound
        or (len(losses) > 2 and last < losses[0] - 1e3 * (1 + abs(losses[0])))
    ):
        what = "the loss kept falling without bound (the surface has no minimum that way)"
    elif abs(blown) <= bound or (np.isnan(blown) and np.max(np.abs(path[-1])) > bound / 10):
        what = f"the parameters grew past {bound:g}"
    elif t == 1:
        a, b = _fmt_distinct(losses[0], blown)
        what = f"the first step took the loss from {a} to {b}"
    elif last == losses[0]:
        a, b = _fmt_distinct(losses[0], blown)
        what = f"the loss went from {a} at the start to {b} at step {t}"
    else:
        a, b, c = _fmt_distinct(losses[0], last, blown)
        what = f"the loss went from {a} at the start to {b} at step {t - 1} and to {c} at step {t}"

    surface = traj.problem
    if hasattr(surface, "max_curvature") and np.isfinite(lr) and not lim_missing(opt):
        curv = surface.max_curvature(path)
        # the curvature at the start explains most blow-ups; if it does not, the
        # largest one met along the path might (the iterate climbed a steeper wall)
        for where, L in (("at the start", curv[0]), ("along the path", _finite_max(curv))):
            lim = step_limit(opt, float(L), i) if np.isfinite(L) else None
            if lim is not None and lr > lim[0]:
                limit, formula = lim
                return (
                    f"{head}: {what}; lr {_fmt(lr)} is above {formula} ≈ {_fmt(limit)} for this "
                    f"surface (L ≈ {_fmt(L)} is the largest curvature {where}), so every "
                    f"step overshoots more than the last"
                )
        lim = step_limit(opt, float(_finite_max(curv)), i)
        if lim is not None:
            return (
                f"{head}: {what}; lr {_fmt(lr)} is below {lim[1]} ≈ {_fmt(lim[0])}, "
                f"so the step size is not the cause"
            )
    if lim_missing(opt) and traj.effective_lr is not None:
        eff = traj.effective_lr[(slice(None, t),) + i]
        eff = eff[np.isfinite(eff)]
        if eff.size:
            big = float(eff.max())
            return f"{head}: {what}; the effective learning rate had reached {_fmt(big)}"
    return f"{head}: {what}"


def _step_lr(traj: Any, t: int, i: tuple) -> float:
    """The learning rate of step ``t`` of trajectory ``i`` (NaN when unknown)."""
    if t < 1:
        return float("nan")
    if traj.lr is not None:
        return float(traj.lr[(t - 1,) + i])
    base = np.asarray(getattr(traj.optimizer, "hyper", {}).get("lr", np.nan), dtype=np.float64)
    factor = traj.lr_factors[t - 1] if traj.lr_factors is not None else 1.0
    return float((base[i] if base.ndim else base) * factor)


def _finite_max(a: np.ndarray) -> float:
    a = a[np.isfinite(a)]
    return float(a.max()) if a.size else float("nan")


def lim_missing(opt: Any) -> bool:
    """True for adaptive optimizers (no single step-size limit applies).

    Decided by the hyperparameters' names only: their values may be batch arrays.
    """
    return not {"momentum", "dampening", "nesterov"} <= set(getattr(opt, "hyper", {}))


def explain(traj: Any, *, tol: float | None, patience: int, bound: float) -> np.ndarray:
    """One message per trajectory: why it stopped ('' when it simply ran all its steps)."""
    out = np.full(traj.status.shape, "", dtype=object)
    for i in np.ndindex(traj.status.shape):
        s = traj.status[i]
        if s == "converged":
            out[i] = (
                f"converged at step {int(traj.stop_step[i])}: loss changed by less than "
                f"tol={tol:g} for {patience} steps"
            )
        elif s == "diverged":
            out[i] = _diverged(traj, i, bound)
    return out
