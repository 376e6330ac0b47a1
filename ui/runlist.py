"""A race as a list of runs: each run an optimizer with its own settings, in link form.

Pure functions on plain values (no Streamlit), so other pages can build a Playground
link and the tests can read one:

* :class:`RunSpec`: one run, an optimizer name, every hyperparameter (spec keys, as the
  optimizer's sliders name them) and, on data problems, its batch size;
* :func:`format_run` / :func:`parse_run`: the text of one run in the link's repeated
  ``run`` key, e.g. ``SGD lr=0.01 momentum=0.8 batch=32``;
* :func:`from_legacy`: the runs an older link meant (``opt``, ``compare``, ``lr``,
  ``<opt>_<hparam>``), so links made before the runs list open the same race;
* :func:`playground_link`: the query string that opens a race.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any
from urllib.parse import urlencode

import optim

from .state import clamp, fmt_number, fmt_range, parse_float, quote

MAX_RUNS = 8
RUN_KEY = "run"  # the link's repeated key, one value per run, in race order


def hparam_suffix(spec_key: str) -> str:
    """The link's name of a hyperparameter: ``betas[1]`` -> ``betas1``.

    >>> hparam_suffix("betas[1]"), hparam_suffix("lr")
    ('betas1', 'lr')
    """
    return re.sub(r"[^A-Za-z0-9_]", "", spec_key)


@lru_cache(maxsize=32)  # one entry per optimizer in the registry
def _specs(name: str) -> tuple[dict, ...]:
    return tuple(optim.OPTIMIZERS[name].slider_specs())


def specs(name: str) -> list[dict]:
    """The optimizer's slider specs (built once per optimizer: every rerun reads them)."""
    return list(_specs(name))


@lru_cache(maxsize=32)
def _defaults(name: str) -> tuple[tuple[str, Any], ...]:
    return tuple((s["key"], s["default"]) for s in _specs(name))


def defaults(name: str) -> dict[str, Any]:
    return dict(_defaults(name))


@dataclass(frozen=True)
class RunSpec:
    """One run of a race: optimizer, every hyperparameter (spec keys) and batch size.

    ``batch`` is ``None`` for the full-batch gradient (and on surfaces that are not
    data problems, where it is ignored).
    """

    name: str
    hyper: tuple[tuple[str, Any], ...] = field(default=())
    batch: int | None = None

    @staticmethod
    def make(name: str, batch: int | None = None, **values: Any) -> RunSpec:
        """A run of ``name`` at torch's defaults except ``values`` (spec keys or link names)."""
        by_suffix = {hparam_suffix(k): k for k in defaults(name)}
        hyper = defaults(name)
        for key, value in values.items():
            hyper[by_suffix.get(key, key)] = value
        return RunSpec(name, tuple(hyper.items()), batch)

    @property
    def values(self) -> dict[str, Any]:
        return {**defaults(self.name), **dict(self.hyper)}

    @property
    def label(self) -> str:
        return optim.OPTIMIZERS[self.name].label


def _value_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return fmt_number(float(value))


def format_run(run: RunSpec) -> str:
    """The link text of a run: its label, the lr always, then what differs from torch.

    >>> format_run(RunSpec.make("adam", lr=0.01, betas1=0.99))
    'Adam lr=0.01 betas1=0.99'
    >>> format_run(RunSpec.make("sgd", batch=10))
    'SGD lr=0.001 batch=10'
    """
    base = defaults(run.name)
    parts = [run.label]
    for key, value in run.values.items():
        if key == "lr" or value != base.get(key):
            parts.append(f"{hparam_suffix(key)}={_value_text(value)}")
    if run.batch is not None:
        parts.append(f"batch={int(run.batch)}")
    return " ".join(parts)


def _names() -> dict[str, str]:
    """Every spelling of an optimizer in a link (key or label, any case) -> its key."""
    out: dict[str, str] = {}
    for name, cls in optim.OPTIMIZERS.items():
        out[name.lower()] = name
        out[cls.label.lower()] = name
    return out


