"""Sidebar widgets built from the core's registries and specs.

Nothing here knows a particular optimizer or surface: each control comes from a
slider spec (``cls.slider_specs()``, ``surface.param_specs``, a schedule's
``params``), with the default the core defines. Every widget has a stable key, is
bound to the URL and has its URL value checked first (see :mod:`ui.state`).
"""

from __future__ import annotations

import inspect
import math
import re
from dataclasses import dataclass
from typing import Any

import streamlit as st

import optim

from . import custom, guards
from .state import UrlSettings, fmt_number

guards.install()  # before any chart with on_select decodes a browser's event

MAX_OPTIMIZERS = 8  # runs in one race
MAX_STEPS = 2000
CUSTOM = "custom"  # the surface choice that reads a formula
URL = "query-params"

# run()'s own keyword defaults (seed, noise, tolerance, patience): written once, in the core.
RUN_DEFAULTS = {
    name: p.default
    for name, p in inspect.signature(optim.run).parameters.items()
    if p.default is not inspect.Parameter.empty
}


# -- value grids ---------------------------------------------------------------------
def log_grid(low: float, high: float, default: float) -> list[float]:
    """1-2-5 values per decade between ``low`` and ``high``, plus ``default`` exactly.

    Streamlit has no log slider; a select slider over this grid moves by a constant
    factor per notch and can always go back to torch's default.

    >>> log_grid(1e-3, 1e-1, 0.03)
    [0.001, 0.002, 0.005, 0.01, 0.02, 0.03, 0.05, 0.1]
    """
    values = {float(default), float(low), float(high)}
    for exponent in range(math.floor(math.log10(low)), math.ceil(math.log10(high)) + 1):
        for mantissa in (1, 2, 5):
            v = float(f"{mantissa}e{exponent}")
            if low <= v <= high:
                values.add(v)
    return sorted(values)


def with_held(grid: list[float], *held: Any) -> list[float]:
    """The grid plus each in-range number a link or the session holds for the slider.

    Another page's link (a cell of a map, the best of a random search) opens one exact
    value, which the 1-2-5 grid may not have; it joins the grid instead of being snapped.

    >>> with_held([0.001, 0.01, 0.1], "0.0123457", 5.0, "x", None)
    [0.001, 0.01, 0.0123457, 0.1]
    """
    values = set(grid)
    for v in held:
        try:
            f = float(v)
        except (TypeError, ValueError, OverflowError):
            continue
        if not isinstance(v, bool) and math.isfinite(f) and grid[0] <= f <= grid[-1]:
            values.add(float(fmt_number(f)))
    return sorted(values)


def linear_step(low: float, high: float, default: float) -> float:
    """A round slider step, about 1/200 of the range, that lands on ``default``.

    >>> linear_step(0.0, 0.999, 0.9), linear_step(0.0, 1.0, 0.01), linear_step(0.5, 10.0, 2.0)
    (0.001, 0.001, 0.01)
    """
    step = 10.0 ** math.floor(math.log10((high - low) / 200))
    while abs((default - low) / step - round((default - low) / step)) > 1e-6:
        step /= 10
    return step


def _label(spec: dict) -> str:
    # Streamlit widget labels render Markdown with $...$ math; "a" needs no "$a$" beside it
    symbol = spec.get("symbol") or ""
    if not symbol or symbol.lstrip("\\") == spec["label"]:
        return spec["label"]
    return f"{spec['label']} ${symbol}$"


