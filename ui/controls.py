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

from . import guards
from .state import UrlSettings, fmt_number

guards.install()  # before any chart with on_select decodes a browser's event

MAX_OPTIMIZERS = 6
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
    url: UrlSettings, spec: dict, key: str, container: Any = None, owner: str = ""
) -> Any:
    """One widget for one slider spec; returns its value and records it for the link.

    ``owner`` (e.g. "Adam") prefixes the name in notices about a corrected URL value.
    """
    c = container if container is not None else st
    default, low, high, kind = spec["default"], spec["low"], spec["high"], spec["kind"]
    label, help_ = _label(spec), spec.get("help")
    name = f"{owner} {spec['label']}".strip()
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


def reset_optimizer(name: str) -> None:
    """Button callback: every hyperparameter of ``name`` back to torch's default."""
    for spec in optim.OPTIMIZERS[name].slider_specs():
        st.session_state[hparam_key(name, spec["key"])] = spec["default"]


def default_optimizers() -> list[str]:
    """The opening comparison: plain SGD, momentum and Adam (whichever exist)."""
    preferred = [n for n in ("sgd", "momentum", "adam") if n in optim.OPTIMIZERS]
    return preferred or list(optim.OPTIMIZERS)[:1]


def optimizer_choice(url: UrlSettings) -> list[str]:
    names = list(optim.OPTIMIZERS)
    labels = {n: optim.OPTIMIZERS[n].label for n in names}
    url.check_many(
        "opt",
        "optimizer",
        labels,
        MAX_OPTIMIZERS,
    )
    default = default_optimizers()
    chosen = st.sidebar.multiselect(
        "Pick up to six",
        names,
        default=default,
        format_func=labels.get,
        max_selections=MAX_OPTIMIZERS,
        key="opt",
        bind=URL,
        help="Listed in the order the course introduces them.",
    )
    chosen = [n for n in names if n in chosen]  # teaching order, whatever the click order
    url.record("opt", None if chosen == default else [labels[n] for n in chosen])
    return chosen


# The opening view compares on equal terms: one learning rate for all, at which SGD,
# momentum and Adam all visibly travel across the opening bowl within its 200 steps.
# (torch's own defaults, 1e-3 for SGD and Adam, barely move in that many steps; they are
# one click away, in "Each optimizer its own learning rate".)
COMPARE = {"same": "Same learning rate for all", "own": "Each optimizer its own learning rate"}
SHARED_LR = 0.1


def shared_lr_specs() -> dict:
    """One lr slider spanning every optimizer's range; default: ``SHARED_LR``."""
    specs = [
        s for n in optim.OPTIMIZERS for s in optim.OPTIMIZERS[n].slider_specs() if s["key"] == "lr"
    ]
    return {
        **specs[0],
        "default": SHARED_LR,
        "low": min(s["low"] for s in specs),
        "high": max(s["high"] for s in specs),
        "help": "Every optimizer uses this learning rate.",
    }


@dataclass(frozen=True)
class OptimizerChoice:
    name: str
    hyper: tuple[tuple[str, Any], ...]  # hashable, for the run cache
    error: str = ""  # torch-style validation message when the combination is invalid


def optimizer_controls(url: UrlSettings, names: list[str]) -> tuple[str, list[OptimizerChoice]]:
    """The compare mode and one expander of hyperparameters per chosen optimizer."""
    url.check_choice("compare", "compare mode", COMPARE)
    mode = st.sidebar.radio(
        "Compare", list(COMPARE), format_func=COMPARE.get, key="compare", bind=URL, horizontal=False
    )
    url.record("compare", None if mode == next(iter(COMPARE)) else COMPARE[mode])
    shared = None
    if mode == "same" and names:
        shared = spec_widget(url, shared_lr_specs(), "lr", st.sidebar)
    choices = []
    for name in names:
        cls = optim.OPTIMIZERS[name]
        box = st.sidebar.expander(f"{cls.label} hyperparameters", icon=":material/tune:")
        values = {}
        for spec in cls.slider_specs():
            if shared is not None and spec["key"] == "lr":
                values["lr"] = shared
                continue
            values[spec["key"]] = spec_widget(
                url, spec, hparam_key(name, spec["key"]), box, owner=cls.label
            )
        box.button(
            "Reset to torch defaults",
            key=f"reset_{name}",
            on_click=reset_optimizer,
            args=(name,),
            icon=":material/restart_alt:",
        )
        hyper = assemble(values)
        try:
            optim.make_optimizer(name, **hyper)
            error = ""
        except ValueError as exc:
            error = str(exc)
            box.error(error)
        choices.append(OptimizerChoice(name, tuple(hyper.items()), error))
    return mode, choices


# -- surface -------------------------------------------------------------------------------
def surface_label(name: str) -> str:
    return "Custom formula" if name == CUSTOM else optim.make_surface(name).label


