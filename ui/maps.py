"""The Maps page's parts: its controls, the cached computations and each section.

Widget keys start with ``map_`` (session state is shared across pages). Every number a
map computes with is rounded as the address writes it (:func:`ui.links.exact`), so the
run a cell's link opens on the Playground is that cell's run, bit for bit.
"""

from __future__ import annotations

import csv
import io
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any

import numpy as np
import streamlit as st

import optim
from optim.sweep import axis_values, base_value, sample_settings, settings_kwargs, slider_specs
from optim.theory import QuadraticTheory, measured_rate, minimum_of, quadratic_hessian

from . import export, share
from .controls import (
    CUSTOM,
    EXAMPLE_FORMULA,
    URL,
    hparam_key,
    spec_widget,
    surface_label,
)
from .export_csv import csv_button, csv_cell
from .export_png import Picture, png_buttons
from .figures.maps import BasinPanel, Panel, basins_figure, cell_of_click, map_figure, race_figure
from .links import RunSpec, exact, hyper_of, playground_link, playground_query
from .runs import build_surface
from .state import UrlSettings, fmt_number

MAX_OPTIMIZERS = 4
# the map's "steps to a tolerance" metric: the loss-change tolerances a map offers
TOL_GRID = [0.0, 1e-12, 1e-10, 1e-8, 1e-6, 1e-4, 1e-3, 1e-2]
MAX_CELLS, MAX_STARTS, MAX_STEPS = 120, 200, 1000
METRICS = {
    "final_loss": "final loss",
    "steps": "steps to the tolerance",
    "distance": "distance to the nearest minimum",
}
VIEWS = {"map": "Sensitivity map", "basins": "Basins of attraction", "race": "Fair race"}
# the second axis when an optimizer has it: the knob its update rule is built around
SECOND = ("momentum", "betas[0]", "alpha", "rho", "lr_decay")
WORK_PER_SECOND = 3e6  # trajectory-steps the core makes in about a second, on one core


# -- the setup every section shares -----------------------------------------------------------
@dataclass(frozen=True)
class Choice:
    name: str
    hyper: tuple[tuple[str, Any], ...]  # the expander's values: the fixed settings
    y: str  # the map's second axis
    error: str = ""


@dataclass(frozen=True)
class Setup:
    surface: tuple[str, tuple[tuple[str, float], ...], str]  # name, params, formula
    start: tuple[float, float]
    steps: int
    tol: float | None
    choices: tuple[Choice, ...]
    classroom: bool = False

    def run_spec(self, name: str, kwargs: dict) -> RunSpec:
        name_, params, formula = self.surface
        return RunSpec(
            name_, params, formula, name, hyper_of(kwargs), self.start, self.steps, self.tol
        )


