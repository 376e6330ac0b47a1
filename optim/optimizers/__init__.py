"""Every optimizer of the course, one module per algorithm family, in teaching order."""

from __future__ import annotations

from typing import Any

from ..params import Param, Registry
from .adadelta import Adadelta
from .adagrad import Adagrad
from .adam import Adam, AdamW
from .adamax import Adamax
from .base import Optimizer
from .lion import Lion
from .nadam import NAdam
from .radam import RAdam
from .rmsprop import RMSprop
from .sgd import SGD, Momentum, Nesterov

# name -> class, in the order the course teaches them
OPTIMIZERS: Registry[type[Optimizer]] = Registry(
    "optimizer",
    (
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
    ),
)


def make_optimizer(name: str, **hyper: Any) -> Optimizer:
    """Build a registered optimizer; unknown names or hyperparameters raise ``ValueError``.

    >>> make_optimizer("adam", lr=0.01, betas=(0.9, 0.99)).hyper["betas"]
    (0.9, 0.99)
    """
    return OPTIMIZERS.make(name, **hyper)


__all__ = [
    "OPTIMIZERS",
    "SGD",
    "Adadelta",
    "Adagrad",
    "Adam",
    "AdamW",
    "Adamax",
    "Param",
    "Lion",
    "Momentum",
    "NAdam",
    "Nesterov",
    "Optimizer",
    "Param",
    "RAdam",
    "RMSprop",
    "make_optimizer",
]
