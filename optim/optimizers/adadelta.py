"""Adadelta: RMSProp's denominator, with a numerator that carries the units of the parameters."""

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
    check_range,
    ema_sq,
    eps_hparam,
    f64,
    lr_hparam,
    zeros_like,
)


class AdadeltaState(NamedTuple):
    count: int
    square_avg: np.ndarray  # v_t: running average of g^2
    acc_delta: np.ndarray  # u_t: running average of the squared updates
    ratio: np.ndarray  # sqrt(u_{t-1} + eps) / sqrt(v_t + eps), the last step's scale


class Adadelta(Optimizer):
    r"""Adadelta: scale each step by the ratio of two running RMS values.

    The denominator is an RMSProp-style average of squared gradients; the
    numerator is the same kind of average of the past *updates*, so the step has
    the units of the parameters and no learning rate is needed (torch keeps one,
    default 1.0). The first steps are tiny, about :math:`\sqrt{\epsilon/(1-\rho)}`.

    Let :math:`\gamma, \rho, \epsilon, \lambda` be ``lr``, ``rho``, ``eps``,
    ``weight_decay``:

    .. math::

        {{latex}}

    ``effective_lr`` is :math:`\gamma \sqrt{u_{t-1}+\epsilon} / \sqrt{v_t+\epsilon}`,
    multiplying :math:`g_t` (kept in the state as ``ratio``, without :math:`\gamma`).

    .. note:: Zeiler's paper has no learning rate; torch multiplies the update by
       ``lr`` (1.0 reproduces the paper) but keeps the unscaled :math:`\Delta_t` in
       the running average :math:`u_t`. Here :math:`\epsilon` sits inside both
       square roots, and its default 1e-6 decides how fast Adadelta starts.

    References:

    * Zeiler, "ADADELTA: An Adaptive Learning Rate Method", arXiv:1212.5701, 2012.

    >>> import numpy as np
    >>> opt = Adadelta()
    >>> p, s = opt.step(np.array([1.0]), np.array([2.0]), opt.init(np.zeros(1)))
    >>> float(np.round(1.0 - p[0], 6))  # first step ~ sqrt(eps / (1 - rho))
    0.003162
    """

    name = "adadelta"
    torch_class = "Adadelta"
    label = "Adadelta"
    hparams = (
        lr_hparam(1.0),
        Param(
            "rho",
            0.9,
            "Decay rate of both running averages (squared gradients and squared updates).",
            symbol=r"\rho",
            low=0.0,
            high=0.999,
        ),
        eps_hparam(1e-6),
        WEIGHT_DECAY,
        MAXIMIZE,
    )
    latex = r"""\begin{aligned}
g_t &\leftarrow \nabla f(\theta_{t-1}) + \lambda\,\theta_{t-1} \\
v_t &\leftarrow \rho\, v_{t-1} + (1-\rho)\, g_t^2 \\
\Delta_t &\leftarrow \frac{\sqrt{u_{t-1} + \epsilon}}{\sqrt{v_t + \epsilon}}\, g_t \\
u_t &\leftarrow \rho\, u_{t-1} + (1-\rho)\, \Delta_t^2 \\
\theta_t &\leftarrow \theta_{t-1} - \gamma\, \Delta_t
\end{aligned}"""
    summary = (
        "Like RMSprop it divides by a running RMS of the gradients, but it multiplies by a "
        "running RMS of its own past steps instead of a learning rate. Steps start tiny "
        "and grow as the optimizer gains confidence, which makes it slow to get going."
    )
    history = (
        "Zeiler (2012), a fix for Adagrad's ever-shrinking steps that also tries to remove "
        "the learning rate; published the same year as Hinton's RMSProp."
    )
    symbols = (
        GRADIENT,
        SURFACE_GRADIENT,
        (
            r"v_t",
            "square_avg",
            "A running average of the squared gradients (decay rho), per coordinate.",
        ),
        (
            r"\frac{\sqrt{u_{t-1} + \epsilon}}{\sqrt{v_t + \epsilon}}",
            "ratio",
            "This step's scale per coordinate: the typical size of recent updates divided "
            "by the typical size of recent gradients.",
        ),
        (
            r"\Delta_t",
            "",
            "The update of step t before the learning rate: the gradient times that scale.",
        ),
        (
            r"u_t",
            "acc_delta",
            "A running average of the squared updates Delta (decay rho), per coordinate.",
        ),
        PARAMETERS,
        STEP,
    )

    def validate(self, h: dict[str, Any]) -> None:
        check_non_negative(h, "lr")
        check_range("Invalid rho value", h["rho"], 0.0, 1.0, high_open=False)
        check_non_negative(h, "eps", "weight_decay")

    def init(self, params: np.ndarray) -> AdadeltaState:
        return AdadeltaState(
            count=0,
            square_avg=zeros_like(params),
            acc_delta=zeros_like(params),
            ratio=np.ones(np.shape(params)),
        )

    def step(self, params, grad, state, lr=None):
        h = self._h
        lr = self._lr(lr)
        rho, eps = h["rho"], h["eps"]
        params, g = apply_weight_decay(f64(params), self._grad(grad), h["weight_decay"], lr, False)
        v = ema_sq(state.square_avg, g, rho)
        ratio = np.sqrt(state.acc_delta + eps) / np.sqrt(v + eps)
        delta = ratio * g
        u = ema_sq(state.acc_delta, delta, rho)
        return params - lr * delta, AdadeltaState(state.count + 1, v, u, ratio)

    def effective_lr(self, state, lr=None):
        return self._fill(self._lr(lr) * state.ratio, state.ratio, fresh=True)
