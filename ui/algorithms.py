"""Data for the Algorithms page: symbol tables, tiny live examples, the weight-decay demo.

Everything is computed from the registry and the optimizers themselves, so a new
optimizer gets its section without any change here.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any, NamedTuple

import numpy as np
import pyarrow as pa

import optim

DEMO_SURFACE = "bowl"  # the ill-conditioned quadratic every method is compared on


def _default_text(value: Any) -> str:
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def symbol_table(cls: type) -> str:
    """A Markdown table: symbol, torch argument, torch default, meaning."""
    lines = ["| symbol | torch argument | default | meaning |", "| --- | --- | --- | --- |"]
    for spec in cls.slider_specs():
        symbol = f"${spec['symbol']}$" if spec["symbol"] else ""
        arg = spec["key"] if spec["key"] == spec["label"] else f"{spec['key']} ({spec['label']})"
        help_ = (spec["help"] or "").replace("|", "\\|")
        lines.append(f"| {symbol} | `{arg}` | {_default_text(spec['default'])} | {help_} |")
    return "\n".join(lines)


def _markdown_cell(text: str) -> str:
    return text.replace("|", "\\|")


def state_symbol_table(cls: type) -> str:
    """A Markdown table of the rule's other symbols: symbol, where it is stored, meaning."""
    lines = ["| symbol | stored in state as | meaning |", "| --- | --- | --- |"]
    for symbol, field, meaning in cls.symbols:
        stored = f"`{field}`" if field else "computed each step"
        lines.append(f"| ${_markdown_cell(symbol)}$ | {stored} | {_markdown_cell(meaning)} |")
    return "\n".join(lines)


# LaTeX commands of the symbols, as plain Unicode for places without math rendering
_UNICODE = {
    r"\nabla": "∇",
    r"\theta": "θ",
    r"\gamma": "γ",
    r"\Delta": "Δ",
    r"\epsilon": "ε",
    r"\mu": "μ",
    r"\rho": "ρ",
    r"\infty": "∞",
    r"\prod": "∏",
    r"\max": "max",
}
_ACCENTS = {"hat": "\u0302", "bar": "\u0304", "tilde": "\u0303"}  # combining marks


def unicode_symbol(latex: str) -> str:
    r"""A symbol's LaTeX as plain text, for dataframe headers and other non-math places.

    >>> unicode_symbol(r"\hat m_t"), unicode_symbol(r"v^{\max}_t"), unicode_symbol(r"u_{t-1}")
    ('m̂_t', 'v^max_t', 'u_(t-1)')
    >>> unicode_symbol(r"\frac{\sqrt{u_{t-1} + \epsilon}}{\sqrt{v_t + \epsilon}}")
    '√(u_(t-1) + ε) / √(v_t + ε)'
    >>> unicode_symbol(r"\prod_{i=1}^{t}\mu_i")
    '∏_(i=1)^t μ_i'
    """
    text = re.sub(r"\}(?=\\[A-Za-z])", "} ", latex)  # "^{t}\mu" reads "^t μ"
    text = re.sub(
        r"\\(hat|bar|tilde)\s*(\\[A-Za-z]+|[A-Za-z])",
        lambda m: m.group(2) + _ACCENTS[m.group(1)],
        text,
    )
    for command, char in _UNICODE.items():
        text = re.sub(re.escape(command) + r"(?![A-Za-z])\s*", char, text)
    # sub- and superscripts: a single character or a word loses its braces, anything
    # longer gets parentheses
    text = re.sub(r"([_^])\{(\w+)\}", r"\1\2", text)
    text = re.sub(r"([_^])\{([^{}]*)\}", r"\1(\2)", text)
    text = re.sub(r"\\sqrt\{([^{}]*)\}", r"√(\1)", text)
    text = re.sub(r"\\frac\{([^{}]*)\}\{([^{}]*)\}", r"\1 / \2", text)
    text = re.sub(r"\\[,;! ]", " ", text)
    return " ".join(text.split())


