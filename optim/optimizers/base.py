"""The shape every optimizer shares: hyperparameter specs, validation, init/step.

An optimizer is a small immutable object holding its hyperparameters plus three
pure methods, in the spirit of optax's ``init``/``update`` pair:

* ``init(params) -> state``: a ``NamedTuple`` of arrays (``count`` plus the
  optimizer's buffers), nothing hidden;
* ``step(params, grad, state, lr=None) -> (params, state)``: one update, never
  mutating its inputs; ``lr`` overrides the learning rate for this step only
  (that is how learning-rate schedules drive it, like torch's ``group["lr"]``);
* ``effective_lr(state, lr=None)``: the per-coordinate step size the last step
  applied to its search direction (defined in each optimizer's docstring;
  before the first step it is ``lr`` everywhere).

Arrays have shape ``(..., d)``: any leading dimensions are a batch of independent
trajectories. A hyperparameter may be a NumPy array shaped like those leading
(batch) dimensions, e.g. ``lr=np.geomspace(1e-3, 1, 50)`` with ``params`` of
shape ``(50, 2)`` runs 50 learning rates in one pass. Internally it gets a
trailing axis so that it broadcasts against the coordinate axis. Switches
(``nesterov``, ``amsgrad``, ...) are plain booleans shared by the whole batch.
"""

from __future__ import annotations

import math
import re
import textwrap
from typing import Any, ClassVar, NamedTuple

import numpy as np

from ..params import Param


# -- the hyperparameters several optimizers share (torch's names) ---------------------------
def lr_hparam(default: float) -> Param:
    return Param(
        "lr",
        default,
        "Learning rate: how far each step moves along its direction.",
        symbol=r"\gamma",
        low=1e-5,
        high=10.0,
        log=True,
    )


def eps_hparam(default: float) -> Param:
    return Param(
        "eps",
        default,
        "Added to the denominator so that a coordinate with tiny gradients "
        "does not get a huge step.",
        symbol=r"\epsilon",
        low=1e-12,
        high=1e-1,
        log=True,
    )


def betas_hparam(default: tuple[float, float] = (0.9, 0.999)) -> Param:
    return Param(
        "betas",
        default,
        "Decay rates of the running averages: beta1 for the gradient (momentum), "
        "beta2 for its square (or its size).",
        kind="pair",
        parts=(
            Param("beta1", None, symbol=r"\beta_1", low=0.0, high=0.999),
            Param("beta2", None, symbol=r"\beta_2", low=0.5, high=0.9999),
        ),
    )


WEIGHT_DECAY = Param(
    "weight_decay",
    0.0,
    "Coupled L2 penalty: adds weight_decay * theta to the gradient.",
    symbol=r"\lambda",
    low=0.0,
    high=1.0,
)
DECOUPLED_WEIGHT_DECAY = Param(
    "decoupled_weight_decay",
    False,
    "Shrink the parameters directly (theta *= 1 - lr * weight_decay, as AdamW) "
    "instead of adding the penalty to the gradient.",
    kind="bool",
)
MAXIMIZE = Param("maximize", False, "Climb the surface instead of descending it.", kind="bool")


def with_defaults(hparams: tuple[Param, ...], **defaults: Any) -> tuple[Param, ...]:
    """The same hyperparameters with some defaults changed (Momentum from SGD, AdamW ...)."""
    unknown = set(defaults) - {h.name for h in hparams}
    if unknown:
        raise KeyError(sorted(unknown))
    return tuple(h.with_default(defaults[h.name]) if h.name in defaults else h for h in hparams)


def without(hparams: tuple[Param, ...], *names: str) -> tuple[Param, ...]:
    return tuple(h for h in hparams if h.name not in names)