def _spec_value(spec: dict, raw: str, owner: str, notes: list[str]) -> Any:
    """A hyperparameter's value from its link text, clamped to its range; ``None`` if unusable."""
    label = f"{owner} {spec['label']}"
    if spec["kind"] == "bool":
        word = raw.strip().lower()
        if word in ("true", "1", "yes", "on"):
            return True
        if word in ("false", "0", "no", "off"):
            return False
        notes.append(f"Ignored {label} = {quote(raw)} from the link: expected true or false.")
        return None
    try:
        value = parse_float(raw)
    except ValueError:
        notes.append(f"Ignored {label} = {quote(raw)} from the link: not a number.")
        return None
    low, high = spec["low"], spec["high"]
    fixed = clamp(value, low, high)
    if spec["kind"] == "int":
        fixed = int(round(fixed))
    if fixed != value:
        notes.append(
            f"{label} = {quote(raw)} from the link is outside its range "
            f"{fmt_range(low, high)}; using {fmt_number(fixed)}."
        )
    return fixed


def parse_run(raw: str, notes: list[str], max_batch: int | None = None) -> RunSpec | None:
    """A run from its link text; what cannot be used is left out with a notice in ``notes``.

    An unknown optimizer drops the run; an unknown or unusable setting drops that setting.
    Values are clamped to their ranges like a slider's.

    >>> notes = []
    >>> parse_run("adam lr=2e-3 betas0=0.5", notes).values["betas[0]"], notes
    (0.5, [])
    >>> parse_run("Adam lr=abc", notes).values["lr"], notes[0][:18]
    (0.001, 'Ignored Adam lr = ')
    """
    tokens = str(raw).split()
    if not tokens:
        notes.append(f"Ignored run {quote(raw)} from the link: empty.")
        return None
    name = _names().get(tokens[0].lower())
    if name is None:
        notes.append(f"Ignored run {quote(raw)} from the link: unknown optimizer.")
        return None
    owner = optim.OPTIMIZERS[name].label
    by_suffix = {hparam_suffix(s["key"]).lower(): s for s in specs(name)}
    values: dict[str, Any] = {}
    batch: int | None = None
    for token in tokens[1:]:
        key, sep, text = token.partition("=")
        key = key.lower()
        if key == "batch" and sep:
            try:
                b = parse_float(text)
            except ValueError:
                notes.append(f"Ignored {owner} batch = {quote(text)} from the link: not a number.")
                continue
            fixed = int(clamp(round(b), 1, max_batch or 10**6))
            if fixed != b:
                notes.append(
                    f"{owner} batch = {quote(text)} from the link is not a usable batch size; "
                    f"using {fixed}."
                )
            batch = fixed
        elif sep and key in by_suffix:
            value = _spec_value(by_suffix[key], text, owner, notes)
            if value is not None:
                values[by_suffix[key]["key"]] = value
        else:
            notes.append(f"Ignored {quote(token)} in the link's {owner} run: unknown setting.")
    return RunSpec.make(name, batch, **values)


def parse_runs(
    raws: Sequence[str], notes: list[str], max_batch: int | None = None
) -> list[RunSpec]:
    runs = [r for raw in raws if (r := parse_run(raw, notes, max_batch)) is not None]
    if len(runs) > MAX_RUNS:
        notes.append(f"The link asks for {len(runs)} runs; showing the first {MAX_RUNS}.")
        runs = runs[:MAX_RUNS]
    return runs


# -- links made before the runs list -------------------------------------------------------
LEGACY_OPT = "opt"
LEGACY_COMPARE_OWN = ("own", "Each optimizer its own learning rate")


def legacy_keys() -> list[str]:
    """Every key an older link may use to say which optimizers race and how."""
    keys = [LEGACY_OPT, "compare", "lr"]
    for name in optim.OPTIMIZERS:
        keys += [f"{name}_{hparam_suffix(s['key'])}" for s in specs(name)]
    return keys


