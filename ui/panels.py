"""The Playground's sections below the chart: results, update rules, export, share link."""

from __future__ import annotations

from typing import Any

import numpy as np
import streamlit as st

import optim

from . import algorithms, export, export_csv
from .controls import COMPARE, RunSettings
from .runs import View, chart, results
from .state import UrlSettings, fmt_number


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


def update_rules(choices: list) -> None:
    """Each optimizer's update rule, idea and PyTorch line, one click away."""
    firsts = list({c.name: c for c in reversed(choices)}.values())[::-1]
    cols = st.columns(max(len(firsts), 1))
    for col, choice in zip(cols, firsts, strict=False):
        cls = optim.OPTIMIZERS[choice.name]
        with col.popover(f"{cls.label} rule", icon=":material/functions:", width="stretch"):
            st.latex(cls.latex)
            st.write(cls.summary)
            st.caption(f"Effective learning rate multiplies ${cls.direction}$.")
            call = algorithms.torch_call(choice.name, dict(choice.hyper))
            if call:
                st.caption("The same optimizer, as set here, in PyTorch:")
                st.code(call, language="python")


def export_panel(view: View, series: list) -> None:
    """PNG (made only when a button is pressed) and CSV downloads."""
    with st.expander("Export", icon=":material/download:"):
        st.download_button(
            "Trajectories (CSV)",
            data=lambda: export_csv.trajectories_csv(series),
            file_name="trajectories.csv",
            mime="text/csv",
            key="dl_csv",
            on_click="ignore",
            icon=":material/table:",
        )
        if not export.export_available():
            st.info(
                "PNG export needs a Chromium browser on the server, and none was found. "
                "The camera icon above each chart still saves what you see."
            )
            return
        step = st.slider(
            "Contour picture at step", 0, view.run.steps, view.run.steps, key="png_step"
        )
        cols = st.columns(3)
        for col, (label, kind, name) in zip(
            cols,
            (
                ("Contour (PNG)", "contour_still", "contour"),
                ("Effective lr (PNG)", "eff_lr", "effective_lr"),
                ("Loss (PNG)", "loss", "loss"),
            ),
            strict=True,
        ):
            col.download_button(
                label,
                data=_png_maker(view, kind, step),
                file_name=f"{name}.png",
                mime="image/png",
                key=f"dl_{name}",
                on_click="ignore",
                icon=":material/image:",
            )


def _png_maker(view: View, kind: str, step: int):
    # called by Streamlit only when the button is pressed
    return lambda: export.png_bytes(chart(view, kind, step if kind == "contour_still" else None))


def share_panel(url: UrlSettings) -> None:
    base = st.context.url
    with st.expander("Share these settings", icon=":material/link:"):
        st.caption("This link reopens the Playground exactly as it is now.")
        st.code(url.link(base), language=None, wrap_lines=True)
        st.caption("For a projector: the same settings with the controls tucked away.")
        st.code(url.link(base, classroom="1"), language=None, wrap_lines=True)
