"""Stochastic gradient descent, with torch's momentum, dampening and Nesterov options."""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from .base import HParam, Optimizer, check_range, zeros_like

LR = HParam("lr", 1e-3, "Learning rate: how far each step moves along its direction.",
            symbol=r"\gamma", low=1e-5, high=10.0, log=True)
WEIGHT_DECAY = HParam("weight_decay", 0.0,
                      "Coupled L2 penalty: adds weight_decay * theta to the gradient.",
                      symbol=r"\lambda", low=0.0, high=1.0)
MAXIMIZE = HParam("maximize", False, "Climb the surface instead of descending it.",
                  kind="bool")


class SGDState(NamedTuple):
    count: int
    momentum_buffer: np.ndarray  # b_t; all zeros until the first step when momentum is off


class SGD(Optimizer):
    r"""Gradient descent, optionally with heavy-ball or Nesterov momentum.

    Each step moves the parameters against the gradient. With ``momentum`` it
    moves along a velocity ``b`` that remembers past gradients, so that steps add
    up along a valley floor and cancel across it.

    Let :math:`\gamma, \mu, \tau, \lambda` be ``lr``, ``momentum``, ``dampening``,
    ``weight_decay``:

    .. math::

        \begin{aligned}
        g_t &\leftarrow \nabla f(\theta_{t-1}) + \lambda\,\theta_{t-1} \\
        b_t &\leftarrow \begin{cases} g_t & t = 1 \\ \mu\, b_{t-1} + (1-\tau)\, g_t & t > 1 \end{cases} \\
        d_t &\leftarrow \begin{cases} g_t + \mu\, b_t & \text{nesterov} \\ b_t & \text{otherwise} \end{cases} \\
        \theta_t &\leftarrow \theta_{t-1} - \gamma\, d_t
        \end{aligned}

    (without momentum, :math:`d_t = g_t`).

    ``effective_lr`` is :math:`\gamma` for every coordinate: plain and momentum SGD
    scale their direction by the same number everywhere.

    .. note:: As in torch.optim, the buffer starts at :math:`g_1` (not at zero) and
       the learning rate multiplies the buffer afterwards, instead of the
       textbook :math:`v_t = \mu v_{t-1} + \gamma g_t`. With a constant learning
       rate the two give the same path; they differ once ``lr`` changes during
       training.

    >>> import numpy as np
    >>> opt = SGD(lr=0.1)
    >>> p, s = opt.step(np.array([1.0, -2.0]), np.array([2.0, -4.0]), opt.init(np.zeros(2)))
    >>> p
    array([ 0.8, -1.6])
    """

    name = "sgd"
    label = "SGD"
    hparams = (
        LR,
        HParam("momentum", 0.0, "Fraction of the previous velocity kept at each step.",
               symbol=r"\mu", low=0.0, high=0.999),
        HParam("dampening", 0.0, "Fraction of the new gradient left out of the velocity.",
               symbol=r"\tau", low=0.0, high=1.0),
        WEIGHT_DECAY,
        HParam("nesterov", False, "Look ahead: evaluate the step along the updated velocity.",
               kind="bool"),
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
        "Momentum adds a velocity that accumulates past gradients, so consistent "
        "directions speed up and oscillating ones cancel out."
    )
    history = (
        "Gradient descent goes back to Cauchy (1847); its stochastic form to Robbins and "
        "Monro (1951). Polyak's heavy-ball momentum (1964) adds a velocity term."
    )
    direction = r"d_t"

    def validate(self, h: dict[str, Any]) -> None:
        check_range("learning rate", h["lr"], 0.0)
        check_range("momentum", h["momentum"], 0.0)
        check_range("weight_decay", h["weight_decay"], 0.0)
        check_range("dampening", h["dampening"], -np.inf)
        if h["nesterov"] and (np.any(np.asarray(h["momentum"]) <= 0)
                              or np.any(np.asarray(h["dampening"]) != 0)):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")

    def init(self, params: np.ndarray) -> SGDState:
        return SGDState(count=0, momentum_buffer=zeros_like(params))

    def step(self, params, grad, state, lr=None):
        h = self._h
        g = -grad if h["maximize"] else grad
        if np.any(h["weight_decay"] != 0):
            g = g + h["weight_decay"] * params
        buf = state.momentum_buffer
        if np.any(h["momentum"] != 0):
            if state.count == 0:
                buf = g.copy()
            else:
                buf = h["momentum"] * buf + (1.0 - h["dampening"]) * g
            d = g + h["momentum"] * buf if h["nesterov"] else buf
        else:
            d = g
        return params - self._lr(lr) * d, SGDState(state.count + 1, buf)

    def effective_lr(self, state, lr=None):
        return np.broadcast_to(self._lr(lr), state.momentum_buffer.shape).astype(np.float64)


class Momentum(SGD):
    """SGD with heavy-ball momentum 0.9: ``torch.optim.SGD(momentum=0.9)``."""

    name = "momentum"
    label = "Momentum"
    hparams = tuple(
        HParam(**{**h.__dict__, "default": 0.9}) if h.name == "momentum" else h
        for h in SGD.hparams
    )
    summary = (
        "A ball rolling downhill: the velocity keeps 90% of itself each step and adds the "
        "new gradient, so progress along a long valley builds up while zig-zags across it "
        "cancel."
    )
    history = "Polyak's heavy-ball method (1964); popular for neural networks since the 1980s."


class Nesterov(SGD):
    """SGD with Nesterov momentum 0.9: ``torch.optim.SGD(momentum=0.9, nesterov=True)``."""

    name = "nesterov"
    label = "Nesterov"
    hparams = tuple(
        HParam(**{**h.__dict__, "default": {"momentum": 0.9, "nesterov": True}[h.name]})
        if h.name in ("momentum", "nesterov") else h
        for h in SGD.hparams
    )
    summary = (
        "Momentum that looks ahead: the step uses the gradient plus the freshly updated "
        "velocity, which corrects course before overshooting."
    )
    history = (
        "Nesterov's accelerated gradient (1983); Sutskever et al. (2013) showed it in the "
        "momentum form used by deep-learning libraries."
    )
