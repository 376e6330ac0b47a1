"""The Playground's sections below the chart: results, update rules, export, share link."""

from __future__ import annotations

from functools import partial
from typing import Any

import numpy as np
import streamlit as st

import optim

from . import algorithms, export, export_csv, export_slides, share
from .controls import COMPARE, RunSettings
from .export_csv import csv_button
from .export_png import Picture, png_buttons
from .runs import View, chart, inspect_step, results
from .state import UrlSettings, escape_markdown, fmt_number


def subtitle(mode: str, run: RunSettings, surface: Any) -> str:
    """The chart's one-line statement of how the comparison was set up."""
    parts = [COMPARE[mode], f"{run.steps} steps"]
    if surface.is_data:
        parts.append(f"{surface.n_samples} data points")
    elif run.noise:
        parts.append(f"gradient noise std {fmt_number(run.noise)}")
    if run.schedule != next(iter(optim.SCHEDULES)):
        parts.append(f"{run.schedule.replace('_', ' ')} schedule")
    if run.tol:
        parts.append(f"early stop: loss change < {fmt_number(run.tol)} for {run.patience} steps")
    return " · ".join(parts)


def choice_notes(mode: str, choices: list, surface: Any) -> list[str]:
    """Runs left out (invalid settings) and, at one shared rate, optimizers whose own
    default rate is ten times off it (Adadelta's is 1.0: at 0.1 it looks broken)."""
    notes = []
    for i, c in enumerate(choices):
        label = optim.OPTIMIZERS[c.name].label
        if c.error:
            notes.append(f"Run {i + 1} ({label}) is left out: {c.error}")
    if mode == "same" and choices:
        lr = dict(choices[0].hyper).get("lr")
        own = {c.name: optim.OPTIMIZERS[c.name].defaults().get("lr") for c in choices}
        typical = float(np.median([v for v in own.values() if v]))
        for name, value in own.items():
            if value and not (0.1 < value / typical < 10):
                notes.append(
                    f"{optim.OPTIMIZERS[name].label}'s own learning rate (torch's default) is "
                    f"{fmt_number(value)}, ten times or more away from the others' "
                    f"{fmt_number(typical)}: at the shared {fmt_number(lr)} it may look broken. "
                    'Choose "Each optimizer its own learning rate" to compare it fairly.'
                )
    return notes


def results_table(view: View) -> None:
    st.dataframe(
        results(view),
        hide_index=True,
        width="stretch",
        column_config={
            "final loss": st.column_config.NumberColumn(format="%.4g"),
            "distance to nearest minimum": st.column_config.NumberColumn(format="%.4g"),
            "steps": st.column_config.NumberColumn(help="Steps until the run stopped"),
        },
    )


def below_the_race(
    view: View, step: int, choices: list, series: list, hidden: frozenset[str]
) -> None:
    """The results table, the step inspector and the update rules (those not hidden)."""
    if not series:
        return
    if "results" not in hidden:
        results_table(view)
    if "inspector" not in hidden:
        inspector(view, step)
    if "rules" not in hidden:
        update_rules(choices)


def update_rules(choices: list) -> None:
    """Each optimizer's update rule, idea and PyTorch line, one click away."""
    firsts = list({c.name: c for c in reversed(choices)}.values())[::-1]
    cols = st.columns(max(len(firsts), 1))
    for col, choice in zip(cols, firsts, strict=False):
        cls = optim.OPTIMIZERS[choice.name]
        box = col.popover(
            f"{cls.label} rule",
            icon=":material/functions:",
            width="stretch",
            key=f"rule_open_{choice.name}",
            on_change="rerun",
        )
        if not box.open:  # drawn when opened (its code box is a large script to load)
            continue
        with box:
            st.latex(cls.latex)
            st.write(cls.summary)
            st.caption(f"Effective learning rate multiplies ${cls.direction}$.")
            call = algorithms.torch_call(choice.name, dict(choice.hyper))
            if call:
                st.caption("The same optimizer, as set here, in PyTorch:")
                st.code(call, language="python")