# -- the symbols several update rules share: (LaTeX, state field or "", meaning) ----------------
SURFACE_GRADIENT = (
    r"\nabla f",
    "",
    "The gradient of the surface f: its slope in each coordinate, pointing uphill "
    "(in the Playground possibly a noisy or minibatch estimate).",
)
GRADIENT = (
    r"g_t",
    "",
    "The gradient this step uses: the surface's slope at the parameters the step starts "
    "from, plus lambda times those parameters when weight decay is coupled (added here).",
)
PLAIN_GRADIENT = (
    r"g_t",
    "",
    "The surface's slope at the parameters the step starts from; weight decay is not "
    "added to it, it shrinks the parameters directly.",
)
PARAMETERS = (
    r"\theta_t",
    "",
    "The parameters (the point on the surface) after step t; with subscript t-1, the "
    "point the step starts from.",
)
STEP = (
    "t",
    "count",
    "The step number, 1 for the first step; a subscript t-1 means the value after the previous step.",
)
EXP_AVG = (
    r"m_t",
    "exp_avg",
    "The momentum: a running average of the gradients that keeps a fraction beta1 of "
    "its old value each step.",
)
EXP_AVG_SQ = (
    r"v_t",
    "exp_avg_sq",
    "A running average of the squared gradients (decay beta2), per coordinate: how "
    "steep that coordinate has been lately.",
)
M_HAT = (
    r"\hat m_t",
    "",
    "m_t divided by 1 - beta1^t (bias correction), which undoes the pull towards "
    "the zero it started from.",
)
V_HAT = (
    r"\hat v_t",
    "",
    "v_t divided by 1 - beta2^t, the same bias correction for the squared average.",
)


# -- validation ---------------------------------------------------------------------------
def as_batch(value: Any) -> Any:
    """A scalar stays a float; an array shaped like the batch gets a trailing axis."""
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    arr = np.asarray(value, dtype=np.float64)
    if arr.ndim == 0:
        return float(arr)
    return arr[..., None]


def batch_value(name: str, value: Any) -> Any:
    """A hyperparameter as given, or a batch array as shape ``(k,)``.

    A NumPy column ``(k, 1)`` is the same batch as ``(k,)``; any other array shape
    would broadcast against the coordinates into a wrong result, so it is refused.
    """
    if isinstance(value, (bool, np.bool_, str)) or np.ndim(value) == 0:
        return value
    arr = np.asarray(value)
    if arr.ndim == 2 and arr.shape[1] == 1:
        arr = arr[:, 0]
    if arr.ndim != 1:
        raise ValueError(
            f"{name} has shape {arr.shape}: a batch of values must have shape (k,) "
            "or be a column of shape (k, 1)"
        )
    return arr


def check_range(
    message: str,
    value: Any,
    low: float,
    high: float | None = None,
    *,
    high_open: bool = True,
) -> None:
    """Raise ``ValueError(f"{message}: {value}")`` (torch's wording) unless ``low <= value < high``.

    NaN is always rejected; an array hyperparameter is valid when every entry is.

    >>> check_range("Invalid rho value", 1.5, 0.0, 1.0, high_open=False)
    Traceback (most recent call last):
    ...
    ValueError: Invalid rho value: 1.5
    """
    try:
        v = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"{message}: {value}") from None
    ok = v >= low
    if high is not None:
        ok &= (v < high) if high_open else (v <= high)
    if not np.all(ok):
        raise ValueError(f"{message}: {value}")


def check_betas(betas: tuple[Any, Any]) -> None:
    for i, beta in enumerate(betas):
        check_range(f"Invalid beta parameter at index {i}", beta, 0.0, 1.0)


# torch's wording for the few hyperparameters whose message does not follow "Invalid {name} value"
_TORCH_NAMES = {"lr": "learning rate", "eps": "epsilon"}


def check_non_negative(h: dict[str, Any], *names: str) -> None:
    """torch's ``0.0 <= value`` check of each named hyperparameter, in the order given
    (the first failure is the message torch would raise).

    >>> check_non_negative({"lr": 0.1, "eps": -1.0}, "lr", "eps")
    Traceback (most recent call last):
    ...
    ValueError: Invalid epsilon value: -1.0
    """
    for name in names:
        noun = _TORCH_NAMES.get(name)
        check_range(
            f"Invalid {noun}" if name == "lr" else f"Invalid {noun or name} value", h[name], 0.0
        )


def check_adam_family(h: dict[str, Any]) -> None:
    """The checks torch's Adam, AdamW, Adamax, NAdam and RAdam share, in torch's order."""
    check_non_negative(h, "lr", "eps")
    check_betas(h["betas"])
    check_non_negative(h, "weight_decay")


# -- the optimizer ------------------------------------------------------------------------
_LATEX_MARK = re.compile(r"^( *)\{\{latex\}\}$", re.MULTILINE)


