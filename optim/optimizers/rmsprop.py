"""RMSprop: divide by a running root-mean-square of recent gradients."""

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
    as_batch,
    check_non_negative,
    ema_sq,
    ema_sq_into,
    eps_hparam,
    f64,
    is_on,
    layout,
    lerp,
    lr_hparam,
    where_on,
    widen,
    zeros_like,
)


class RMSpropState(NamedTuple):
    count: int
    square_avg: np.ndarray  # v_t
    grad_avg: np.ndarray  # \bar g_t (centered only; zeros otherwise)
    momentum_buffer: np.ndarray  # b_t (momentum only; zeros otherwise)


class RMSprop(Optimizer):
    r"""RMSprop: Adagrad with a running average instead of a sum.

    Each coordinate's step is divided by the root of a running average of its
    squared gradients, which forgets old gradients at rate :math:`1-\alpha`, so
    the step sizes adapt to the current slope instead of shrinking for ever.

    Let :math:`\gamma, \alpha, \epsilon, \lambda, \mu` be ``lr``, ``alpha``, ``eps``,
    ``weight_decay``, ``momentum``:

    .. math::

        {{latex}}

    (without momentum, :math:`\theta_t = \theta_{t-1} - \gamma\, g_t / r_t`).

    ``effective_lr`` is :math:`\gamma / r_t`, multiplying :math:`g_t`; with momentum
    the buffer accumulates these scaled gradients.

    .. note:: ``alpha`` is RMSprop's decay (default 0.99), not Adam's ``beta1``.
       :math:`\epsilon` is added after the square root, and the momentum buffer
       holds :math:`g/r` with the learning rate applied afterwards. In the centered
       variant, once :math:`v_t - \bar g_t^2` rounds below zero (a gradient constant
       for thousands of steps) torch produces NaN, and so does this implementation.

    References:

    * Hinton, Srivastava and Swersky, "Neural Networks for Machine Learning", lecture 6e, 2012.
    * Graves, "Generating Sequences With Recurrent Neural Networks", arXiv:1308.0850, 2013
      (centered).

    >>> import numpy as np
    >>> opt = RMSprop(lr=0.01)
    >>> p, s = opt.step(np.array([1.0, 1.0]), np.array([100.0, 0.1]), opt.init(np.zeros(2)))
    >>> np.round(p, 4)  # the first step is lr / sqrt(1 - alpha) = 10 lr in every coordinate
    array([0.9, 0.9])
    """

    name = "rmsprop"
    torch_class = "RMSprop"
    label = "RMSprop"
    hparams = (
        lr_hparam(1e-2),
        Param(
            "alpha",
            0.99,
            "Decay rate of the running average of squared gradients.",
            symbol=r"\alpha",
            low=0.5,
            high=0.9999,
        ),
        eps_hparam(1e-8),
        WEIGHT_DECAY,
        Param(
            "momentum",
            0.0,
            "Fraction of the previous (scaled) velocity kept at each step.",
            symbol=r"\mu",
            low=0.0,
            high=0.999,
        ),
        Param(
            "centered",
            False,
            "Divide by the running standard deviation (subtract the squared running mean).",
            kind="bool",
        ),
        MAXIMIZE,
    )
    latex = r"""\begin{aligned}
g_t &\leftarrow \nabla f(\theta_{t-1}) + \lambda\,\theta_{t-1} \\
v_t &\leftarrow \alpha\, v_{t-1} + (1-\alpha)\, g_t^2 \\
\bar g_t &\leftarrow \alpha\, \bar g_{t-1} + (1-\alpha)\, g_t \quad \text{(centered)} \\
r_t &\leftarrow \begin{cases} \sqrt{v_t - \bar g_t^2} + \epsilon & \text{centered} \\ \sqrt{v_t} + \epsilon & \text{otherwise} \end{cases} \\
b_t &\leftarrow \mu\, b_{t-1} + g_t / r_t \\
\theta_t &\leftarrow \theta_{t-1} - \gamma\, b_t
\end{aligned}"""
    summary = (
        "Divide each coordinate's step by the root of a running average of its recent "
        "squared gradients. Steep, noisy directions get small steps and flat ones large "
        "steps, and unlike Adagrad the average forgets, so the steps do not die out."
    )
    history = (
        "Proposed by Hinton in his 2012 Coursera lecture (slide 6e), never published as a "
        "paper; the centered variant is from Graves (2013). It sits between Adagrad (2011) "
        "and Adam (2014), which adds momentum and bias correction."
    )
    symbols = (
        GRADIENT,
        SURFACE_GRADIENT,
        (
            r"v_t",
            "square_avg",
            "A running average of the squared gradients (decay alpha), per coordinate.",
        ),
        (
            r"\bar g_t",
            "grad_avg",
            "A running average of the gradients themselves (decay alpha); only the centered "
            "variant updates it, otherwise the state keeps it at zero.",
        ),
        (
            r"r_t",
            "",
            "The divisor of each coordinate: the root of the average squared gradient (minus "
            "the squared average gradient when centered) plus epsilon.",
        ),
        (
            r"b_t",
            "momentum_buffer",
            "The velocity: a decaying sum of the divided gradients g_t / r_t (the state keeps "
            "it at zero while momentum is 0).",
        ),
        PARAMETERS,
        STEP,
    )

    def validate(self, h: dict[str, Any]) -> None:
        check_non_negative(h, "lr", "eps", "momentum", "weight_decay", "alpha")

    def init(self, params: np.ndarray) -> RMSpropState:
        z = zeros_like(params)
        return RMSpropState(
            count=0, square_avg=z, grad_avg=z.copy(order="K"), momentum_buffer=z.copy(order="K")
        )

    def _denom(self, v: np.ndarray, gbar: np.ndarray) -> np.ndarray:
        if self._h["centered"]:
            with np.errstate(invalid="ignore"):  # torch's NaN when v - gbar^2 rounds below 0
                return np.sqrt(v - gbar * gbar) + self._h["eps"]
        return np.sqrt(v) + self._h["eps"]

    def step(self, params, grad, state, lr=None):
        h = self._h
        lr = self._lr(lr)
        alpha, mu = h["alpha"], h["momentum"]
        params, g = apply_weight_decay(f64(params), self._grad(grad), h["weight_decay"], lr, False)
        v = ema_sq(state.square_avg, g, alpha)
        gbar = lerp(state.grad_avg, g, 1.0 - alpha) if h["centered"] else state.grad_avg
        r = self._denom(v, gbar)
        buf = state.momentum_buffer
        if is_on(mu):  # torch: `if momentum > 0`
            new_buf = buf * mu + g / r
            new_params = where_on(mu, params - lr * new_buf, params - lr * g / r)
            buf = where_on(mu, new_buf, buf)
        else:
            new_params = params - lr * g / r
        return new_params, RMSpropState(state.count + 1, v, gbar, buf)

    def step_into(self, params, grad, state, out, lr=None):
        h = self._h
        v = state.square_avg
        plain = not (
            h["centered"] or is_on(h["momentum"]) or is_on(h["weight_decay"]) or h["maximize"]
        )
        if not plain:
            return super().step_into(params, grad, state, out, lr=lr)
        # :meth:`step` without momentum or centering, written over the state and ``out``
        alpha, rest, eps, lr0 = self._derived(
            layout(v),
            lambda: tuple(widen(x, v) for x in (h["alpha"], 1.0 - h["alpha"], h["eps"], h["lr"])),
        )
        lr = lr0 if lr is None else widen(as_batch(lr), v)
        g = f64(grad)
        tmp = np.empty_like(v)
        ema_sq_into(v, g, alpha, rest, tmp)
        np.sqrt(v, out=out)
        out += eps  # r
        np.multiply(g, lr, out=tmp)
        tmp /= out
        np.subtract(params, tmp, out=out)
        return RMSpropState(state.count + 1, v, state.grad_avg, state.momentum_buffer)

    def effective_lr(self, state, lr=None):
        lr = self._lr(lr)
        if state.count == 0:
            return self._fill(lr, state.square_avg)
        return self._fill(
            lr / self._denom(state.square_avg, state.grad_avg), state.square_avg, fresh=True
        )