def setup_controls(
    url: UrlSettings, classroom: bool, boxes: dict[str, Any] | None = None
) -> Setup | None:
    """The sidebar: surface, start, steps, tolerance, optimizers and their settings.

    ``boxes``: an exercise link's hidden groups (``surface``, ``start``, ``steps``,
    ``tol``, ``optimizers``), each a stand-in container that draws nothing."""

    def box_of(name: str) -> Any:
        return (boxes or {}).get(name, st.sidebar)

    bar = box_of("surface")
    if not {"surface", "start"} <= set(boxes or {}):
        st.sidebar.subheader("Loss surface")
    names = [*optim.SURFACES, CUSTOM]
    labels = {n: surface_label(n) for n in names}
    url.check_choice("map_surface", "surface", labels)
    default = "bowl"  # a quadratic: the theory shows beside the map
    name = bar.selectbox(
        "Loss surface",
        names,
        names.index(default),
        format_func=labels.get,
        key="map_surface",
        bind=URL,
    )
    url.record("map_surface", None if name == default else labels[name])
    params: dict[str, float] = {}
    formula = ""
    if name == CUSTOM:
        formula = bar.text_input("f(x, y) =", EXAMPLE_FORMULA, key="map_formula", bind=URL)
        url.record("map_formula", None if formula == EXAMPLE_FORMULA else formula)
    else:
        for spec in optim.SURFACES[name].param_specs:
            params[spec.name] = spec_widget(url, spec, f"map_{name}_{spec.name}", bar)
    key = (name, tuple(params.items()), formula)
    try:
        surface = build_surface(key)
    except ValueError as exc:
        st.error(f"That formula cannot be used: {exc}", icon=":material/error:")
        return None
    (x0, x1), (y0, y1) = surface.bounds
    cols = box_of("start").columns(2)
    start = []
    for col, k, var, lo, hi, default in (
        (cols[0], "map_x0", surface.variables[0], x0, x1, surface.start[0]),
        (cols[1], "map_y0", surface.variables[1], y0, y1, surface.start[1]),
    ):
        url.check_number(k, f"start {var}", lo, hi)
        v = col.number_input(f"Start {var}", lo, hi, float(default), 0.1, "%.3f", key=k, bind=URL)
        url.record(k, None if v == default else fmt_number(v))
        start.append(exact(v))
    if not {"steps", "tol"} <= set(boxes or {}):
        st.sidebar.subheader("Runs")
    steps = spec_widget(
        url,
        optim.Param("steps", 300, "Steps of every run.", kind="int", low=10, high=MAX_STEPS),
        "map_steps",
        box_of("steps"),
    )
    url.check_grid("map_tol", "tolerance", TOL_GRID, log=False)
    tol = box_of("tol").select_slider(
        "Early stop: loss change below",
        TOL_GRID,
        value=0.0,
        key="map_tol",
        bind=URL,
        format_func=lambda v: "off" if v == 0 else fmt_number(v),
        help="A run stops once its loss changes by less than this for 3 steps in a row "
        "(needed for the map of steps to the tolerance).",
    )
    url.record("map_tol", None if tol == 0 else fmt_number(tol))
    return Setup(
        key,
        (start[0], start[1]),
        int(steps),
        float(tol) or None,
        _optimizers(url, box_of("optimizers")),
        classroom,
    )


def _optimizers(url: UrlSettings, bar: Any = None) -> tuple[Choice, ...]:
    bar = bar if bar is not None else st.sidebar
    bar.subheader("Optimizers")
    names = list(optim.OPTIMIZERS)
    labels = {n: optim.OPTIMIZERS[n].label for n in names}
    url.check_many("map_opt", "optimizer", labels, MAX_OPTIMIZERS)
    default = ["momentum", "adam"]
    chosen = bar.multiselect(
        "Up to four, side by side",
        names,
        default=default,
        format_func=labels.get,
        max_selections=MAX_OPTIMIZERS,
        key="map_opt",
        bind=URL,
    )
    chosen = [n for n in names if n in chosen]
    url.record("map_opt", None if chosen == default else [labels[n] for n in chosen])
    out = []
    for name in chosen:
        cls = optim.OPTIMIZERS[name]
        box = bar.expander(f"{cls.label} settings", icon=":material/tune:")
        values = {
            s.name: spec_widget(url, s, f"map_{hparam_key(name, s.name)}", box, owner=cls.label)
            for s in cls.slider_specs()
        }
        floats = [s.name for s in cls.slider_specs() if s.kind == "float" and s.name != "lr"]
        y_default = next((s for s in SECOND if s in floats), floats[0])
        y_key = f"map_{name}_y"
        url.check_choice(y_key, f"{cls.label} map axis", {s: s for s in floats})
        y = box.selectbox("Map's second axis", floats, floats.index(y_default), key=y_key, bind=URL)
        url.record(y_key, None if y == y_default else y)
        kwargs = settings_kwargs(name, values)
        try:
            optim.make_optimizer(name, **kwargs)
            error = ""
        except ValueError as exc:
            error = str(exc)
            box.error(error)
        out.append(Choice(name, hyper_of(kwargs), y, error))
    return tuple(out)


# -- computing, once per setting, with progress when it takes a while -------------------------
_memo: OrderedDict = OrderedDict()
_memo_lock = threading.Lock()


