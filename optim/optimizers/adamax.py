"""Adamax: Adam with the infinity norm in place of the root-mean-square."""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from .base import (
    EXP_AVG,
    GRADIENT,
    M_HAT,
    MAXIMIZE,
    PARAMETERS,
    STEP,
    SURFACE_GRADIENT,
    WEIGHT_DECAY,
    Optimizer,
    apply_weight_decay,
    betas_hparam,
    bias_correction,
    check_adam_family,
    eps_hparam,
    f64,
    lerp,
    lr_hparam,
    zeros_like,
)


class AdamaxState(NamedTuple):
    count: int
    exp_avg: np.ndarray  # m_t
    exp_inf: np.ndarray  # u_t: decaying maximum of |g|


class Adamax(Optimizer):
    r"""Adamax: divide the momentum by a slowly decaying maximum of the gradient's size.

    Adam's denominator is an average of squared gradients (an :math:`L^2` norm over
    time); Adamax uses the largest recent :math:`|g|` instead (the :math:`L^\infty`
    norm), which needs no bias correction and reacts less to a single outlier
    than a sum of squares would.

    Let :math:`\gamma, \beta_1, \beta_2, \epsilon, \lambda` be ``lr``, ``betas``,
    ``eps``, ``weight_decay``:

    .. math::

        {{latex}}

    ``effective_lr`` is :math:`\gamma / u_t`, multiplying :math:`\hat m_t`.

    .. note:: The paper (section 7.1 of Kingma and Ba) has no :math:`\epsilon`;
       torch adds it to :math:`|g_t|` inside the maximum so that :math:`u_t > 0`.

    References:

    * Kingma and Ba, "Adam: A Method for Stochastic Optimization", ICLR 2015, section 7.1.

    >>> import numpy as np
    >>> opt = Adamax(lr=0.1)
    >>> p, s = opt.step(np.array([1.0, 1.0]), np.array([50.0, -0.5]), opt.init(np.zeros(2)))
    >>> np.round(p, 6)  # first step: lr * sign(g) in every coordinate
    array([0.9, 1.1])
    """

    name = "adamax"
    torch_class = "Adamax"
    label = "Adamax"
    hparams = (
        lr_hparam(2e-3),
        betas_hparam((0.9, 0.999)),
        eps_hparam(1e-8),
        WEIGHT_DECAY,
        MAXIMIZE,
    )
    latex = r"""\begin{aligned}
g_t &\leftarrow \nabla f(\theta_{t-1}) + \lambda\,\theta_{t-1} \\
m_t &\leftarrow \beta_1\, m_{t-1} + (1-\beta_1)\, g_t, \quad \hat m_t \leftarrow m_t / (1-\beta_1^t) \\
u_t &\leftarrow \max(\beta_2\, u_{t-1},\ |g_t| + \epsilon) \\
\theta_t &\leftarrow \theta_{t-1} - \gamma\, \hat m_t / u_t
\end{aligned}"""
    summary = (
        "A sibling of Adam that divides the momentum by the largest recent gradient size "
        "instead of a root-mean-square. The maximum decays slowly, so one big gradient "
        "keeps that coordinate's steps small for a while."
    )
    history = (
        "Proposed in the Adam paper itself (Kingma and Ba, 2014, section 7.1) as the "
        "infinity-norm limit of Adam's update."
    )
    direction = r"\hat m_t"
    symbols = (
        GRADIENT,
        SURFACE_GRADIENT,
        EXP_AVG,
        M_HAT,
        (
            r"u_t",
            "exp_inf",
            "A slowly decaying maximum of the gradient's size per coordinate: it shrinks by "
            "beta2 each step unless the new gradient is larger.",
        ),
        PARAMETERS,
        STEP,
    )

    def validate(self, h: dict[str, Any]) -> None:
        check_adam_family(h)

    def init(self, params: np.ndarray) -> AdamaxState:
        z = zeros_like(params)
        return AdamaxState(count=0, exp_avg=z, exp_inf=z.copy(order="K"))

    def step(self, params, grad, state, lr=None):
        h = self._h
        lr = self._lr(lr)
        beta1, beta2 = h["betas"]
        count = state.count + 1
        params, g = apply_weight_decay(f64(params), self._grad(grad), h["weight_decay"], lr, False)
        m = lerp(state.exp_avg, g, 1.0 - beta1)
        u = np.maximum(state.exp_inf * beta2, np.abs(g) + h["eps"])
        clr = lr / bias_correction(beta1, count)
        return params - clr * m / u, AdamaxState(count, m, u)

    def effective_lr(self, state, lr=None):
        lr = self._lr(lr)
        if state.count == 0:
            return self._fill(lr, state.exp_avg)
        return self._fill(lr / state.exp_inf, state.exp_inf, fresh=True)
