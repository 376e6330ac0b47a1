"""The Training page's sidebar: the network and its data, the runs list with its presets,
the chart settings. Every widget is bound to the URL and checked first (``ui.state``).

A run is an optimizer and its settings; up to :data:`MAX_RUNS` of them race. Each run
slot has its own default (the first four are the PyTorch post's race), so the opening
page and its link are short; the presets set every slot at once.
"""

from __future__ import annotations

from typing import Any

import streamlit as st

import optim
from optim.mlp import ACTIVATIONS, DATASETS

from .controls import URL, assemble, hparam_key, spec_widget
from .state import UrlSettings
from .training import RunSpec, Setup

MAX_RUNS = 8
# the race of the PyTorch post: all lr 0.01, batch 32, 12 epochs
POST_FOUR: tuple[tuple[str, dict], ...] = (
    ("sgd", {"lr": 0.01}),
    ("momentum", {"lr": 0.01, "momentum": 0.8}),
    ("rmsprop", {"lr": 0.01, "alpha": 0.9}),
    ("adam", {"lr": 0.01, "betas": (0.9, 0.99)}),
)
CLASSICS: tuple[tuple[str, dict], ...] = tuple((n, {}) for n in list(optim.OPTIMIZERS)[:7])
PRESETS = {
    "post": ("The PyTorch post's four", POST_FOUR),
    "classics": ("The seven classics at torch defaults", CLASSICS),
}
# what slots 5-8 hold when the run count is raised: optimizers not in the post's race
_EXTRA = tuple((n, {}) for n in optim.OPTIMIZERS if n not in dict(POST_FOUR))
SLOT_DEFAULTS = (*POST_FOUR, *_EXTRA)[:MAX_RUNS]
BATCH_SIZES = [8, 16, 32, 64, 128, 256, 1000]
PLANES = {"pca": "Shared PCA of the trajectories", "random": "Filter-normalised random directions"}


def _values(name: str, hyper: dict) -> dict[str, Any]:
    """Slider key -> value for ``name`` with ``hyper`` over torch's defaults (pairs split)."""
    values = {**optim.OPTIMIZERS[name].defaults(), **hyper}
    out = {}
    for spec in optim.OPTIMIZERS[name].slider_specs():
        key = spec["key"]
        if key.endswith("]"):
            base, index = key[:-1].split("[")
            out[key] = values[base][int(index)]
        else:
            out[key] = values[key]
    return out


def run_key(slot: int, name: str, spec_key: str) -> str:
    """``tr2_momentum_lr``: slot (from 1), optimizer, setting."""
    return f"tr{slot + 1}_{hparam_key(name, spec_key)}"


def apply_preset(which: str) -> None:
    """Button callback: every slot of the preset, with its settings."""
    runs = PRESETS[which][1]
    st.session_state["tr_n"] = len(runs)
    for slot, (name, hyper) in enumerate(runs):
        st.session_state[f"tr{slot + 1}_opt"] = name
        for key, value in _values(name, hyper).items():
            st.session_state[run_key(slot, name, key)] = value


def runs_editor(url: UrlSettings, box: Any = None) -> tuple[list[RunSpec], list[str]]:
    """The runs list: how many, then each run's optimizer and settings in an expander
    (in ``box``: the sidebar, or an exercise link's hidden stand-in).

    Returns the valid runs and, for the invalid ones, what torch would say.
    """
    box = box if box is not None else st.sidebar
    for which, (label, _) in PRESETS.items():
        box.button(
            label, key=f"tr_preset_{which}", on_click=apply_preset, args=(which,), width="stretch"
        )
    n = spec_widget(
        url,
        dict(
            key="tr_n",
            label="Runs",
            symbol="",
            default=4,
            low=1,
            high=MAX_RUNS,
            log=False,
            kind="int",
            help="How many optimizer settings race.",
        ),
        "tr_n",
        box,
    )
    names = list(optim.OPTIMIZERS)
    labels = {name: optim.OPTIMIZERS[name].label for name in names}
    runs, errors = [], []
    for slot in range(n):
        slot_name, slot_hyper = SLOT_DEFAULTS[slot]
        key = f"tr{slot + 1}_opt"
        url.check_choice(key, f"run {slot + 1} optimizer", labels)
        current = st.session_state.get(key, slot_name)
        exp = box.expander(
            f"Run {slot + 1}: {labels.get(current, current)}", icon=":material/tune:"
        )
        name = exp.selectbox(
            "Optimizer",
            names,
            index=names.index(slot_name),
            format_func=labels.get,
            key=key,
            bind=URL,
        )
        url.record(key, None if name == slot_name else labels[name])
        defaults = _values(name, slot_hyper if name == slot_name else {})
        values = {}
        for spec in optim.OPTIMIZERS[name].slider_specs():
            own = dict(spec, default=defaults[spec["key"]])
            values[spec["key"]] = spec_widget(
                url, own, run_key(slot, name, spec["key"]), exp, owner=f"Run {slot + 1}"
            )
        hyper = assemble(values)
        try:
            optim.make_optimizer(name, **hyper)
        except ValueError as exc:
            exp.error(str(exc))
            errors.append(f"Run {slot + 1} ({labels[name]}) is left out: {exc}")
            continue
        runs.append(RunSpec(name, tuple(hyper.items())))
    return runs, errors


