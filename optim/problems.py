"""What :func:`optim.run` can optimize: any objective of any dimension.

A problem is any object with

* ``dim``: the number of parameters;
* ``value_and_grad(p)``: the loss ``(...)`` and its gradient ``(..., dim)`` at points
  ``p`` of shape ``(..., dim)`` (any leading batch shape; a single point ``(dim,)``
  must work too).

and, optionally,

* ``n_samples`` and ``batch_grad(p, idx)``: a data problem; ``batch_grad`` is the mean
  gradient over the samples ``idx``, which is how minibatch runs get their gradients;
* ``full_loss(p)``: the loss alone, on a data problem; a minibatch run records it after
  each step instead of calling ``value_and_grad``, whose full gradient it would not use
  (or every ``loss_every`` steps only: see :func:`optim.run`);
* ``batch_loss_and_grad(p, idx)``: the minibatch's loss with its gradient, from one
  pass; a minibatch run then records each step's minibatch loss (``traj.batch_loss``);
* ``project(p)``: the feasible set; every step's result is projected onto it (a box,
  say), as projected gradient descent does;
* ``value_and_grad_at(p, t)``: an online problem whose objective changes with the step:
  step ``t = 1, 2, ...`` uses the gradient of ``f_t`` at the point it starts from, and
  the loss recorded with that point is ``f_t`` there;
* ``minima`` ``(m, dim)`` and ``start`` ``(dim,)``: known minima (for distances) and a
  default start;
* ``elementwise = True``: each point's loss and gradient are computed by elementwise
  NumPy operations only, so a point's bits do not depend on the batch around it (a
  matrix product's can: BLAS takes the edge rows of a block by another kernel). Such a
  problem's big sweeps may be split between worker processes (:mod:`optim.sweep`).

The 2-D surfaces (:mod:`optim.surfaces`) are problems with plotting extras (window,
LaTeX, curvature). This module adds problems that are not pictures: a least-squares
fit of any dimension and the online linear problem of Reddi, Kale & Kumar (2018).

>>> import optim
>>> p = make_problem("least_squares", n=50, dim=5, seed=1)
>>> t = optim.run(p, optim.make_optimizer("sgd", lr=0.1), p.start, 200, batch_size=10)
>>> t.params.shape, len(t.batches), bool(t.final_loss < t.loss[0])
((201, 5), 200, True)
"""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

import numpy as np

from .mlp import MLP
from .params import Param, Registry
from .surfaces import SURFACES


@runtime_checkable
class Problem(Protocol):
    """The least a problem needs (see the module docstring for the optional parts)."""

    dim: int

    def value_and_grad(self, p: np.ndarray) -> tuple[Any, np.ndarray]: ...


def _points(p: Any, dim: int) -> np.ndarray:
    p = np.asarray(p, dtype=np.float64)
    if p.ndim == 0 or p.shape[-1] != dim:
        raise ValueError(f"points must have shape (..., {dim}), got {p.shape}")
    return p


class LeastSquares:
    """Mean squared error of a linear model, ``f(w) = mean_i (x_i · w - y_i)²``.

    ``X`` is ``(n, dim)``, ``y`` is ``(n,)``. A data problem: ``batch_grad`` averages
    over a minibatch. ``minima`` holds the minimum-norm least-squares solution, the one
    gradient descent from zero converges to.
    """

    def __init__(self, X: Any, y: Any, start: Any = None, name: str = "least_squares") -> None:
        self.X = np.array(X, dtype=np.float64)
        self.y = np.array(y, dtype=np.float64)
        if self.X.ndim != 2 or self.y.shape != self.X.shape[:1]:
            raise ValueError(
                f"X must be (n, dim) and y (n,), got {self.X.shape} and {self.y.shape}"
            )
        self.X.flags.writeable = self.y.flags.writeable = False
        self.name = name
        self.n_samples, self.dim = self.X.shape
        self.start = np.zeros(self.dim) if start is None else _points(start, self.dim).copy()
        self.minima = np.linalg.lstsq(self.X, self.y, rcond=None)[0][None, :]

    def _value_and_grad(self, p: np.ndarray, X: np.ndarray, y: np.ndarray):
        r = p @ X.T - y  # (..., n) residuals
        return np.mean(r * r, axis=-1), (2.0 / len(y)) * (r @ X)

    def value_and_grad(self, p: np.ndarray) -> tuple[Any, np.ndarray]:
        return self._value_and_grad(_points(p, self.dim), self.X, self.y)

    def batch_grad(self, p: np.ndarray, idx: np.ndarray) -> np.ndarray:
        return self._value_and_grad(_points(p, self.dim), self.X[idx], self.y[idx])[1]

    def loss(self, p: Any) -> np.ndarray:
        return np.asarray(self.value_and_grad(p)[0])


