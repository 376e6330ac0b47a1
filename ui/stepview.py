"""One step of a run, taken apart: its gradient, every state field, effective lr and Δθ.

The core keeps each step's gradient and learning rate, not the optimizer's state. The
state is rebuilt here by replaying the optimizer on the recorded gradients from the
start: the same pure ``step`` on the same inputs, so the same numbers (the tests check
the replay lands on the recorded path). Pure functions, no Streamlit.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import numpy as np

import optim

# the momentum / first-moment buffer, where an optimizer has one (drawn as an arrow)
MOMENTUM_FIELDS = ("exp_avg", "momentum_buffer")


@dataclass(frozen=True)
class Replay:
    """State fields after each step: ``fields[name]`` has shape ``(n, d)``, row ``t-1``
    after step ``t``; ``symbols[name]`` is the field's symbol as plain text."""

    fields: dict[str, np.ndarray]
    symbols: dict[str, str]
    derived: dict[str, np.ndarray]  # bias-corrected moments (m̂, v̂) where they exist
    momentum: np.ndarray | None  # (n, d): the buffer drawn as the momentum arrow
    path: np.ndarray  # (n + 1, d): the points the replay reached (the recorded path, again)


def replay(traj: Any, name: str, hyper: dict[str, Any]) -> Replay:
    """The optimizer's state after every valid step of ``traj`` (a single run)."""
    opt = optim.make_optimizer(name, **hyper)
    n = max(int(traj.n_valid()) - 1, 0)
    params = np.asarray(traj.params, dtype=np.float64)
    grads = np.asarray(traj.grad, dtype=np.float64)
    lrs = np.asarray(traj.lr, dtype=np.float64)
    state = opt.init(params[0])
    rows: dict[str, list[np.ndarray]] = {}
    path = [params[0]]
    with np.errstate(all="ignore"):
        for t in range(n):
            p_new, state = opt.step(params[t], grads[t], state, lr=float(lrs[t]))
            project = getattr(traj.problem, "project", None)
            path.append(project(p_new) if project is not None else p_new)
            for field, value in state._asdict().items():
                if field == "count" or value is None or np.shape(value) != params[0].shape:
                    continue
                rows.setdefault(field, []).append(np.array(value, dtype=np.float64))
    fields = {k: np.array(v) for k, v in rows.items() if _in_use(np.array(v), grads[:n])}
    cls = optim.OPTIMIZERS[name]
    # a short symbol (m, v̂, b) or, for a long one (Adadelta's ratio), the field's name
    symbols = {
        field: plain(sym) if len(plain(sym)) <= 6 else field
        for sym, field, _ in cls.symbols
        if field in fields
    }
    for field in fields:
        symbols.setdefault(field, field)
    derived = _bias_corrected(fields, {sym for sym, _, _ in cls.symbols}, hyper, n)
    momentum = next((fields[f] for f in MOMENTUM_FIELDS if f in fields), None)
    return Replay(fields, symbols, derived, momentum, np.array(path))


def _in_use(values: np.ndarray, grads: np.ndarray) -> bool:
    """A field the update actually uses: not all zero and not a copy of the gradient
    (SGD without momentum keeps g as its 'buffer'; RMSprop uncentred keeps no ḡ)."""
    if values.size == 0:
        return False
    if not np.any(values):
        return False
    return not np.array_equal(values, grads)


def _bias_corrected(fields: dict, latex: set[str], hyper: dict, n: int) -> dict[str, np.ndarray]:
    """m̂ and v̂ where the update rule names them (Adam and its kin)."""
    betas = hyper.get("betas")
    if betas is None or n == 0:
        return {}
    t = np.arange(1, n + 1, dtype=np.float64)[:, None]
    out = {}
    if "exp_avg" in fields and r"\hat m_t" in latex:
        out["m̂"] = fields["exp_avg"] / (1 - betas[0] ** t)
    if "exp_avg_sq" in fields and r"\hat v_t" in latex:
        out["v̂"] = fields["exp_avg_sq"] / (1 - betas[1] ** t)
    return out


_GREEK = {
    "alpha": "α",
    "beta": "β",
    "gamma": "γ",
    "delta": "δ",
    "Delta": "Δ",
    "epsilon": "ε",
    "theta": "θ",
    "lambda": "λ",
    "mu": "μ",
    "rho": "ρ",
    "nabla": "∇",
    "infty": "∞",
}


def plain(latex: str) -> str:
    """A symbol's LaTeX as plain text for a table: ``\\hat m_t`` -> ``m̂``.

    >>> plain(r"b_t"), plain(r"v^{\\max}_t"), plain(r"\\hat m_t") == "m\u0302"
    ('b', 'vmax', True)
    """
    text = latex
    text = re.sub(r"\\hat\s*\{?(\w)\}?", "\\1\u0302", text)
    text = re.sub(r"\\bar\s*\{?(\w)\}?", "\\1\u0304", text)
    text = re.sub(r"\\tilde\s*\\?\{?(\w+)\}?", lambda m: _GREEK.get(m[1], m[1]) + "\u0303", text)
    text = re.sub(r"_\{?t(-1)?\}?", "", text)
    text = re.sub(r"\\(\w+)", lambda m: _GREEK.get(m[1], m[1]), text)
    return re.sub(r"[{}^ ]", "", text)


def step_rows(traj: Any, rep: Replay, k: int, variables: tuple[str, str]) -> list[dict]:
    """The inspector's table of step ``k`` (1 = the first step): one row per quantity,
    one column per parameter. Empty for step 0 or a step the run never took."""
    n = max(int(traj.n_valid()) - 1, 0)
    if not 1 <= k <= n:
        return []
    p = np.asarray(traj.params, dtype=np.float64)
    i = k - 1
    rows = [
        ("θ before the step", p[i]),
        ("g (gradient)", np.asarray(traj.grad, dtype=np.float64)[i]),
    ]
    for field, values in rep.fields.items():
        rows.append((f"{rep.symbols[field]} ({field})", values[i]))
    for sym, values in rep.derived.items():
        rows.append((f"{sym} (bias-corrected)", values[i]))
    rows += [
        ("lr this step", np.full(2, float(np.asarray(traj.lr)[i]))),
        ("effective lr", np.asarray(traj.effective_lr, dtype=np.float64)[i]),
        ("Δθ (the step)", p[k] - p[i]),
        ("θ after the step", p[k]),
    ]
    vx, vy = variables[:2]
    return [{"quantity": q, vx: float(v[0]), vy: float(v[1])} for q, v in rows]
