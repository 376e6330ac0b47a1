"""Adam and AdamW: momentum plus RMSprop, both bias-corrected; AMSGrad as an option."""

from __future__ import annotations

from types import SimpleNamespace
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
    PLAIN_GRADIENT,
    STEP,
    SURFACE_GRADIENT,
    V_HAT,
    WEIGHT_DECAY,
    LerpWeight,
    Optimizer,
    Param,
    Powers,
    apply_weight_decay,
    betas_hparam,
    bias_correction,
    check_adam_family,
    ema_sq,
    ema_sq_into,
    eps_hparam,
    f64,
    is_on,
    layout,
    lerp,
    lerp_into,
    lr_hparam,
    sqrt,
    widen,
    widen_into,
    with_defaults,
    without,
    zeros_like,
)


class AdamState(NamedTuple):
    count: int
    exp_avg: np.ndarray  # m_t
    exp_avg_sq: np.ndarray  # v_t
    max_exp_avg_sq: np.ndarray  # v_t^max (AMSGrad only; zeros otherwise)


class Adam(Optimizer):
    r"""Adam: a running average of the gradient, divided by the root of a running average of its square.

    The numerator :math:`m` is momentum; the denominator :math:`\sqrt{v}` is
    RMSprop's per-coordinate scale. Both averages start at zero, so both are
    divided by :math:`1-\beta^t` (bias correction) to be unbiased early on. The
    result is a step of roughly ``lr`` per coordinate whatever the gradient's size.

    Let :math:`\gamma, \beta_1, \beta_2, \epsilon, \lambda` be ``lr``, ``betas``,
    ``eps``, ``weight_decay``:

    .. math::

        {{latex}}

    ``effective_lr`` is :math:`\gamma / (\sqrt{\hat v_t} + \epsilon)` (with AMSGrad,
    :math:`\hat v_t = v^{\max}_t / (1-\beta_2^t)`), multiplying :math:`\hat m_t`.

    .. note:: torch's AMSGrad keeps the maximum of the raw :math:`v_t` and divides
       that by the *current* :math:`1-\beta_2^t`. Reddi et al.'s AMSGrad has no bias
       correction, and many write-ups take the maximum of the bias-corrected
       :math:`\hat v_t` instead: neither is the same sequence. This follows torch's
       code. :math:`\epsilon` is added after the bias correction, as in the paper.

    References:

    * Kingma and Ba, "Adam: A Method for Stochastic Optimization", ICLR 2015, arXiv:1412.6980.
    * Reddi, Kale and Kumar, "On the Convergence of Adam and Beyond", ICLR 2018 (AMSGrad).

    >>> import numpy as np
    >>> opt = Adam(lr=0.1)
    >>> p, s = opt.step(np.array([1.0, 1.0]), np.array([1000.0, 0.001]), opt.init(np.zeros(2)))
    >>> np.round(p, 4)  # the first step is about lr in every coordinate
    array([0.9, 0.9])
    """

    name = "adam"
    torch_class = "Adam"
    label = "Adam"
    decoupled: bool | None = None  # AdamW fixes it; Adam reads decoupled_weight_decay
    hparams = (
        lr_hparam(1e-3),
        betas_hparam((0.9, 0.999)),
        eps_hparam(1e-8),
        WEIGHT_DECAY,
        Param(
            "amsgrad",
            False,
            "AMSGrad: divide by the largest second moment seen so far, so steps never grow.",
            kind="bool",
        ),
        MAXIMIZE,
        DECOUPLED_WEIGHT_DECAY,
    )
    latex = r"""\begin{aligned}
g_t &\leftarrow \nabla f(\theta_{t-1}) + \lambda\,\theta_{t-1} \quad (\text{decoupled: } \theta_{t-1} \leftarrow (1-\gamma\lambda)\,\theta_{t-1}) \\
m_t &\leftarrow \beta_1\, m_{t-1} + (1-\beta_1)\, g_t \\
v_t &\leftarrow \beta_2\, v_{t-1} + (1-\beta_2)\, g_t^2 \\
v^{\max}_t &\leftarrow \max(v^{\max}_{t-1}, v_t) \quad \text{(amsgrad; then use it for } v_t) \\
\hat m_t &\leftarrow m_t / (1-\beta_1^t), \quad \hat v_t \leftarrow v_t / (1-\beta_2^t) \\
\theta_t &\leftarrow \theta_{t-1} - \gamma\, \frac{\hat m_t}{\sqrt{\hat v_t} + \epsilon}
\end{aligned}"""
    summary = (
        "Momentum and RMSprop together: move along a running average of the gradient, "
        "divided per coordinate by the root of a running average of its square. Every "
        "coordinate then moves by roughly the learning rate, whatever the scale of the "
        "surface, which makes Adam the default choice for deep learning."
    )
    history = (
        "Kingma and Ba (2014, ICLR 2015) combined momentum with RMSProp and added bias "
        "correction. Its variants followed: AMSGrad (Reddi et al., 2018), AdamW "
        "(Loshchilov and Hutter, 2017), NAdam (Dozat, 2016), RAdam (Liu et al., 2019)."
    )
    direction = r"\hat m_t"
    symbols = (
        GRADIENT,
        SURFACE_GRADIENT,
        EXP_AVG,
        EXP_AVG_SQ,
        (
            r"v^{\max}_t",
            "max_exp_avg_sq",
            "AMSGrad only: the largest v_t seen so far, which then takes v_t's place in the "
            "step (the state keeps it at zero otherwise).",
        ),
        M_HAT,
        V_HAT,
        PARAMETERS,
        STEP,
    )

    def validate(self, h: dict[str, Any]) -> None:
        check_adam_family(h)

    def _decoupled(self) -> bool:
        return self.decoupled if self.decoupled is not None else self._h["decoupled_weight_decay"]

    def init(self, params: np.ndarray) -> AdamState:
        z = zeros_like(params)
        return AdamState(
            count=0, exp_avg=z, exp_avg_sq=z.copy(order="K"), max_exp_avg_sq=z.copy(order="K")
        )

    def _denom(self, v: np.ndarray, count: int) -> np.ndarray:
        """``sqrt(v_hat) + eps`` written as torch does: ``sqrt(v) / sqrt(1 - beta2^t) + eps``."""
        denom = np.sqrt(v)
        denom /= sqrt(bias_correction(self._h["betas"][1], count))
        denom += self._h["eps"]
        return denom

    def step(self, params, grad, state, lr=None):
        h = self._h
        lr = self._lr(lr)
        beta1, beta2 = h["betas"]
        count = state.count + 1
        params, g = apply_weight_decay(
            f64(params), self._grad(grad), h["weight_decay"], lr, self._decoupled()
        )
        m = lerp(state.exp_avg, g, 1.0 - beta1)
        v = ema_sq(state.exp_avg_sq, g, beta2)
        vmax = np.maximum(state.max_exp_avg_sq, v) if h["amsgrad"] else state.max_exp_avg_sq
        step_size = lr / bias_correction(beta1, count)
        update = step_size * m
        update /= self._denom(vmax if h["amsgrad"] else v, count)
        params = params - update
        return params, AdamState(count, m, v, vmax)

    def _in_place(self, like: np.ndarray) -> SimpleNamespace | None:
        """What :meth:`step_into` reads of the hyperparameters at the shape and layout of
        ``like``, prepared once (``None``: an option it leaves to :meth:`step`)."""
        h = self._h
        if h["amsgrad"] or is_on(h["weight_decay"]) or h["maximize"]:
            return None
        beta1, beta2 = h["betas"]
        return SimpleNamespace(
            beta2=widen(beta2, like),
            rest2=widen(1.0 - beta2, like),
            lerp1=LerpWeight(widen(1.0 - beta1, like)),
            powers1=Powers(beta1),
            powers2=Powers(beta2),
            eps=widen(h["eps"], like),
        )

    def step_into(self, params, grad, state, out, lr=None):
        m, v = state.exp_avg, state.exp_avg_sq
        k = self._derived(layout(m), lambda: self._in_place(m))
        if k is None:
            return super().step_into(params, grad, state, out, lr=lr)
        # :meth:`step` with every result written over the state's arrays and ``out``;
        # batch hyperparameters at the parameters' full shape (see base.widen)
        lr = self._lr(lr)
        count = state.count + 1
        g = f64(grad)
        tmp = np.empty_like(m)
        ema_sq_into(v, g, k.beta2, k.rest2, tmp)
        lerp_into(m, g, k.lerp1, tmp)
        bc1 = k.powers1.bias_correction(count)
        # lr / (1 - beta1^t), over the fresh array of a batch of beta1
        step_size = np.divide(lr, bc1, out=bc1) if isinstance(bc1, np.ndarray) else lr / bc1
        if isinstance(step_size, np.ndarray) and not m.flags.f_contiguous:
            # row-major rows are too short to broadcast a (k, 1) column fast (widen_into);
            # a column-major batch takes the column as it is, coordinate by coordinate
            widen_into(out, step_size)
            step_size = out
        np.multiply(m, step_size, out=tmp)
        # the denominator sqrt(v) / sqrt(1 - beta2^t) + eps, in ``out`` until the last line
        c2 = sqrt(k.powers2.bias_correction(count))
        if isinstance(c2, np.ndarray):
            c2 = widen(c2, m)
        np.sqrt(v, out=out)
        out /= c2
        out += k.eps
        tmp /= out
        np.subtract(params, tmp, out=out)
        return AdamState(count, m, v, state.max_exp_avg_sq)

    def effective_lr(self, state, lr=None):
        lr = self._lr(lr)
        if state.count == 0:
            return self._fill(lr, state.exp_avg)
        v = state.max_exp_avg_sq if self._h["amsgrad"] else state.exp_avg_sq
        return self._fill(lr / self._denom(v, state.count), v, fresh=True)


