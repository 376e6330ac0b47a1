"""The cached boundary between the page and the core: surfaces, runs, results.

Functions take hashable primitives only (names, tuples of numbers, frozen
dataclasses of them); the core objects are rebuilt from those inside.

The memos are ``functools.lru_cache``, shared by every session of the server like
``st.cache_resource`` but looked up by the arguments' own hash: a rerun makes about
ten look-ups, and Streamlit's cache digests every argument on each of them (together
about a tenth of a default rerun's own time).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import lru_cache, partial
from typing import Any

import numpy as np
import plotly.graph_objects as go
import pyarrow as pa
import streamlit as st

import optim

from . import figures, stepview
from .controls import CUSTOM, EXAMPLE_FORMULA, OptimizerChoice, RunSettings
from .custom import window_of
from .figures import Series, surface_grid
from .figures.plotly_fast import fast_figure, parts_dict, plotly_dict
from .figures.series import DASHES, optimizer_color, status_words

SurfaceKey = tuple[str, tuple[tuple[str, float], ...], str]  # name, params, formula

# The formula workers boot when the first formula is typed (a second or two, once per
# server), not at import: every process that imports the app (tests, tools) would otherwise
# start two SymPy processes it may never use.


@lru_cache(maxsize=32)
def build_surface(key: SurfaceKey) -> Any:
    """The surface for a key; ``ValueError`` (not cached) for a bad formula."""
    name, params, formula = key
    if name == CUSTOM:  # params: the window (see ui.formula), () for the default
        return optim.surface_from_expression(formula, window_of(params))
    return optim.make_surface(name, **dict(params))


def resolve_surface(name: str, params: tuple, formula: str) -> tuple[SurfaceKey, Any, str]:
    """Key and surface to show, plus the parser's complaint about a bad formula.

    A formula that does not parse leaves the last good one on screen.
    """
    if name != CUSTOM:
        key = (name, params, "")
        return key, build_surface(key), ""
    try:
        key = (CUSTOM, params, formula)
        surface = build_surface(key)
    except ValueError as exc:
        # the last good formula on this window; failing that, the last good pair
        for good in (
            (CUSTOM, params, st.session_state.get("_good_formula", EXAMPLE_FORMULA)),
            st.session_state.get("_good_custom", (CUSTOM, (), EXAMPLE_FORMULA)),
        ):
            try:
                return good, build_surface(good), str(exc)
            except ValueError:
                continue
        key = (CUSTOM, (), EXAMPLE_FORMULA)
        return key, build_surface(key), str(exc)
    st.session_state["_good_formula"] = formula
    st.session_state["_good_custom"] = key
    return key, surface, ""


@st.cache_data(max_entries=16, show_spinner=False)
def grid_for(key: SurfaceKey, n: int = 160) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return surface_grid(build_surface(key), n=n)


# trajectories are never modified after a run, so every rerun shares them
@lru_cache(maxsize=256)
def run_one(
    key: SurfaceKey,
    name: str,
    hyper: tuple[tuple[str, Any], ...],
    start: tuple[float, float],
    run: RunSettings,
) -> Any:
    """One optimizer's trajectory from ``start``."""
    schedule = optim.make_schedule(run.schedule, **dict(run.schedule_params))
    return optim.run(
        build_surface(key),
        optim.make_optimizer(name, **dict(hyper)),
        np.array(start, dtype=np.float64),
        run.steps,
        batch_size=run.batch_size,
        noise=run.noise,
        seed=run.seed,
        schedule=schedule,
        tol=run.tol,
        patience=run.patience,
    )


def series_label(name: str, hyper: dict[str, Any], batch: int | None = None) -> str:
    """Legend text: the label and the learning rate, e.g. ``Adam  lr=0.001``, and the
    batch size of a stochastic run on a data problem."""
    text = optim.OPTIMIZERS[name].label
    if "lr" in hyper:
        text += f"  lr={hyper['lr']:.3g}"
    if batch is not None:
        text += "  single sample" if batch == 1 else f"  batch {batch}"
    return text


