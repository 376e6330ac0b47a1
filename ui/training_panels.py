"""The Training page's sections below the charts: results table, export, share link."""

from __future__ import annotations

from functools import partial

import streamlit as st

from . import export, share
from .export_csv import csv_button
from .export_png import Picture, png_buttons
from .state import UrlSettings
from .training import Setup, View, chart, losses_csv, results

PNG_CHARTS = (
    ("Fitted function (PNG)", "fitted_still", "fitted_function"),
    ("Losses (PNG)", "loss", "losses"),
    ("Layers (PNG)", "layers", "layers"),
    ("Landscape (PNG)", "landscape", "landscape"),
)


def results_table(setup: Setup, level: float) -> None:
    st.dataframe(
        results(setup, level),
        hide_index=True,
        width="stretch",
        column_config={
            "final train loss": st.column_config.NumberColumn(format="%.4g"),
            "final validation loss": st.column_config.NumberColumn(format="%.4g"),
            "best validation loss": st.column_config.NumberColumn(format="%.4g"),
            "at epoch": st.column_config.NumberColumn(help="Epoch of the best validation loss"),
        },
    )


def export_panel(view: View, hidden: frozenset[str] = frozenset()) -> None:
    """CSV of the per-step losses; a PNG of each chart, made when asked for (not of a chart
    an exercise link hides)."""
    with st.expander("Export", icon=":material/download:"):
        csv_button(
            st,
            "Per-step losses (CSV)",
            lambda: losses_csv(view.setup),
            "training_losses.csv",
            "tr_dl_csv",
        )
        if not export.export_available():
            st.info(export.NO_PNG)
            return
        pictures = [
            Picture(label, f"{name}.png", f"tr_png_{name}", view, partial(chart, view, kind))
            for label, kind, name in PNG_CHARTS
            if kind.removesuffix("_still") not in hidden
        ]
        png_buttons(pictures, st.columns(len(PNG_CHARTS)))


def share_panel(url: UrlSettings) -> None:
    share.share_panel(url, "the Training page", "tr_share_open")