class AdamW(Adam):
    r"""AdamW: Adam whose weight decay shrinks the parameters instead of adding to the gradient.

    With coupled (L2) weight decay inside Adam, the penalty's gradient is divided
    by :math:`\sqrt{\hat v}` like everything else, so coordinates with large
    gradients are barely regularised. AdamW applies the decay separately, scaled
    by the learning rate only. ``torch.optim.AdamW`` is ``Adam(decoupled_weight_decay=True)``
    with ``weight_decay`` defaulting to 1e-2.

    Let :math:`\gamma, \beta_1, \beta_2, \epsilon, \lambda` be ``lr``, ``betas``,
    ``eps``, ``weight_decay``:

    .. math::

        {{latex}}

    ``effective_lr`` is :math:`\gamma / (\sqrt{\hat v_t} + \epsilon)`, multiplying
    :math:`\hat m_t`, exactly as for :class:`Adam` (the decay is a separate shrink).

    .. note:: Loshchilov and Hutter decay by :math:`\eta_t \lambda` with a schedule
       multiplier :math:`\eta_t` separate from the learning rate; torch multiplies
       by ``lr`` itself, so the same ``weight_decay`` means a different strength at
       a different learning rate.

    References:

    * Loshchilov and Hutter, "Decoupled Weight Decay Regularization", ICLR 2019,
      arXiv:1711.05101.

    >>> import numpy as np
    >>> opt = AdamW(lr=0.1, weight_decay=0.5)
    >>> p, s = opt.step(np.array([2.0]), np.array([0.0]), opt.init(np.zeros(1)))
    >>> p  # zero gradient: only the decay acts, 2 * (1 - 0.1 * 0.5)
    array([1.9])
    """

    name = "adamw"
    torch_class = "AdamW"
    label = "AdamW"
    decoupled = True
    hparams = without(with_defaults(Adam.hparams, weight_decay=1e-2), "decoupled_weight_decay")
    latex = r"""\begin{aligned}
\theta'_{t-1} &\leftarrow (1 - \gamma\lambda)\, \theta_{t-1} \\
m_t &\leftarrow \beta_1\, m_{t-1} + (1-\beta_1)\, g_t \\
v_t &\leftarrow \beta_2\, v_{t-1} + (1-\beta_2)\, g_t^2 \\
v^{\max}_t &\leftarrow \max(v^{\max}_{t-1}, v_t) \quad \text{(amsgrad; then use it for } v_t) \\
\hat m_t &\leftarrow m_t / (1-\beta_1^t), \quad \hat v_t \leftarrow v_t / (1-\beta_2^t) \\
\theta_t &\leftarrow \theta'_{t-1} - \gamma\, \frac{\hat m_t}{\sqrt{\hat v_t} + \epsilon}
\end{aligned}"""
    summary = (
        "Adam with weight decay done right: instead of adding the penalty to the gradient, "
        "where Adam's per-coordinate scaling would weaken it, the parameters are shrunk "
        "towards zero by a fixed fraction each step. The pull towards zero is then the "
        "same for every coordinate, however large its gradients."
    )
    history = (
        "Loshchilov and Hutter, 'Decoupled Weight Decay Regularization' (2017, ICLR 2019); "
        "now the standard optimizer for training transformers."
    )
    symbols = (
        (
            r"\theta'_{t-1}",
            "",
            "The parameters after the weight-decay shrink and before the Adam step.",
        ),
        PLAIN_GRADIENT,
        *(s for s in Adam.symbols if s not in (GRADIENT, SURFACE_GRADIENT)),
    )
