"""Line charts against the step: effective learning rate per coordinate, loss and ‖g‖."""

from __future__ import annotations

from typing import Any

import numpy as np
import plotly.graph_objects as go
import plotly.io as pio

from .plotly_fast import fast_figure
from .series import Series, f32
from .style import INK, TEMPLATE, fonts, log_axis, style_axes, title_layout


def _steps_end(series: list[Series] | tuple[Series, ...]) -> int:
    return max((max(s.traj.n_valid() - 1, 0) for s in series), default=0)


# Line charts: a run's dash is its own (see Series.dash), so repeated runs of one
# optimizer, and series with equal values, stay visible one over another.
def _line(s: Series, k: int, f: dict) -> dict:
    return dict(color=s.color, width=f["line"] - 0.5, dash=s.dash)


def _log_axis(values: list[np.ndarray], **extra: Any) -> dict:
    """A log axis that reads as numbers (see :func:`.style.log_axis`)."""
    return log_axis(values, **extra)


def _two_panel_layout(
    title: str,
    f: dict,
    left: str,
    right: str,
    x_end: int,
    y_left: dict,
    y_right: dict,
    subtitle: str = "",
) -> dict:
    xr = [0, max(x_end, 1)]
    layout = dict(
        template=pio.templates[TEMPLATE],
        title=title_layout(title, subtitle, f["title"]),
        font=dict(size=f["base"], color=INK),
        xaxis=dict(domain=[0.0, 0.45], range=xr, title=dict(text="step"), ticks="outside"),
        xaxis2=dict(
            domain=[0.55, 1.0], range=xr, title=dict(text="step"), ticks="outside", anchor="y2"
        ),
        yaxis=dict(ticks="outside", **y_left),
        # the right panel's numbers on its right: between the panels they would run
        # into the left one on a half-width chart, and more so with classroom fonts
        yaxis2=dict(anchor="x2", ticks="outside", side="right", automargin=True, **y_right),
        annotations=[
            dict(
                text=f"<b>{text}</b>",
                x=x,
                xref="paper",
                xanchor="center",
                y=1.0,
                yref="paper",
                yanchor="bottom",
                showarrow=False,
                font=dict(size=f["base"] + 1),
            )
            for text, x in ((left, 0.225), (right, 0.775))
        ],
        legend=dict(orientation="h", x=0, xanchor="left", y=-0.22, yanchor="top"),
        hovermode="x unified",
        # room for a title of several lines and its subtitle (an export states the setup)
        margin=dict(
            l=70,
            r=30,
            # sized for the export's larger fonts too (28 px titles, 20 px subtitle)
            t=int(110 + 45 * title.count("<br>") + (40 if subtitle else 0)),
            b=110,
        ),
    )
    style_axes(layout, f)
    return layout


def effective_lr_figure(
    series: list[Series] | tuple[Series, ...],
    *,
    title: str = "",
    classroom: bool = False,
    variables: tuple[str, str] | None = None,
    subtitle: str = "",
) -> go.Figure:
    """Per-coordinate effective learning rate against step: one panel per parameter, log y.

    Panels are named after the surface's variables (taken from the runs when not given).
    """
    f = fonts(classroom)
    traces: list[dict] = []
    for k, s in enumerate(series):
        n = max(s.traj.n_valid() - 1, 0)
        elr = np.asarray(s.traj.effective_lr, dtype=np.float64)[:n]
        steps = np.arange(1, n + 1, dtype=np.float32)
        for c, axis in ((0, ""), (1, "2")):
            v = elr[:, c] if n else np.zeros(0)
            v = np.where(np.isfinite(v) & (v > 0), v, np.nan)
            traces.append(
                dict(
                    type="scatter",
                    x=steps,
                    y=f32(v),
                    xaxis=f"x{axis}",
                    yaxis=f"y{axis}",
                    mode="lines",
                    line=_line(s, k, f),
                    name=s.label,
                    legendgroup=s.label,
                    showlegend=c == 0,
                    hovertemplate="%{y:.3g}",
                )
            )
    if variables is None:
        surface = getattr(series[0].traj, "surface", None) if series else None
        variables = tuple(getattr(surface, "variables", ("x", "y")))
    vx, vy = variables[:2]
    layout = _two_panel_layout(
        title or "Effective learning rate per coordinate",
        f,
        f"along {vx}",
        f"along {vy}",
        _steps_end(series),
        _log_axis([t["y"] for t in traces[0::2]], title=dict(text="effective lr (log scale)")),
        _log_axis([t["y"] for t in traces[1::2]]),
        subtitle,
    )
    return fast_figure(traces, layout)


def loss_figure(
    series: list[Series] | tuple[Series, ...],
    *,
    title: str = "",
    classroom: bool = False,
    subtitle: str = "",
) -> go.Figure:
    """Loss per step (log y when every loss is positive) beside the gradient norm (log y)."""
    f = fonts(classroom)
    losses, norms = [], []
    for s in series:
        n = s.traj.n_valid()
        loss = np.asarray(s.traj.loss, dtype=np.float64)[:n]
        grad = np.asarray(s.traj.grad, dtype=np.float64)[: max(n - 1, 0)]
        losses.append(np.where(np.isfinite(loss), loss, np.nan))
        with np.errstate(all="ignore"):
            norms.append(np.hypot(grad[:, 0], grad[:, 1]) if len(grad) else np.zeros(0))
    finite = np.concatenate([v[np.isfinite(v)] for v in losses] or [np.zeros(0)])
    log_loss = finite.size == 0 or bool(finite.min() > 0)
    traces: list[dict] = []
    for k, (s, loss, norm) in enumerate(zip(series, losses, norms, strict=True)):
        traces.append(
            dict(
                type="scatter",
                x=np.arange(len(loss), dtype=np.float32),
                y=f32(loss),
                mode="lines",
                line=_line(s, k, f),
                name=s.label,
                legendgroup=s.label,
                hovertemplate="%{y:.4g}",
            )
        )
        traces.append(
            dict(
                type="scatter",
                x=np.arange(1, len(norm) + 1, dtype=np.float32),
                y=f32(np.where(norm > 0, norm, np.nan)),
                xaxis="x2",
                yaxis="y2",
                mode="lines",
                line=_line(s, k, f),
                name=s.label,
                legendgroup=s.label,
                showlegend=False,
                hovertemplate="%{y:.3g}",
            )
        )
    y_left = (
        _log_axis(losses, title=dict(text="loss (log scale)"))
        if log_loss
        else dict(type="linear", title=dict(text="loss (linear scale: some values ≤ 0)"))
    )
    layout = _two_panel_layout(
        title or "Loss and gradient norm",
        f,
        "loss",
        "gradient norm ‖g‖",
        _steps_end(series),
        y_left,
        _log_axis(norms, title=dict(text="‖g‖ (log scale)")),
        subtitle,
    )
    return fast_figure(traces, layout)
