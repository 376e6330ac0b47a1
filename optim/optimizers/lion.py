"""Lion: the sign of an interpolated momentum, found by program search."""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from .base import (
    PARAMETERS,
    PLAIN_GRADIENT,
    STEP,
    Optimizer,
    Param,
    betas_hparam,
    check_betas,
    check_non_negative,
    f64,
    lr_hparam,
    zeros_like,
)


class LionState(NamedTuple):
    count: int
    exp_avg: np.ndarray  # m_t


class Lion(Optimizer):
    r"""Lion (EvoLved Sign Momentum): every coordinate moves by exactly ``lr`` per step.

    The direction is the *sign* of a blend of the momentum and the new gradient,
    so each coordinate moves by :math:`\pm\gamma` whatever the gradient's size.
    Two betas play different roles: :math:`\beta_1` blends for the current step,
    :math:`\beta_2` (slower) updates the momentum that is kept.

    Let :math:`\gamma, \beta_1, \beta_2, \lambda` be ``lr``, ``betas``,
    ``weight_decay``:

    .. math::

        {{latex}}

    ``effective_lr`` is :math:`\gamma` everywhere, multiplying
    :math:`\operatorname{sign}(c_t)` (0 where :math:`c_t = 0`).

    .. note:: Lion is not in torch.optim; this follows the reference code of Chen
       et al. (defaults ``lr=1e-4``, ``betas=(0.9, 0.99)``, ``weight_decay=0``).
       Its weight decay is decoupled and multiplied by ``lr`` as in AdamW; since the
       steps of sign updates are large, the paper uses a learning rate 3-10x smaller
       and a weight decay 3-10x larger than for AdamW.

    References:

    * Chen et al., "Symbolic Discovery of Optimization Algorithms", NeurIPS 2023,
      arXiv:2302.06675.

    >>> import numpy as np
    >>> opt = Lion(lr=0.1)
    >>> p, s = opt.step(np.array([1.0, 1.0]), np.array([50.0, -0.001]), opt.init(np.zeros(2)))
    >>> p
    array([0.9, 1.1])
    """

    name = "lion"
    reference = "lion_pytorch.Lion"  # lucidrains' implementation, checked step for step
    label = "Lion"
    hparams = (
        lr_hparam(1e-4),
        betas_hparam((0.9, 0.99)),
        Param(
            "weight_decay",
            0.0,
            "Decoupled weight decay: shrinks theta by lr * weight_decay each step.",
            symbol=r"\lambda",
            low=0.0,
            high=10.0,
        ),
    )
    latex = r"""\begin{aligned}
c_t &\leftarrow \beta_1\, m_{t-1} + (1-\beta_1)\, g_t \\
\theta_t &\leftarrow (1-\gamma\lambda)\,\theta_{t-1} - \gamma\, \operatorname{sign}(c_t) \\
m_t &\leftarrow \beta_2\, m_{t-1} + (1-\beta_2)\, g_t
\end{aligned}"""
    summary = (
        "Only the sign of the momentum matters: every coordinate moves by exactly the "
        "learning rate each step, up or down. It needs one buffer instead of Adam's two "
        "and a smaller learning rate, and it keeps moving at full speed on flat ground."
    )
    history = (
        "Chen et al., 'Symbolic Discovery of Optimization Algorithms' (Google, 2023): found "
        "by an automated search over programs rather than designed by hand. Its sign step "
        "echoes signSGD (Bernstein et al., 2018)."
    )
    direction = r"\operatorname{sign}(c_t)"
    symbols = (
        (
            r"c_t",
            "",
            "A blend of the kept momentum (weight beta1) and the new gradient (weight "
            "1 - beta1); only its sign is used for the step.",
        ),
        (
            r"m_t",
            "exp_avg",
            "The momentum kept between steps: a running average of the gradients with the "
            "slower decay beta2.",
        ),
        PLAIN_GRADIENT,
        PARAMETERS,
        STEP,
    )

    def validate(self, h: dict[str, Any]) -> None:
        check_non_negative(h, "lr")
        check_betas(h["betas"])
        check_non_negative(h, "weight_decay")

    def init(self, params: np.ndarray) -> LionState:
        return LionState(count=0, exp_avg=zeros_like(params))

    def step(self, params, grad, state, lr=None):
        h = self._h
        lr = self._lr(lr)
        beta1, beta2 = h["betas"]
        params, g = f64(params), self._grad(grad)
        m = state.exp_avg
        c = m * beta1 + g * (1.0 - beta1)
        params = params * (1.0 - lr * h["weight_decay"]) - lr * np.sign(c)
        return params, LionState(state.count + 1, m * beta2 + g * (1.0 - beta2))

    def effective_lr(self, state, lr=None):
        return self._fill(self._lr(lr), state.exp_avg)
