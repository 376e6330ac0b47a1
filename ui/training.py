"""The Training page's cached boundary to the core: a race of networks, its summaries, charts.

:func:`race` trains every run of a :class:`Setup` in one vectorized pass (an
``optim.Ensemble`` of the chosen optimizers over the ``mlp`` problem) and derives what
the charts show: the loss on each minibatch, the train and validation loss after
every epoch, per-layer effective learning rates and gradient norms, the fitted
function at frames through training. :func:`landscape` adds the loss-landscape slice.
Both are memoised for every session of the server, keyed by frozen dataclasses of
primitives; :func:`ready` says whether a call will be instant (the page shows a
spinner otherwise).
"""

from __future__ import annotations

import csv
import io
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np
import pyarrow as pa

import optim
from optim.landscape import loss_slice, plane

from . import figures
from .figures import training as charts
from .runs import ReadyFigure

PALETTE = (*figures.PALETTE, "#882255", "#44AA99")  # eight runs, eight colours
FRAMES_PER_EPOCH = 4
CURVE_POINTS = 200
GRID = 61  # landscape grid points per side


@dataclass(frozen=True)
class RunSpec:
    """One run of the race: an optimizer and its settings (hashable)."""

    name: str
    hyper: tuple[tuple[str, Any], ...]

    def optimizer(self) -> Any:
        return optim.make_optimizer(self.name, **dict(self.hyper))

    def label(self) -> str:
        """``SGD lr=0.01 momentum=0.8``: the optimizer and the settings that differ from torch's."""
        cls = optim.OPTIMIZERS[self.name]
        defaults = cls.defaults()
        parts = []
        for key, value in self.hyper:
            if key == "lr" or value != defaults.get(key):
                if isinstance(value, tuple):
                    text = "(" + ", ".join(f"{v:g}" for v in value) + ")"
                elif isinstance(value, bool):
                    text = str(value)
                else:
                    text = f"{value:g}"
                parts.append(f"{key}={text}")
        return " ".join([cls.label, *parts])


@dataclass(frozen=True)
class Setup:
    """The network, its data, the training schedule and the runs."""

    runs: tuple[RunSpec, ...]
    dataset: str = "square"
    noise: float = 0.1
    widths: tuple[int, ...] = (1, 20, 1)
    activation: str = "relu"
    epochs: int = 12
    batch_size: int = 32
    seed: int = 0
    own_init: bool = False

    def problem(self) -> Any:
        return build_problem(self.dataset, self.noise, self.widths, self.activation, self.seed)

    def subtitle(self) -> str:
        net = self.problem()
        start = "each run its own initial weights" if self.own_init else "same initial weights"
        return (
            f"{net.label}, noise {self.noise:g} · {self.epochs} epochs, batch {self.batch_size}"
            f" · {start} and minibatches, seed {self.seed}"
        )


@lru_cache(maxsize=16)
def build_problem(dataset: str, noise: float, widths: tuple, activation: str, seed: int) -> Any:
    return optim.make_problem(
        "mlp", widths=widths, activation=activation, dataset=dataset, noise=noise, seed=seed
    )


@dataclass(frozen=True, eq=False)
class Race:
    """A finished race and what the charts read (``k`` runs, ``T`` steps, ``E`` epochs)."""

    setup: Setup
    problem: Any
    traj: Any  # optim.Trajectory, batch (k,)
    labels: tuple[str, ...]
    colors: tuple[str, ...]
    per_epoch: int  # steps per epoch
    batch_loss: np.ndarray  # (T, k): each step's minibatch loss, before the step
    epoch_train: np.ndarray  # (E+1, k): training loss after each epoch (0: the start)
    epoch_val: np.ndarray  # (E+1, k): validation loss after each epoch
    layer_lr: np.ndarray  # (L, 3, T, k): 10 %, median, 90 % of each layer's effective lr
    layer_grad: np.ndarray  # (L, T, k): each layer's gradient norm
    frame_steps: np.ndarray  # (F,): the steps the animation shows
    curve_x: np.ndarray  # (P,)
    curves: np.ndarray  # (F, k, P): every run's fitted function at each frame

    @property
    def steps(self) -> int:
        return len(self.batch_loss)