def from_legacy(
    get: Callable[[str], Any],
    get_all: Callable[[str], list[str]],
    notes: list[str],
    shared_lr: float | None,
    default_names: Iterable[str],
) -> list[RunSpec]:
    """The runs of an older link: its ``opt`` list in teaching order, each with the link's
    ``<opt>_<hparam>`` values, and the shared ``lr`` unless ``compare`` gave each its own.

    ``get(key)`` is the link's value of ``key`` (``None`` if absent), ``get_all`` all of
    them; ``shared_lr`` is the shared learning rate when the link gives none, or ``None``
    to leave each run its own (a page that keeps the shared rate in a control of its own).
    """
    names = _names()
    order = list(optim.OPTIMIZERS)
    picked: list[str] = []
    for item in get_all(LEGACY_OPT) or []:
        name = names.get(str(item).lower())
        if name is None:
            notes.append(f"Ignored optimizer {quote(item)} from the link: unknown value.")
        elif name not in picked:
            picked.append(name)
    if not picked:
        picked = list(default_names)
    picked = sorted(picked, key=order.index)[:MAX_RUNS]
    compare = get("compare")
    own = shared_lr is None or (compare is not None and str(compare) in LEGACY_COMPARE_OWN)
    lr = shared_lr
    raw_lr = get("lr")
    if raw_lr is not None and not own:
        lr_spec = {"label": "learning rate", "kind": "float", "low": 1e-5, "high": 10.0}
        value = _spec_value(lr_spec, str(raw_lr), "Shared", notes)
        lr = value if value is not None else shared_lr
    runs = []
    for name in picked:
        owner = optim.OPTIMIZERS[name].label
        values: dict[str, Any] = {}
        for spec in specs(name):
            raw = get(f"{name}_{hparam_suffix(spec['key'])}")
            if raw is None:
                continue
            value = _spec_value(spec, str(raw), owner, notes)
            if value is not None:
                values[spec["key"]] = value
        if not own:
            values["lr"] = lr
        runs.append(RunSpec.make(name, **values))
    return runs


# -- a link for other pages ------------------------------------------------------------------
def playground_link(
    runs: Iterable[RunSpec | tuple[str, Mapping[str, Any]]],
    *,
    surface: str | None = None,
    start: tuple[float, float] | None = None,
    steps: int | None = None,
    **extra: Any,
) -> str:
    """The query string (``?run=...``) that opens the Playground on this race.

    ``runs``: :class:`RunSpec` objects or ``(optimizer name, hyperparameters)`` pairs (spec
    keys like ``betas[0]``, link names like ``betas0``, or ``betas=(0.9, 0.99)``; a
    ``batch`` entry is the run's batch size). ``surface`` is a surface's name or label;
    ``extra`` adds other Playground keys (``tol="1e-05"``). Pages put it after their own
    address of the Playground (``/`` for the landing page).

    >>> playground_link([("sgd", {"lr": 0.1}), ("adam", {"betas": (0.9, 0.99)})], steps=50)
    '?run=SGD+lr%3D0.1&run=Adam+lr%3D0.001+betas1%3D0.99&steps=50'
    """
    texts = []
    for item in runs:
        if isinstance(item, RunSpec):
            texts.append(format_run(item))
            continue
        name, hyper = item
        values = dict(hyper)
        batch = values.pop("batch", None)
        flat: dict[str, Any] = {}
        for key, value in values.items():
            if isinstance(value, (tuple, list)):
                for i, v in enumerate(value):
                    flat[f"{key}{i}"] = v
            else:
                flat[key] = value
        texts.append(format_run(RunSpec.make(name, batch, **flat)))
    query: dict[str, Any] = {RUN_KEY: texts[:MAX_RUNS]}
    if surface is not None:
        query["surface"] = surface
    if start is not None:
        query["x0"], query["y0"] = (fmt_number(round(float(v), 3)) for v in start)
    if steps is not None:
        query["steps"] = str(int(steps))
    query.update({k: str(v) for k, v in extra.items()})
    return "?" + urlencode(query, doseq=True)
