"""Stochastic gradient descent, with torch's momentum, dampening and Nesterov options."""

from __future__ import annotations

from types import SimpleNamespace
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
    check_range,
    f64,
    is_on,
    layout,
    lr_hparam,
    where_on,
    widen,
    with_defaults,
    zeros_like,
)


class SGDState(NamedTuple):
    count: int
    momentum_buffer: np.ndarray  # b_t; stays zero while momentum is 0


class SGD(Optimizer):
    r"""Gradient descent, optionally with heavy-ball or Nesterov momentum.

    Each step moves the parameters against the gradient. With ``momentum`` it
    moves along a velocity ``b`` that remembers past gradients, so that steps add
    up along a valley floor and cancel across it.

    Let :math:`\gamma, \mu, \tau, \lambda` be ``lr``, ``momentum``, ``dampening``,
    ``weight_decay``:

    .. math::

        {{latex}}

    (without momentum, :math:`d_t = g_t`; with ``maximize`` the gradient is negated first).

    ``effective_lr`` is :math:`\gamma` for every coordinate, multiplying :math:`d_t`:
    plain and momentum SGD scale their direction by the same number everywhere.

    .. note:: As in torch.optim, the buffer starts at :math:`g_1` (not at zero) and
       the learning rate multiplies the buffer afterwards, instead of the
       textbook :math:`v_t = \mu v_{t-1} + \gamma g_t`. With a constant learning
       rate the two give the same path; they differ once ``lr`` changes during
       training (a schedule). ``dampening`` is not applied to the first step.

    References:

    * Robbins and Monro, "A Stochastic Approximation Method", Annals of Mathematical Statistics,
      1951.

    >>> import numpy as np
    >>> opt = SGD(lr=0.1)
    >>> p, s = opt.step(np.array([1.0, -2.0]), np.array([2.0, -4.0]), opt.init(np.zeros(2)))
    >>> p
    array([ 0.8, -1.6])
    """

    name = "sgd"
    torch_class = "SGD"
    label = "SGD"
    hparams = (
        lr_hparam(1e-3),
        Param(
            "momentum",
            0.0,
            "Fraction of the previous velocity kept at each step.",
            symbol=r"\mu",
            low=0.0,
            high=0.999,
        ),
        Param(
            "dampening",
            0.0,
            "Fraction of the new gradient left out of the velocity.",
            symbol=r"\tau",
            low=0.0,
            high=1.0,
        ),
        WEIGHT_DECAY,
        Param(
            "nesterov",
            False,
            "Look ahead: step along the gradient plus the updated velocity.",
            kind="bool",
        ),
        MAXIMIZE,
    )
    latex = r"""\begin{aligned}
g_t &\leftarrow \nabla f(\theta_{t-1}) + \lambda\,\theta_{t-1} \\
b_t &\leftarrow \begin{cases} g_t & t = 1 \\ \mu\, b_{t-1} + (1-\tau)\, g_t & t > 1 \end{cases} \\
d_t &\leftarrow \begin{cases} g_t + \mu\, b_t & \text{nesterov} \\ b_t & \text{otherwise} \end{cases} \\
\theta_t &\leftarrow \theta_{t-1} - \gamma\, d_t
\end{aligned}"""
    summary = (
        "Step downhill, against the gradient, by a fixed fraction of its length. "
        "The same learning rate applies to every coordinate, so a valley that is steep "
        "one way and flat the other forces a compromise: too big a step zig-zags across "
        "it, too small a step crawls along it."
    )
    history = (
        "Gradient descent goes back to Cauchy (1847); its stochastic form, with a noisy "
        "gradient from a sample of the data, to Robbins and Monro (1951). It is the "
        "starting point of every method that follows."
    )
    direction = r"d_t"
    symbols = (
        GRADIENT,
        SURFACE_GRADIENT,
        (
            r"b_t",
            "momentum_buffer",
            "The velocity: a decaying sum of past gradients that starts as the first gradient "
            "(the state keeps it at zero while momentum is 0).",
        ),
        (
            r"d_t",
            "",
            "The direction of this step: the gradient itself without momentum, the velocity "
            "with it, or the gradient plus momentum times the velocity with nesterov.",
        ),
        PARAMETERS,
        STEP,
    )

    def validate(self, h: dict[str, Any]) -> None:
        check_non_negative(h, "lr", "momentum", "weight_decay")
        check_range("Invalid dampening value", h["dampening"], -np.inf)
        if h["nesterov"] and (
            np.any(np.asarray(h["momentum"]) <= 0) or np.any(np.asarray(h["dampening"]) != 0)
        ):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")

    def init(self, params: np.ndarray) -> SGDState:
        return SGDState(count=0, momentum_buffer=zeros_like(params))

    def step(self, params, grad, state, lr=None):
        h = self._h
        params = f64(params)
        params, g = apply_weight_decay(params, self._grad(grad), h["weight_decay"], 0.0, False)
        mu = h["momentum"]
        buf = state.momentum_buffer
        d = g
        if is_on(mu):
            if state.count == 0:
                new_buf = g.copy(order="K")  # torch: the buffer starts as a clone of g_1
            else:
                new_buf = buf * mu + (1.0 - h["dampening"]) * g
            d = where_on(mu, g + mu * new_buf if h["nesterov"] else new_buf, g)
            buf = where_on(mu, new_buf, buf)
        return params - self._lr(lr) * d, SGDState(state.count + 1, buf)

    def _in_place(self, like: np.ndarray) -> SimpleNamespace | None:
        """What :meth:`step_into` reads of the hyperparameters at the shape and layout of
        ``like``, prepared once (``None``: an option it leaves to :meth:`step`)."""
        h = self._h
        mu, damp = h["momentum"], h["dampening"]
        # a batch whose momentum is 0 in some rows only takes two branches: step does that
        mixed = isinstance(mu, np.ndarray) and not np.all(mu != 0)
        if mixed or is_on(h["weight_decay"]) or h["maximize"]:
            return None
        plain = isinstance(damp, float) and damp == 0.0  # (1 - 0) * g is g itself
        return SimpleNamespace(
            momentum=is_on(mu),
            mu=widen(mu, like),
            rest=None if plain else widen(1.0 - damp, like),
            nesterov=h["nesterov"],
            lr=widen(h["lr"], like),
        )

    def step_into(self, params, grad, state, out, lr=None):
        buf = state.momentum_buffer
        k = self._derived(layout(buf), lambda: self._in_place(buf))
        if k is None:
            return super().step_into(params, grad, state, out, lr=lr)
        # :meth:`step` with every result written over the state's buffer and ``out``
        # (batch hyperparameters at the parameters' full shape: see base.widen)
        g = f64(grad)
        d = g
        if k.momentum:
            if state.count == 0:
                np.copyto(buf, g)
            else:
                buf *= k.mu
                if k.rest is None:
                    buf += g
                else:
                    np.multiply(g, k.rest, out=out)
                    buf += out
            d = buf
            if k.nesterov:
                np.multiply(buf, k.mu, out=out)
                out += g
                d = out
        if lr is None:
            lr = k.lr
        elif isinstance(lr, np.ndarray) or np.ndim(lr):
            lr = widen(as_batch(lr), buf)
        np.multiply(d, lr, out=out)
        np.subtract(params, out, out=out)
        return SGDState(state.count + 1, buf)

    def effective_lr(self, state, lr=None):
        return self._fill(self._lr(lr), state.momentum_buffer)