class Optimizer:
    """Base class. Subclasses set the class attributes and implement the math.

    Class attributes (everything the app renders comes from here, once):

    * ``name``: registry key; ``label``: display name;
    * ``hparams``: tuple of :class:`Param` in torch's argument order;
    * ``latex``: the update rule as a LaTeX ``aligned`` block, written once: a
      docstring line ``{{latex}}`` is replaced by it when the class is defined;
    * ``summary``: one paragraph of intuition; ``history``: where it came from;
    * ``direction``: which vector ``effective_lr`` multiplies (LaTeX);
    * ``symbols``: every other symbol of ``latex`` (state and derived quantities),
      as ``(LaTeX symbol, state field or "" when not stored, meaning)``.
    """

    name: ClassVar[str] = ""
    # the torch.optim class that computes the same thing when given this optimizer's
    # hyperparameters by name (None: not in torch.optim, e.g. Lion)
    torch_class: ClassVar[str | None] = None
    # when not in torch.optim: the independent implementation ("module.Class") the tests
    # and the golden data compare with (Lion: lion-pytorch)
    reference: ClassVar[str | None] = None
    label: ClassVar[str] = ""
    hparams: ClassVar[tuple[Param, ...]] = ()
    latex: ClassVar[str] = ""
    summary: ClassVar[str] = ""
    history: ClassVar[str] = ""
    direction: ClassVar[str] = r"g_t"
    symbols: ClassVar[tuple[tuple[str, str, str], ...]] = ()

    def __init_subclass__(cls, **kw: Any) -> None:
        super().__init_subclass__(**kw)
        doc = cls.__dict__.get("__doc__")
        if doc and cls.latex:
            # the docstring shows the same LaTeX the app renders: the constant, not a copy
            cls.__doc__ = _LATEX_MARK.sub(lambda m: textwrap.indent(cls.latex, m.group(1)), doc)

    def __init__(self, **hyper: Any) -> None:
        known = {h.name for h in self.hparams}
        unknown = sorted(set(hyper) - known)
        if unknown:
            raise ValueError(
                f"{self.label or type(self).__name__} has no hyperparameter "
                f"{', '.join(map(repr, unknown))}; it takes {', '.join(sorted(known))}"
            )
        values = {h.name: h.default for h in self.hparams}
        values.update(hyper)
        for h in self.hparams:
            if h.kind == "pair":
                pair = values[h.name]
                if not isinstance(pair, (tuple, list)) or len(pair) != 2:
                    raise ValueError(f"{h.name} must be a pair, got {pair!r}")
                values[h.name] = tuple(batch_value(f"{h.name}[{k}]", v) for k, v in enumerate(pair))
            elif h.kind != "bool":
                values[h.name] = batch_value(h.name, values[h.name])
            elif h.kind == "bool":
                if np.ndim(values[h.name]) != 0:
                    raise ValueError(f"{h.name} must be a single True or False")
                values[h.name] = bool(values[h.name])
        self.validate(values)
        # what the user asked for (scalars or batch arrays), and the broadcastable form
        self.hyper: dict[str, Any] = values
        self._h: dict[str, Any] = {
            k: tuple(as_batch(x) for x in v) if isinstance(v, tuple) else as_batch(v)
            for k, v in values.items()
        }

    # -- per-optimizer -----------------------------------------------------------------
    def validate(self, h: dict[str, Any]) -> None:
        """Raise ``ValueError`` for values torch.optim rejects."""

    def init(self, params: np.ndarray) -> NamedTuple:
        raise NotImplementedError

    def step(
        self, params: np.ndarray, grad: np.ndarray, state: NamedTuple, lr: Any = None
    ) -> tuple[np.ndarray, NamedTuple]:
        raise NotImplementedError

    def effective_lr(self, state: NamedTuple, lr: Any = None) -> np.ndarray:
        raise NotImplementedError

    def step_into(
        self,
        params: np.ndarray,
        grad: np.ndarray,
        state: NamedTuple,
        out: np.ndarray,
        lr: Any = None,
    ) -> NamedTuple:
        """:meth:`step` for a batch loop: the new parameters are written into ``out`` (an
        array shaped like ``params`` that aliases neither ``params`` nor ``grad``) and the
        returned state may be ``state``'s own arrays, overwritten in place.

        The same bits as :meth:`step`: only where results land changes, never the
        arithmetic (torch keeps the same pair, a for-loop and a ``foreach`` version of each
        optimizer, and tests that they agree). This default copies :meth:`step`'s result;
        optimizers that big sweeps use override it with in-place arithmetic.
        """
        new, state = self.step(params, grad, state, lr=lr)
        np.copyto(out, new)
        return state

    def _derived(self, key: Any, make: Any) -> Any:
        """A value derived from the hyperparameters, computed once (``make()``) and kept."""
        try:
            return self._derived_cache[key]
        except AttributeError:
            self._derived_cache: dict = {}
        except KeyError:
            pass
        value = self._derived_cache[key] = make()
        return value

    # -- shared ------------------------------------------------------------------------
    @classmethod
    def defaults(cls) -> dict[str, Any]:
        return {h.name: h.default for h in cls.hparams}

    @classmethod
    def slider_specs(cls) -> list[Param]:
        """One :class:`Param` per slider (a pair such as ``betas`` gives two)."""
        return [spec for h in cls.hparams for spec in h.sliders()]

    def _lr(self, lr: Any) -> Any:
        return self._h["lr"] if lr is None else as_batch(lr)

    def _grad(self, grad: np.ndarray) -> np.ndarray:
        """The gradient as float64, negated when maximizing (torch does this first)."""
        g = np.asarray(grad, dtype=np.float64)
        return -g if self._h.get("maximize") else g

    def _fill(self, value: Any, like: np.ndarray, *, fresh: bool = False) -> np.ndarray:
        """``value`` (a scalar or batch array) broadcast to the shape of ``like``.

        ``fresh=True`` says the caller has just computed ``value``, so an array of the
        right shape can be handed out as is instead of copied.
        """
        shape = np.shape(like)
        if fresh and isinstance(value, np.ndarray) and value.shape == shape:
            return value
        out = np.empty(shape)
        out[...] = value
        return out

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.hyper.items())
        return f"{type(self).__name__}({args})"


