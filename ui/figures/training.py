"""The Training page's charts: the fitted function (animated), losses, layers, landscape slice.

Pure functions of a finished race (``ui.training.Race``: arrays and labels) to
``go.Figure``; nothing here trains or caches.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import plotly.graph_objects as go
import plotly.io as pio

from .plotly_fast import fast_figure
from .series import f32
from .style import INK, TEMPLATE, fonts, header, style_axes

DATA_COLOUR = "#9a9a9a"
SMOOTHING = 0.9  # the exponential moving average of the per-step loss (as TensorBoard's slider)
FRAME_MS = 120
_DASHES = ("solid", "dash", "dot", "dashdot", "longdash", "longdashdot", "solid", "dash")


def smooth(values: np.ndarray, weight: float = SMOOTHING) -> np.ndarray:
    """Exponential moving average along axis 0, bias-corrected (the first value is itself).

    >>> smooth(np.array([1.0, 1.0, 4.0]), 0.5).tolist()
    [1.0, 1.0, 3.0]
    """
    v = np.asarray(values, np.float64)
    out = np.empty_like(v)
    acc = np.zeros(v.shape[1:])
    norm = 0.0
    for t in range(len(v)):
        acc = weight * acc + (1.0 - weight) * v[t]
        norm = weight * norm + (1.0 - weight)
        out[t] = acc / norm
    return out


def _layout(title: str, subtitle: str, f: dict, labels: list[str], height: int) -> dict:
    layout: dict[str, Any] = dict(
        template=pio.templates[TEMPLATE],
        font=dict(size=f["base"], color=INK),
        hovermode="closest",
        # as wide as Plotly makes them for the tick labels (and the right-hand axes): a
        # margin Plotly must widen costs a second drawing of the chart on every update
        margin=dict(l=75, r=50, b=60),
        title=dict(text=f"<b>{title}</b>", x=0.01, xanchor="left", font=dict(size=f["title"])),
    )
    if subtitle:
        layout["title"]["subtitle"] = dict(text=subtitle, font=dict(size=f["base"], color="#555"))
    header(layout, f"<b>{title}</b>", subtitle, labels, f, height)
    layout["title"]["text"] = f"<b>{title}</b>"
    return layout


def _panel_title(text: str, x: float, f: dict, y: float = 1.0) -> dict:
    return dict(
        text=f"<b>{text}</b>",
        x=x,
        xref="paper",
        xanchor="center",
        y=y,
        yref="paper",
        yanchor="bottom",
        showarrow=False,
        font=dict(size=f["base"] + 1),
    )


def _log_axis(values: list[np.ndarray], **extra: Any) -> dict:
    axis: dict[str, Any] = dict(type="log", exponentformat="power", **extra)
    v = np.concatenate([np.ravel(a) for a in values] or [np.zeros(0)])
    v = v[np.isfinite(v) & (v > 0)]
    if v.size and np.log10(v.max() / v.min()) > 1:
        axis["dtick"] = 1
    return axis


def _line(r: Any, i: int, f: dict, width: float | None = None) -> dict:
    return dict(color=r.colors[i], width=width or f["line"] - 0.5, dash=_DASHES[i % len(_DASHES)])


# -- 1. the fitted function, animated, beside the loss with a cursor ----------------------------
def fitted_figure(
    r: Any, *, subtitle: str = "", classroom: bool = False, animate: bool = True
) -> go.Figure:
    """Left: the data and every run's fitted function; right: the smoothed minibatch loss
    with a cursor. Frames (every quarter epoch) move the curves and the cursor together;
    the slider under the chart is the scrubber of both. A still figure shows the end."""
    f = fonts(classroom)
    k, last = len(r.labels), len(r.frame_steps) - 1
    net = r.problem
    smoothed = smooth(r.batch_loss)
    finite = smoothed[np.isfinite(smoothed) & (smoothed > 0)]
    y_lo, y_hi = (
        (float(finite.min()) * 0.8, float(finite.max()) * 1.25) if finite.size else (1e-3, 1)
    )
    steps = np.arange(1, r.steps + 1, dtype=np.float32)
    data: list[dict] = [
        dict(
            type="scatter",
            x=f32(net.x[:, 0]),
            y=f32(net.y[:, 0]),
            mode="markers",
            marker=dict(size=3, color=DATA_COLOUR, opacity=0.6),
            name="training data",
            hoverinfo="skip",
        )
    ]
    for i in range(k):
        data.append(
            dict(
                type="scatter",
                x=f32(r.curve_x),
                y=f32(r.curves[last, i]),
                mode="lines",
                line=_line(r, i, f),
                name=r.labels[i],
                legendgroup=str(i),
                hovertemplate=f"{r.labels[i]}<br>x %{{x:.3f}}, fit %{{y:.4g}}<extra></extra>",
            )
        )
    for i in range(k):
        data.append(
            dict(
                type="scatter",
                x=steps,
                y=f32(smoothed[:, i]),
                xaxis="x2",
                yaxis="y2",
                mode="lines",
                line=_line(r, i, f, f["faint"]),
                name=r.labels[i],
                legendgroup=str(i),
                showlegend=False,
                hovertemplate="step %{x}<br>loss %{y:.4g}<extra></extra>",
            )
        )
    cursor_at = float(r.frame_steps[last])
    data.append(_cursor(cursor_at, y_lo, y_hi))
    title = "The fitted function through training"
    height = 560 if classroom else 470
    layout = _layout(title, subtitle, f, ["training data", *r.labels], height)
    ys = np.concatenate([net.y[:, 0], r.curves[np.isfinite(r.curves)]])
    span = float(np.percentile(ys, 99.5) - np.percentile(ys, 0.5)) or 1.0
    y_range = [
        float(np.percentile(ys, 0.5)) - 0.15 * span,
        float(np.percentile(ys, 99.5)) + 0.15 * span,
    ]
    layout.update(
        xaxis=dict(domain=[0.0, 0.56], title=dict(text="x"), range=[-1.05, 1.05], ticks="outside"),
        yaxis=dict(title=dict(text="y"), range=y_range, ticks="outside"),
        xaxis2=dict(domain=[0.66, 1.0], title=dict(text="step"), range=[0, r.steps], anchor="y2"),
        yaxis2=dict(
            anchor="x2",
            side="right",
            range=[float(np.log10(y_lo)), float(np.log10(y_hi))],
            **_log_axis([smoothed]),
        ),
        annotations=[
            _panel_title("data and fitted functions", 0.28, f),
            _panel_title("minibatch loss (smoothed)", 0.83, f),
        ],
    )
    style_axes(layout, f)
    frames: list[dict] = []
    if animate:
        moving = list(range(1, k + 1)) + [2 * k + 1]
        for j, step in enumerate(r.frame_steps):
            frames.append(
                dict(
                    name=str(int(step)),
                    data=[dict(y=f32(r.curves[j, i])) for i in range(k)]
                    + [_cursor(float(step), y_lo, y_hi)],
                    traces=moving,
                )
            )
        layout["margin"]["b"] = 132
        layout["sliders"] = [_slider(r, f)]
        layout["updatemenus"] = [_buttons(f)]
    return fast_figure(data, layout, frames)


def _cursor(step: float, lo: float, hi: float) -> dict:
    return dict(
        type="scatter",
        x=[step, step],
        y=[lo, hi],
        xaxis="x2",
        yaxis="y2",
        mode="lines",
        line=dict(color=INK, width=1.5, dash="dot"),
        name="now",
        showlegend=False,
        hoverinfo="skip",
    )


def _frame_args(ms: int) -> dict:
    return dict(
        frame=dict(duration=ms, redraw=False), transition=dict(duration=0), mode="immediate"
    )


def _slider(r: Any, f: dict) -> dict:
    return dict(
        active=len(r.frame_steps) - 1,
        x=0.2,
        len=0.8,
        y=-0.1,
        yanchor="top",
        pad=dict(t=30),
        currentvalue=dict(prefix="after step ", font=dict(size=f["base"])),
        font=dict(size=f["base"] - 2),
        steps=[
            dict(
                method="animate",
                label=f"{int(s)} (epoch {s / r.per_epoch:.3g})",
                args=[[str(int(s))], _frame_args(0)],
            )
            for s in r.frame_steps
        ],
    )


def _buttons(f: dict) -> dict:
    return dict(
        type="buttons",
        direction="left",
        x=0.0,
        y=-0.1,
        xanchor="left",
        yanchor="top",
        pad=dict(r=10, t=30),
        font=dict(size=f["base"]),
        buttons=[
            dict(
                label="Play",
                method="animate",
                args=[None, {**_frame_args(FRAME_MS), "fromcurrent": False}],
            ),
            dict(label="Pause", method="animate", args=[[None], _frame_args(0)]),
        ],
    )


# -- 2. losses per step and per epoch ---------------------------------------------------------------
def loss_curves_figure(
    r: Any, *, log: bool = True, subtitle: str = "", classroom: bool = False
) -> go.Figure:
    """Left: the minibatch loss of every step, raw (faint) and smoothed; right: the loss on
    all training data (solid) and on the validation set (dashed) after every epoch."""
    f = fonts(classroom)
    k = len(r.labels)
    smoothed = smooth(r.batch_loss)
    steps = np.arange(1, r.steps + 1, dtype=np.float32)
    epochs = np.arange(len(r.epoch_train), dtype=np.float32)
    data: list[dict] = []
    for i in range(k):
        data.append(
            dict(
                type="scatter",
                x=steps,
                y=f32(r.batch_loss[:, i]),
                mode="lines",
                line=dict(color=r.colors[i], width=1),
                opacity=0.3,
                name=r.labels[i],
                legendgroup=str(i),
                showlegend=False,
                hoverinfo="skip",
            )
        )
        data.append(
            dict(
                type="scatter",
                x=steps,
                y=f32(smoothed[:, i]),
                mode="lines",
                line=_line(r, i, f),
                name=r.labels[i],
                legendgroup=str(i),
                hovertemplate="step %{x}<br>smoothed %{y:.4g}<extra></extra>",
            )
        )
        for values, dash, what in (
            (r.epoch_train, "solid", "train"),
            (r.epoch_val, "dash", "validation"),
        ):
            data.append(
                dict(
                    type="scatter",
                    x=epochs,
                    y=f32(values[:, i]),
                    xaxis="x2",
                    yaxis="y2",
                    mode="lines+markers",
                    line=dict(color=r.colors[i], width=f["line"] - 0.5, dash=dash),
                    marker=dict(size=5),
                    name=r.labels[i],
                    legendgroup=str(i),
                    showlegend=False,
                    hovertemplate=f"epoch %{{x}}<br>{what} %{{y:.4g}}<extra></extra>",
                )
            )
    title = "Loss per step and per epoch"
    height = 520 if classroom else 420
    layout = _layout(title, subtitle, f, list(r.labels), height)
    scale = "log scale" if log else "linear scale"
    y1 = _log_axis([r.batch_loss]) if log else dict(type="linear", rangemode="tozero")
    y2 = _log_axis([r.epoch_train, r.epoch_val]) if log else dict(type="linear", rangemode="tozero")
    layout.update(
        xaxis=dict(
            domain=[0.0, 0.45], title=dict(text="step"), range=[0, r.steps], ticks="outside"
        ),
        yaxis=dict(title=dict(text=f"loss ({scale})"), ticks="outside", **y1),
        xaxis2=dict(
            domain=[0.55, 1.0],
            title=dict(text="epoch"),
            anchor="y2",
            ticks="outside",
            range=[-0.2, len(epochs) - 0.8],
        ),
        yaxis2=dict(anchor="x2", side="right", ticks="outside", **y2),
        annotations=[
            _panel_title("minibatch loss: raw and smoothed", 0.225, f),
            _panel_title("after each epoch: train ── validation - -", 0.775, f),
        ],
    )
    style_axes(layout, f)
    return fast_figure(data, layout)


# -- 3. per layer: effective learning rate and gradient norm ------------------------------------
def _fill(colour: str, alpha: float = 0.18) -> str:
    c = colour.lstrip("#")
    red, green, blue = (int(c[i : i + 2], 16) for i in (0, 2, 4))
    return f"rgba({red},{green},{blue},{alpha})"


def _axis(prefix: str, n: int) -> str:
    """Plotly's axis names: ``x``, ``x2``, ... (``xaxis``, ``xaxis2`` in the layout)."""
    return prefix if n == 1 else f"{prefix}{n}"