class OnlineLinear:
    """The online problem of Reddi, Kale & Kumar (ICLR 2018), §3, on the box ``[low, high]``.

    ``f_t(x) = C·x`` when ``t mod period == 1``, else ``other·x`` (``C = 3``,
    ``period = 3``, ``other = -1`` by default; the paper's second example is
    ``C = 1010, period = 101, other = -10``). With ``C > 2`` the average slope is
    positive, so the best fixed point is ``x = -1``; Adam with ``β1 = 0`` and
    ``β2 = 1/(1 + C²)`` drifts to ``+1`` instead, and AMSGrad does not.

    ``value_and_grad`` is the average objective over one period (what the regret
    compares with); ``value_and_grad_at(p, t)`` is round ``t``'s.

    >>> p = OnlineLinear()
    >>> [float(p.value_and_grad_at(np.array([0.5]), t)[1][0]) for t in (1, 2, 3, 4)]
    [3.0, -1.0, -1.0, 3.0]
    """

    dim = 1
    elementwise = True  # a product with one number per round (see the module)

    def __init__(
        self,
        C: float = 3.0,
        period: int = 3,
        other: float = -1.0,
        low: float = -1.0,
        high: float = 1.0,
        start: float = 0.0,
    ) -> None:
        if int(period) != period or period < 1:
            raise ValueError(f"period must be a positive whole number, got {period!r}")
        if not low < high:
            raise ValueError(f"the box needs low < high, got [{low}, {high}]")
        self.name = "online_linear"
        self.C, self.period, self.other = float(C), int(period), float(other)
        self.low, self.high = float(low), float(high)
        self.start = np.array([min(max(float(start), self.low), self.high)])
        slope = (self.C + (self.period - 1) * self.other) / self.period
        best = self.low if slope > 0 else self.high
        self.minima = np.array([[best]]) if slope != 0 else np.empty((0, 1))

    def slope(self, t: int) -> float:
        """The coefficient of round ``t`` (t = 1, 2, ...)."""
        return self.C if t % self.period == 1 % self.period else self.other

    def _linear(self, p: np.ndarray, c: float) -> tuple[Any, np.ndarray]:
        p = _points(p, 1)
        return c * p[..., 0], np.full(p.shape, c)

    def value_and_grad_at(self, p: np.ndarray, t: int) -> tuple[Any, np.ndarray]:
        return self._linear(p, self.slope(t))

    def value_and_grad(self, p: np.ndarray) -> tuple[Any, np.ndarray]:
        return self._linear(p, (self.C + (self.period - 1) * self.other) / self.period)

    def project(self, p: np.ndarray) -> np.ndarray:
        return np.clip(p, self.low, self.high)

    def loss(self, p: Any) -> np.ndarray:
        return np.asarray(self.value_and_grad(p)[0])


def _least_squares(n: int = 100, dim: int = 10, noise: float = 0.1, seed: int = 0) -> LeastSquares:
    """Random Gaussian features and a random true weight vector plus label noise."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, dim))
    y = X @ rng.standard_normal(dim) + noise * rng.standard_normal(n)
    return LeastSquares(X, y)


_least_squares.params = (  # type: ignore[attr-defined]
    Param("n", 100, "Number of samples.", kind="int", low=1, high=10_000),
    Param("dim", 10, "Number of weights.", kind="int", low=1, high=1000),
    Param("noise", 0.1, "Standard deviation of the label noise.", low=0.0, high=2.0),
    Param("seed", 0, "Seed of the data.", kind="int", low=0, high=2**31 - 1),
)
OnlineLinear.params = (  # type: ignore[attr-defined]
    Param("C", 3.0, "Slope of every period-th round.", low=0.0, high=2000.0),
    Param("period", 3, "Rounds per period.", kind="int", low=1, high=1000),
    Param("other", -1.0, "Slope of the other rounds.", low=-100.0, high=0.0),
)

# problems that are not surfaces; make_problem also builds every surface by name
PROBLEMS: Registry = Registry(
    "problem", {"least_squares": _least_squares, "online_linear": OnlineLinear, "mlp": MLP}
)


def make_problem(name: str, **kw: Any) -> Any:
    """A registered problem or surface by name.

    >>> make_problem("online_linear", C=1010, period=101, other=-10).minima.tolist()
    [[-1.0]]
    """
    if name in SURFACES:
        return SURFACES.make(name, **kw)
    if name not in PROBLEMS:
        raise ValueError(
            f"unknown problem {name!r}; choose one of {', '.join([*PROBLEMS, *SURFACES])}"
        )
    return PROBLEMS.make(name, **kw)
