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


@dataclass(frozen=True)
class Series:
    """One optimizer's single trajectory as shown: legend text, colour and the run."""

    label: str
    color: str
    traj: Any  # optim.Trajectory with batch shape (): params (T+1, 2), NaN rows after a stop


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