def export_panel(view: View, series: list) -> None:
    """CSV, the race for slides, and PNG (each made only when its button is pressed)."""
    with st.expander("Export", icon=":material/download:"):
        csv_button(
            st,
            "Trajectories (CSV)",
            lambda: export_csv.trajectories_csv(series),
            "trajectories.csv",
            "dl_csv",
        )
        if series:
            export_slides.slides_buttons(view, series)
        if not export.export_available():
            st.info(export.NO_PNG)
            return
        step = st.slider(
            "Contour picture at step", 0, view.run.steps, view.run.steps, key="png_step"
        )
        # a chart an exercise link hides is not exported either
        pictures = [
            Picture(label, f"{name}.png", f"png_{name}", (view, at), partial(chart, view, kind, at))
            for label, kind, name, at in (
                ("Contour (PNG)", "contour_still", "contour", step),
                ("Effective lr (PNG)", "eff_lr", "effective_lr", None),
                ("Loss (PNG)", "loss", "loss", None),
            )
            if kind not in view.hide
        ]
        png_buttons(pictures, st.columns(3))


def share_panel(url: UrlSettings) -> None:
    share.share_panel(url, "the Playground", "share_open")


# -- one step at a time ------------------------------------------------------------------------
def _nudge(delta: int, last: int) -> None:
    """±1 button callback: the shown step moves by one, within the run."""
    now = st.session_state.get("step", last)
    st.session_state["step"] = float(min(max(int(round(now)) + delta, 0), last))


LOSS_SCALES = {"log": "log", "linear": "linear"}


def step_controls(url: UrlSettings, last: int, box: Any = None) -> tuple[int, bool]:
    """The shown step (±1 buttons and a typed step, kept in the link) and the loss axis;
    ``box``: a container for them other than the page (an exercise link's hidden one)."""
    url.check_number("step", "step", 0, last, integer=True)
    if isinstance(st.session_state.get("step"), (int, float)):
        st.session_state["step"] = float(min(max(st.session_state["step"], 0), last))
    cols = (box if box is not None else st).columns([1, 2, 1, 3], vertical_alignment="bottom")
    cols[0].button(
        "−1", key="step_back", on_click=_nudge, args=(-1, last), width="stretch",
        help="One step back",
    )  # fmt: skip
    step = cols[1].number_input(
        "Step shown (and taken apart below)",
        0.0,
        float(last),
        float(last),
        step=1.0,
        format="%.0f",
        key="step",
        bind="query-params",
    )
    cols[2].button(
        "+1", key="step_fwd", on_click=_nudge, args=(1, last), width="stretch",
        help="One step on",
    )  # fmt: skip
    step = int(round(step))
    url.record("step", None if step == last else str(step))
    url.check_choice("loss_scale", "loss axis", LOSS_SCALES)
    scale = cols[3].radio(
        "Loss axis", list(LOSS_SCALES), key="loss_scale", horizontal=True, bind="query-params"
    )
    url.record("loss_scale", None if scale == "log" else scale)
    return step, scale == "log"


def inspector(view: View, step: int) -> None:
    """Step ``step`` of every run, taken apart: g, every state field, effective lr, Δθ."""
    tables = inspect_step(view, step)
    st.subheader(f"Step {step}, taken apart" if step else "Step 0: the start")
    if not tables:
        st.caption("Pick a step from 1 on to see what each optimizer did in it.")
        return
    st.caption(
        "For each run: the gradient g, the optimizer's state after the step under its "
        "symbol, the learning rate, the effective learning rate per coordinate and the "
        "step Δθ. On the map, the arrows at each head show −γ·g, −γ·m and Δθ."
    )
    cols = st.columns(2)
    for i, (label, table) in enumerate(tables):
        with cols[i % 2]:
            st.markdown(f"**{escape_markdown(label)}**")
            st.dataframe(
                table,
                hide_index=True,
                width="stretch",
                column_config={
                    c: st.column_config.NumberColumn(format="%.5g") for c in table.column_names[1:]
                },
            )


def about_surface(surface: Any, run: RunSettings) -> None:
    """What the surface is (its formula; for a data problem, the data) and the schedule."""
    # a typed formula is in the label: shown as typed, never as Markdown (x**2 is no bold)
    label = escape_markdown(surface.label)
    with st.expander(f"About this surface: {label}", icon=":material/info:"):
        latex = getattr(surface, "latex", "")
        if latex:
            st.latex(f"f({', '.join(surface.variables)}) = {latex}")
        description = getattr(surface, "description", "")
        if description:
            st.caption(escape_markdown(description))
        schedule = optim.make_schedule(run.schedule, **dict(run.schedule_params))
        if getattr(schedule, "latex", ""):
            st.caption(f"Learning-rate schedule: {escape_markdown(schedule.label)}")
            st.latex(schedule.latex)
