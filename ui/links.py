"""Links that open one run on the Playground, exactly as another page computed it.

The Playground's address keys are written here and nowhere else on the other pages:
when the Playground changes how a run is kept in its address, :func:`playground_query`
is the one function to change.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import optim
from optim.sweep import base_value

from .controls import COMPARE, CUSTOM, EXAMPLE_FORMULA, hparam_key, surface_label
from .state import fmt_number


@dataclass(frozen=True)
class RunSpec:
    """One run as the Playground would make it: surface, one optimizer with its
    constructor arguments, start, steps, early-stop tolerance (``None``: off)."""

    surface: str
    surface_params: tuple[tuple[str, float], ...]
    formula: str
    optimizer: str
    hyper: tuple[tuple[str, Any], ...]
    start: tuple[float, float]
    steps: int
    tol: float | None = None


def exact(value: float) -> float:
    """The value as the address writes it (6 significant digits), so that a run made with
    it and the run the link opens are the same run, bit for bit.

    >>> exact(0.012345678)
    0.0123457
    """
    return float(fmt_number(float(value)))


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return fmt_number(float(value))


def playground_query(run: RunSpec) -> dict[str, str | list[str]]:
    """The Playground's query parameters for ``run`` (defaults left out, as it does)."""
    cls = optim.OPTIMIZERS[run.optimizer]
    q: dict[str, str | list[str]] = {
        "opt": [cls.label],
        "compare": COMPARE["own"],  # the learning rate is the optimizer's own slider
    }
    hyper = dict(run.hyper)
    for spec in cls.slider_specs():
        value = base_value(hyper, spec.name)
        if value != spec.default:
            q[hparam_key(run.optimizer, spec.name)] = _text(value)
    if run.surface != "bowl":
        q["surface"] = surface_label(run.surface)
    if run.surface == CUSTOM:
        if run.formula != EXAMPLE_FORMULA:
            q["formula"] = run.formula
    else:
        defaults = optim.SURFACES[run.surface].defaults()
        for name, value in run.surface_params:
            if value != defaults.get(name):
                q[f"{run.surface}_{name}"] = _text(value)
    q["x0"], q["y0"] = _text(run.start[0]), _text(run.start[1])
    q["steps"] = str(int(run.steps))
    if run.tol:
        q["tol"] = _text(run.tol)
    return q


def playground_link(run: RunSpec) -> str:
    """A relative address that opens ``run`` on the Playground (the landing page)."""
    return "/?" + urlencode(playground_query(run), doseq=True)


def hyper_of(kwargs: Mapping[str, Any]) -> tuple[tuple[str, Any], ...]:
    """Constructor arguments as a hashable tuple, numbers as the address writes them."""
    out = []
    for k, v in kwargs.items():
        if isinstance(v, tuple):
            v = tuple(exact(x) for x in v)
        elif not isinstance(v, bool):
            v = exact(v)
        out.append((k, v))
    return tuple(out)
