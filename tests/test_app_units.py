"""The pages' pure parts: value grids, URL corrections, link building."""

from __future__ import annotations

import doctest
import math
from urllib.parse import parse_qs, urlsplit

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ui import algorithms, controls, state


@pytest.mark.parametrize("module", [state, controls, algorithms])
def test_doctests(module):
    assert doctest.testmod(module).failed == 0


@settings(max_examples=60, deadline=None)
@given(lo_exp=st.integers(-10, 0), span=st.integers(1, 6), where=st.floats(0, 1))
def test_log_grid_contains_the_default_and_stays_in_range(lo_exp, span, where):
    low, high = 10.0**lo_exp, 10.0 ** (lo_exp + span)
    default = float(f"{math.exp(math.log(low) + where * math.log(high / low)):.3g}")
    default = min(max(default, low), high)
    grid = controls.log_grid(low, high, default)
    assert default in grid and grid == sorted(set(grid))
    assert grid[0] == low and grid[-1] == high
    # a notch never jumps more than a factor 2.5 (1-2-5 per decade)
    assert all(b / a <= 2.5 + 1e-9 for a, b in zip(grid, grid[1:], strict=False))


@settings(max_examples=60, deadline=None)
@given(
    low=st.sampled_from([0.0, 0.5, -1.0]),
    width=st.sampled_from([0.999, 1.0, 10.0, 5000.0]),
    frac=st.integers(0, 1000),
)
def test_linear_step_lands_on_the_default(low, width, frac):
    high = low + width
    default = round(low + width * frac / 1000, 3)
    step = controls.linear_step(low, high, default)
    assert (high - low) / step <= 10_000
    n = (default - low) / step
    assert abs(n - round(n)) < 1e-6


class FakeQuery(dict):
    def get_all(self, key):
        v = self.get(key, [])
        return v if isinstance(v, list) else [v]

    def __getitem__(self, key):
        v = super().__getitem__(key)
        return v[-1] if isinstance(v, list) else v


def test_url_values_are_checked_once_and_corrections_are_explained():
    store: dict = {}
    url = state.UrlSettings(FakeQuery(steps="5000", lr="0.004", opt=["a", "zz", "b"]), store)
    url.check_number("steps", "Steps", 10, 2000, integer=True)
    url.check_grid("lr", "lr", [0.001, 0.002, 0.005], log=True)
    url.check_many("opt", "optimizer", {"a": "A", "b": "B"}, max_n=1)
    assert store["steps"] == 2000 and store["lr"] == 0.005 and store["opt"] == ["a"]
    notes = url.pop_notices()
    assert len(notes) == 4 and any("zz" in n for n in notes)
    store["steps"] = 300  # the user moved the slider: the URL is not applied again
    url2 = state.UrlSettings(FakeQuery(steps="5000"), store)
    url2.check_number("steps", "Steps", 10, 2000, integer=True)
    assert store["steps"] == 300 and url2.pop_notices() == []


def test_link_holds_only_non_defaults_and_round_trips():
    url = state.UrlSettings(FakeQuery(), {})
    url.record("opt", ["SGD", "Adam"])
    url.record("steps", None)
    url.record("formula", "x**2 + 10*y**2")
    link = url.link("http://127.0.0.1:8501/?old=1", classroom="1")
    query = parse_qs(urlsplit(link).query)
    assert query == {"opt": ["SGD", "Adam"], "formula": ["x**2 + 10*y**2"], "classroom": ["1"]}
    assert link.startswith("http://127.0.0.1:8501/?")
    assert url.link("http://127.0.0.1:8501").startswith("http://127.0.0.1:8501/?opt=SGD")


def test_results_row_for_a_start_where_the_loss_is_already_out_of_bounds():
    # a typed formula can make the start itself non-finite: the table must still show the run
    import optim
    from ui.figures import PALETTE, Series
    from ui.runs import results_rows

    surface = optim.surface_from_expression("exp(x**2 + y**2)")
    traj = optim.run(surface, optim.make_optimizer("sgd"), [3.0, 3.0], 10)
    assert traj.valid_length == 0
    (row,) = results_rows(surface, [Series("SGD", PALETTE[0], traj)])
    assert row["status"] == "diverged" and row["final loss"] is None
    assert row["distance to nearest minimum"] is None
