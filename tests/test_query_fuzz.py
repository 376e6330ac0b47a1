"""Malformed link values never raise: every query key the pages read, fuzzed (AppTest).

A shared link is typed, pasted, truncated and tampered with. Whatever value any key holds
(text, numbers out of range or not numbers at all, NaN, infinities, huge integers, empty,
repeated keys), each page must draw: no traceback, the charts there. The keys are those
``test_browser_links`` proves the pages read (every optimizer's, surface's and schedule's
own keys, with those chosen); the values come from hypothesis.
"""

from __future__ import annotations

import math

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from streamlit.testing.v1 import AppTest

from tests.test_browser_links import hostile_queries

APP = "../app.py"  # relative to this file, as AppTest resolves it
TEMPLATES = hostile_queries()  # every key the Playground reads, over a few queries
CHOOSERS = ("opt", "surface", "schedule", "compare", "grad")

ODD = [
    "",
    " ",
    "nan",
    "NaN",
    "-nan",
    "inf",
    "-Infinity",
    "1e309",
    "-1e400",
    "1e-400",
    "-0",
    "0x10",
    "1_000",
    "١٢",
    "true",
    "None",
    "[]",
    "{}",
    "1,2",
    "\x00",
    "\u202e1",
    "9" * 400,
    "%s%n",
    "$x$",
    "**bold**",
]
ONE = st.one_of(
    st.sampled_from(ODD),
    st.text(max_size=40),
    st.integers(min_value=-(10**40), max_value=10**40).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.floats(allow_nan=True, allow_infinity=True).map(lambda f: f"{f:.3e}"),
)
VALUE = st.one_of(ONE, st.lists(ONE, min_size=2, max_size=3))  # a key given more than once


def _query(template: dict, values: dict, keep_choosers: bool) -> dict:
    out = {}
    for key, original in template.items():
        if keep_choosers and key in CHOOSERS:
            out[key] = original  # the chosen ones, so their own keys are read
        else:
            out[key] = values.get(key, original)
    return out


def _check(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]
    for number in at.number_input:
        value = number.value
        assert value is None or math.isfinite(value), f"{number.label}: {value}"


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    derandomize=True,  # a failure shows the same example on every run
)
@given(
    template=st.sampled_from(TEMPLATES),
    values=st.dictionaries(
        st.sampled_from(sorted({k for t in TEMPLATES for k in t})), VALUE, max_size=40
    ),
    keep_choosers=st.booleans(),
)
def test_playground_draws_whatever_the_link_holds(template, values, keep_choosers):
    at = AppTest.from_file(APP, default_timeout=120)
    at.query_params = _query(template, values, keep_choosers)
    at.run()
    _check(at)
    assert at.get("plotly_chart") or at.get("bidi_component"), "the charts are drawn"


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(values=st.dictionaries(st.sampled_from(["classroom", "opt", "steps", "lr"]), VALUE))
def test_algorithms_draws_whatever_the_link_holds(values):
    at = AppTest.from_file(APP, default_timeout=120).run()
    at.query_params = values
    at.switch_page("app_pages/algorithms.py").run()
    _check(at)
    assert at.get("plotly_chart") or at.markdown, "the page is drawn"
