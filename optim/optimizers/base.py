"""The shape every optimizer shares: hyperparameter specs, validation, init/step.

An optimizer is a small immutable object holding its hyperparameters plus three
pure methods, in the spirit of optax's ``init``/``update`` pair:

* ``init(params) -> state``: a ``NamedTuple`` of arrays (``count`` plus the
  optimizer's buffers), nothing hidden;
* ``step(params, grad, state, lr=None) -> (params, state)``: one update, never
  mutating its inputs; ``lr`` overrides the learning rate for this step only
  (that is how learning-rate schedules drive it, like torch's ``group["lr"]``);
* ``effective_lr(state, lr=None)``: the per-coordinate step size the last step
  applied to its search direction (defined in each optimizer's docstring).

Arrays have shape ``(..., d)``: any leading dimensions are a batch of independent
trajectories. A hyperparameter may be a NumPy array shaped like those leading
(batch) dimensions, e.g. ``lr=np.geomspace(1e-3, 1, 50)`` with ``params`` of
shape ``(50, 2)`` runs 50 learning rates in one pass. Internally it gets a
trailing axis so that it broadcasts against the coordinate axis.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, ClassVar, NamedTuple

import numpy as np


@dataclass(frozen=True)
class HParam:
    """One hyperparameter: its torch name, default and how a slider shows it.

    ``kind`` is ``"float"``, ``"int"``, ``"bool"`` or ``"pair"`` (torch's
    ``betas``); for a pair, ``default`` is a tuple and ``parts`` names each
    component (label, LaTeX symbol, low, high, log) so a UI can build one
    slider per component.
    """

    name: str
    default: Any
    help: str
    symbol: str = ""
    kind: str = "float"
    low: float | None = None
    high: float | None = None
    log: bool = False
    parts: tuple[tuple[str, str, float, float, bool], ...] = ()

    def slider_specs(self) -> list[dict]:
        """Flat slider descriptions: key, label, symbol, default, low, high, log, help."""
        if self.kind == "pair":
            return [
                dict(key=f"{self.name}[{i}]", label=label, symbol=sym, default=self.default[i],
                     low=lo, high=hi, log=lg, help=self.help, kind="float")
                for i, (label, sym, lo, hi, lg) in enumerate(self.parts)
            ]
        return [dict(key=self.name, label=self.name, symbol=self.symbol, default=self.default,
                     low=self.low, high=self.high, log=self.log, help=self.help, kind=self.kind)]


def as_batch(value: Any) -> Any:
    """A scalar stays a float; an array shaped like the batch gets a trailing axis."""
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    arr = np.asarray(value, dtype=np.float64)
    if arr.ndim == 0:
        return float(arr)
    return arr[..., None]


def _check(cond: Any, message: str) -> None:
    # torch validates scalars; an array hyperparameter is valid when every entry is.
    if not np.all(cond):
        raise ValueError(message)


def check_range(name: str, value: Any, low: float, high: float | None = None,
                *, low_open: bool = False, high_open: bool = True) -> None:
    """Raise ``ValueError`` (torch's wording) unless ``low <= value < high``."""
    v = np.asarray(value, dtype=np.float64)
    ok = np.isfinite(v) | np.isinf(v) & (high is None)
    ok = ok & ((v > low) if low_open else (v >= low))
    if high is not None:
        ok = ok & ((v < high) if high_open else (v <= high))
    _check(ok, f"Invalid {name} value: {value!r}")


class State(NamedTuple):
    """Placeholder base for documentation; each optimizer defines its own NamedTuple."""

    count: int


class Optimizer:
    """Base class. Subclasses set the class attributes and implement the math.

    Class attributes (everything the app renders comes from here, once):

    * ``name``: registry key; ``label``: display name;
    * ``hparams``: tuple of :class:`HParam` in torch's argument order;
    * ``latex``: the update rule as a LaTeX ``aligned`` block (also in the docstring);
    * ``summary``: one paragraph of intuition; ``history``: where it came from;
    * ``direction``: which vector ``effective_lr`` multiplies (LaTeX).
    """

    name: ClassVar[str] = ""
    label: ClassVar[str] = ""
    hparams: ClassVar[tuple[HParam, ...]] = ()
    latex: ClassVar[str] = ""
    summary: ClassVar[str] = ""
    history: ClassVar[str] = ""
    direction: ClassVar[str] = r"g_t"

    def __init__(self, **hyper: Any) -> None:
        known = {h.name for h in self.hparams}
        unknown = sorted(set(hyper) - known)
        if unknown:
            raise ValueError(
                f"{self.label or type(self).__name__} has no hyperparameter "
                f"{', '.join(map(repr, unknown))}; it takes {', '.join(sorted(known))}"
            )
        values = {h.name: h.default for h in self.hparams}
        values.update(hyper)
        for h in self.hparams:
            if h.kind == "pair":
                pair = values[h.name]
                if not isinstance(pair, (tuple, list)) or len(pair) != 2:
                    raise ValueError(f"{h.name} must be a pair, got {pair!r}")
                values[h.name] = tuple(pair)
            elif h.kind == "bool":
                values[h.name] = bool(values[h.name])
        self.validate(values)
        # what the user asked for (scalars or batch arrays), and the broadcastable form
        self.hyper: dict[str, Any] = values
        self._h: dict[str, Any] = {
            k: tuple(as_batch(x) for x in v) if isinstance(v, tuple) else as_batch(v)
            for k, v in values.items()
        }

    # -- per-optimizer -----------------------------------------------------------------
    def validate(self, h: dict[str, Any]) -> None:
        """Raise ``ValueError`` for values torch.optim rejects."""

    def init(self, params: np.ndarray) -> NamedTuple:
        raise NotImplementedError

    def step(self, params: np.ndarray, grad: np.ndarray, state: NamedTuple,
             lr: Any = None) -> tuple[np.ndarray, NamedTuple]:
        raise NotImplementedError

    def effective_lr(self, state: NamedTuple, lr: Any = None) -> np.ndarray:
        raise NotImplementedError

    # -- shared ------------------------------------------------------------------------
    @classmethod
    def defaults(cls) -> dict[str, Any]:
        return {h.name: h.default for h in cls.hparams}

    @classmethod
    def slider_specs(cls) -> list[dict]:
        return [spec for h in cls.hparams for spec in h.slider_specs()]

    def _lr(self, lr: Any) -> Any:
        return self._h["lr"] if lr is None else as_batch(lr)

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.hyper.items())
        return f"{type(self).__name__}({args})"


def zeros_like(params: np.ndarray) -> np.ndarray:
    return np.zeros(np.shape(params), dtype=np.float64)


def bias_correction(beta: Any, count: int) -> Any:
    """``1 - beta**t``: how much of an EMA that started at zero is real signal."""
    return 1.0 - beta**count


def lerp(buf: np.ndarray, target: np.ndarray, weight: Any) -> np.ndarray:
    """``buf + weight * (target - buf)``, the EMA update torch writes as ``lerp_``."""
    return buf + weight * (target - buf)


def sqrt(x: Any) -> Any:
    return math.sqrt(x) if isinstance(x, float) else np.sqrt(x)