class Momentum(SGD):
    r"""SGD with heavy-ball momentum 0.9: ``torch.optim.SGD(momentum=0.9)``.

    A velocity :math:`b` keeps a fraction :math:`\mu` of itself and adds each new
    gradient; the parameters move along the velocity. Let :math:`\gamma, \mu, \tau,
    \lambda` be ``lr``, ``momentum``, ``dampening``, ``weight_decay``:

    .. math::

        {{latex}}

    ``effective_lr`` is :math:`\gamma` everywhere, multiplying :math:`b_t`. The state
    and the options are :class:`SGD`'s; only the default ``momentum`` differs.

    .. note:: torch starts the buffer at :math:`g_1` and multiplies by the learning
       rate after the buffer (see :class:`SGD`).

    References:

    * Polyak, "Some methods of speeding up the convergence of iteration methods", USSR
      Computational Mathematics and Mathematical Physics, 1964.

    >>> import numpy as np
    >>> opt = Momentum(lr=0.1)
    >>> p, s = opt.step(np.array([1.0]), np.array([1.0]), opt.init(np.zeros(1)))
    >>> p, s = opt.step(p, np.array([1.0]), s)
    >>> p  # second step: 0.1 * (0.9 * 1 + 1)
    array([0.71])
    """

    name = "momentum"
    label = "Momentum"
    hparams = with_defaults(SGD.hparams, momentum=0.9)
    latex = r"""\begin{aligned}
g_t &\leftarrow \nabla f(\theta_{t-1}) + \lambda\,\theta_{t-1} \\
b_t &\leftarrow \begin{cases} g_t & t = 1 \\ \mu\, b_{t-1} + (1-\tau)\, g_t & t > 1 \end{cases} \\
\theta_t &\leftarrow \theta_{t-1} - \gamma\, b_t
\end{aligned}"""
    direction = r"b_t"
    symbols = tuple(s for s in SGD.symbols if s[0] != "d_t")  # the direction is b_t itself
    summary = (
        "A ball rolling downhill: the velocity keeps 90% of itself each step and adds the "
        "new gradient, so progress along a long valley builds up while zig-zags across it "
        "cancel. In a steady slope it moves about ten times farther per step than SGD."
    )
    history = (
        "Polyak's heavy-ball method (1964) added a velocity to gradient descent; Rumelhart, "
        "Hinton and Williams (1986) made it standard for training neural networks."
    )