def _column(field: str, labels: dict[str, str]) -> str:
    return f"{field} ({labels[field]})" if field in labels else field


def torch_call(name: str, hyper: dict[str, Any] | None = None) -> str:
    """The line of PyTorch that builds this optimizer, for a student's training script.

    ``lr`` is always spelled out; every other hyperparameter only where it differs
    from the defaults of the torch.optim class itself (so the presets show what makes
    them presets). ``""`` for an optimizer torch.optim does not have.

    >>> torch_call("nesterov")
    'torch.optim.SGD(model.parameters(), lr=0.001, momentum=0.9, nesterov=True)'
    >>> torch_call("adam", {"lr": 0.1, "betas": (0.9, 0.99)})
    'torch.optim.Adam(model.parameters(), lr=0.1, betas=(0.9, 0.99))'
    >>> torch_call("lion")
    ''
    """
    cls = optim.OPTIMIZERS[name]
    if cls.torch_class is None:
        return ""
    # the registered optimizer that is the torch class with its own defaults (SGD for
    # Momentum and Nesterov), first in teaching order
    plain = next(c for c in optim.OPTIMIZERS.values() if c.torch_class == cls.torch_class)
    values = {**cls.defaults(), **(hyper or {})}
    torch_defaults = plain.defaults()
    args = ["model.parameters()", f"lr={_default_text(values['lr'])}"]
    for key, value in values.items():
        if key != "lr" and value != torch_defaults.get(key):
            args.append(f"{key}={_python(value)}")
    return f"torch.optim.{cls.torch_class}({', '.join(args)})"


def _python(value: Any) -> str:
    if isinstance(value, tuple):
        return "(" + ", ".join(_python(v) for v in value) + ")"
    return _default_text(value)


def _cell(value: Any, digits: int = 4) -> str:
    arr = np.asarray(value, dtype=np.float64)
    if arr.ndim == 0:
        return f"{float(arr):.{digits}g}"
    return "(" + ", ".join(f"{v:.{digits}g}" for v in arr.ravel()) + ")"


PARAM_DIGITS = 6  # Lion's first steps (lr 1e-4) move the parameters in the fifth digit


def live_example(name: str, steps: int = 4, lr: float | None = None) -> list[dict[str, str]]:
    """A few steps on the ill-conditioned bowl with torch's defaults, every number shown.

    Each row is one step: the parameters after it, the gradient it used and every
    field of the optimizer's state (moments, ...; ``count`` is the step), each state
    column labelled with its symbol in the update rule.

    >>> rows = live_example("sgd", steps=2, lr=0.1)
    >>> [r["step t"] for r in rows], sorted(rows[1])
    (['0', '1', '2'], ['gradient g_t', 'momentum_buffer (b_t)', 'parameters θ_t', 'step t'])
    """
    surface = optim.make_surface(DEMO_SURFACE)
    opt = optim.make_optimizer(name, **({} if lr is None else {"lr": lr}))
    labels = {field: unicode_symbol(sym) for sym, field, _ in opt.symbols if field}
    params = np.asarray(surface.start, dtype=np.float64)
    state = opt.init(params)

    def fields(state) -> dict[str, str]:
        return {_column(f, labels): _cell(v) for f, v in state._asdict().items() if f != "count"}

    rows = [
        {"step t": "0", "parameters θ_t": _cell(params, PARAM_DIGITS), "gradient g_t": ""}
        | fields(state)
    ]
    for _ in range(steps):
        grad = surface.grad(params)
        params, state = opt.step(params, grad, state)
        rows.append(
            {
                "step t": str(state.count),
                "parameters θ_t": _cell(params, PARAM_DIGITS),
                "gradient g_t": _cell(grad),
            }
            | fields(state)
        )
    return rows


