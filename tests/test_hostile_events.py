"""A crafted client on a real server: chart-selection events no browser would send.

The Playground's map moves the start point when clicked. Its selection event arrives from
the browser as JSON text (the race chart's ``selection`` event); a hostile or broken client
can send anything there. Each such
event must be ignored: no traceback on the page, the start point unchanged (never NaN).
A real click's event, sent the same way, must still move the start (so the test can fail).
"""

from __future__ import annotations

import json

import pytest

from tests import wsclient
from tests.appserver import serve_app

HOSTILE = {
    "text that is not JSON": "not json",
    "a selection that is text": json.dumps({"selection": "x"}),
    "a selection that is a list": json.dumps({"selection": [1, 2]}),
    "an event that is a list": json.dumps([1, 2]),
    "null": "null",
    "a non-numeric x": json.dumps({"selection": {"points": [{"x": "a", "y": 1}]}}),
    "a list as x": json.dumps({"selection": {"points": [{"x": [1], "y": 1}]}}),
    "x null": json.dumps({"selection": {"points": [{"x": None, "y": 1}]}}),
    "a huge integer": json.dumps({"selection": {"points": [{"x": 10**400, "y": 1}]}}),
    "NaN": '{"selection": {"points": [{"x": NaN, "y": 1}]}}',
    "Infinity": '{"selection": {"points": [{"x": 1, "y": -Infinity}]}}',
    "a boolean": json.dumps({"selection": {"points": [{"x": True, "y": 1}]}}),
    "points not a list": json.dumps({"selection": {"points": 7}}),
    "a point that is a list": json.dumps({"selection": {"points": [[1, 2]]}}),
}
CLICK = json.dumps({"selection": {"points": [{"x": 0.5, "y": -1.25}]}})


@pytest.fixture(scope="module")
def server():
    with serve_app() as url:
        yield url


def _starts(replies) -> list[float | None]:
    """The values the Start x / Start y inputs show (None: their default)."""
    return [
        n.value if n.HasField("value") else None
        for n in wsclient.of_kind(replies, "number_input")
        if n.label.startswith("Start")
    ]


def _trigger(event: str) -> str:
    """The race chart's event payload carrying ``event``'s selection; text that is not a
    JSON object is sent as the payload itself."""
    try:
        parsed = json.loads(event)
    except ValueError:
        return event
    if not isinstance(parsed, dict):
        return event
    return json.dumps({"event": "selection", "value": parsed.get("selection")})


async def _send(url: str, event: str) -> tuple[list, list, list]:
    async with wsclient.session(url) as ws:
        first = await wsclient.rerun(ws)
        contour = next(
            c.id for c in wsclient.of_kind(first, "bidi_component") if c.id.endswith("-contour")
        )
        widgets = wsclient.component_event(contour, _trigger(event))
        after = await wsclient.rerun(ws, widgets=widgets)
        again = await wsclient.rerun(ws)  # the event stays in the session: still no harm
        return first, after, again


@pytest.mark.parametrize("event", list(HOSTILE.values()), ids=list(HOSTILE))
def test_crafted_selection_is_ignored(server, event):
    first, after, again = wsclient.run(_send(server, event))
    for replies in (after, again):
        assert not wsclient.of_kind(replies, "exception"), "the page shows a traceback"
        assert _starts(replies) == _starts(first), "the start point moved"
        assert wsclient.of_kind(replies, "bidi_component"), "the race chart is gone"


def test_a_real_click_moves_the_start(server):
    _, after, _ = wsclient.run(_send(server, CLICK))
    assert not wsclient.of_kind(after, "exception")
    assert _starts(after) == [0.5, -1.25]
