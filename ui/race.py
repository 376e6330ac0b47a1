"""The sidebar's runs list: up to eight runs, one edited at a time, the link kept in step.

The list lives in ``st.session_state`` as :class:`~ui.runlist.RunSpec` values, not in
widgets: Streamlit forgets a widget's value once the widget is not drawn, and only the
run being edited has its widgets drawn. The link holds the list in its repeated ``run``
key, rewritten from the list on every script run, so every setting of every run
(including one after an inserted run) reaches the address bar.
"""

from __future__ import annotations

import itertools
import math
from typing import Any

import streamlit as st

import optim

from . import runlist
from .controls import (
    COMPARE,
    URL,
    OptimizerChoice,
    assemble,
    default_optimizers,
    shared_lr_for,
    shared_lr_specs,
)
from .runlist import MAX_RUNS, RUN_KEY, RunSpec, format_run
from .state import UrlSettings, fmt_number

_RACE = "_race"  # [(uid, RunSpec), ...] in race order
_PICK = "race_pick"  # the uid of the run being edited (the radio's key)
_UIDS = itertools.count(1)


def _store() -> list[tuple[int, RunSpec]]:
    return st.session_state[_RACE]


def _set_race(runs: list[RunSpec], pick: int = 0) -> None:
    """Replace the race; the ``pick``-th run is the one shown in the editor."""
    race = [(next(_UIDS), r) for r in runs[:MAX_RUNS]]
    st.session_state[_RACE] = race
    if race:
        _edit(race[min(pick, len(race) - 1)][0])


def teaching_order(race: list[tuple[int, RunSpec]]) -> list[tuple[int, RunSpec]]:
    """Runs sorted by the course's order of optimizers; runs of one optimizer keep theirs."""
    order = list(optim.OPTIMIZERS)
    return sorted(race, key=lambda item: order.index(item[1].name))


def default_runs() -> list[RunSpec]:
    return [RunSpec.make(n) for n in default_optimizers()]


# -- the editor's widgets ------------------------------------------------------------------
def editor_key(name: str, spec_key: str) -> str:
    """The editor widget of one hyperparameter: ``ed_adam_betas0``."""
    return f"ed_{name}_{runlist.hparam_suffix(spec_key)}"


def _edit(uid: int) -> None:
    """Show run ``uid`` in the editor: its values go into the editor's widgets."""
    st.session_state[_PICK] = uid
    run = dict(_store()).get(uid)
    if run is None:
        return
    for key, value in run.values.items():
        st.session_state[editor_key(run.name, key)] = value
    st.session_state["ed_grad"] = _grad_mode(run.batch)
    if run.batch is not None and run.batch > 1:
        st.session_state["ed_batch"] = run.batch


def _grad_mode(batch: int | None) -> str:
    return "full" if batch is None else ("single" if batch == 1 else "minibatch")


def _on_pick() -> None:
    _edit(st.session_state[_PICK])


def _add(name_key: str) -> None:
    name = st.session_state.get(name_key)
    race = _store()
    if name not in optim.OPTIMIZERS or len(race) >= MAX_RUNS:
        return
    uid = next(_UIDS)
    st.session_state[_RACE] = teaching_order([*race, (uid, RunSpec.make(name))])
    _edit(uid)


def _duplicate(uid: int) -> None:
    race = _store()
    run = dict(race).get(uid)
    if run is None or len(race) >= MAX_RUNS:
        return
    new = next(_UIDS)
    at = [u for u, _ in race].index(uid) + 1
    st.session_state[_RACE] = [*race[:at], (new, run), *race[at:]]
    _edit(new)


def _remove(uid: int) -> None:
    race = [(u, r) for u, r in _store() if u != uid]
    st.session_state[_RACE] = race
    if race:
        _edit(race[0][0])


def _reset(uid: int) -> None:
    """Every hyperparameter of the run back to torch's default."""
    race = _store()
    st.session_state[_RACE] = [
        (u, RunSpec.make(r.name, r.batch) if u == uid else r) for u, r in race
    ]
    _edit(uid)


def load_preset(runs: list[RunSpec], settings: dict[str, Any]) -> None:
    """Button callback: a preset's runs and its settings (widget keys -> values)."""
    for key, value in settings.items():
        st.session_state[key] = value
    _set_race(runs)


def _number(container: Any, spec: dict, key: str, label: str) -> float | int:
    kind = spec["kind"]
    low, high = spec["low"], spec["high"]
    if kind == "int":
        value = container.number_input(
            label,
            int(low) if low is not None else None,
            int(high) if high is not None else None,
            step=1,
            key=key,
            help=spec.get("help"),
        )
        return int(value)
    step = _typed_step(spec)
    value = container.number_input(
        label,
        float(low) if low is not None else None,
        float(high) if high is not None else None,
        step=step,
        format="%g",
        key=key,
        help=spec.get("help"),
    )
    return float(value)


def _typed_step(spec: dict) -> float:
    """The +/- step of a typed hyperparameter: a tenth of its default's order of magnitude."""
    d = abs(float(spec["default"])) or 0.1
    if spec.get("log"):
        return 10.0 ** math.floor(math.log10(d))
    return 0.01 if (spec["high"] or 1) <= 1 else 10.0 ** math.floor(math.log10(d)) / 10