def network_controls(url: UrlSettings, boxes: dict[str, Any] | None = None) -> dict:
    """The data set, its noise, the network's shape, the training schedule and seed;
    ``boxes``: a container for ``data``, ``network`` or ``training`` other than the sidebar."""

    def box_of(name: str) -> Any:
        return (boxes or {}).get(name, st.sidebar)

    box = box_of("data")
    data_labels = {k: v[0] for k, v in DATASETS.items()}
    url.check_choice("tr_data", "data set", data_labels)
    dataset = box.selectbox(
        "Data", list(DATASETS), format_func=data_labels.get, key="tr_data", bind=URL
    )
    url.record("tr_data", None if dataset == "square" else data_labels[dataset])
    noise = spec_widget(
        url,
        dict(
            key="tr_noise",
            label="Label noise (std)",
            symbol="",
            default=0.1,
            low=0.0,
            high=0.5,
            log=False,
            kind="float",
            help="y = f(x) + noise · N(0, 1); the validation set is drawn the same way.",
        ),
        "tr_noise",
        box,
    )
    box = box_of("network")
    depth_labels = {1: "1 hidden layer", 2: "2 hidden layers"}
    url.check_choice("tr_depth", "hidden layers", depth_labels)
    depth = box.radio(
        "Network", [1, 2], format_func=depth_labels.get, key="tr_depth", bind=URL, horizontal=True
    )
    url.record("tr_depth", None if depth == 1 else depth_labels[depth])
    width = spec_widget(
        url,
        dict(
            key="tr_width",
            label="Units per hidden layer",
            symbol="",
            default=20,
            low=4,
            high=64,
            log=False,
            kind="int",
            help=None,
        ),
        "tr_width",
        box,
    )
    act_labels = {a: a for a in ACTIVATIONS}
    url.check_choice("tr_act", "activation", act_labels)
    activation = box.radio("Activation", list(ACTIVATIONS), key="tr_act", bind=URL, horizontal=True)
    url.record("tr_act", None if activation == ACTIVATIONS[0] else activation)
    box = box_of("training")
    epochs = spec_widget(
        url,
        dict(
            key="tr_epochs",
            label="Epochs",
            symbol="",
            default=12,
            low=1,
            high=50,
            log=False,
            kind="int",
            help=None,
        ),
        "tr_epochs",
        box,
    )
    url.check_grid("tr_batch", "batch size", BATCH_SIZES, log=True)
    batch = box.select_slider(
        "Batch size",
        BATCH_SIZES,
        value=32,
        key="tr_batch",
        bind=URL,
        help="Minibatches are reshuffled every epoch; the last one of an epoch may be short.",
    )
    url.record("tr_batch", None if batch == 32 else str(batch))
    seed = spec_widget(
        url,
        dict(
            key="tr_seed",
            label="Seed",
            symbol="",
            default=0,
            low=0,
            high=1000,
            log=False,
            kind="int",
            help="Seed of the data, the initial weights and the minibatches.",
        ),
        "tr_seed",
        box,
    )
    own = spec_widget(
        url,
        dict(
            key="tr_own",
            label="Each its own initialisation",
            symbol="",
            default=False,
            low=None,
            high=None,
            log=False,
            kind="bool",
            help="As in the post: every network starts from its own random weights. Off: all start from the same weights, a fair race.",
        ),
        "tr_own",
        box,
    )
    return dict(
        dataset=dataset,
        noise=float(noise),
        widths=(1, *([int(width)] * int(depth)), 1),
        activation=activation,
        epochs=int(epochs),
        batch_size=int(batch),
        seed=int(seed),
        own_init=bool(own),
    )


def chart_controls(url: UrlSettings, box: Any = None) -> tuple[bool, str, float]:
    """Log or linear loss axes, the landscape's plane, the loss level of the results table."""
    box = box if box is not None else st.sidebar
    log = spec_widget(
        url,
        dict(
            key="tr_log",
            label="Log-scale losses",
            symbol="",
            default=True,
            low=None,
            high=None,
            log=False,
            kind="bool",
            help=None,
        ),
        "tr_log",
        box,
    )
    url.check_choice("tr_plane", "landscape plane", PLANES)
    plane = box.radio(
        "Landscape plane", list(PLANES), format_func=PLANES.get, key="tr_plane", bind=URL
    )
    url.record("tr_plane", None if plane == "pca" else PLANES[plane])
    level = spec_widget(
        url,
        dict(
            key="tr_level",
            label="Loss level for the table",
            symbol="",
            default=0.02,
            low=1e-3,
            high=1.0,
            log=True,
            kind="float",
            help="The results table gives the first epoch whose training loss is at most this.",
        ),
        "tr_level",
        box,
    )
    return bool(log), plane, float(level)


def setup_controls(
    url: UrlSettings, boxes: dict[str, Any] | None = None
) -> tuple[Setup | None, list[str], tuple[bool, str, float]]:
    """The whole sidebar; ``None`` as the setup when no run is valid. ``boxes``: an
    exercise link's hidden groups (``runs``, ``data``, ``network``, ``training``,
    ``chart_settings``), each a stand-in container that draws nothing."""
    boxes = boxes or {}

    def heading(text: str, *names: str) -> None:
        if not all(n in boxes for n in names):
            st.sidebar.subheader(text)

    heading("Runs", "runs")
    runs, errors = runs_editor(url, boxes.get("runs"))
    heading("Network and data", "data", "network", "training")
    net = network_controls(url, boxes)
    heading("Charts", "chart_settings")
    view = chart_controls(url, boxes.get("chart_settings"))
    setup = Setup(runs=tuple(runs), **net) if runs else None
    return setup, errors, view
