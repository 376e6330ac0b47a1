r"""What theory predicts on a quadratic: stability edges, the best settings, the rates.

On a quadratic ``f(θ) = f* + ½ (θ − θ*)ᵀ H (θ − θ*)`` with constant Hessian ``H`` every
first-order method is a linear iteration, and its behaviour is set by the eigenvalues
``λ_min ≤ λ_max`` of ``H`` and the condition number ``κ = λ_max / λ_min``:

* gradient descent with learning rate ``γ`` is stable for ``0 < γ < 2/λ_max``; the best
  constant rate ``γ = 2/(λ_min + λ_max)`` shrinks the error by ``(κ − 1)/(κ + 1)`` per step;
* heavy-ball momentum (torch's SGD with momentum ``β`` and dampening 0, which is
  Polyak's method with step ``γ``) is stable for ``0 ≤ β < 1`` and ``0 < γ λ_max < 2 + 2β``;
  the best pair ``γ* = (2/(√λ_min + √λ_max))²``, ``β* = ((√κ − 1)/(√κ + 1))²`` shrinks
  the error by ``(√κ − 1)/(√κ + 1)`` per step.

A *rate* here is the factor by which the distance to the minimum shrinks per step; the
loss, quadratic in that distance, shrinks by its square. :func:`measured_rate` reads it
off a run's losses.

>>> t = QuadraticTheory(np.diag([1.0, 100.0]))
>>> round(t.kappa), round(t.gd_rate, 4), round(t.heavy_ball_rate, 4)
(100, 0.9802, 0.8182)
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np


def quadratic_hessian(problem: Any) -> np.ndarray | None:
    """The constant Hessian of a quadratic problem, ``None`` if the problem is not one.

    Quadratic: a surface whose formula is a polynomial of degree at most 2 (the bowl,
    Booth, the linear and quadratic fits, a typed quadratic) or a least-squares fit
    (``H = 2 XᵀX / n``).
    """
    X = getattr(problem, "X", None)
    if X is not None and hasattr(problem, "y"):
        X = np.asarray(X, np.float64)
        return 2.0 * X.T @ X / len(X)
    expr = getattr(problem, "expr", None)
    if expr is None:
        return None
    import sympy as sp

    symbols = tuple(problem.symbols)
    try:
        poly = sp.Poly(expr, *symbols)
    except sp.PolynomialError:
        return None
    if poly.total_degree() > 2 or any(not c.is_number for c in poly.coeffs()):
        return None
    return np.array(sp.hessian(expr, symbols).tolist(), dtype=np.float64)


@dataclass(frozen=True)
class QuadraticTheory:
    """The theory's numbers for a Hessian ``H`` (symmetric, ``d`` x ``d``)."""

    hessian: np.ndarray

    @property
    def eigenvalues(self) -> np.ndarray:
        return np.linalg.eigvalsh(np.asarray(self.hessian, np.float64))

    @property
    def lam_min(self) -> float:
        return float(self.eigenvalues[0])

    @property
    def lam_max(self) -> float:
        return float(self.eigenvalues[-1])

    @property
    def convex(self) -> bool:
        """Strongly convex: every eigenvalue positive (else there is no single minimum)."""
        return self.lam_min > 0

    @property
    def kappa(self) -> float:
        return self.lam_max / self.lam_min if self.convex else math.inf

    # -- gradient descent --------------------------------------------------------------
    @property
    def gd_edge(self) -> float:
        """The largest stable learning rate of plain gradient descent, ``2/λ_max``."""
        return 2.0 / self.lam_max

    @property
    def gd_best_lr(self) -> float:
        return 2.0 / (self.lam_min + self.lam_max)

    @property
    def gd_rate(self) -> float:
        k = self.kappa
        return (k - 1.0) / (k + 1.0) if math.isfinite(k) else 1.0

    # -- heavy ball ------------------------------------------------------------------------
    def heavy_ball_edge(self, momentum: Any) -> Any:
        """The largest stable learning rate at momentum ``β``: ``(2 + 2β)/λ_max``."""
        return self.sgd_edge(momentum)

    def sgd_edge(self, momentum: Any = 0.0, dampening: Any = 0.0, weight_decay: Any = 0.0) -> Any:
        """The largest stable learning rate of torch's SGD (no Nesterov) on this quadratic.

        Weight decay w adds w·I to the Hessian; with momentum μ > 0, dampening d scales the
        gradient that enters the buffer by (1 − d) after the first step, so the run is heavy
        ball with learning rate lr·(1 − d): stable while lr·(1 − d)·(λ_max + w) < 2 + 2μ
        (infinite at d = 1). Without momentum torch keeps no buffer and ignores d.
        """
        mu, d, w = (np.asarray(v, np.float64) for v in (momentum, dampening, weight_decay))
        scale = np.where(mu > 0, 1.0 - d, 1.0) * (self.lam_max + w)
        with np.errstate(divide="ignore"):
            return np.where(scale > 0, (2.0 + 2.0 * mu) / np.where(scale > 0, scale, 1.0), np.inf)

    def sgd_best_lr(self, weight_decay: Any = 0.0) -> Any:
        """Plain SGD's (μ = 0: no buffer, no dampening) fastest constant learning rate,
        2/(λ_min + λ_max + 2w)."""
        w = np.asarray(weight_decay, np.float64)
        scale = self.lam_min + self.lam_max + 2.0 * w
        with np.errstate(divide="ignore"):
            return np.where(scale > 0, 2.0 / np.where(scale > 0, scale, 1.0), np.inf)

    @property
    def heavy_ball_lr(self) -> float:
        if not self.convex:
            return math.nan
        return (2.0 / (math.sqrt(self.lam_min) + math.sqrt(self.lam_max))) ** 2

    @property
    def heavy_ball_momentum(self) -> float:
        return self.heavy_ball_rate**2

    @property
    def heavy_ball_rate(self) -> float:
        k = self.kappa
        return (math.sqrt(k) - 1.0) / (math.sqrt(k) + 1.0) if math.isfinite(k) else 1.0

    def stable(self, lr: Any, momentum: Any = 0.0) -> Any:
        """Whether heavy ball (plain descent at ``momentum = 0``) converges at each setting."""
        lr, beta = np.asarray(lr, np.float64), np.asarray(momentum, np.float64)
        return (beta >= 0) & (beta < 1) & (lr > 0) & (lr * self.lam_max < 2.0 + 2.0 * beta)

    def rate(self, lr: Any, momentum: Any = 0.0) -> Any:
        """The predicted rate at any setting: the largest root ``|z|`` over the eigenvalues
        ``λ`` of ``z² − (1 + β − γλ) z + β = 0`` (heavy ball's characteristic equation;
        at ``β = 0`` it is ``|1 − γλ|``). Above 1 the run diverges."""
        lr, beta = np.broadcast_arrays(np.asarray(lr, np.float64), np.asarray(momentum, np.float64))
        lam = self.eigenvalues.reshape((-1,) + (1,) * lr.ndim)
        b = 1.0 + beta - lr * lam
        disc = (b * b - 4.0 * beta).astype(np.complex128)
        root = np.sqrt(disc)
        z = np.maximum(np.abs((b + root) / 2), np.abs((b - root) / 2))
        return z.max(axis=0)