class Nesterov(SGD):
    r"""SGD with Nesterov momentum 0.9: ``torch.optim.SGD(momentum=0.9, nesterov=True)``.

    The velocity is updated as in :class:`Momentum`, but the step adds the new
    gradient to the updated velocity once more. Let :math:`\gamma, \mu, \lambda` be
    ``lr``, ``momentum``, ``weight_decay``:

    .. math::

        {{latex}}

    ``effective_lr`` is :math:`\gamma` everywhere, multiplying :math:`g_t + \mu b_t`.
    The state and the options are :class:`SGD`'s (``dampening`` must stay 0).

    .. note:: Nesterov's method evaluates the gradient at a look-ahead point
       :math:`\theta + \mu v`. torch (following Sutskever et al., 2013) rewrites it
       so the gradient is taken at the current parameters: torch's parameters are
       the textbook method's look-ahead points.

    References:

    * Nesterov, "A method for solving the convex programming problem with convergence rate
      O(1/k^2)", Soviet Mathematics Doklady, 1983.
    * Sutskever, Martens, Dahl and Hinton, "On the importance of initialization and momentum in
      deep learning", ICML 2013.

    >>> import numpy as np
    >>> opt = Nesterov(lr=0.1)
    >>> p, s = opt.step(np.array([1.0]), np.array([1.0]), opt.init(np.zeros(1)))
    >>> p  # 1 - 0.1 * (1 + 0.9 * 1)
    array([0.81])
    """

    name = "nesterov"
    label = "Nesterov"
    hparams = with_defaults(SGD.hparams, momentum=0.9, nesterov=True)
    latex = r"""\begin{aligned}
g_t &\leftarrow \nabla f(\theta_{t-1}) + \lambda\,\theta_{t-1} \\
b_t &\leftarrow \begin{cases} g_t & t = 1 \\ \mu\, b_{t-1} + g_t & t > 1 \end{cases} \\
\theta_t &\leftarrow \theta_{t-1} - \gamma\, (g_t + \mu\, b_t)
\end{aligned}"""
    direction = r"g_t + \mu\, b_t"
    symbols = Momentum.symbols
    summary = (
        "Momentum that looks ahead: the step adds the fresh gradient to the already "
        "updated velocity, so it starts to brake before it overshoots. It oscillates "
        "less than plain momentum in narrow valleys."
    )
    history = (
        "Nesterov's accelerated gradient (1983) reached the optimal convergence rate for "
        "smooth convex problems; Sutskever, Martens, Dahl and Hinton (2013) rewrote it in "
        "the momentum form that deep-learning libraries use."
    )
