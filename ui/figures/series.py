"""A run as the charts draw it: its legend text and colour, its valid rows, thinned paths.

Shared by every chart module.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

# Okabe-Ito colours (without yellow, which vanishes on a light background, and black,
# which marks minima and starts): distinguishable with every common colour-vision deficiency.
PALETTE: tuple[str, ...] = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9")

# One colour per optimizer, whatever else races: the six above for the classics, then
# Paul Tol's colour-blind-safe dark tones for the rest.
OPTIMIZER_COLORS: dict[str, str] = {
    "sgd": "#0072B2",
    "momentum": "#D55E00",
    "nesterov": "#009E73",
    "adagrad": "#CC79A7",
    "adadelta": "#E69F00",
    "rmsprop": "#56B4E9",
    "adam": "#332288",
    "adamw": "#882255",
    "nadam": "#117733",
    "radam": "#999933",
    "adamax": "#AA4499",
    "lion": "#661100",
}

# repeated runs of one optimizer: the first solid, then these
DASHES: tuple[str, ...] = ("solid", "dash", "dot", "dashdot", "longdash", "longdashdot")


def optimizer_color(name: str, fallback: int = 0) -> str:
    return OPTIMIZER_COLORS.get(name, PALETTE[fallback % len(PALETTE)])


@dataclass(frozen=True)
class Series:
    """One optimizer's single trajectory as shown: legend text, colour and the run."""

    label: str
    color: str
    traj: Any  # optim.Trajectory with batch shape (): params (T+1, 2), NaN rows after a stop
    dash: str = "solid"  # the second run of one optimizer is dashed, the third dotted, ...
    name: str = ""  # the optimizer's registry name


def run_status(traj: Any) -> str:
    return str(np.asarray(traj.status).reshape(-1)[0])


def run_message(traj: Any) -> str:
    msg = getattr(traj, "message", "")
    return str(np.asarray(msg).reshape(-1)[0]) if msg is not None else ""


def thin(path: np.ndarray, span: np.ndarray, budget: int, min_fraction: float) -> np.ndarray:
    """Indices of path points kept for drawing: one per arc-length bin of the view.

    Zig-zags wider than a bin keep every step; tiny steps near a minimum collapse.
    The first and last points are always kept.
    """
    n = len(path)
    if n <= 2:
        return np.arange(n)
    d = np.abs(np.diff(path, axis=0)) / span
    arc = np.concatenate([[0.0], np.cumsum(np.hypot(d[:, 0], d[:, 1]))])
    total = arc[-1]
    if not np.isfinite(total) or total == 0:
        return np.array([0, n - 1])
    delta = max(min_fraction, total / budget)
    bins = np.floor(arc / delta)
    keep = np.concatenate([[True], bins[1:] != bins[:-1]])
    keep[-1] = True
    return np.nonzero(keep)[0]


def f32(a: Any) -> np.ndarray:
    return np.asarray(a, dtype=np.float32)


def status_words(traj: Any) -> str:
    """What happened to a run, in words a student reads without a glossary.

    "reached a minimum" only when the run ends near one of the surface's known minima
    (within 1 % of its window's diagonal); a run that stopped because its loss stopped
    changing elsewhere "stopped early" and says why.
    """
    status = run_status(traj)
    steps = traj.steps_taken()
    if status == "diverged":
        return f"diverged at step {steps}" if steps else "diverged at the start"
    stopping = getattr(traj, "stopping", {}) or {}
    near = _near_minimum(traj)
    if status == "converged":
        why = f"loss change < {stopping.get('tol', 0):.3g} for {stopping.get('patience', 3)} steps"
        return f"reached a minimum (stopped early: {why})" if near else f"stopped early ({why})"
    return f"ran all {steps} steps" + (", at a minimum" if near else "")


def _near_minimum(traj: Any) -> bool:
    d = traj.distance()
    bounds = getattr(traj.problem, "bounds", None)
    if d is None or bounds is None:
        return False
    (x0, x1), (y0, y1) = bounds
    return d <= 0.01 * float(np.hypot(x1 - x0, y1 - y0))
