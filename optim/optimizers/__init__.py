"""Every optimizer of the course, one module per algorithm family, in teaching order."""

from __future__ import annotations

from typing import Any

from .base import HParam, Optimizer
from .sgd import SGD, Momentum, Nesterov

# name -> class, in the order the course teaches them
OPTIMIZERS: dict[str, type[Optimizer]] = {
    cls.name: cls
    for cls in (SGD, Momentum, Nesterov)
}


def make_optimizer(name: str, **hyper: Any) -> Optimizer:
    """Build a registered optimizer; unknown names or hyperparameters raise ``ValueError``."""
    try:
        cls = OPTIMIZERS[name]
    except KeyError:
        raise ValueError(
            f"unknown optimizer {name!r}; choose one of {', '.join(OPTIMIZERS)}"
        ) from None
    return cls(**hyper)


__all__ = ["OPTIMIZERS", "HParam", "Optimizer", "make_optimizer"]
