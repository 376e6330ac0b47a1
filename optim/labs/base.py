"""What a lab is: a question, a setup with its source, a run, and a check of the result.

A :class:`Lab` runs the core on one setup and returns a :class:`LabResult`: the measured
numbers beside the published (or derived) ones, each with its tolerance, ``passed``, and
the curves a page draws. Nothing here knows about a page.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..params import Param


@dataclass(frozen=True)
class Tol:
    """How far a measured number may be from the expected one: absolute, relative, or both
    (then either suffices)."""

    abs: float | None = None
    rel: float | None = None
    bound: str = ""  # "at least" or "at most": the expected value is a bound, not a target

    def holds(self, measured: float, expected: float) -> bool:
        if self.bound == "at least":
            return measured >= expected
        if self.bound == "at most":
            return measured <= expected
        if not (math.isfinite(measured) and math.isfinite(expected)):
            return measured == expected
        err = abs(measured - expected)
        ok_abs = self.abs is not None and err <= self.abs
        ok_rel = self.rel is not None and err <= self.rel * abs(expected)
        return ok_abs or ok_rel

    def text(self) -> str:
        if self.bound:
            return self.bound
        parts = []
        if self.abs is not None:
            parts.append(f"±{self.abs:g}")
        if self.rel is not None:
            parts.append(f"±{self.rel * 100:.3g}%")
        return " or ".join(parts)


EXACT = Tol(abs=1e-9)
AT_LEAST = Tol(bound="at least")
AT_MOST = Tol(bound="at most")


@dataclass(frozen=True)
class Series:
    """One line of a chart: ``x`` and ``y`` of the same length.

    ``reference``: an expectation or a landmark, drawn thin and dashed, in the colour of
    the series labelled ``color_of`` (or in ink); ``dash`` dashes a series of its own
    (one that would hide under another)."""

    label: str
    x: np.ndarray
    y: np.ndarray
    dash: bool = False
    markers: bool = False  # a marker at every point; ``lines=False``: markers only
    lines: bool = True
    reference: bool = False
    color_of: str = ""


@dataclass(frozen=True)
class Chart:
    title: str
    x_label: str
    y_label: str
    series: tuple[Series, ...]
    log_x: bool = False
    log_y: bool = False


@dataclass
class LabResult:
    """``measured`` and ``expected`` map the lab's keys to numbers (``expected`` may hold
    fewer keys: what has no published value is shown, not checked); ``checks`` says for
    each expected key whether it holds within ``tolerances[key]``; ``passed`` is all of them.
    ``trajectories`` holds the raw runs (name -> array), ``charts`` what a page draws."""

    measured: dict[str, float]
    expected: dict[str, float]
    tolerances: dict[str, Tol]
    charts: tuple[Chart, ...] = ()
    trajectories: dict[str, np.ndarray] = field(default_factory=dict)
    notes: tuple[str, ...] = ()  # sentences computed from the run, for the story

    @property
    def checks(self) -> dict[str, bool]:
        return {
            k: self.tolerances[k].holds(float(self.measured[k]), float(e))
            for k, e in self.expected.items()
        }

    @property
    def passed(self) -> bool:
        return all(self.checks.values())


@dataclass(frozen=True)
class Mistake:
    """A rule a post wrote, beside the correct one: both as LaTeX, and where in the post."""

    post: str  # which post, e.g. "the TF2 post"
    where: str  # section / line of the post
    wrong: str  # LaTeX of the rule as the post wrote it
    right: str  # LaTeX of the correct rule (torch's)
    consequence: str  # what goes wrong, in one sentence


@dataclass(frozen=True)
class Lab:
    """One lab. ``run(**knobs)`` fills missing knobs with their defaults and checks them.

    ``labels`` names each measured key for people; ``playground(**knobs)`` returns the
    same setup as Playground settings (or ``None``): ``surface``, ``formula``, ``start``,
    ``steps`` and ``runs`` (optimizer name -> hyperparameters). ``maps(**knobs)`` does the
    same for the Maps page: ``formula``, ``view`` (``"basins"``), ``runs``, ``steps`` and
    ``starts`` (per side of the grid).
    """

    id: str
    title: str
    question: str
    setup: str  # the exact setup, Markdown, with the source cited
    source: str
    expectation: str  # why the expected numbers are what they are
    compute: Callable[..., LabResult]
    labels: dict[str, str]
    knobs: tuple[Param, ...] = ()
    mistake: Mistake | None = None
    playground: Callable[..., dict | None] | None = None
    maps: Callable[..., dict | None] | None = None
    related_page: str = ""  # title of another page of the app with the same setup

    def knob_values(self, **knobs: Any) -> dict[str, Any]:
        specs = {p.name: p for p in self.knobs}
        unknown = set(knobs) - set(specs)
        if unknown:
            raise ValueError(f"{self.id} has no knob {', '.join(sorted(unknown))}")
        values = {name: knobs.get(name, p.default) for name, p in specs.items()}
        for name, value in values.items():
            p = specs[name]
            if (p.low is not None and value < p.low) or (p.high is not None and value > p.high):
                raise ValueError(f"{self.id}: {name} must lie in [{p.low}, {p.high}], got {value}")
        return values

    def run(self, **knobs: Any) -> LabResult:
        result = self.compute(**self.knob_values(**knobs))
        missing = (set(self.labels) ^ set(result.measured)) | (
            set(result.expected) - set(result.measured)
        )
        if missing:  # a lab's keys are its API: a silent rename would break pages and tests
            raise RuntimeError(f"{self.id}: keys out of step with its labels: {sorted(missing)}")
        return result

    def setup_link(self, **knobs: Any) -> dict | None:
        return None if self.playground is None else self.playground(**self.knob_values(**knobs))

    def maps_link(self, **knobs: Any) -> dict | None:
        return None if self.maps is None else self.maps(**self.knob_values(**knobs))


def rate(errors: np.ndarray) -> float:
    """Per-step contraction measured over the second half of a decaying error sequence."""
    e = np.asarray(errors, dtype=np.float64)
    half = len(e) // 2
    return float((e[-1] / e[half]) ** (1.0 / (len(e) - 1 - half)))


def steps_to(errors: np.ndarray, level: float) -> int:
    """The first step at which the error is at or below ``level`` (-1: never)."""
    hit = np.flatnonzero(np.asarray(errors) <= level)
    return int(hit[0]) if hit.size else -1