# -- one-liners shared by the update rules -------------------------------------------------
def f64(x: Any) -> np.ndarray:
    return np.asarray(x, dtype=np.float64)


def zeros_like(params: np.ndarray) -> np.ndarray:
    """Zeros shaped, and for an array laid out in memory, like ``params`` (row- or
    column-major: the in-place steps run fastest on arrays of one layout)."""
    return np.zeros_like(params, dtype=np.float64)


def is_on(value: Any) -> bool:
    """Whether a (possibly batched) hyperparameter is non-zero anywhere: torch's ``if x != 0``."""
    return bool(np.any(value != 0)) if isinstance(value, np.ndarray) else value != 0


def where_on(value: Any, on: np.ndarray, off: np.ndarray) -> np.ndarray:
    """Per trajectory: ``on`` where the hyperparameter is non-zero, ``off`` where it is zero.

    With a scalar hyperparameter torch picks one branch for everything; with a batch of
    values each trajectory must take the branch its own scalar run would take.
    """
    return np.where(value != 0, on, off) if isinstance(value, np.ndarray) else on


def apply_weight_decay(params: np.ndarray, g: np.ndarray, wd: Any, lr: Any, decoupled: bool):
    """Apply torch's weight decay: coupled adds ``wd * theta`` to the gradient,
    decoupled (AdamW) shrinks ``theta`` by ``1 - lr * wd``. Returns ``(params, g)``."""
    if not is_on(wd):
        return params, g
    if decoupled:
        return params * (1.0 - lr * wd), g
    return params, g + wd * params


def bias_correction(beta: Any, count: int) -> Any:
    """``1 - beta**t``: how much of an EMA that started at zero is real signal."""
    return 1.0 - beta**count


def lerp(buf: np.ndarray, target: np.ndarray, weight: Any) -> np.ndarray:
    """``buf + weight * (target - buf)``, the EMA update torch writes as ``lerp_``.

    Like torch's kernel, a weight of 0.5 or more is computed from the other end,
    ``target - (1 - weight) * (target - buf)``, so that weight 1 gives ``target`` exactly.
    """
    diff = target - buf
    if isinstance(weight, np.ndarray):
        return np.where(np.abs(weight) < 0.5, buf + weight * diff, target - diff * (1.0 - weight))
    if abs(weight) < 0.5:
        # in place on the fresh temporary: one allocation instead of three (batches are large)
        diff *= weight
        diff += buf
        return diff
    return target - diff * (1.0 - weight)