def computed(key: tuple, work: float, label: str, fn: Callable[[Callable], Any]) -> Any:
    """``fn(progress)`` once per ``key`` (shared by every session, the last 24 kept); a
    progress bar shows while it runs when ``work`` (trajectory-steps) takes over a second."""
    with _memo_lock:
        if key in _memo:
            _memo.move_to_end(key)
            return _memo[key]
    bar = st.progress(0.0, text=label) if work > WORK_PER_SECOND else None

    def progress(done: int, total: int) -> None:
        if bar is not None:
            bar.progress(min(1.0, done / max(total, 1)), text=f"{label}: {done:,} of {total:,}")

    value = fn(progress)
    if bar is not None:
        bar.empty()
    with _memo_lock:
        _memo[key] = value
        while len(_memo) > 24:
            _memo.popitem(last=False)
    return value


def valid(setup: Setup) -> list[Choice]:
    for c in setup.choices:
        if c.error:
            st.warning(f"{optim.OPTIMIZERS[c.name].label} is left out: {c.error}")
    if not setup.choices:
        st.info("Choose at least one optimizer in the sidebar.", icon=":material/arrow_back:")
    return [c for c in setup.choices if not c.error]


def describe(setup: Setup) -> str:
    surface = build_surface(setup.surface)
    tol = f", early stop below {fmt_number(setup.tol)}" if setup.tol else ""
    x, y = setup.start
    return f"{surface.label}, start ({fmt_number(x)}, {fmt_number(y)}), {setup.steps} steps{tol}"


# -- the sensitivity map ------------------------------------------------------------------------
def map_axes(choice: Choice, n: int, lr_range: tuple[float, float]) -> dict[str, np.ndarray]:
    specs = slider_specs(choice.name)
    xs = axis_values(specs["lr"], n, *lr_range)
    ys = axis_values(specs[choice.y], n)
    try:  # Nesterov refuses momentum 0: such an axis starts one step in
        optim.make_optimizer(choice.name, **settings_kwargs(choice.name, {choice.y: ys[0]}))
    except ValueError:
        ys = axis_values(specs[choice.y], n + 1)[1:]
    return {"lr": np.array([exact(v) for v in xs]), choice.y: np.array([exact(v) for v in ys])}


def sweep_of(setup: Setup, choice: Choice, n: int, lr_range: tuple[float, float]):
    axes = map_axes(choice, n, lr_range)
    fixed = {k: v for k, v in choice.hyper}

    def go(progress):
        return optim.sweep(
            build_surface(setup.surface),
            choice.name,
            axes,
            start=setup.start,
            steps=setup.steps,
            fixed=fixed,
            tol=setup.tol,
            progress=progress,
        )

    label = f"Mapping {optim.OPTIMIZERS[choice.name].label}"
    return computed(("sweep", setup, choice, n, lr_range), n * n * setup.steps, label, go)


def map_controls(url: UrlSettings) -> tuple[str, int, tuple[float, float]]:
    cols = st.columns(3)
    url.check_choice("map_metric", "metric", METRICS)
    metric = cols[0].selectbox(
        "Colour shows", list(METRICS), format_func=METRICS.get, key="map_metric", bind=URL
    )
    url.record("map_metric", None if metric == "final_loss" else METRICS[metric])
    n = spec_widget(
        url,
        optim.Param("cells", 40, "Cells per axis.", kind="int", low=5, high=MAX_CELLS),
        "map_n",
        cols[1],
    )
    lo, hi = (
        spec_widget(url, optim.Param(f"lr {end}", v, low=1e-5, high=10.0, log=True), key, col)
        for end, v, key, col in (
            ("from", 1e-4, "map_lr_lo", cols[2]),
            ("to", 1.0, "map_lr_hi", cols[2]),
        )
    )
    return metric, int(n), (lo, hi) if lo < hi else (lo, lo * 10)


def theory_of(setup: Setup) -> tuple[QuadraticTheory, float] | None:
    """The quadratic theory of the surface and its minimum's loss, ``None`` if not quadratic."""
    surface = build_surface(setup.surface)
    h = quadratic_hessian(surface)
    if h is None:
        return None
    t = QuadraticTheory(h)
    if not t.convex:
        return None
    found = minimum_of(surface, h)
    return (t, found[1]) if found else None


def heavy_ball(choice: Choice) -> bool:
    """Torch's SGD with dampening 0, no Nesterov, no weight decay: the theory's heavy ball."""
    h = dict(choice.hyper)
    return plain_sgd(choice) and h.get("dampening") == 0 and h.get("weight_decay") == 0