def _train(setup: Setup) -> Race:
    """Every run in one pass, then the summaries (see :class:`Race`)."""
    net = setup.problem()
    k = len(setup.runs)
    per_epoch = -(-net.n_samples // setup.batch_size)
    steps = setup.epochs * per_epoch
    seeds = [setup.seed + i for i in range(k)] if setup.own_init else setup.seed
    start = np.broadcast_to(net.init(seeds), (k, net.dim))
    race = optim.Ensemble([run.optimizer() for run in setup.runs])
    # the loss on all training data once an epoch (what the epoch chart shows); each step's
    # minibatch loss comes with its gradient (traj.batch_loss)
    traj = optim.run(
        net,
        race,
        start,
        steps,
        batch_size=setup.batch_size,
        seed=setup.seed,
        loss_every=per_epoch,
    )
    params = traj.params
    # a batch of all the data is full-batch descent: each step's "minibatch" loss is the
    # full loss at the point it started from
    batch_loss = traj.loss[:-1] if traj.batch_loss is None else traj.batch_loss
    with np.errstate(all="ignore"):  # a diverged run's rows are NaN
        at_epochs = np.arange(setup.epochs + 1) * per_epoch
        epoch_train = traj.loss[at_epochs]
        epoch_val = net.loss(params[at_epochs], "validation")
        eff, grad = traj.effective_lr, traj.grad
        layer_lr = np.stack(
            [np.percentile(eff[..., sl], [10, 50, 90], axis=-1) for sl in net.layer_slices]
        )
        layer_grad = np.stack([np.linalg.norm(grad[..., sl], axis=-1) for sl in net.layer_slices])
        every = max(per_epoch // FRAMES_PER_EPOCH, 1)
        frame_steps = np.unique(np.append(np.arange(0, steps + 1, every), steps))
        curve_x = np.linspace(-1.0, 1.0, CURVE_POINTS)
        curves = net.predict(params[frame_steps], curve_x)
    labels = tuple(run.label() for run in setup.runs)
    return Race(
        setup=setup,
        problem=net,
        traj=traj,
        labels=labels,
        colors=tuple(PALETTE[i % len(PALETTE)] for i in range(k)),
        per_epoch=per_epoch,
        batch_loss=batch_loss,
        epoch_train=epoch_train,
        epoch_val=epoch_val,
        layer_lr=layer_lr,
        layer_grad=layer_grad,
        frame_steps=frame_steps,
        curve_x=curve_x,
        curves=curves,
    )


class _Memo:
    """A small least-recently-used memo that can say whether a key is already computed."""

    def __init__(self, fn: Callable, size: int) -> None:
        self.fn, self.size, self.store = fn, size, OrderedDict()

    def __contains__(self, key: Any) -> bool:
        return key in self.store

    def __call__(self, key: Any) -> Any:
        if key in self.store:
            self.store.move_to_end(key)
            return self.store[key]
        value = self.fn(*key) if isinstance(key, tuple) else self.fn(key)
        self.store[key] = value
        while len(self.store) > self.size:
            self.store.popitem(last=False)
        return value


race = _Memo(_train, 16)


def _landscape(setup: Setup, mode: str) -> dict:
    r = race(setup)
    pl = plane(r.traj.params, mode, problem=r.problem, centre=_best_final(r), seed=setup.seed)
    return {**pl, **loss_slice(r.problem, pl, n=GRID), "centre_run": int(_best_index(r))}


def _best_index(r: Race) -> int:
    final = np.where(np.isfinite(r.traj.final_loss), r.traj.final_loss, np.inf)
    return int(np.argmin(final))


def _best_final(r: Race) -> np.ndarray:
    return r.traj.final_params[_best_index(r)]


landscape = _Memo(_landscape, 16)


def ready(setup: Setup, mode: str | None = None) -> bool:
    """Whether the race (and the landscape of ``mode``) are already computed."""
    return setup in race and (mode is None or (setup, mode) in landscape)


# -- charts -------------------------------------------------------------------------------
@dataclass(frozen=True)
class View:
    """Everything the charts depend on."""

    setup: Setup
    log: bool = True
    plane: str = "pca"
    classroom: bool = False


@lru_cache(maxsize=64)
def chart(view: View, kind: str) -> Any:
    """A figure of ``kind``: ``fitted`` (animated), ``fitted_still``, ``loss``, ``layers``,
    ``landscape``."""
    r = race(view.setup)
    sub, cls = view.setup.subtitle(), view.classroom
    if kind in ("fitted", "fitted_still"):
        return charts.fitted_figure(r, subtitle=sub, classroom=cls, animate=kind == "fitted")
    if kind == "loss":
        return charts.loss_curves_figure(r, log=view.log, subtitle=sub, classroom=cls)
    if kind == "layers":
        return charts.layers_figure(r, subtitle=sub, classroom=cls)
    if kind == "landscape":
        return charts.landscape_figure(
            r, landscape((view.setup, view.plane)), subtitle=sub, classroom=cls
        )
    raise ValueError(f"unknown chart {kind!r}")


@lru_cache(maxsize=64)
def shown(view: View, kind: str) -> ReadyFigure:
    return ReadyFigure(chart(view, kind))


# -- table and CSV ------------------------------------------------------------------------
def first_epoch_below(epoch_loss: np.ndarray, level: float) -> list[int | None]:
    """Per run, the first epoch after which the loss is at most ``level`` (None: never)."""
    out: list[int | None] = []
    for col in np.asarray(epoch_loss).T:
        hits = np.nonzero(col <= level)[0]
        out.append(int(hits[0]) if len(hits) else None)
    return out


@lru_cache(maxsize=64)
def results(setup: Setup, level: float) -> pa.Table:
    r = race(setup)
    reached = first_epoch_below(r.epoch_train, level)
    rows = []
    for i, label in enumerate(r.labels):
        val = r.epoch_val[:, i]
        best = int(np.nanargmin(val)) if np.isfinite(val).any() else None
        rows.append(
            {
                "run": f"{i + 1}. {label}",
                "final train loss": _num(r.traj.final_loss[i]),
                "final validation loss": _num(val[-1]),
                "best validation loss": None if best is None else _num(val[best]),
                "at epoch": best,
                f"first epoch with train loss ≤ {level:g}": reached[i],
                "status": str(r.traj.status[i]),
            }
        )
    return pa.Table.from_pylist(rows)


def _num(v: Any) -> float | None:
    v = float(v)
    return v if np.isfinite(v) else None


CSV_COLUMNS = ("run", "optimizer", "step", "epoch", "batch_loss", "train_loss")


def losses_csv(setup: Setup) -> bytes:
    """Per-step losses, one row per run and step: ``batch_loss`` is the loss on the step's
    minibatch before the step (what a training loop prints), ``train_loss`` the loss on
    all training data after it (step 0: the start, no minibatch yet)."""
    r = race(setup)
    buf = io.StringIO()
    out = csv.writer(buf, lineterminator="\n")
    out.writerow(CSV_COLUMNS)
    train = _train_losses(r)
    for i, label in enumerate(r.labels):
        for t in range(r.steps + 1):
            batch = "" if t == 0 else _cell(r.batch_loss[t - 1, i])
            out.writerow([i + 1, label, t, f"{t / r.per_epoch:.6g}", batch, _cell(train[t, i])])
    return buf.getvalue().encode("utf-8")


def _train_losses(r: Race, rows: int = 64) -> np.ndarray:
    """The loss on all training data after every step, ``(T+1, k)``: the race evaluated it
    once an epoch only, the CSV gives every step (computed here, ``rows`` steps at a time)."""
    params = r.traj.params
    out = np.array(r.traj.loss)
    with np.errstate(all="ignore"):
        for lo in range(0, len(params), rows):
            part = params[lo : lo + rows]
            known = np.isfinite(part).all(-1)  # rows after a stop stay NaN
            np.copyto(
                out[lo : lo + rows],
                r.problem.loss(np.where(known[..., None], part, 0.0)),
                where=known,
            )
    return out


def _cell(v: float) -> str:
    return repr(float(v)) if np.isfinite(v) else ""


def divergence_notes(setup: Setup) -> list[str]:
    """Plain-language notes for the runs that blew up."""
    r = race(setup)
    out = []
    for i, label in enumerate(r.labels):
        if str(r.traj.status[i]) == "diverged":
            out.append(f"**Run {i + 1} ({label})** {r.traj.message[i] or 'diverged'}")
    return out
