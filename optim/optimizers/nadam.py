"""NAdam: Adam with a Nesterov look-ahead in its momentum."""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from .base import (
    DECOUPLED_WEIGHT_DECAY,
    EXP_AVG,
    EXP_AVG_SQ,
    GRADIENT,
    MAXIMIZE,
    PARAMETERS,
    STEP,
    SURFACE_GRADIENT,
    V_HAT,
    WEIGHT_DECAY,
    Optimizer,
    Param,
    apply_weight_decay,
    betas_hparam,
    bias_correction,
    check_adam_family,
    check_non_negative,
    ema_sq,
    eps_hparam,
    f64,
    lerp,
    lr_hparam,
    zeros_like,
)


class NAdamState(NamedTuple):
    count: int
    exp_avg: np.ndarray  # m_t
    exp_avg_sq: np.ndarray  # v_t
    mu_product: Any  # prod_{i<=t} mu_i: a float, or an array shaped like the batch (..., 1)


class NAdam(Optimizer):
    r"""NAdam: Adam whose momentum looks one step ahead, like Nesterov's.

    Instead of stepping along the averaged gradient :math:`m_t`, NAdam steps along
    a mix of the new gradient and the momentum it will apply next. The momentum
    coefficient :math:`\mu_t` itself warms up from :math:`\beta_1/2` towards
    :math:`\beta_1` (the ``momentum_decay`` schedule), which damps the first steps.

    Let :math:`\gamma, \beta_1, \beta_2, \epsilon, \lambda, \psi` be ``lr``,
    ``betas``, ``eps``, ``weight_decay``, ``momentum_decay``:

    .. math::

        {{latex}}

    ``effective_lr`` is :math:`\gamma / (\sqrt{\hat v_t} + \epsilon)`, multiplying the
    look-ahead momentum :math:`\bar m_t`.

    .. note:: torch (and Dozat's paper) bias-correct with the product of the
       scheduled :math:`\mu_i`, not with :math:`1-\beta_1^t`, while :math:`m_t`
       itself averages with the constant :math:`\beta_1`. torch keeps that product
       in its default dtype (float32 unless float64 is the default); here it is
       always float64.

    References:

    * Dozat, "Incorporating Nesterov Momentum into Adam", ICLR 2016 workshop.

    >>> import numpy as np
    >>> opt = NAdam(lr=0.1)
    >>> p, s = opt.step(np.array([1.0, 1.0]), np.array([1000.0, 0.001]), opt.init(np.zeros(2)))
    >>> np.round(p, 4)  # the same in every coordinate: lr times (1 + the look-ahead share)
    array([0.8944, 0.8944])
    """

    name = "nadam"
    torch_class = "NAdam"
    label = "NAdam"
    hparams = (
        lr_hparam(2e-3),
        betas_hparam((0.9, 0.999)),
        eps_hparam(1e-8),
        WEIGHT_DECAY,
        Param(
            "momentum_decay",
            4e-3,
            "How fast the momentum coefficient warms up from beta1/2 to beta1.",
            symbol=r"\psi",
            low=0.0,
            high=0.1,
        ),
        DECOUPLED_WEIGHT_DECAY,
        MAXIMIZE,
    )
    latex = r"""\begin{aligned}
g_t &\leftarrow \nabla f(\theta_{t-1}) + \lambda\,\theta_{t-1} \quad (\text{decoupled: } \theta_{t-1} \leftarrow (1-\gamma\lambda)\,\theta_{t-1}) \\
\mu_t &\leftarrow \beta_1 \left(1 - \tfrac12\, 0.96^{\,t\psi}\right), \quad \mu_{t+1} \leftarrow \beta_1 \left(1 - \tfrac12\, 0.96^{\,(t+1)\psi}\right) \\
m_t &\leftarrow \beta_1\, m_{t-1} + (1-\beta_1)\, g_t \\
v_t &\leftarrow \beta_2\, v_{t-1} + (1-\beta_2)\, g_t^2, \quad \hat v_t \leftarrow v_t / (1-\beta_2^t) \\
\bar m_t &\leftarrow \frac{1-\mu_t}{1-\prod_{i=1}^{t}\mu_i}\, g_t + \frac{\mu_{t+1}}{1-\prod_{i=1}^{t+1}\mu_i}\, m_t \\
\theta_t &\leftarrow \theta_{t-1} - \gamma\, \frac{\bar m_t}{\sqrt{\hat v_t} + \epsilon}
\end{aligned}"""
    summary = (
        "Adam with Nesterov momentum: each step combines the fresh gradient with the "
        "momentum it is about to apply, so it reacts to a change of slope one step "
        "earlier than Adam. Its momentum warms up slowly, which makes the first steps "
        "gentler."
    )
    history = (
        "Dozat, 'Incorporating Nesterov Momentum into Adam' (ICLR 2016 workshop), "
        "bringing Nesterov's look-ahead (1983) into Adam (2014)."
    )
    direction = r"\bar m_t"
    symbols = (
        GRADIENT,
        SURFACE_GRADIENT,
        (
            r"\mu_t",
            "",
            "The momentum coefficient of step t: it warms up from beta1/2 towards beta1 at "
            "the pace set by momentum_decay.",
        ),
        (
            r"\mu_{t+1}",
            "",
            "The same coefficient one step ahead, used for the look-ahead part of the step.",
        ),
        EXP_AVG,
        EXP_AVG_SQ,
        V_HAT,
        (
            r"\prod_{i=1}^{t}\mu_i",
            "mu_product",
            "The product of all momentum coefficients so far; it replaces beta1^t in the bias "
            "correction (times mu_{t+1} for the look-ahead part).",
        ),
        (
            r"\bar m_t",
            "",
            "The look-ahead direction: the bias-corrected mix of the new gradient and the "
            "momentum to be applied next.",
        ),
        PARAMETERS,
        STEP,
    )

    def validate(self, h: dict[str, Any]) -> None:
        check_adam_family(h)
        check_non_negative(h, "momentum_decay")

    def _mu(self, count: int) -> Any:
        return self._h["betas"][0] * (1.0 - 0.5 * 0.96 ** (count * self._h["momentum_decay"]))

    def init(self, params: np.ndarray) -> NAdamState:
        z = zeros_like(params)
        # the product is per trajectory: an array only when beta1 or momentum_decay is one
        mu1 = self._mu(1)
        prod = 1.0 if isinstance(mu1, float) else np.ones(np.shape(params)[:-1] + (1,))
        return NAdamState(count=0, exp_avg=z, exp_avg_sq=z.copy(order="K"), mu_product=prod)

    def _denom(self, v: np.ndarray, count: int) -> np.ndarray:
        return np.sqrt(v / bias_correction(self._h["betas"][1], count)) + self._h["eps"]

    def step(self, params, grad, state, lr=None):
        h = self._h
        lr = self._lr(lr)
        beta1, beta2 = h["betas"]
        count = state.count + 1
        params, g = apply_weight_decay(
            f64(params), self._grad(grad), h["weight_decay"], lr, h["decoupled_weight_decay"]
        )
        mu, mu_next = self._mu(count), self._mu(count + 1)
        mu_product = state.mu_product * mu
        m = lerp(state.exp_avg, g, 1.0 - beta1)
        v = ema_sq(state.exp_avg_sq, g, beta2)
        denom = self._denom(v, count)
        # two separate updates, in torch's order
        params = params - lr * (1.0 - mu) / (1.0 - mu_product) * g / denom
        params = params - lr * mu_next / (1.0 - mu_product * mu_next) * m / denom
        return params, NAdamState(count, m, v, mu_product)

    def effective_lr(self, state, lr=None):
        lr = self._lr(lr)
        if state.count == 0:
            return self._fill(lr, state.exp_avg)
        return self._fill(
            lr / self._denom(state.exp_avg_sq, state.count), state.exp_avg, fresh=True
        )