def distinct_labels(choices: list[OptimizerChoice]) -> list[str]:
    """Legend texts; two runs that would read the same also name what sets them apart."""
    base = [series_label(c.name, dict(c.hyper), c.batch) for c in choices]
    labels = list(base)
    for i, c in enumerate(choices):
        twins = [j for j in range(len(choices)) if base[j] == base[i] and j != i]
        if not twins:
            continue
        other = choices[twins[0]]
        diff = [k for k, v in c.hyper if dict(other.hyper).get(k) != v and k != "lr"]
        if diff:
            labels[i] += f"  {diff[0]}={_short(dict(c.hyper)[diff[0]])}"
    return labels


def _short(value: Any) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, tuple):
        return "(" + ", ".join(f"{v:.3g}" for v in value) + ")"
    return f"{value:.3g}"


def all_series(
    key: SurfaceKey, choices: list[OptimizerChoice], start: tuple[float, float], run: RunSettings
) -> list[Series]:
    """One series per valid run: the optimizer's colour, a dash per repeat of it."""
    out = []
    seen: dict[str, int] = {}
    labels = distinct_labels(choices)
    for choice, label in zip(choices, labels, strict=True):
        repeat = seen.get(choice.name, 0)
        seen[choice.name] = repeat + 1
        if choice.error:
            continue
        settings = run if choice.batch == run.batch_size else replace(run, batch_size=choice.batch)
        traj = run_one(key, choice.name, choice.hyper, start, settings)
        out.append(
            Series(
                label,
                optimizer_color(choice.name, len(out)),
                traj,
                DASHES[repeat % len(DASHES)],
                choice.name,
            )
        )
    return out


@dataclass(frozen=True)
class View:
    """Everything the charts depend on, as hashable primitives."""

    key: SurfaceKey
    choices: tuple[OptimizerChoice, ...]
    start: tuple[float, float]
    run: RunSettings
    classroom: bool = False
    subtitle: str = ""
    loss_log: bool = True
    hide: frozenset[str] = frozenset()  # what an exercise link hides (its charts: not drawn)


@lru_cache(maxsize=48)
def chart(view: View, kind: str, step: int | None = None) -> Any:
    """A figure for the current settings, built once and reused by every rerun.

    ``kind``: ``contour`` (animated), ``contour_still`` (at ``step``, for PNG), ``race``
    (its traces, layout and frames: ``race_parts``),
    ``surface3d``, ``eff_lr`` or ``loss``. Figures are only read afterwards
    (Streamlit and the exporter copy them), so sharing one object is safe.
    """
    surface = build_surface(view.key)
    series = all_series(view.key, list(view.choices), view.start, view.run)
    title, cls = surface.label, view.classroom
    if kind in ("contour", "contour_still"):
        still = kind == "contour_still"
        return figures.contour_figure(
            surface,
            series,
            grid=grid_for(view.key),
            title="" if still else title,  # a still is exported: its title names the runs
            subtitle=view.subtitle,
            classroom=cls,
            start=view.start,
            upto_step=step if still else None,
            animate=not still,
            click_targets=not still,
        )
    if kind == "race":
        return fast_figure(*chart(view, "race_parts"))
    if kind == "race_parts":  # traces, layout, frames (only read: shared by the figure)
        return figures.race_parts(
            surface,
            series,
            grid=grid_for(view.key),
            replays=replays(view),
            title=title,
            subtitle=view.subtitle,
            classroom=cls,
            start=view.start,
            loss_log=view.loss_log,
            hide=view.hide,
        )
    if kind == "surface3d":
        return figures.surface3d_figure(
            surface, series, grid=grid_for(view.key), title=title, classroom=cls
        )
    # an exported picture states the whole setup: surface, runs and how they ran
    runs = "  ·  ".join(s.label for s in series)
    if kind == "eff_lr":
        return figures.effective_lr_figure(
            series,
            title=f"{title}: effective learning rate<br>{runs}",
            subtitle=view.subtitle,
            classroom=cls,
        )
    if kind == "loss":
        return figures.loss_figure(
            series,
            title=f"{title}: loss and gradient norm<br>{runs}",
            subtitle=view.subtitle,
            classroom=cls,
        )
    raise ValueError(f"unknown chart {kind!r}")


