"""RAdam: Adam that switches its adaptive denominator on only once it can be trusted."""

from __future__ import annotations

import math
from typing import Any, NamedTuple

import numpy as np

from .base import (
    DECOUPLED_WEIGHT_DECAY,
    EXP_AVG,
    EXP_AVG_SQ,
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
    ema_sq,
    eps_hparam,
    f64,
    lerp,
    lr_hparam,
    zeros_like,
)

RHO_THRESHOLD = 5.0  # torch's switch-on point for the adaptive term (the paper says 4)


class RAdamState(NamedTuple):
    count: int
    exp_avg: np.ndarray  # m_t
    exp_avg_sq: np.ndarray  # v_t


class RAdam(Optimizer):
    r"""RAdam: Adam with a rectified, warmed-up adaptive learning rate.

    In the first steps :math:`v_t` is an average of only a few squared gradients,
    so :math:`1/\sqrt{v_t}` is very noisy. RAdam estimates how many gradients the
    average effectively holds (:math:`\rho_t`); while that is too small it takes
    plain momentum-SGD steps, afterwards Adam steps scaled by a rectification
    factor :math:`r_t` that grows towards 1 — a built-in learning-rate warmup.

    Let :math:`\gamma, \beta_1, \beta_2, \epsilon, \lambda` be ``lr``, ``betas``,
    ``eps``, ``weight_decay``:

    .. math::

        {{latex}}

    ``effective_lr`` is :math:`\gamma\, r_t \sqrt{1-\beta_2^t} / (\sqrt{v_t}+\epsilon)`
    once :math:`\rho_t > 5` and :math:`\gamma` before, multiplying :math:`\hat m_t`.
    With the default :math:`\beta_2 = 0.999` the switch happens at step 6.

    .. note:: Liu et al. switch on at :math:`\rho_t > 4`; torch uses 5, and adds
       :math:`\epsilon` to :math:`\sqrt{v_t}` before the bias correction (Adam adds it
       after), so the two are not the same expression even with :math:`r_t = 1`.

    References:

    * Liu et al., "On the Variance of the Adaptive Learning Rate and Beyond", ICLR 2020,
      arXiv:1908.03265.

    >>> import numpy as np
    >>> opt = RAdam(lr=0.1)
    >>> p, s = opt.step(np.array([1.0]), np.array([3.0]), opt.init(np.zeros(1)))
    >>> p  # not rectified yet: a plain momentum step 1 - lr * m_hat = 1 - 0.1 * 3
    array([0.7])
    """

    name = "radam"
    torch_class = "RAdam"
    label = "RAdam"
    hparams = (
        lr_hparam(1e-3),
        betas_hparam((0.9, 0.999)),
        eps_hparam(1e-8),
        WEIGHT_DECAY,
        DECOUPLED_WEIGHT_DECAY,
        MAXIMIZE,
    )
    latex = r"""\begin{aligned}
g_t &\leftarrow \nabla f(\theta_{t-1}) + \lambda\,\theta_{t-1} \quad (\text{decoupled: } \theta_{t-1} \leftarrow (1-\gamma\lambda)\,\theta_{t-1}) \\
m_t &\leftarrow \beta_1\, m_{t-1} + (1-\beta_1)\, g_t, \quad \hat m_t \leftarrow m_t / (1-\beta_1^t) \\
v_t &\leftarrow \beta_2\, v_{t-1} + (1-\beta_2)\, g_t^2 \\
\rho_\infty &\leftarrow 2/(1-\beta_2) - 1, \quad \rho_t \leftarrow \rho_\infty - 2t\beta_2^t / (1-\beta_2^t) \\
r_t &\leftarrow \sqrt{\frac{(\rho_t-4)(\rho_t-2)\,\rho_\infty}{(\rho_\infty-4)(\rho_\infty-2)\,\rho_t}} \\
\theta_t &\leftarrow \begin{cases} \theta_{t-1} - \gamma\, \hat m_t\, r_t \dfrac{\sqrt{1-\beta_2^t}}{\sqrt{v_t} + \epsilon} & \rho_t > 5 \\ \theta_{t-1} - \gamma\, \hat m_t & \text{otherwise} \end{cases}
\end{aligned}"""
    summary = (
        "Adam with an automatic warmup. For the first few steps, while the average of "
        "squared gradients is still unreliable, it takes plain momentum steps. Then it "
        "switches to Adam's adaptive steps, scaled down at first and growing to full size."
    )
    history = (
        "Liu et al., 'On the Variance of the Adaptive Learning Rate and Beyond' (2019, "
        "ICLR 2020), explaining why Adam needs a learning-rate warmup and building one in."
    )
    direction = r"\hat m_t"
    symbols = (
        GRADIENT,
        SURFACE_GRADIENT,
        EXP_AVG,
        M_HAT,
        EXP_AVG_SQ,
        (
            r"\rho_\infty",
            "",
            "How many squared gradients v_t effectively averages in the long run; fixed by "
            "beta2 alone.",
        ),
        (
            r"\rho_t",
            "",
            "How many squared gradients v_t effectively averages after t steps; the "
            "adaptive step switches on once it exceeds 5.",
        ),
        (
            r"r_t",
            "",
            "The rectification factor: scales the adaptive step down while v_t is still "
            "unreliable and grows towards 1.",
        ),
        PARAMETERS,
        STEP,
    )

    def validate(self, h: dict[str, Any]) -> None:
        check_adam_family(h)

    def init(self, params: np.ndarray) -> RAdamState:
        z = zeros_like(params)
        return RAdamState(count=0, exp_avg=z, exp_avg_sq=z.copy(order="K"))

    def _adaptive_scale(self, v: np.ndarray, count: int) -> Any:
        """The factor that multiplies ``lr * m_hat``: ``r_t sqrt(1-beta2^t) / (sqrt(v)+eps)``
        where rectified (``rho_t > 5``), 1 elsewhere. ``None`` when no trajectory is rectified."""
        beta2 = self._h["betas"][1]
        bc2 = bias_correction(beta2, count)
        rho_inf = 2.0 / (1.0 - beta2) - 1.0
        rho_t = rho_inf - 2.0 * count * beta2**count / bc2

        def adaptive():
            return bc2**0.5 / (np.sqrt(v) + self._h["eps"])

        if isinstance(rho_t, float):
            if rho_t <= RHO_THRESHOLD:
                return None
            rect = math.sqrt(
                (rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t)
            )
            return adaptive() * rect
        on = rho_t > RHO_THRESHOLD
        if not np.any(on):
            return None
        with np.errstate(all="ignore"):  # the formula is meaningless where it is not used
            rect = np.sqrt(
                (rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t)
            )
            return np.where(on, adaptive() * rect, 1.0)

    def step(self, params, grad, state, lr=None):
        h = self._h
        lr = self._lr(lr)
        beta1, beta2 = h["betas"]
        count = state.count + 1
        params, g = apply_weight_decay(
            f64(params), self._grad(grad), h["weight_decay"], lr, h["decoupled_weight_decay"]
        )
        m = lerp(state.exp_avg, g, 1.0 - beta1)
        v = ema_sq(state.exp_avg_sq, g, beta2)
        m_hat = m / bias_correction(beta1, count)
        scale = self._adaptive_scale(v, count)
        update = m_hat * lr if scale is None else m_hat * lr * scale
        return params - update, RAdamState(count, m, v)

    def effective_lr(self, state, lr=None):
        lr = self._lr(lr)
        scale = None if state.count == 0 else self._adaptive_scale(state.exp_avg_sq, state.count)
        if scale is None:
            return self._fill(lr, state.exp_avg)
        return self._fill(lr * scale, state.exp_avg, fresh=True)
