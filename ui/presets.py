"""Ready-made races, one click each: the classic demos and the two blog posts' setups.

A preset is its runs plus the settings it needs (widget keys -> values); loading one
replaces the race and sets those widgets, so its link is an ordinary Playground link.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import streamlit as st

from . import race
from .runlist import RunSpec


@dataclass(frozen=True)
class Preset:
    key: str
    title: str
    help: str
    runs: tuple[RunSpec, ...]
    settings: tuple[tuple[str, Any], ...]


def _settings(surface: str, **values: Any) -> tuple[tuple[str, Any], ...]:
    """Everything a preset fixes: its surface, the start there, its steps, no early stop
    unless it says so, each run its own learning rate."""
    import optim

    s = optim.make_surface(surface)
    base = {
        "surface": surface,
        "x0": float(s.start[0]),
        "y0": float(s.start[1]),
        "compare": "own",
        "steps": 200.0,
        "tol": 0.0,
        "patience": 3.0,
        "schedule": "constant",
        "noise": 0.0,
    }
    return tuple({**base, **values}.items())


def presets() -> tuple[Preset, ...]:
    return (
        Preset(
            "lr",
            "Learning rate: too small, right, too big",
            "Plain SGD three times on the ill-conditioned bowl: at lr 0.005 it crawls, at 0.1 "
            "it arrives, at 0.55 (beyond 2/L) every step overshoots more and it blows up.",
            (
                RunSpec.make("sgd", lr=0.005),
                RunSpec.make("sgd", lr=0.1),
                RunSpec.make("sgd", lr=0.55),
            ),
            _settings("bowl"),
        ),
        Preset(
            "batch",
            "GD vs SGD vs mini-batch",
            "One SGD at lr 0.1 on the linear fit with noisy labels: the full-batch gradient, "
            "mini-batches of 10 and single samples.",
            (
                RunSpec.make("sgd", lr=0.1),
                RunSpec.make("sgd", batch=10, lr=0.1),
                RunSpec.make("sgd", batch=1, lr=0.1),
            ),
            _settings("linear", linear_label_noise=0.5, steps=100.0),
        ),
        Preset(
            "classics",
            "The seven classics",
            "SGD, Momentum, Nesterov, Adagrad, Adadelta, RMSprop and Adam on the bowl, each "
            "at a learning rate that suits it (Adadelta at torch's 1.0).",
            (
                RunSpec.make("sgd", lr=0.1),
                RunSpec.make("momentum", lr=0.05),
                RunSpec.make("nesterov", lr=0.05),
                RunSpec.make("adagrad", lr=1.0),
                RunSpec.make("adadelta", lr=1.0),
                RunSpec.make("rmsprop", lr=0.05),
                RunSpec.make("adam", lr=0.1),
            ),
            _settings("bowl"),
        ),
        Preset(
            "tf2",
            "TF2 post: five optimizers, quadratic fit",
            "The TensorFlow 2 post's setup: y = a x² + b x fitted to y = 0.5x² − 2x + 0.5, every "
            "optimizer at lr 0.001 with ε = 1e-5, stopping once the loss changes by less than "
            "1e-5 for 3 steps in a row.",
            (
                RunSpec.make("sgd", lr=0.001),
                RunSpec.make("momentum", lr=0.001, momentum=0.9),
                RunSpec.make("adagrad", lr=0.001, eps=1e-5),
                RunSpec.make("rmsprop", lr=0.001, alpha=0.9, eps=1e-5),
                RunSpec.make("adam", lr=0.001, eps=1e-5),
            ),
            _settings("quadratic", steps=1000.0, tol=1e-5, patience=3.0),
        ),
        Preset(
            "torch4",
            "PyTorch post: four optimizers",
            "The PyTorch post's four at lr 0.01 with mini-batches of 32: SGD, SGD with "
            "momentum 0.8, RMSprop with α = 0.9 and Adam with betas (0.9, 0.99), on the linear "
            "fit (the post trains a small network).",
            (
                RunSpec.make("sgd", batch=32, lr=0.01),
                RunSpec.make("momentum", batch=32, lr=0.01, momentum=0.8),
                RunSpec.make("rmsprop", batch=32, lr=0.01, alpha=0.9),
                RunSpec.make("adam", batch=32, lr=0.01, betas1=0.99),
            ),
            _settings("linear"),
        ),
    )


def preset_buttons() -> None:
    """One button per preset, tucked in a popover so the runs stay near the top."""
    with st.sidebar.popover("Presets", icon=":material/auto_awesome:", width="stretch"):
        for p in presets():
            st.button(
                p.title,
                key=f"preset_{p.key}",
                help=p.help,
                on_click=race.load_preset,
                args=(list(p.runs), dict(p.settings)),
                width="stretch",
            )