class ReadyFigure(go.Figure):
    """A finished figure whose plotly.js dictionary is computed once.

    ``st.plotly_chart`` calls ``to_dict()`` on every rerun, which deep-copies every
    array and base64-encodes it again: most of a rerun's time. The charts of a
    given setting never change, so this keeps that dictionary and hands out
    shallow copies. ``source`` is the original figure (for PNG export); given as a
    function, it is built on first use only (the race is sent as a dictionary and
    its figure object is rarely wanted).
    """

    def __init__(
        self, source: go.Figure | Callable[[], go.Figure], ready: dict | None = None
    ) -> None:
        super().__init__()
        self._source = source  # plotly figures only take underscored attributes
        self._ready = plotly_dict(self.source) if ready is None else ready

    @property
    def source(self) -> go.Figure:
        if not isinstance(self._source, go.Figure):  # a function that builds it
            self._source = self._source()
        return self._source

    def to_dict(self) -> dict:
        return dict(self._ready)


@lru_cache(maxsize=48)
def shown(view: View, kind: str) -> ReadyFigure:
    """The chart of ``kind`` as ``st.plotly_chart`` gets it (see :class:`ReadyFigure`)."""
    if kind == "race":  # its dictionary straight from its parts: no figure object built
        return ReadyFigure(partial(chart, view, kind), parts_dict(*chart(view, "race_parts")))
    return ReadyFigure(chart(view, kind))


@lru_cache(maxsize=48)
def replays(view: View) -> tuple:
    """Each run's optimizer state after every step (for the arrows and the inspector)."""
    series = all_series(view.key, list(view.choices), view.start, view.run)
    valid = [c for c in view.choices if not c.error]
    return tuple(
        stepview.replay(s.traj, c.name, dict(c.hyper)) for s, c in zip(series, valid, strict=True)
    )


def last_step(view: View) -> int:
    series = all_series(view.key, list(view.choices), view.start, view.run)
    return max((max(s.traj.n_valid() - 1, 0) for s in series), default=0)


@lru_cache(maxsize=64)
def race_at(view: View, step: int) -> ReadyFigure:
    """The race as ``st.plotly_chart`` gets it, standing at ``step`` (the end: as built)."""
    base = shown(view, "race")
    if step >= last_step(view):
        return base
    series = all_series(view.key, list(view.choices), view.start, view.run)
    ready = figures.at_step(base.to_dict(), series, replays(view), step, build_surface(view.key))
    return ReadyFigure(lambda: base.source, ready)


@lru_cache(maxsize=64)
def inspect_step(view: View, step: int) -> tuple[tuple[str, pa.Table], ...]:
    """The step inspector's tables: one per run, as (legend text, Arrow table)."""
    surface = build_surface(view.key)
    series = all_series(view.key, list(view.choices), view.start, view.run)
    variables = tuple(getattr(surface, "variables", ("x", "y")))[:2]
    out = []
    for s, rep in zip(series, replays(view), strict=True):
        rows = stepview.step_rows(s.traj, rep, step, variables)
        if rows:
            out.append((s.label, pa.Table.from_pylist(rows)))
    return tuple(out)


def results_rows(surface: Any, series: list[Series]) -> list[dict[str, Any]]:
    """The results table: final loss, distance to the nearest minimum, steps, status."""
    rows = []
    for s in series:
        # no final point when the start itself was outside the finite region
        last = s.traj.final_point()
        rows.append(
            {
                "optimizer": s.label,
                "final loss": None if last is None else float(s.traj.final_loss),
                "distance to nearest minimum": s.traj.distance(),
                "steps": s.traj.steps_taken(),
                "status": status_words(s.traj),
            }
        )
    return rows


@lru_cache(maxsize=48)
def results(view: View) -> pa.Table:
    """The results table of ``view`` as the Arrow table ``st.dataframe`` sends.

    Handing Streamlit a finished Arrow table skips its conversion of a list of rows
    (through pandas), about a millisecond on every rerun.
    """
    surface = build_surface(view.key)
    series = all_series(view.key, list(view.choices), view.start, view.run)
    return pa.Table.from_pylist(results_rows(surface, series))


def messages(series: list[Series]) -> list[str]:
    """Plain-language explanations of the runs that did not simply use up their steps."""
    out = []
    for s in series:
        status = str(np.asarray(s.traj.status).reshape(()))
        text = str(np.asarray(s.traj.message).reshape(()))
        if status == "diverged":
            out.append(f"**{s.label}** {text or 'diverged'}")
    return out