# torch's SGD on a quadratic: the stability edge over any of these second axes
SGD_AXES = ("momentum", "dampening", "weight_decay")
EDGE_TEXT = "(2 + 2β)/((1 − d)(λmax + w))"  # d counts only with momentum β > 0
BEST_TEXT = "2/(λmin + λmax + 2w)"


def plain_sgd(choice: Choice) -> bool:
    """Torch's SGD without Nesterov or maximize: the edge formula holds for any μ, d, w."""
    h = dict(choice.hyper)
    return choice.name in ("sgd", "momentum") and not h.get("nesterov") and not h.get("maximize")


def panel_of(setup: Setup, choice: Choice, res, metric: str, theory) -> Panel:
    xs, ys = res.axes["lr"], res.axes[choice.y]
    z = res.metric(metric).T  # rows follow the second axis
    specs = slider_specs(choice.name)
    marks = []
    dx, dy = specs["lr"].default, specs[choice.y].default
    if xs[0] <= dx <= xs[-1] and ys[0] <= dy <= ys[-1]:
        marks.append(("torch default", dx, dy, "star"))
    lines = []
    if theory is not None and plain_sgd(choice) and choice.y in SGD_AXES:
        t = theory[0]
        fixed = {k: float(dict(choice.hyper).get(k, 0.0)) for k in SGD_AXES}
        along = {**fixed, choice.y: ys}
        edge = np.broadcast_to(t.sgd_edge(**along), ys.shape)
        keep = (edge >= xs[0]) & (edge <= xs[-1])
        lines.append((f"stability edge lr = {EDGE_TEXT}", edge[keep], ys[keep]))
        if choice.y == "momentum" and heavy_ball(choice):
            optimum = (
                "heavy-ball optimum (lr*, β*)",
                t.heavy_ball_lr,
                t.heavy_ball_momentum,
                "diamond",
            )
            marks.append(optimum)
            marks.append(("best plain lr 2/(λmin + λmax)", t.gd_best_lr, 0.0, "circle"))
        elif choice.y == "weight_decay" and fixed["momentum"] == 0:
            best = np.broadcast_to(t.sgd_best_lr(ys), ys.shape)
            keep = (best >= xs[0]) & (best <= xs[-1])
            lines.append((f"best plain lr = {BEST_TEXT}", best[keep], ys[keep]))
    spec_y = specs[choice.y]
    return Panel(
        optim.OPTIMIZERS[choice.name].label,
        xs,
        ys,
        z,
        res.diverged.T,
        tuple(marks),
        tuple(lines),
        x_log=True,
        y_log=bool(spec_y.log),
        x_title="lr",
        y_title=choice.y,
    )


def sensitivity_section(url: UrlSettings, setup: Setup) -> None:
    metric, n, lr_range = map_controls(url)
    choices = valid(setup)
    if not choices:
        return
    if metric == "steps" and not setup.tol:
        st.info("Steps to the tolerance need an early-stop tolerance: set one in the sidebar.")
    theory = theory_of(setup)
    results = [sweep_of(setup, c, n, lr_range) for c in choices]
    panels = [panel_of(setup, c, r, metric, theory) for c, r in zip(choices, results, strict=True)]
    title = f"{METRICS[metric].capitalize()} over lr × a second hyperparameter"
    fig = map_figure(
        panels,
        metric=METRICS[metric],
        title=title,
        subtitle=describe(setup),
        log_metric=metric != "steps",
        classroom=setup.classroom,
    )
    event = st.plotly_chart(
        fig,
        key="map_chart",
        on_select="rerun",
        selection_mode="points",
        theme=None,
        width="stretch",
    )
    st.caption(
        "Dark red: the run diverged. ★ torch's default. Click a cell to open exactly that "
        "run on the Playground."
    )
    cell = _clicked(fig, event)
    if cell is not None:
        i, row, col = cell
        run = setup.run_spec(choices[i].name, results[i].cell(col, row))
        st.switch_page("app_pages/playground.py", query_params=playground_query(run))
    if theory is not None:
        theory_panel(setup, theory)
    exports("map", fig, lambda: sweep_csv(choices, results), (setup, metric, n, lr_range))