def spec_widget(
    url: UrlSettings,
    spec: dict,
    key: str,
    container: Any = None,
    owner: str = "",
    typed: bool = False,
) -> Any:
    """One widget for one slider spec; returns its value and records it for the link.

    ``owner`` (e.g. "Adam") prefixes the name in notices about a corrected URL value.
    ``typed``: a number input instead of a slider for a number, so that a lecturer can
    enter the exact value a lesson uses.
    """
    c = container if container is not None else st
    default, low, high, kind = spec["default"], spec["low"], spec["high"], spec["kind"]
    label, help_ = _label(spec), spec.get("help")
    name = f"{owner} {spec['label']}".strip()
    if typed and kind == "float":
        url.check_number(key, name, low, high)
        value = c.number_input(
            label,
            float(low) if low is not None else None,
            float(high) if high is not None else None,
            float(default),
            step=_typed_step(float(default), low, high),
            format="%g",
            key=key,
            help=help_,
            bind=URL,
        )
        url.record(key, None if value == default else fmt_number(value))
        return float(value)
    if kind == "bool":
        url.check_bool(key, name)
        value = c.checkbox(label, value=bool(default), key=key, help=help_, bind=URL)
        url.record(key, None if value == bool(default) else str(value).lower())
        return value
    if kind == "int":
        lo = int(low) if low is not None else None
        hi = int(high) if high is not None else None
        url.check_number(key, name, lo, hi, integer=True)
        if lo is not None and hi is not None and hi - lo <= 5000:
            value = c.slider(label, lo, hi, int(default), key=key, help=help_, bind=URL)
        else:
            # A float-typed input holding whole numbers: Streamlit 1.67's integer
            # number_input crashes (uncaught OverflowError) on a link like ?seed=inf,
            # while its float input rejects non-finite URL values cleanly.
            if isinstance(st.session_state.get(key), int):
                st.session_state[key] = float(st.session_state[key])
            value = c.number_input(
                label,
                float(lo) if lo is not None else None,
                float(hi) if hi is not None else None,
                float(default),
                step=1.0,
                format="%.0f",
                key=key,
                help=help_,
                bind=URL,
            )
        value = int(round(value))
        url.record(key, None if value == int(default) else str(value))
        return value
    if spec.get("log") and low is not None and low > 0:
        grid = log_grid(low, high if high is not None else default * 1e3, default)
        grid = with_held(grid, st.query_params.get(key), st.session_state.get(key))
        url.check_grid(key, name, grid, log=True)
        value = c.select_slider(
            label,
            options=grid,
            value=float(default),
            key=key,
            format_func=fmt_number,
            help=help_,
            bind=URL,
        )
        url.record(key, None if value == default else fmt_number(value))
        return float(value)
    lo = float(low) if low is not None else min(0.0, float(default))
    hi = float(high) if high is not None else max(1.0, 10.0 * abs(float(default)))
    step = linear_step(lo, hi, float(default))
    decimals = max(0, -math.floor(math.log10(step)))
    url.check_number(key, name, lo, hi)
    value = c.slider(
        label,
        lo,
        hi,
        float(default),
        step=step,
        format=f"%.{decimals}f",
        key=key,
        help=help_,
        bind=URL,
    )
    url.record(key, None if value == default else fmt_number(value))
    return float(value)


def _typed_step(default: float, low: float | None, high: float | None) -> float:
    """The +/- step of a typed number: about a hundredth of its range, a round number."""
    span = (high - low) if (low is not None and high is not None) else abs(default) or 1.0
    return 10.0 ** math.floor(math.log10(span / 100)) if span > 0 else 0.01


# -- optimizers ------------------------------------------------------------------------
def hparam_key(name: str, spec_key: str) -> str:
    """URL-friendly widget key: ``adam_lr``, ``adam_betas0``.

    >>> hparam_key("adam", "betas[1]")
    'adam_betas1'
    """
    return f"{name}_{re.sub(r'[^A-Za-z0-9_]', '', spec_key)}"


def assemble(values: dict[str, Any]) -> dict[str, Any]:
    """Spec keys back to constructor arguments: ``betas[0]``, ``betas[1]`` -> ``betas``.

    >>> assemble({"lr": 0.1, "betas[0]": 0.9, "betas[1]": 0.99})
    {'lr': 0.1, 'betas': (0.9, 0.99)}
    """
    out: dict[str, Any] = {}
    parts: dict[str, dict[int, Any]] = {}
    for key, value in values.items():
        m = re.fullmatch(r"(\w+)\[(\d+)\]", key)
        if m:
            parts.setdefault(m[1], {})[int(m[2])] = value
        else:
            out[key] = value
    for name, items in parts.items():
        out[name] = tuple(items[i] for i in sorted(items))
    return out


