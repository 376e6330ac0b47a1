"""The pages' pure parts: value grids, URL corrections, link building."""

from __future__ import annotations

import doctest
import math
import re
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
    assert row["status"] == "diverged at the start" and row["final loss"] is None
    assert row["distance to nearest minimum"] is None


LINKY = [
    "[Session expired: log in again](https://evil.example/login)",
    "![x](https://evil.example/pixel.png)",
    "https://evil.example/bare",
    "www.evil.example",
    '<img src="https://evil.example/p.png">',
    "a`b``c",
    "`",
    "x\n\n# heading",
]


@pytest.mark.parametrize("raw", LINKY)
def test_a_quoted_link_value_is_one_closed_code_span(raw):
    q = state.quote(raw)
    fence = re.match(r"`+", q).group()
    assert q.endswith(fence) and len(q) > 2 * len(fence)
    inner = q[len(fence) : -len(fence)]
    # Markdown closes a code span at the first run of exactly the fence's length
    assert all(len(run) != len(fence) for run in re.findall(r"`+", inner))
    assert "\n" not in q
    assert inner.strip() == " ".join(raw.split())


def test_a_long_link_value_is_cut():
    q = state.quote("a" * 500)
    assert len(q) <= state.MAX_QUOTED + 2 and q.endswith("…`")


@pytest.mark.parametrize("raw", LINKY)
def test_escaped_markdown_keeps_no_live_punctuation(raw):
    out = state.escape_markdown(raw)
    # every punctuation mark is escaped, so no link, image, HTML or address syntax is left
    i = 0
    while i < len(out):
        if out[i] == "\\":
            i += 2
            continue
        assert out[i].isalnum() or out[i].isspace() or ord(out[i]) > 127, (out, i)
        i += 1
    assert out.replace("\\", "") == raw.replace("\\", "")


def test_notices_quote_link_values_as_code():
    store: dict = {}
    query = FakeQuery(
        {
            "steps": "[a](https://evil.example)",
            "opt": ["![p](https://evil.example/p.png)"],
            "view3d": "<b>x</b>",
            "classroom": "https://evil.example",
        }
    )
    url = state.UrlSettings(query, store)
    url.check_number("steps", "Steps", 10, 2000, integer=True)
    url.check_many("opt", "optimizer", {"sgd": "SGD"}, 6)
    url.check_bool("view3d", "3-D view")
    url.check_flag("classroom", "classroom mode")
    notes = url.pop_notices()
    assert len(notes) == 4
    for note, raw in zip(
        notes, [query[k] for k in ("steps", "opt", "view3d", "classroom")], strict=True
    ):
        assert f"`{raw}`" in note, note


@pytest.mark.parametrize(
    "raw, notice", [("1", False), ("0", False), ("true", False), ("maybe", True)]
)
def test_an_unusable_classroom_flag_gets_a_notice(raw, notice):
    url = state.UrlSettings(FakeQuery({"classroom": raw}), {})
    url.check_flag("classroom", "classroom mode")
    assert bool(url.pop_notices()) == notice
    assert state.classroom_requested({"classroom": raw}) == (raw in ("1", "true"))


@pytest.mark.parametrize(
    "event",
    [
        None,
        "text",
        [1, 2],
        {"selection": "x"},
        {"selection": {"points": []}},
        {"selection": {"points": 3}},
        {"selection": {"points": [[1, 2]]}},
        {"selection": {"points": [{"x": "1", "y": 2}]}},
        {"selection": {"points": [{"x": None, "y": 2}]}},
        {"selection": {"points": [{"x": True, "y": 2}]}},
        {"selection": {"points": [{"x": 10**400, "y": 2}]}},
        {"selection": {"points": [{"x": float("nan"), "y": 2}]}},
        {"selection": {"points": [{"x": 1.0, "y": float("-inf")}]}},
        {"selection": {"points": [{"y": 2}]}},
    ],
)
def test_a_crafted_click_is_no_point(event):
    assert controls.clicked_point(event) is None


def test_a_click_is_its_point_x_then_y():
    assert controls.clicked_point({"selection": {"points": [{"x": 2, "y": -1.5}]}}) == (2.0, -1.5)