def _editor(run: RunSpec, uid: int, shared: float | None, surface: Any, bar: Any = None) -> RunSpec:
    """The picked run's widgets (in ``bar``, the sidebar by default); returns the run as
    they set it."""
    box = (bar if bar is not None else st.sidebar).container(border=True)
    cls = optim.OPTIMIZERS[run.name]
    position = [u for u, _ in _store()].index(uid) + 1
    box.markdown(f"**Run {position}: {cls.label}**")
    values: dict[str, Any] = {}
    for spec in runlist.specs(run.name):
        key = editor_key(run.name, spec["key"])
        if key not in st.session_state:
            st.session_state[key] = run.values[spec["key"]]
        if shared is not None and spec["key"] == "lr":
            values["lr"] = run.values["lr"]
            continue
        label = _label(spec)
        if spec["kind"] == "bool":
            values[spec["key"]] = bool(box.checkbox(label, key=key, help=spec.get("help")))
        else:
            values[spec["key"]] = _number(box, spec, key, label)
    batch = run.batch
    if surface.is_data:
        n = int(surface.n_samples)
        st.session_state.setdefault("ed_grad", _grad_mode(run.batch))
        mode = box.radio(
            "Gradient",
            list(_GRAD_MODES),
            format_func=_GRAD_MODES.get,
            key="ed_grad",
            horizontal=True,
            help="Mini-batch and single-sample gradients are noisy estimates of the "
            "full-batch one.",
        )
        if mode == "full":
            batch = None
        elif mode == "single":
            batch = 1
        else:
            st.session_state.setdefault("ed_batch", max(2, n // 10))
            batch = int(box.number_input("Batch size B", 2, n, step=1, key="ed_batch"))
    cols = box.columns(2)
    cols[0].button(
        "Copy",
        key="ed_copy",
        on_click=_duplicate,
        args=(uid,),
        disabled=len(_store()) >= MAX_RUNS,
        help="Add a copy of this run (then change one setting).",
        width="stretch",
    )
    cols[1].button(
        "Reset",
        key="ed_reset",
        on_click=_reset,
        args=(uid,),
        help="Every setting of this run back to torch's default.",
        width="stretch",
    )
    box.button(
        "Remove this run",
        key="ed_remove",
        on_click=_remove,
        args=(uid,),
        disabled=len(_store()) <= 1,
        width="stretch",
    )
    return RunSpec(run.name, tuple(values.items()), batch)


_GRAD_MODES = {"full": "Full batch", "minibatch": "Mini-batch", "single": "Single sample"}


def _label(spec: dict) -> str:
    symbol = spec.get("symbol") or ""
    if not symbol or symbol.lstrip("\\") == spec["label"]:
        return spec["label"]
    return f"{spec['label']} ${symbol}$"


# -- reading the link once --------------------------------------------------------------------
def _from_link(url: UrlSettings, surface: Any) -> list[RunSpec] | None:
    """The runs a link asks for (the ``run`` key, else an older link's keys); ``None``
    when the link says nothing about the runs."""
    query = st.query_params
    notes: list[str] = []
    max_batch = int(surface.n_samples) if surface.is_data else None
    raws = url.take_all(RUN_KEY)
    runs: list[RunSpec] | None = None
    if raws is not None:
        runs = runlist.parse_runs(raws, notes, max_batch)
    legacy = [k for k in runlist.legacy_keys() if k not in ("compare", "lr") and k in query]
    if runs is None and legacy:
        runs = runlist.from_legacy(
            lambda k: query.get(k), query.get_all, notes, None, default_optimizers()
        )
        batch = _legacy_batch(url, surface, notes)
        runs = [RunSpec(r.name, r.hyper, batch) for r in runs]
    for key in legacy:  # the runs list says it all from now on
        del query[key]
    for note in notes:
        url.notice(note)
    if runs == []:
        url.notice("The link's runs could not be used; showing the opening race.")
        return None
    return runs


def _legacy_batch(url: UrlSettings, surface: Any, notes: list[str]) -> int | None:
    """An older link's one gradient mode (``grad``, ``batch``) for every run."""
    grad, batch = url.take("grad"), url.take("batch")
    if grad is None or not surface.is_data:
        return None
    modes = {**{k: k for k in _GRAD_MODES}, **{v: k for k, v in _GRAD_MODES.items()}}
    mode = modes.get(grad)
    if mode is None:
        notes.append(f"Ignored gradient mode = {runlist.quote(grad)} from the link: unknown value.")
        return None
    if mode == "single":
        return 1
    if mode == "full":
        return None
    n = int(surface.n_samples)
    try:
        b = int(round(runlist.clamp(runlist.parse_float(batch), 2, n))) if batch else n // 10
    except ValueError:
        notes.append(f"Ignored batch size = {runlist.quote(batch)} from the link: not a number.")
        b = n // 10
    return max(b, 2)


# -- the sidebar section ------------------------------------------------------------------------
def race_controls(
    url: UrlSettings, surface: Any, surface_name: str, boxes: dict[str, Any] | None = None
) -> tuple[str, list[OptimizerChoice]]:
    """The compare mode, the runs list with its editor, and the runs as the page races them.

    ``boxes``: a container for ``runs`` (all of it) or ``run_settings`` (the editor) other
    than the sidebar (an exercise link's hidden one, see :mod:`ui.hidden`)."""
    bar = (boxes or {}).get("runs", st.sidebar)
    if _RACE not in st.session_state:
        runs = _from_link(url, surface)
        _set_race(runs if runs is not None else default_runs())
    url.check_choice("compare", "compare mode", COMPARE)
    mode = bar.radio(
        "Learning rate",
        list(COMPARE),
        format_func=COMPARE.get,
        key="compare",
        bind=URL,
    )
    url.record("compare", None if mode == next(iter(COMPARE)) else COMPARE[mode])
    shared = None
    if mode == "same":
        shared = _shared_lr(url, surface_name, bar)
    race = _store()
    uids = [u for u, _ in race]
    if st.session_state.get(_PICK) not in uids:
        _edit(uids[0])
    _sync_from_editor(race, surface)  # the list's labels show what the editor was just set to
    labels = {u: f"{i + 1}. {run_label(r, shared, surface)}" for i, (u, r) in enumerate(race)}
    pick = bar.radio(
        f"Runs ({len(race)} of {MAX_RUNS}): pick one to change it",
        uids,
        format_func=labels.get,
        key=_PICK,
        on_change=_on_pick,
    )
    i = uids.index(pick)
    edited = _editor(race[i][1], pick, shared, surface, (boxes or {}).get("run_settings", bar))
    race[i] = (pick, edited)
    _add_row(len(race), bar)
    texts = [format_run(r) for _, r in race]
    _write_link(url, texts)
    choices = []
    for _, run in race:
        hyper = dict(run.values)
        if shared is not None:
            hyper["lr"] = shared
        hyper = assemble(hyper)
        try:
            optim.make_optimizer(run.name, **hyper)
            error = ""
        except ValueError as exc:
            error = str(exc)
        batch = run.batch if surface.is_data else None
        choices.append(OptimizerChoice(run.name, tuple(hyper.items()), error, batch))
    return mode, choices


def _sync_from_editor(race: list[tuple[int, RunSpec]], surface: Any) -> None:
    """The picked run as its editor's widgets hold it now (before they are drawn again)."""
    uid = st.session_state.get(_PICK)
    for i, (u, run) in enumerate(race):
        if u != uid:
            continue
        values = dict(run.values)
        for key in values:
            widget = editor_key(run.name, key)
            if widget in st.session_state:
                values[key] = st.session_state[widget]
        batch = run.batch
        if surface.is_data and "ed_grad" in st.session_state:
            mode = st.session_state["ed_grad"]
            batch = None if mode == "full" else 1 if mode == "single" else run.batch
            if mode == "minibatch":
                batch = int(st.session_state.get("ed_batch", run.batch or 2))
        race[i] = (u, RunSpec(run.name, tuple(values.items()), batch))


def run_label(run: RunSpec, shared: float | None, surface: Any) -> str:
    lr = shared if shared is not None else run.values["lr"]
    text = f"{run.label} lr={fmt_number(lr)}"
    if surface.is_data and run.batch is not None:
        text += " single sample" if run.batch == 1 else f" batch {run.batch}"
    return text


def _shared_lr(url: UrlSettings, surface_name: str, bar: Any = None) -> float:
    default = shared_lr_for(surface_name)
    spec = shared_lr_specs(default)
    url.check_number("lr", "shared learning rate", spec["low"], spec["high"])
    value = (bar if bar is not None else st.sidebar).number_input(
        "Learning rate γ for every run",
        spec["low"],
        spec["high"],
        default,
        step=_typed_step(spec),
        format="%g",
        key="lr",
        bind=URL,
        help="Type any value. Each surface opens with one at which the opening runs move "
        "and none blows up.",
    )
    url.record("lr", None if value == default else fmt_number(value))
    return float(value)


def _add_row(n: int, bar: Any = None) -> None:
    names = list(optim.OPTIMIZERS)
    cols = (bar if bar is not None else st.sidebar).columns([3, 2], vertical_alignment="bottom")
    cols[0].selectbox(
        "Add a run",
        names,
        format_func=lambda n: optim.OPTIMIZERS[n].label,
        key="race_add_name",
        disabled=n >= MAX_RUNS,
    )
    cols[1].button(
        "Add",
        key="race_add",
        on_click=_add,
        args=("race_add_name",),
        icon=":material/add:",
        disabled=n >= MAX_RUNS,
        width="stretch",
    )


def _write_link(url: UrlSettings, texts: list[str]) -> None:
    """The runs into the address bar (left out when they are the opening race)."""
    opening = [format_run(r) for r in default_runs()]
    value = None if texts == opening else texts
    url.record(RUN_KEY, value)
    query = st.query_params
    if value is None:
        if RUN_KEY in query:
            del query[RUN_KEY]
    elif query.get_all(RUN_KEY) != texts:
        query[RUN_KEY] = texts