def layers_figure(r: Any, *, subtitle: str = "", classroom: bool = False) -> go.Figure:
    """One column per layer: the effective learning rate (median line, 10-90 % band over
    the layer's weights and biases) above the layer's gradient norm, per step, log y."""
    f = fonts(classroom)
    net = r.problem
    n_layers, k = len(net.layer_slices), len(r.labels)
    steps = np.arange(1, r.steps + 1, dtype=np.float32)
    gap = 0.06
    width = (1.0 - gap * (n_layers - 1)) / n_layers
    data: list[dict] = []
    layout_axes: dict[str, Any] = {}
    notes = []
    off_top = False  # a band runs off the top of its panel
    for layer in range(n_layers):
        top, bottom = 2 * layer + 1, 2 * layer + 2
        x0 = layer * (width + gap)
        for idx, (row, domain) in enumerate(((top, [0.55, 0.93]), (bottom, [0.0, 0.38]))):
            # the effective lr's axis follows the medians and the lower band: units whose
            # gradient is exactly 0 (dead ReLUs) get lr / eps from Adam-like rules, 10⁶,
            # which would flatten every other line (the band runs off the top then)
            values = r.layer_lr[layer, :2] if not idx else r.layer_grad[layer]
            x_axis = dict(
                domain=[x0, x0 + width],
                anchor=_axis("y", row),
                range=[0, r.steps],
                showticklabels=bool(idx),
                ticks="outside",
            )
            if idx:
                x_axis["title"] = dict(text="step")
            y_axis = dict(domain=domain, anchor=_axis("x", row), ticks="outside")
            if layer == 0:
                y_axis["title"] = dict(text="effective lr" if not idx else "‖g‖ of the layer")
            layout_axes[_axis("xaxis", row)] = x_axis
            y_axis.update(_log_axis([values]))
            finite = values[np.isfinite(values) & (values > 0)]
            if finite.size and not idx:
                lo, hi = np.log10(finite.min()), np.log10(finite.max())
                y_axis["range"] = [lo - 0.3, hi + 0.5]
                off_top |= bool(np.nanmax(r.layer_lr[layer, 2]) > 10 ** (hi + 0.5))
            layout_axes[_axis("yaxis", row)] = y_axis
        name = net.layer_name(layer)
        notes.append(
            _panel_title(f"{name}: effective lr, median and 10–90 %", x0 + width / 2, f, 0.94)
        )
        notes.append(_panel_title(f"{name}: gradient norm", x0 + width / 2, f, y=0.4))
        for i in range(k):
            lo, mid, hi = (f32(r.layer_lr[layer, q, :, i]) for q in range(3))
            common = dict(
                xaxis=_axis("x", top), yaxis=_axis("y", top), legendgroup=str(i), hoverinfo="skip"
            )
            data.append(
                dict(
                    type="scatter",
                    x=steps,
                    y=hi,
                    mode="lines",
                    line=dict(width=0),
                    showlegend=False,
                    name=r.labels[i],
                    **common,
                )
            )
            data.append(
                dict(
                    type="scatter",
                    x=steps,
                    y=lo,
                    mode="lines",
                    line=dict(width=0),
                    fill="tonexty",
                    fillcolor=_fill(r.colors[i]),
                    showlegend=False,
                    name=r.labels[i],
                    **common,
                )
            )
            data.append(
                dict(
                    type="scatter",
                    x=steps,
                    y=mid,
                    mode="lines",
                    line=_line(r, i, f),
                    name=r.labels[i],
                    legendgroup=str(i),
                    showlegend=layer == 0,
                    xaxis=_axis("x", top),
                    yaxis=_axis("y", top),
                    hovertemplate=f"{r.labels[i]}<br>step %{{x}}: median %{{y:.3g}}<extra></extra>",
                )
            )
            data.append(
                dict(
                    type="scatter",
                    x=steps,
                    y=f32(r.layer_grad[layer, :, i]),
                    mode="lines",
                    line=_line(r, i, f, f["faint"]),
                    name=r.labels[i],
                    legendgroup=str(i),
                    showlegend=False,
                    xaxis=_axis("x", bottom),
                    yaxis=_axis("y", bottom),
                    hovertemplate="step %{x}: ‖g‖ %{y:.3g}<extra></extra>",
                )
            )
    title = "Per layer: effective learning rate and gradient norm"
    height = 640 if classroom else 560
    layout = _layout(title, subtitle, f, list(r.labels), height)
    if off_top:
        notes.append(
            dict(
                text="A band running off the top: weights whose gradient has been exactly 0 "
                "(dead ReLU units) get lr / ε, up to 10⁶, from RMSprop- and Adam-like rules.",
                x=0.0,
                xref="paper",
                xanchor="left",
                y=-0.16,
                yref="paper",
                yanchor="top",
                showarrow=False,
                font=dict(size=f["base"] - 1, color="#555"),
            )
        )
        layout["margin"]["b"] = 90
    layout.update(layout_axes, annotations=notes)
    style_axes(layout, f)
    return fast_figure(data, layout)