def default_optimizers() -> list[str]:
    """The opening comparison: plain SGD, momentum and Adam (whichever exist)."""
    preferred = [n for n in ("sgd", "momentum", "adam") if n in optim.OPTIMIZERS]
    return preferred or list(optim.OPTIMIZERS)[:1]


# The opening view compares on equal terms: one learning rate for all, at which SGD,
# momentum and Adam all visibly travel across the surface within 200 steps and none
# blows up (torch's own defaults, 1e-3 for SGD and Adam, barely move in that many steps;
# they are one click away, in "Each run its own learning rate").
COMPARE = {"same": "Same learning rate for all", "own": "Each optimizer its own learning rate"}
SHARED_LR = 0.1
SURFACE_LR = {
    "linear": 0.1,
    "quadratic": 0.002,
    "bowl": 0.1,
    "rosenbrock": 0.001,
    "beale": 0.005,
    "himmelblau": 0.02,
    "rastrigin": 0.005,
    "booth": 0.05,
    "saddle": 0.01,
    "camel": 0.05,
    CUSTOM: 0.05,
}


def shared_lr_for(surface_name: str | None) -> float:
    """The shared learning rate a surface opens with (one that none of the opening runs
    blows up at)."""
    return SURFACE_LR.get(surface_name or "", SHARED_LR)


def shared_lr_specs(default: float = SHARED_LR) -> dict:
    """One lr input spanning every optimizer's range."""
    specs = [
        s for n in optim.OPTIMIZERS for s in optim.OPTIMIZERS[n].slider_specs() if s["key"] == "lr"
    ]
    return {
        **specs[0],
        "default": default,
        "low": min(s["low"] for s in specs),
        "high": max(s["high"] for s in specs),
        "help": "Every run uses this learning rate.",
    }


@dataclass(frozen=True)
class OptimizerChoice:
    name: str
    hyper: tuple[tuple[str, Any], ...]  # hashable, for the run cache
    error: str = ""  # torch-style validation message when the combination is invalid
    batch: int | None = None  # this run's batch size on a data problem (None: full batch)


# -- surface -------------------------------------------------------------------------------
def surface_label(name: str) -> str:
    return "Custom formula" if name == CUSTOM else optim.make_surface(name).label


def surface_controls(
    url: UrlSettings, boxes: dict[str, Any] | None = None
) -> tuple[str, tuple[tuple[str, float], ...], str]:
    """Surface name, its parameter values and the formula text (custom surface only).

    ``boxes``: a container for ``surface`` or ``formula`` other than the sidebar (an
    exercise link's hidden one, see :mod:`ui.hidden`)."""
    box = (boxes or {}).get("surface", st.sidebar)
    names = [*optim.SURFACES, CUSTOM]
    labels = {n: surface_label(n) for n in names}
    url.check_choice("surface", "surface", labels)
    default = "bowl" if "bowl" in names else names[0]
    name = box.selectbox(
        "Loss surface",
        names,
        index=names.index(default),
        format_func=labels.get,
        key="surface",
        bind=URL,
        on_change=reset_start,
    )
    url.record("surface", None if name == default else labels[name])
    formula = ""
    params: dict[str, float] = {}
    if name == CUSTOM:
        # a bad formula in a link is reported like a typed one (st.error, last good kept)
        formula = (
            (boxes or {})
            .get("formula", st.sidebar)
            .text_input(
                "f(x, y) =",
                value=EXAMPLE_FORMULA,
                key="formula",
                bind=URL,
                help="Python syntax: + - * / ** and functions such as sin, exp, log, sqrt.",
            )
        )
        url.record("formula", None if formula == EXAMPLE_FORMULA else formula)
        return name, custom.window_controls(url), formula
    else:
        for spec in optim.make_surface(name).param_specs:
            params[spec["key"]] = spec_widget(url, spec, f"{name}_{spec['key']}", box, typed=True)
    return name, tuple(params.items()), formula


EXAMPLE_FORMULA = "x**2 + 10*y**2"


