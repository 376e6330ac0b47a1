"""Adagrad: per-coordinate step sizes from the sum of all past squared gradients."""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from .base import (
    GRADIENT,
    MAXIMIZE,
    PARAMETERS,
    STEP,
    SURFACE_GRADIENT,
    WEIGHT_DECAY,
    Optimizer,
    Param,
    apply_weight_decay,
    check_non_negative,
    eps_hparam,
    f64,
    lr_hparam,
)


class AdagradState(NamedTuple):
    count: int
    sum: np.ndarray  # s_t, torch's state["sum"]


class Adagrad(Optimizer):
    r"""Adagrad: divide each coordinate's step by the root of its accumulated squared gradients.

    Coordinates that have seen large gradients get small steps and rarely-moving
    ones keep large steps, so a badly scaled problem looks better scaled. Because
    the sum only grows, every step size shrinks for ever.

    Let :math:`\gamma, \eta, \lambda, s_0, \epsilon` be ``lr``, ``lr_decay``,
    ``weight_decay``, ``initial_accumulator_value``, ``eps``:

    .. math::

        {{latex}}

    ``effective_lr`` is :math:`\tilde\gamma_t / (\sqrt{s_t} + \epsilon)`, multiplying
    :math:`g_t`.

    .. note:: torch adds :math:`\epsilon` outside the square root (the paper's
       :math:`\delta`) and its default is 1e-10, far smaller than the other adaptive
       methods' 1e-8. ``lr_decay`` and ``initial_accumulator_value`` are torch
       additions, not in Duchi et al.

    References:

    * Duchi, Hazan and Singer, "Adaptive Subgradient Methods for Online Learning and Stochastic
      Optimization", JMLR 2011.

    >>> import numpy as np
    >>> opt = Adagrad(lr=0.5)
    >>> p, s = opt.step(np.array([1.0, 1.0]), np.array([4.0, 0.01]), opt.init(np.zeros(2)))
    >>> np.round(p, 6)  # the first step is about lr in every coordinate, whatever the gradient
    array([0.5, 0.5])
    """

    name = "adagrad"
    torch_class = "Adagrad"
    label = "Adagrad"
    hparams = (
        lr_hparam(1e-2),
        Param(
            "lr_decay",
            0.0,
            "Divides the learning rate by 1 + (t - 1) * lr_decay at step t.",
            symbol=r"\eta",
            low=0.0,
            high=1.0,
        ),
        WEIGHT_DECAY,
        Param(
            "initial_accumulator_value",
            0.0,
            "Starting value of the sum of squared gradients; larger values damp the first steps.",
            symbol=r"s_0",
            low=0.0,
            high=10.0,
        ),
        eps_hparam(1e-10),
        MAXIMIZE,
    )
    latex = r"""\begin{aligned}
g_t &\leftarrow \nabla f(\theta_{t-1}) + \lambda\,\theta_{t-1} \\
\tilde\gamma_t &\leftarrow \gamma \,/\, (1 + (t-1)\,\eta) \\
s_t &\leftarrow s_{t-1} + g_t^2 \\
\theta_t &\leftarrow \theta_{t-1} - \tilde\gamma_t\, \frac{g_t}{\sqrt{s_t} + \epsilon}
\end{aligned}"""
    summary = (
        "Give every coordinate its own learning rate: divide the step by the square root "
        "of all squared gradients seen so far in that coordinate. Steep directions are "
        "slowed down and flat ones keep moving, but since the sum only grows, the steps "
        "shrink until progress stalls."
    )
    history = (
        "Duchi, Hazan and Singer (2011), from online convex optimization; the first widely "
        "used adaptive method, good for sparse features. RMSProp and Adadelta (2012) "
        "replaced its ever-growing sum by a running average."
    )
    symbols = (
        GRADIENT,
        SURFACE_GRADIENT,
        (
            r"\tilde\gamma_t",
            "",
            "The learning rate of step t after lr_decay has divided it down (equal to lr "
            "when lr_decay is 0).",
        ),
        (
            r"s_t",
            "sum",
            "The sum of all squared gradients so far in each coordinate, on top of its "
            "starting value; it only grows.",
        ),
        PARAMETERS,
        STEP,
    )

    def validate(self, h: dict[str, Any]) -> None:
        check_non_negative(h, "lr", "lr_decay", "weight_decay", "initial_accumulator_value", "eps")

    def init(self, params: np.ndarray) -> AdagradState:
        return AdagradState(count=0, sum=self._fill(self._h["initial_accumulator_value"], params))

    def _clr(self, lr: Any, count: int) -> Any:
        return lr / (1.0 + (count - 1) * self._h["lr_decay"])

    def step(self, params, grad, state, lr=None):
        h = self._h
        lr = self._lr(lr)
        params, g = apply_weight_decay(f64(params), self._grad(grad), h["weight_decay"], lr, False)
        count = state.count + 1
        s = state.sum + g * g
        std = np.sqrt(s) + h["eps"]
        return params - self._clr(lr, count) * g / std, AdagradState(count, s)

    def effective_lr(self, state, lr=None):
        lr = self._lr(lr)
        if state.count == 0:
            return self._fill(lr, state.sum)
        return self._fill(
            self._clr(lr, state.count) / (np.sqrt(state.sum) + self._h["eps"]),
            state.sum,
            fresh=True,
        )