def _clicked(fig, event) -> tuple[int, int, int] | None:
    try:
        points = event["selection"]["points"]
    except (KeyError, TypeError):
        return None
    meta = fig.layout.meta or {}
    for point in points if isinstance(points, list) else []:
        if isinstance(point, dict):
            cell = cell_of_click(meta, point)
            if cell is not None:
                return cell
    return None


def theory_panel(setup: Setup, theory: tuple[QuadraticTheory, float]) -> None:
    t, f_star = theory
    surface = build_surface(setup.surface)
    gd = optim.run(surface, optim.make_optimizer("sgd", lr=t.gd_best_lr), setup.start, setup.steps)
    hb_kw = {"lr": exact(t.heavy_ball_lr), "momentum": exact(t.heavy_ball_momentum)}
    hb = optim.run(surface, optim.make_optimizer("momentum", **hb_kw), setup.start, setup.steps)
    with st.expander(
        "Theory: this surface is a quadratic", expanded=True, icon=":material/functions:"
    ):
        st.markdown(
            f"Hessian eigenvalues λmin = {t.lam_min:.4g}, λmax = {t.lam_max:.4g}, "
            f"condition number κ = {t.kappa:.4g}."
        )
        st.dataframe(
            [
                {
                    "method": "SGD",
                    "stable for": f"lr < 2/λmax = {t.gd_edge:.4g}",
                    "best setting": f"lr = 2/(λmin+λmax) = {t.gd_best_lr:.4g}",
                    "rate formula": "(κ−1)/(κ+1)",
                    "predicted rate": round(t.gd_rate, 4),
                    "measured rate": round(measured_rate(gd.loss, f_star), 4),
                },
                {
                    "method": "Heavy ball (SGD momentum, dampening 0)",
                    "stable for": "lr·λmax < 2 + 2β",
                    "best setting": f"lr* = {t.heavy_ball_lr:.4g}, β* = {t.heavy_ball_momentum:.4g}",
                    "rate formula": "(√κ−1)/(√κ+1)",
                    "predicted rate": round(t.heavy_ball_rate, 4),
                    "measured rate": round(measured_rate(hb.loss, f_star), 4),
                },
            ],
            hide_index=True,
            width="stretch",
        )
        st.caption(
            "Rate: how much the distance to the minimum shrinks per step; measured as the "
            "slope of log(loss − minimum) over the second half of the run. At heavy ball's "
            "optimum two roots coincide and the loss falls like t²·rate^(2t): a short run "
            "measures a slightly slower rate."
        )
        st.link_button(
            "Open the heavy-ball optimum on the Playground",
            playground_link(
                setup.run_spec(
                    "momentum", {**dict(optim.OPTIMIZERS["momentum"].defaults()), **hb_kw}
                )
            ),
            icon=":material/open_in_new:",
        )


def sweep_csv(choices: list[Choice], results: list) -> bytes:
    buf = io.StringIO()
    out = csv.writer(buf, lineterminator="\n")
    out.writerow(["optimizer", "lr", "axis", "value", "status", "final_loss", "steps", "distance"])
    for c, r in zip(choices, results, strict=True):
        for i, lr in enumerate(r.axes["lr"]):
            for j, y in enumerate(r.axes[c.y]):
                out.writerow(
                    [
                        c.name,
                        repr(float(lr)),
                        c.y,
                        repr(float(y)),
                        r.status[i, j],
                        csv_cell(r.final_loss[i, j]),
                        int(r.steps[i, j]),
                        csv_cell(r.distance[i, j]),
                    ]
                )
    return buf.getvalue().encode()


def exports(name: str, fig, make_csv: Callable[[], bytes], shows: Hashable) -> None:
    """The grid as CSV and the chart as PNG; ``shows``: the settings the chart is drawn
    from (a made PNG is offered while they stay the same)."""
    with st.expander("Export", icon=":material/download:"):
        cols = st.columns(2)
        csv_button(cols[0], "Grid (CSV)", make_csv, f"{name}.csv", f"map_dl_{name}_csv")
        if export.export_available():
            png_buttons(
                [Picture("Picture (PNG)", f"{name}.png", f"map_png_{name}", shows, lambda: fig)],
                cols[1:],
            )
        else:
            cols[1].info(export.NO_PNG)


