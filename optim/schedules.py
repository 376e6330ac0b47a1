"""Learning-rate schedules as closed-form multipliers, with torch.optim.lr_scheduler's semantics.

A schedule maps the step index ``t = 0, 1, ...`` (the step about to be taken)
to a factor that multiplies the optimizer's base ``lr``; ``factors(steps)``
returns all of them at once, so a run never calls back into Python per step.
Index 0 is the learning rate of the first step, which is what torch's scheduler
gives before its first ``scheduler.step()``.

>>> make_schedule("step", step_size=2, gamma=0.5).factors(5).tolist()
[1.0, 1.0, 0.5, 0.5, 0.25]
"""

from __future__ import annotations

import math
from typing import Any, ClassVar

import numpy as np

from .params import Param, Registry


class Schedule:
    """Base class: subclasses list their parameters and implement ``factor(t)``."""

    name: ClassVar[str] = ""
    label: ClassVar[str] = ""
    latex: ClassVar[str] = ""
    specs: ClassVar[tuple[Param, ...]] = ()

    def __init__(self, **kw: Any) -> None:
        known = {s.name: s for s in self.specs}
        unknown = sorted(set(kw) - set(known))
        if unknown:
            raise ValueError(
                f"schedule {self.name!r} has no parameter {', '.join(map(repr, unknown))}"
                + (f"; it takes {', '.join(known)}" if known else "; it takes none")
            )
        values = {k: s.default for k, s in known.items()}
        values.update(kw)
        for key, v in values.items():
            if known[key].kind == "int":
                if isinstance(v, bool) or not float(v).is_integer():
                    raise ValueError(f"{key} must be a whole number, got {v!r}")
                values[key] = int(v)
            else:
                values[key] = float(v)
                if not math.isfinite(values[key]):
                    raise ValueError(f"{key} must be finite, got {v!r}")
        self.validate(values)
        self.hyper = values

    @property
    def params(self) -> list[Param]:
        """This schedule's parameters, the same :class:`Param` as the optimizers'."""
        return list(self.specs)

    def validate(self, h: dict[str, Any]) -> None:
        """Raise ``ValueError`` on values that make no schedule."""

    def factor(self, t: np.ndarray, steps: int) -> np.ndarray:
        raise NotImplementedError

    def factors(self, steps: int) -> np.ndarray:
        """Multipliers of the base learning rate for steps ``1..steps``, shape ``(steps,)``."""
        t = np.arange(int(steps), dtype=np.float64)
        return np.broadcast_to(self.factor(t, int(steps)), t.shape).astype(np.float64)

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.hyper.items())
        return f"{type(self).__name__}({args})"


def _positive(name: str, value: float) -> None:
    if value <= 0:
        raise ValueError(f"{name} must be positive, got {value!r}")


def _fraction(name: str, value: float) -> None:
    if not 0 <= value <= 1:
        raise ValueError(f"{name} must lie in [0, 1], got {value!r}")


_T_MAX = Param(
    "T_max",
    0,
    "Steps from the full rate down to the minimum; 0 means the whole run.",
    symbol=r"T_{\max}",
    kind="int",
    low=0,
    high=5000,
    label="period T_max",
)
_ETA_MIN = Param(
    "eta_min",
    0.0,
    "Lowest learning rate, as a fraction of the base lr.",
    symbol=r"\eta_{\min}",
    low=0.0,
    high=1.0,
    label="final fraction",
)


class Constant(Schedule):
    name = "constant"
    label = "Constant"
    latex = r"\gamma_t = \gamma"

    def factor(self, t, steps):
        return np.ones_like(t)


class StepDecay(Schedule):
    """torch's ``StepLR``: multiply by ``gamma`` every ``step_size`` steps."""

    name = "step"
    label = "Step decay"
    latex = r"\gamma_t = \gamma \cdot g^{\lfloor t / s \rfloor}"
    specs = (
        Param(
            "step_size",
            100,
            "Steps between two decays.",
            symbol="s",
            kind="int",
            low=1,
            high=2000,
            label="step size",
        ),
        Param("gamma", 0.5, "Factor applied at each decay.", symbol="g", low=0.01, high=1.0),
    )

    def validate(self, h):
        _positive("step_size", h["step_size"])
        _positive("gamma", h["gamma"])

    def factor(self, t, steps):
        return self.hyper["gamma"] ** np.floor(t / self.hyper["step_size"])