class LerpWeight:
    """A (batch of) :func:`lerp` weight(s) prepared for :func:`lerp_into`.

    For a batch, torch's two formulas become one, ``base + diff * coef``: ``base`` is
    ``buf`` with ``coef = weight`` where ``|weight| < 0.5``, and ``target`` with
    ``coef = -(1 - weight)`` elsewhere. ``target - diff * (1 - weight)`` and
    ``target + diff * -(1 - weight)`` are the same double (negation is exact), so each
    row still gets its own branch's bits, without computing both branches.
    """

    def __init__(self, weight: Any) -> None:
        self.weight = weight
        if isinstance(weight, np.ndarray):
            self.low = np.abs(weight) < 0.5
            self.high = ~self.low
            self.coef = np.where(self.low, weight, -(1.0 - weight))


def widen_into(out: np.ndarray, value: np.ndarray) -> None:
    """``out[...] = value`` for a batch column ``value`` ``(..., 1)``, coordinate by
    coordinate when the rows are short: NumPy broadcasts ``(k, 1)`` against ``(k, 2)``
    with an inner loop of two elements, ten times slower than a plain one."""
    d = out.shape[-1]
    if d > 8:
        np.copyto(out, value)
        return
    for j in range(d):
        out[..., j] = value[..., 0]


def widen(value: Any, like: np.ndarray | tuple[int, ...]) -> Any:
    """A hyperparameter at the full shape and in the memory layout of ``like``, the
    parameters, or at a shape given as a tuple (row-major); a scalar stays a scalar. The
    in-place arithmetic then runs on arrays of one shape and one layout (see :func:`widen_into`)."""
    if not isinstance(value, np.ndarray):
        return value
    out = np.empty(like) if isinstance(like, tuple) else np.empty_like(like, dtype=np.float64)
    widen_into(out, np.broadcast_to(value, out.shape[:-1] + (1,)))
    return out


def layout(a: np.ndarray) -> tuple:
    """An array's shape and memory layout: the key under which hyperparameters widened
    for it are kept (:meth:`Optimizer._derived`)."""
    return a.shape, a.strides


def lerp_into(buf: np.ndarray, target: np.ndarray, w: LerpWeight, tmp: np.ndarray) -> None:
    """``buf <- lerp(buf, target, weight)`` in place, the same bits as :func:`lerp`;
    ``tmp`` (shaped like ``buf``) is overwritten."""
    np.subtract(target, buf, out=tmp)  # diff
    weight = w.weight
    if isinstance(weight, np.ndarray):
        tmp *= w.coef
        np.copyto(buf, target, where=w.high)
        buf += tmp
    elif abs(weight) < 0.5:
        tmp *= weight
        buf += tmp
    else:
        tmp *= 1.0 - weight
        np.subtract(target, tmp, out=buf)


def ema_sq_into(buf: np.ndarray, g: np.ndarray, beta: Any, rest: Any, tmp: np.ndarray) -> None:
    """``buf <- ema_sq(buf, g, beta)`` in place, the same bits, with ``rest = 1 - beta``
    given (computed once); ``tmp`` is overwritten."""
    np.multiply(g, rest, out=tmp)
    tmp *= g
    buf *= beta
    buf += tmp


class Powers:
    """``beta**t`` for a batch of ``beta``: each distinct value raised once.

    A sweep's grid repeats every value of an axis along the other axes (100 distinct
    beta1 over 10,000 cells); the powers are the same doubles, found by index.
    """

    def __init__(self, beta: Any) -> None:
        self.beta = beta
        if isinstance(beta, np.ndarray):
            self.values, inverse = np.unique(beta, return_inverse=True)
            self.inverse = inverse.reshape(beta.shape)

    def __call__(self, t: int) -> Any:
        if isinstance(self.beta, np.ndarray):
            return (self.values**t).take(self.inverse)
        return self.beta**t

    def bias_correction(self, t: int) -> Any:
        """``1 - beta**t`` (:func:`bias_correction`), the subtraction done once per distinct
        value too: the same doubles as subtracting on every cell (a fresh array for a batch)."""
        if isinstance(self.beta, np.ndarray):
            return (1.0 - self.values**t).take(self.inverse)
        return 1.0 - self.beta**t


def ema_sq(buf: np.ndarray, g: np.ndarray, beta: Any) -> np.ndarray:
    """``beta * buf + (1 - beta) * g**2``: the running average of squared gradients.

    Rounded as torch's ``buf.mul_(beta).addcmul_(g, g, value=1 - beta)``.
    """
    out = (1.0 - beta) * g
    out *= g
    out += buf * beta
    return out


def sqrt(x: Any) -> Any:
    return math.sqrt(x) if isinstance(x, float) else np.sqrt(x)