# -- basins of attraction ---------------------------------------------------------------------
def minima_of(setup: Setup) -> np.ndarray:
    """Known minima first, then those found numerically (cached per surface)."""
    return computed(
        ("minima", setup.surface), 0, "", lambda _: optim.find_minima(build_surface(setup.surface))
    )


def basins_of(setup: Setup, choice: Choice, n: int):
    surface = build_surface(setup.surface)
    (x0, x1), (y0, y1) = surface.bounds
    xs, ys = np.linspace(x0, x1, n), np.linspace(y0, y1, n)
    opt = optim.make_optimizer(choice.name, **dict(choice.hyper))
    minima = minima_of(setup)

    def go(progress):
        return optim.basins(
            surface, opt, xs, ys, setup.steps, minima=minima, tol=setup.tol, progress=progress
        )

    label = f"Basins for {optim.OPTIMIZERS[choice.name].label}"
    return computed(("basins", setup, choice, n), n * n * setup.steps, label, go)


def basins_section(url: UrlSettings, setup: Setup) -> None:
    n = spec_widget(
        url,
        optim.Param(
            "starts", 80, "Starts per side of the grid.", kind="int", low=10, high=MAX_STARTS
        ),
        "map_bn",
        st,
    )
    choices = valid(setup)
    if not choices:
        return
    surface = build_surface(setup.surface)
    maps = [basins_of(setup, c, int(n)) for c in choices]
    panels = [
        BasinPanel(optim.OPTIMIZERS[c.name].label, b.xs, b.ys, b.labels, b.minima, b.is_global)
        for c, b in zip(choices, maps, strict=True)
    ]
    x, y = setup.start
    fig = basins_figure(
        panels,
        title=f"Which minimum each start reaches on {surface.label}",
        subtitle=f"{n}×{n} starts, {setup.steps} steps, each optimizer with its settings from the sidebar",
        classroom=setup.classroom,
        variables=surface.variables,
    )
    st.plotly_chart(fig, key="map_basins", theme=None, width="stretch")
    st.caption(
        f"{len(maps[0].minima)} minima (known ones and those found numerically); a start "
        f"counts as reaching one when it ends within {maps[0].radius:.3g} of it. Grey: none "
        "reached in time; dark red: diverged."
    )
    exports("basins", fig, lambda: basins_csv(choices, maps), (setup, n))


def basins_csv(choices: list[Choice], maps: list) -> bytes:
    buf = io.StringIO()
    out = csv.writer(buf, lineterminator="\n")
    out.writerow(["optimizer", "x0", "y0", "minimum", "minimum_x", "minimum_y", "global"])
    for c, b in zip(choices, maps, strict=True):
        for j, y in enumerate(b.ys):
            for i, x in enumerate(b.xs):
                k = int(b.labels[j, i])
                where = (
                    ["", "", ""]
                    if k < 0
                    else [*map(repr, map(float, b.minima[k])), str(bool(b.is_global[k]))]
                )
                name = {-1: "none", -2: "diverged"}.get(k, str(k))
                out.writerow([c.name, repr(float(x)), repr(float(y)), name, *where])
    return buf.getvalue().encode()


# -- the fair race -----------------------------------------------------------------------------
def race_of(setup: Setup, name: str, n: int, seed: int) -> dict:
    """Best of ``n`` random settings (drawn from the sliders' ranges) against the defaults."""
    surface = build_surface(setup.surface)
    draws = {k: np.array([exact(v) for v in a]) for k, a in sample_settings(name, n, seed).items()}

    def go(progress):
        res = optim.evaluate(
            surface,
            name,
            draws,
            start=setup.start,
            steps=setup.steps,
            tol=setup.tol,
            progress=progress,
        )
        default = optim.run(
            surface, optim.make_optimizer(name), setup.start, setup.steps, tol=setup.tol
        )
        return res, default

    label = f"Racing {optim.OPTIMIZERS[name].label}"
    res, default = computed(("race", setup, name, n, seed), n * setup.steps, label, go)
    loss = np.where(np.isfinite(res.final_loss), res.final_loss, np.inf)
    best = int(np.lexsort((res.steps, loss))[0])
    tuned = res.cell(best)
    d_loss = float(default.final_loss) if default.status != "diverged" else None
    t_loss = float(res.final_loss[best]) if np.isfinite(res.final_loss[best]) else None
    shown = {
        k: fmt_number(tuned[k.split("[")[0]][int(k[-2])] if "[" in k else tuned[k]) for k in draws
    }
    return {
        "optimizer": optim.OPTIMIZERS[name].label,
        "default loss": d_loss,
        "tuned loss": t_loss,
        "winning setting": ", ".join(f"{k}={v}" for k, v in shown.items()),
        "open best": playground_link(setup.run_spec(name, tuned)),
        "open default": playground_link(setup.run_spec(name, optim.OPTIMIZERS[name].defaults())),
    }