# -- 4. the loss-landscape slice ---------------------------------------------------------------
def landscape_figure(
    r: Any, land: dict, *, subtitle: str = "", classroom: bool = False
) -> go.Figure:
    """The training loss on a plane through weight space (log-coloured contours) with every
    run's trajectory projected on it, start ○ and end ×."""
    f = fonts(classroom)
    loss = np.asarray(land["loss"], np.float64)
    z = np.log10(np.where(loss > 0, loss, np.nan))
    data: list[dict] = [
        dict(
            type="contour",
            x=f32(land["alpha"]),
            y=f32(land["beta"]),
            z=f32(z),
            colorscale="Viridis",
            ncontours=24,
            contours=dict(coloring="heatmap", showlines=True),
            line=dict(width=0.5, color="rgba(255,255,255,0.4)"),
            colorbar=dict(title=dict(text="log₁₀ loss", side="right"), thickness=14),
            name="loss",
            showlegend=False,
            hovertemplate="α %{x:.3g}, β %{y:.3g}<br>log₁₀ loss %{z:.3f}<extra></extra>",
        )
    ]
    coords = land["coords"]
    for i in range(len(r.labels)):
        n = r.traj.n_valid(i)
        c = coords[:n, i]
        data.append(
            dict(
                type="scatter",
                x=f32(c[:, 0]),
                y=f32(c[:, 1]),
                mode="lines",
                line=dict(color="white", width=f["line"] + 2),
                showlegend=False,
                hoverinfo="skip",
            )
        )
        data.append(
            dict(
                type="scatter",
                x=f32(c[:, 0]),
                y=f32(c[:, 1]),
                mode="lines",
                line=_line(r, i, f),
                name=r.labels[i],
                legendgroup=str(i),
                hovertemplate=f"{r.labels[i]}<br>α %{{x:.3g}}, β %{{y:.3g}}<extra></extra>",
            )
        )
        data.append(
            dict(
                type="scatter",
                x=f32(c[[0, -1], 0]),
                y=f32(c[[0, -1], 1]),
                mode="markers",
                marker=dict(
                    symbol=["circle-open", "x"],
                    size=[11, 12],
                    color=r.colors[i],
                    line=dict(width=2.5, color=r.colors[i]),
                ),
                name=r.labels[i],
                legendgroup=str(i),
                showlegend=False,
                hoverinfo="skip",
            )
        )
    share = 100.0 * land["explained"]
    if land["mode"] == "pca":
        how = "the top two principal directions of all runs' trajectories together"
    else:
        how = (
            "two filter-normalised random directions through the final weights of "
            f"{r.labels[land['centre_run']]}"
        )
    title = f"Loss-landscape slice: the plane explains {share:.1f} % of the trajectories' variance"
    note = (
        f"A slice through the weights, not the whole landscape.<br>Plane: {how}; "
        f"{len(land['alpha'])}×{len(land['beta'])} grid."
    )
    height = 680 if classroom else 600
    layout = _layout(title, subtitle, f, list(r.labels), height)
    layout.update(
        xaxis=dict(
            title=dict(text="α (first direction)"),
            range=[float(land["alpha"][0]), float(land["alpha"][-1])],
            ticks="outside",
        ),
        yaxis=dict(
            title=dict(text="β (second direction)"),
            range=[float(land["beta"][0]), float(land["beta"][-1])],
            ticks="outside",
        ),
        annotations=[
            dict(
                text=note,
                x=0.01,
                y=0.99,
                xref="paper",
                yref="paper",
                xanchor="left",
                yanchor="top",
                align="left",
                showarrow=False,
                bgcolor="rgba(255,255,255,0.85)",
                font=dict(size=f["base"] - 1, color=INK),
            )
        ],
    )
    layout["meta"]["explained"] = float(land["explained"])
    layout["margin"]["r"] = 120  # the colour bar and its title
    style_axes(layout, f)
    return fast_figure(data, layout)