def reset_start() -> None:
    """Surface changed: the start point goes to the new surface's own default start."""
    name = st.session_state.get("surface")
    try:
        if name == CUSTOM:
            surface = optim.surface_from_expression(
                st.session_state.get("formula") or EXAMPLE_FORMULA,
                custom.window_of(custom.window_in(st.session_state)),
            )
        else:
            surface = optim.make_surface(name)
    except ValueError:
        return
    st.session_state["x0"] = float(surface.start[0])
    st.session_state["y0"] = float(surface.start[1])
    st.session_state["lr"] = shared_lr_for(name)


def start_controls(url: UrlSettings, surface: Any, box: Any = None) -> tuple[float, float]:
    (xmin, xmax), (ymin, ymax) = surface.bounds
    cols = (box if box is not None else st.sidebar).columns(2)
    start = []
    for col, key, var, lo, hi, default in (
        (cols[0], "x0", surface.variables[0], xmin, xmax, surface.start[0]),
        (cols[1], "y0", surface.variables[1], ymin, ymax, surface.start[1]),
    ):
        lo, hi, default = float(lo), float(hi), float(default)
        url.check_number(key, f"start {var}", lo, hi)
        if key in st.session_state:  # a click may have put it slightly outside the window
            st.session_state[key] = min(max(float(st.session_state[key]), lo), hi)
        value = col.number_input(
            f"Start {var}", lo, hi, default, step=0.1, format="%.3f", key=key, bind=URL
        )
        url.record(key, None if value == default else fmt_number(value))
        start.append(float(value))
    return start[0], start[1]


def clicked_point(event: Any) -> tuple[float, float] | None:
    """The x/y of the first point of a chart-selection event; ``None`` for anything else.

    The event comes from the browser, so it is checked like any outside input: a
    crafted one (no points, a non-numeric or non-finite x, a list, a huge integer)
    is ignored, never an exception and never a NaN start.

    >>> clicked_point({"selection": {"points": [{"x": 0.5, "y": -1}]}})
    (0.5, -1.0)
    >>> clicked_point({"selection": {"points": [{"x": "0.5", "y": 1}]}}) is None
    True
    """
    try:
        point = event["selection"]["points"][0]
        coords = point["x"], point["y"]
    except (KeyError, IndexError, TypeError):
        return None
    if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in coords):
        return None
    try:
        x, y = float(coords[0]), float(coords[1])
    except OverflowError:  # an integer beyond any float
        return None
    if not (math.isfinite(x) and math.isfinite(y)):
        return None
    return x, y


def clicked_start(event: Any) -> tuple[float, float] | None:
    """The start a click sets: the clicked point rounded to 3 decimals, so the link holds
    ``x0=1.234``, not sixteen digits.

    >>> clicked_start({"selection": {"points": [{"x": 0.123456, "y": -1.98765}]}})
    (0.123, -1.988)
    """
    point = clicked_point(event)
    return None if point is None else (round(point[0], 3), round(point[1], 3))


def set_start_from_click() -> None:
    """Chart-selection callback: the clicked point becomes the start (before widgets exist).

    Any clicked point counts (a click target, a path point): its x/y are coordinates.
    Anything else leaves the start as it was (see :func:`clicked_point`).
    """
    try:
        event = st.session_state.get("contour")
    except (ValueError, TypeError):  # Streamlit could not decode the event's text
        return
    point = clicked_start(event)
    if point is not None:
        st.session_state["x0"], st.session_state["y0"] = point


# -- run settings ------------------------------------------------------------------------
GRAD_MODES = {"full": "Full batch", "minibatch": "Mini-batch", "single": "Single sample"}
NOISE_GRID = [0.0, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0]
DEFAULT_STEPS = 200
MAX_PATIENCE = 100


@dataclass(frozen=True)
class RunSettings:
    steps: int
    batch_size: int | None
    noise: float
    seed: int
    schedule: str
    schedule_params: tuple[tuple[str, Any], ...]
    tol: float | None
    patience: int = 3