def measured_rate(loss: Any, f_star: float = 0.0) -> float:
    """The rate a run achieved: ``exp(slope / 2)`` of a least-squares line through
    ``log(f − f*)`` over the second half of the run (halved because the loss is quadratic
    in the distance; the first half holds the transient, e.g. heavy ball's ``t·ρᵗ`` at its
    optimum, where two roots coincide). Steps where ``f − f*`` has fallen to rounding level
    (below ``1e-20`` of its start, or of ``|f*|``) are left out, as are NaN steps after a
    stop. NaN when fewer than six steps are usable.
    """
    f = np.asarray(loss, np.float64) - float(f_star)
    f = f[np.isfinite(f)]
    if len(f) < 6 or f[0] <= 0:
        return math.nan
    floor = 1e-20 * max(f[0], abs(float(f_star)))
    usable = np.flatnonzero(f <= floor)
    end = usable[0] if len(usable) else len(f)
    if end < 6:
        return math.nan
    t = np.arange(end // 2, end, dtype=np.float64)
    slope = np.polyfit(t, np.log(f[end // 2 : end]), 1)[0]
    return float(math.exp(slope / 2.0))


def minimum_of(problem: Any, hessian: np.ndarray) -> tuple[np.ndarray, float] | None:
    """The minimizer ``θ*`` and ``f*`` of a strongly convex quadratic problem."""
    d = int(problem.dim)
    zero = np.zeros(d)
    with np.errstate(all="ignore"):
        f0, g0 = problem.value_and_grad(zero)
    try:
        x = -np.linalg.solve(hessian, np.asarray(g0, np.float64))
    except np.linalg.LinAlgError:
        return None
    return x, float(problem.value_and_grad(x)[0])