def race_section(url: UrlSettings, setup: Setup) -> None:
    cols = st.columns(2)
    n = spec_widget(
        url,
        optim.Param(
            "budget", 50, "Random settings per optimizer (N).", kind="int", low=1, high=2000
        ),
        "map_race_n",
        cols[0],
    )
    seed = spec_widget(
        url,
        optim.Param(
            "seed",
            0,
            "Seed of the draws (the same for every optimizer).",
            kind="int",
            low=0,
            high=10**6,
        ),
        "map_race_seed",
        cols[1],
    )
    choices = valid(setup)
    if not choices:
        return
    rows = [race_of(setup, c.name, int(n), int(seed)) for c in choices]
    fig = race_figure(
        rows,
        title=f"torch's defaults vs the best of {n} random settings",
        subtitle=describe(setup),
        classroom=setup.classroom,
    )
    st.plotly_chart(fig, key="map_race", theme=None, width="stretch")
    st.dataframe(
        rows,
        hide_index=True,
        width="stretch",
        column_config={
            "default loss": st.column_config.NumberColumn(format="%.4g"),
            "tuned loss": st.column_config.NumberColumn(format="%.4g"),
            "open best": st.column_config.LinkColumn(display_text="open best run"),
            "open default": st.column_config.LinkColumn(display_text="open default run"),
        },
    )
    st.caption(
        "Each optimizer draws N settings of its float hyperparameters from the sliders' ranges "
        "(log-uniform where the slider is logarithmic; weight decay stays at its default, "
        "since it changes the loss being minimised). Empty: diverged."
    )
    exports("race", fig, lambda: race_csv(rows), (setup, n, seed))


def race_csv(rows: list[dict]) -> bytes:
    buf = io.StringIO()
    out = csv.DictWriter(buf, fieldnames=list(rows[0]), lineterminator="\n")
    out.writeheader()
    out.writerows(rows)
    return buf.getvalue().encode()


def share_panel(url: UrlSettings) -> None:
    share.share_panel(url, "the Maps page", "map_share_open")


# -- a link for other pages -------------------------------------------------------------------
def maps_query(setup: dict) -> dict[str, str | list[str]]:
    """This page's query parameters for a setup another page describes (the only place
    outside this page that knows its address keys).

    ``setup``: ``formula`` (a custom surface), ``view`` (a key of :data:`VIEWS`), ``runs``
    (optimizer name -> constructor arguments, e.g. ``betas=(0.7, 0.999)``), ``steps`` and
    ``starts`` (the basin grid's side).
    """
    q: dict[str, str | list[str]] = {
        "map_surface": surface_label(CUSTOM),
        "map_formula": setup["formula"],
        "map_view": VIEWS[setup.get("view", "map")],
        "map_opt": [optim.OPTIMIZERS[name].label for name in setup["runs"]],
    }
    for name, kwargs in setup["runs"].items():
        for spec in optim.OPTIMIZERS[name].slider_specs():
            try:
                value = base_value(kwargs, spec.name)
            except (KeyError, IndexError):
                continue  # left at its default
            q[f"map_{hparam_key(name, spec.name)}"] = fmt_number(float(value))
    if "steps" in setup:
        q["map_steps"] = str(int(min(setup["steps"], MAX_STEPS)))
    if "starts" in setup:
        q["map_bn"] = str(int(min(setup["starts"], MAX_STARTS)))
    return q
