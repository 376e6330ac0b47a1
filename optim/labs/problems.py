"""The small objectives the labs run on, and the hand-written rules they compare.

The optimizers of :mod:`optim.optimizers` are torch's; a lab that needs a rule torch does
not have (Adam without bias correction, a post's wrong formula) writes it here as a
plain function of ``(params, grad, state, t)``, run by :func:`iterate`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np


class Quadratic:
    """``f(p) = ½ Σ h_i (p_i - c_i)²``: a diagonal quadratic with curvatures ``h``."""

    def __init__(self, h: Any, center: Any = None, scale: float = 1.0) -> None:
        self.h = np.asarray(h, dtype=np.float64) * scale
        self.dim = len(self.h)
        self.center = np.zeros(self.dim) if center is None else np.asarray(center, np.float64)
        self.minima = self.center[None, :]
        self.start = np.zeros(self.dim)

    def value_and_grad(self, p: np.ndarray) -> tuple[Any, np.ndarray]:
        d = np.asarray(p, dtype=np.float64) - self.center
        return 0.5 * np.sum(self.h * d * d, axis=-1), self.h * d


class Slope:
    """``f(x) = a·x``: the same gradient ``a`` at every point (one coordinate)."""

    dim = 1

    def __init__(self, a: float = 1.0) -> None:
        self.a = float(a)
        self.start = np.zeros(1)

    def value_and_grad(self, p: np.ndarray) -> tuple[Any, np.ndarray]:
        p = np.asarray(p, dtype=np.float64)
        return self.a * p[..., 0], np.full(p.shape, self.a)


class TwoWell:
    """``f(x, y) = (x² - 1)² + tilt·x + ½ y²``: two valleys near x = ±1; the tilt makes
    the left one (x < 0) the global minimum."""

    dim = 2

    def __init__(self, tilt: float = 0.3) -> None:
        self.tilt = float(tilt)
        roots = np.roots([4.0, 0.0, -4.0, self.tilt]).real  # f_x = 4x³ - 4x + tilt
        xs = np.sort(roots)[[0, 2]]  # the two minima (the middle root is the hump)
        self.minima = np.array([[xs[0], 0.0], [xs[1], 0.0]])
        self.bounds = ((-2.0, 2.0), (-1.5, 1.5))

    def value_and_grad(self, p: np.ndarray) -> tuple[Any, np.ndarray]:
        p = np.asarray(p, dtype=np.float64)
        x, y = p[..., 0], p[..., 1]
        f = (x * x - 1.0) ** 2 + self.tilt * x + 0.5 * y * y
        return f, np.stack([4.0 * x * (x * x - 1.0) + self.tilt, y], axis=-1)


Rule = Callable[[np.ndarray, np.ndarray, Any, int], tuple[np.ndarray, Any]]


def iterate(rule: Rule, problem: Any, start: Any, steps: int, state: Any) -> np.ndarray:
    """Apply ``rule`` ``steps`` times from ``start``; the path, ``(steps + 1, ..., dim)``.

    ``t`` counts from 1. Non-finite values are kept (a lab shows a blow-up as it is).
    """
    p = np.array(start, dtype=np.float64)
    path = np.empty((steps + 1, *p.shape))
    path[0] = p
    with np.errstate(all="ignore"):
        for t in range(1, steps + 1):
            p, state = rule(p, problem.value_and_grad(p)[1], state, t)
            path[t] = p
    return path


def losses(problem: Any, path: np.ndarray) -> np.ndarray:
    with np.errstate(all="ignore"):
        return np.asarray(problem.value_and_grad(path)[0])


# -- Adam, written out once so that its variants differ from it in one visible place --------
def adam_rule(
    lr: float,
    betas: tuple[float, float] = (0.9, 0.999),
    eps: float = 1e-8,
    bias_correction: bool = True,
    eps_inside: bool = False,
) -> Rule:
    """Adam as torch computes it; ``bias_correction=False`` drops the two divisions by
    ``1 - β^t``, ``eps_inside=True`` puts ε under the root (``√(v̂ + ε)``). State: (m, v)."""
    b1, b2 = betas

    def rule(p, g, state, t):
        m, v = state
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        m_hat = m / (1 - b1**t) if bias_correction else m
        v_hat = v / (1 - b2**t) if bias_correction else v
        denom = np.sqrt(v_hat + eps) if eps_inside else np.sqrt(v_hat) + eps
        return p - lr * m_hat / denom, (m, v)

    return rule


def zeros_state(start: Any, n: int = 2) -> tuple[np.ndarray, ...]:
    z = np.zeros_like(np.asarray(start, dtype=np.float64))
    return tuple(z.copy() for _ in range(n))