class ExponentialDecay(Schedule):
    """torch's ``ExponentialLR``: multiply by ``gamma`` every step."""

    name = "exponential"
    label = "Exponential decay"
    latex = r"\gamma_t = \gamma \cdot g^{t}"
    specs = (Param("gamma", 0.99, "Factor applied at every step.", symbol="g", low=0.9, high=1.0),)

    def validate(self, h):
        _positive("gamma", h["gamma"])

    def factor(self, t, steps):
        return self.hyper["gamma"] ** t


def _cosine(t: np.ndarray, period: float, eta_min: float) -> np.ndarray:
    return eta_min + (1.0 - eta_min) * 0.5 * (1.0 + np.cos(np.pi * t / period))


class Cosine(Schedule):
    """torch's ``CosineAnnealingLR`` (closed form, ``eta_min`` as a fraction of lr).

    Past ``T_max`` the closed form climbs back up, as torch's does.
    """

    name = "cosine"
    label = "Cosine annealing"
    latex = (
        r"\gamma_t = \gamma\left(\eta_{\min} + \tfrac{1-\eta_{\min}}{2}"
        r"\left(1 + \cos\tfrac{\pi t}{T_{\max}}\right)\right)"
    )
    specs = (_T_MAX, _ETA_MIN)

    def validate(self, h):
        if h["T_max"] < 0:
            raise ValueError(f"T_max must be non-negative, got {h['T_max']!r}")
        _fraction("eta_min", h["eta_min"])

    def factor(self, t, steps):
        period = self.hyper["T_max"] or max(steps, 1)
        return _cosine(t, period, self.hyper["eta_min"])


class WarmupCosine(Schedule):
    """Linear warm-up from ``start_factor`` to 1, then cosine annealing to ``eta_min``.

    torch builds it as ``SequentialLR([LinearLR, CosineAnnealingLR], [warmup])``.
    """

    name = "warmup_cosine"
    label = "Warm-up + cosine"
    latex = (
        r"\gamma_t = \gamma \begin{cases} f_0 + (1-f_0)\,t/W & t < W \\ "
        r"\eta_{\min} + \tfrac{1-\eta_{\min}}{2}\left(1 + \cos\tfrac{\pi (t-W)}"
        r"{T_{\max}-W}\right) & t \ge W \end{cases}"
    )
    specs = (
        Param(
            "warmup",
            50,
            "Steps of linear warm-up.",
            symbol="W",
            kind="int",
            low=0,
            high=1000,
            label="warm-up steps",
        ),
        Param(
            "start_factor",
            0.1,
            "Fraction of the lr at the first step.",
            symbol="f_0",
            low=0.0,
            high=1.0,
            label="start factor",
        ),
        _T_MAX,
        _ETA_MIN,
    )

    def validate(self, h):
        if h["warmup"] < 0 or h["T_max"] < 0:
            raise ValueError("warmup and T_max must be non-negative")
        if h["T_max"] and h["T_max"] <= h["warmup"]:
            raise ValueError(f"T_max ({h['T_max']}) must exceed warmup ({h['warmup']})")
        _fraction("start_factor", h["start_factor"])
        _fraction("eta_min", h["eta_min"])

    def factor(self, t, steps):
        h = self.hyper
        w = h["warmup"]
        total = h["T_max"] or max(steps, w + 1)
        warm = h["start_factor"] + (1.0 - h["start_factor"]) * t / max(w, 1)
        cool = _cosine(t - w, max(total - w, 1), h["eta_min"])
        return np.where(t < w, warm, cool)


class InverseTime(Schedule):
    """``lr / (1 + decay * t)``: the classic Robbins-Monro-style decay."""

    name = "inverse_time"
    label = "Inverse-time decay"
    latex = r"\gamma_t = \frac{\gamma}{1 + k\,t}"
    specs = (
        Param(
            "decay",
            0.01,
            "How fast the rate shrinks.",
            symbol="k",
            low=0.0,
            high=1.0,
            label="decay rate",
        ),
    )

    def validate(self, h):
        if h["decay"] < 0:
            raise ValueError(f"decay must be non-negative, got {h['decay']!r}")

    def factor(self, t, steps):
        return 1.0 / (1.0 + self.hyper["decay"] * t)


SCHEDULES: Registry[type[Schedule]] = Registry(
    "schedule", (Constant, StepDecay, ExponentialDecay, Cosine, WarmupCosine, InverseTime)
)


def make_schedule(name: str, **kw: Any) -> Schedule:
    """Build a registered schedule; unknown names or parameters raise ``ValueError``."""
    return SCHEDULES.make(name, **kw)