def _typed_number(
    url: UrlSettings,
    key: str,
    label: str,
    low: float,
    high: float | None,
    default: float,
    *,
    integer: bool = False,
    help: str | None = None,
    box: Any = None,
) -> float:
    """A number the lecturer types exactly (no slider to aim with); bound to the link."""
    box = box if box is not None else st.sidebar
    url.check_number(key, label, low, high, integer=integer)
    if integer and isinstance(st.session_state.get(key), int):
        st.session_state[key] = float(st.session_state[key])  # see spec_widget
    value = box.number_input(
        label,
        float(low),
        float(high) if high is not None else None,
        float(default),
        step=1.0 if integer else None,
        format="%.0f" if integer else "%g",
        key=key,
        help=help,
        bind=URL,
    )
    value = int(round(value)) if integer else float(value)
    url.record(key, None if value == default else (str(value) if integer else fmt_number(value)))
    return value


def run_controls(
    url: UrlSettings, surface: Any, boxes: dict[str, Any] | None = None
) -> RunSettings:
    """Steps, noise, seed, schedule and early stopping; ``boxes`` as for
    :func:`surface_controls` (``steps``, ``noise``, ``seed``, ``schedule``, ``tol``)."""

    def box_of(name: str) -> Any:
        return (boxes or {}).get(name, st.sidebar)

    steps = _typed_number(
        url,
        "steps",
        "Steps",
        10,
        MAX_STEPS,
        DEFAULT_STEPS,
        integer=True,
        help=f"How many updates every run makes (10 to {MAX_STEPS:,}).",
        box=box_of("steps"),
    )
    noise = float(RUN_DEFAULTS["noise"])
    if not surface.is_data:
        url.check_grid("noise", "gradient noise", NOISE_GRID, log=False)
        noise = box_of("noise").select_slider(
            "Gradient noise (std)",
            NOISE_GRID,
            value=noise,
            key="noise",
            format_func=fmt_number,
            bind=URL,
            help="Gaussian noise added to every gradient, a stand-in for mini-batch sampling.",
        )
        url.record("noise", None if noise == NOISE_GRID[0] else fmt_number(noise))
    seed = _typed_number(
        url,
        "seed",
        "Seed",
        0,
        2**31 - 1,
        int(RUN_DEFAULTS["seed"]),
        integer=True,
        help="Random seed of the noise and of the mini-batches.",
        box=box_of("seed"),
    )
    schedule, schedule_params = schedule_controls(url, box_of("schedule"))
    cols = box_of("tol").columns(2)
    tol = _typed_number(
        url,
        "tol",
        "Early stop: loss change <",
        0.0,
        None,
        0.0,
        help="Stop a run once its loss changes by less than this for `patience` steps in a "
        "row; 0 never stops early. Type any value, e.g. 1e-5.",
        box=cols[0],
    )
    patience = _typed_number(
        url,
        "patience",
        "for steps in a row",
        1,
        MAX_PATIENCE,
        int(RUN_DEFAULTS["patience"]),
        integer=True,
        help="Patience: how many consecutive quiet steps stop a run.",
        box=cols[1],
    )
    return RunSettings(
        int(steps),
        None,
        float(noise),
        int(seed),
        schedule,
        schedule_params,
        float(tol) or None,
        int(patience),
    )


def schedule_controls(url: UrlSettings, box: Any = None) -> tuple[str, tuple[tuple[str, Any], ...]]:
    box = box if box is not None else st.sidebar
    names = list(optim.SCHEDULES)
    labels = {n: getattr(optim.SCHEDULES[n], "label", "") or n for n in names}
    url.check_choice("schedule", "schedule", labels)
    name = box.selectbox(
        "Learning-rate schedule", names, format_func=labels.get, key="schedule", bind=URL
    )
    url.record("schedule", None if name == names[0] else labels[name])
    values = {}
    for spec in optim.make_schedule(name).params:
        values[spec["key"]] = spec_widget(url, spec, f"{name}_{spec['key']}", box, typed=True)
    try:
        optim.make_schedule(name, **values)
    except ValueError as exc:
        box.error(f"{exc}; using the schedule's defaults.")
        values = {}
    return name, tuple(values.items())