def surface_controls(url: UrlSettings) -> tuple[str, tuple[tuple[str, float], ...], str]:
    """Surface name, its parameter values and the formula text (custom surface only)."""
    names = [*optim.SURFACES, CUSTOM]
    labels = {n: surface_label(n) for n in names}
    url.check_choice("surface", "surface", labels)
    default = "bowl" if "bowl" in names else names[0]
    name = st.sidebar.selectbox(
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
        formula = st.sidebar.text_input(
            "f(x, y) =",
            value=EXAMPLE_FORMULA,
            key="formula",
            bind=URL,
            help="Python syntax: + - * / ** and functions such as sin, exp, log, sqrt.",
        )
        url.record("formula", None if formula == EXAMPLE_FORMULA else formula)
    else:
        for spec in optim.make_surface(name).param_specs:
            params[spec["key"]] = spec_widget(url, spec, f"{name}_{spec['key']}", st.sidebar)
    return name, tuple(params.items()), formula


EXAMPLE_FORMULA = "x**2 + 10*y**2"


def reset_start() -> None:
    """Surface changed: the start point goes to the new surface's own default start."""
    name = st.session_state.get("surface")
    try:
        if name == CUSTOM:
            surface = optim.surface_from_expression(
                st.session_state.get("formula") or EXAMPLE_FORMULA
            )
        else:
            surface = optim.make_surface(name)
    except ValueError:
        return
    st.session_state["x0"] = float(surface.start[0])
    st.session_state["y0"] = float(surface.start[1])


def start_controls(url: UrlSettings, surface: Any) -> tuple[float, float]:
    (xmin, xmax), (ymin, ymax) = surface.bounds
    cols = st.sidebar.columns(2)
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


def set_start_from_click() -> None:
    """Chart-selection callback: the clicked point becomes the start (before widgets exist).

    Any clicked point counts (a click target, a path point): its x/y are coordinates.
    Anything else leaves the start as it was (see :func:`clicked_point`).
    """
    try:
        event = st.session_state.get("contour")
    except (ValueError, TypeError):  # Streamlit could not decode the event's text
        return
    point = clicked_point(event)
    if point is not None:
        st.session_state["x0"], st.session_state["y0"] = point


# -- run settings ------------------------------------------------------------------------
GRAD_MODES = {"full": "Full batch", "minibatch": "Mini-batch", "single": "Single sample"}
NOISE_GRID = [0.0, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0]
TOL_GRID = [0.0, 1e-12, 1e-10, 1e-8, 1e-6, 1e-4, 1e-3, 1e-2]


@dataclass(frozen=True)
class RunSettings:
    steps: int
    batch_size: int | None
    noise: float
    seed: int
    schedule: str
    schedule_params: tuple[tuple[str, Any], ...]
    tol: float | None


def run_controls(url: UrlSettings, surface: Any) -> RunSettings:
    box = st.sidebar
    steps = spec_widget(
        url,
        dict(
            key="steps",
            label="Steps",
            symbol="",
            default=200,
            low=10,
            high=MAX_STEPS,
            log=False,
            kind="int",
            help="How many updates every optimizer makes.",
        ),
        "steps",
        box,
    )
    batch_size, noise = None, float(RUN_DEFAULTS["noise"])
    if surface.is_data:
        url.check_choice("grad", "gradient mode", GRAD_MODES)
        mode = box.radio(
            "Gradient",
            list(GRAD_MODES),
            format_func=GRAD_MODES.get,
            key="grad",
            bind=URL,
            horizontal=True,
            help="Mini-batch and single-sample gradients are noisy estimates "
            "of the full-batch one.",
        )
        url.record("grad", None if mode == "full" else GRAD_MODES[mode])
        if mode == "single":
            batch_size = 1
        elif mode == "minibatch":
            n = int(surface.n_samples)
            batch_size = spec_widget(
                url,
                dict(
                    key="batch",
                    label="Batch size",
                    symbol="B",
                    default=max(1, n // 10),
                    low=1,
                    high=n,
                    log=False,
                    kind="int",
                    help=None,
                ),
                "batch",
                box,
            )
    else:
        url.check_grid("noise", "gradient noise", NOISE_GRID, log=False)
        noise = box.select_slider(
            "Gradient noise (std)",
            NOISE_GRID,
            value=noise,
            key="noise",
            format_func=fmt_number,
            bind=URL,
            help="Gaussian noise added to every gradient, a stand-in for mini-batch sampling.",
        )
        url.record("noise", None if noise == NOISE_GRID[0] else fmt_number(noise))
    seed_default = int(RUN_DEFAULTS["seed"])
    seed = spec_widget(
        url,
        dict(
            key="seed",
            label="Seed",
            symbol="",
            default=seed_default,
            low=0,
            high=2**31 - 1,
            log=False,
            kind="int",
            help="Random seed of the noise and of the mini-batches.",
        ),
        "seed",
        box,
    )
    schedule, schedule_params = schedule_controls(url)
    url.check_grid("tol", "tolerance", TOL_GRID, log=False)
    tol = box.select_slider(
        "Early stop: loss change below",
        TOL_GRID,
        value=0.0,
        key="tol",
        format_func=lambda v: "off" if v == 0 else fmt_number(v),
        bind=URL,
        help="Stop a run once its loss changes by less than this for "
        f"{RUN_DEFAULTS['patience']} steps in a row.",
    )
    url.record("tol", None if tol == 0 else fmt_number(tol))
    return RunSettings(
        int(steps),
        batch_size,
        float(noise),
        int(seed),
        schedule,
        schedule_params,
        float(tol) or None,
    )


def schedule_controls(url: UrlSettings) -> tuple[str, tuple[tuple[str, Any], ...]]:
    names = list(optim.SCHEDULES)
    labels = {n: getattr(optim.SCHEDULES[n], "label", "") or n for n in names}
    url.check_choice("schedule", "schedule", labels)
    name = st.sidebar.selectbox(
        "Learning-rate schedule", names, format_func=labels.get, key="schedule", bind=URL
    )
    url.record("schedule", None if name == names[0] else labels[name])
    values = {}
    for spec in optim.make_schedule(name).params:
        values[spec["key"]] = spec_widget(url, spec, f"{name}_{spec['key']}", st.sidebar)
    try:
        optim.make_schedule(name, **values)
    except ValueError as exc:
        st.sidebar.error(f"{exc}; using the schedule's defaults.")
        values = {}
    return name, tuple(values.items())
