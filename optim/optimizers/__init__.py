"""Every optimizer of the course, one module per algorithm family, in teaching order."""

from __future__ import annotations

from typing import Any

from .adadelta import Adadelta
from .adagrad import Adagrad
from .adam import Adam, AdamW
from .adamax import Adamax
from .base import HParam, Optimizer
from .lion import Lion
from .nadam import NAdam
from .radam import RAdam
from .rmsprop import RMSprop
from .sgd import SGD, Momentum, Nesterov

# name -> class, in the order the course teaches them
OPTIMIZERS: dict[str, type[Optimizer]] = {
    cls.name: cls
    for cls in (
        SGD,
        Momentum,
        Nesterov,
        Adagrad,
        Adadelta,
        RMSprop,
        Adam,
        AdamW,
        NAdam,
        RAdam,
        Adamax,
        Lion,
    )
}


def make_optimizer(name: str, **hyper: Any) -> Optimizer:
    """Build a registered optimizer; unknown names or hyperparameters raise ``ValueError``.

    >>> make_optimizer("adam", lr=0.01, betas=(0.9, 0.99)).hyper["betas"]
    (0.9, 0.99)
    """
    try:
        cls = OPTIMIZERS[name]
    except KeyError:
        raise ValueError(
            f"unknown optimizer {name!r}; choose one of {', '.join(OPTIMIZERS)}"
        ) from None
    return cls(**hyper)


__all__ = [
    "OPTIMIZERS",
    "SGD",
    "Adadelta",
    "Adagrad",
    "Adam",
    "AdamW",
    "Adamax",
    "HParam",
    "Lion",
    "Momentum",
    "NAdam",
    "Nesterov",
    "Optimizer",
    "RAdam",
    "RMSprop",
    "make_optimizer",
]