class Section(NamedTuple):
    """What one optimizer's tab shows beyond its rule, built once per process."""

    reference: str  # Markdown: the symbol tables, the history, the PyTorch heading
    call: str  # the torch.optim line ("" when torch.optim has none)
    live: pa.Table  # the live example (an Arrow table: no pandas conversion per visit)


# Every visitor gets the same tabs: built on the first visit of the process, then shared
# (the tables are immutable). One entry per registered optimizer.
@lru_cache(maxsize=32)
def section(name: str) -> Section:
    """The symbol tables, history, PyTorch line and live example of optimizer ``name``."""
    cls = optim.OPTIMIZERS[name]
    call = torch_call(name)
    reference = "\n\n".join(
        [
            symbol_table(cls),
            "**What the other symbols mean**",
            state_symbol_table(cls),
            f"**History.** {cls.history}",
            "**In PyTorch**" if call else "**In PyTorch:** not part of `torch.optim`.",
        ]
    )
    return Section(reference, call, pa.Table.from_pylist(live_example(name)))


WD_DEMO = {"decay": 0.1, "lr": 0.01, "steps": 50, "start": (2.0, 2.0)}


def weight_decay_demo(
    decay: float, lr: float, steps: int, start: tuple[float, float]
) -> list[dict[str, str]] | None:
    """How far weight decay alone pulls each coordinate, coupled (Adam) vs decoupled (AdamW).

    Both run on the bowl twice from the same start, with and without decay; the
    difference is the decay's doing. Adam feeds ``decay * theta`` through its
    per-coordinate normalisation, so a coordinate with steep gradients hardly feels
    it; AdamW shrinks every coordinate by the same factor. ``None`` when either
    optimizer is missing from the registry.
    """
    if not {"adam", "adamw"} <= set(optim.OPTIMIZERS):
        return None
    surface = optim.make_surface(DEMO_SURFACE)
    rows = []
    for name in ("adam", "adamw"):
        ends = []
        for wd in (0.0, decay):
            opt = optim.make_optimizer(name, lr=lr, weight_decay=wd)
            p = np.asarray(start, dtype=np.float64)
            state = opt.init(p)
            for _ in range(steps):
                p, state = opt.step(p, surface.grad(p), state)
            ends.append(p)
        pull = ends[0] - ends[1]
        rows.append(
            {
                "optimizer": optim.OPTIMIZERS[name].label,
                "end without decay": _cell(ends[0]),
                "end with decay": _cell(ends[1]),
                f"pull of the decay ({surface.variables[0]})": f"{pull[0]:.4g}",
                f"pull of the decay ({surface.variables[1]})": f"{pull[1]:.4g}",
            }
        )
    return rows


@lru_cache(maxsize=1)
def weight_decay_table() -> pa.Table | None:
    """:func:`weight_decay_demo` at WD_DEMO, as a table, built once per process."""
    rows = weight_decay_demo(**WD_DEMO)
    return None if rows is None else pa.Table.from_pylist(rows)


COUPLED = r"""\begin{aligned}
g_t &\leftarrow \nabla f(\theta_{t-1}) + \lambda\,\theta_{t-1} \\
\theta_t &\leftarrow \theta_{t-1} - \gamma\,\frac{\hat m_t}{\sqrt{\hat v_t} + \epsilon}
\end{aligned}"""

DECOUPLED = r"""\begin{aligned}
g_t &\leftarrow \nabla f(\theta_{t-1}) \\
\theta_t &\leftarrow \theta_{t-1} - \gamma\,\lambda\,\theta_{t-1}
  - \gamma\,\frac{\hat m_t}{\sqrt{\hat v_t} + \epsilon}
\end{aligned}"""

COURSE_LINE = (
    "SGD → Momentum → Nesterov (NAG) → Adagrad → RMSprop / Adadelta → Adam → "
    "AdamW, NAdam, RAdam, Adamax, Lion"
)
