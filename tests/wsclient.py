"""A browser's part of a Streamlit session, over the websocket, without a browser.

It sends what a browser sends (a rerun request with the page's query and widget states)
and collects what the server answers until the run finishes. Crafted widget states, which
no real browser would send, are how the tests play a hostile client.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import socket
from collections.abc import AsyncIterator, Iterable, Iterator
from urllib.parse import urlsplit

from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from streamlit.proto.WidgetStates_pb2 import WidgetStates
from websockets.asyncio.client import connect


@contextlib.asynccontextmanager
async def session(url: str) -> AsyncIterator:
    """One browser session: a websocket to the app's stream."""
    host = urlsplit(url).netloc
    # no keepalive pings: on a loaded machine a late pong would drop a slow session
    async with connect(
        f"ws://{host}/_stcore/stream",
        subprotocols=["streamlit"],
        origin=url,
        max_size=None,
        ping_interval=None,
    ) as ws:
        ws.transport.get_extra_info("socket").setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        yield ws


def component_event(component_id: str, payload: str) -> WidgetStates:
    """The widget states a component sends with an event: its (empty) state and the
    event's payload (JSON text) on its trigger widget."""
    states = WidgetStates()
    state = states.widgets.add()
    state.id = component_id
    state.json_value = "{}"
    trigger = states.widgets.add()
    trigger.id = f"$$STREAMLIT_INTERNAL_KEY_{component_id}__events"
    trigger.json_trigger_value = payload
    return states


def pressed(button_id: str) -> WidgetStates:
    """Widget states in which one button was pressed, as a click sends them."""
    states = WidgetStates()
    w = states.widgets.add()
    w.id = button_id
    w.trigger_value = True
    return states


async def rerun(
    ws,
    query: str = "",
    widgets: WidgetStates | None = None,
    cached: set[str] | None = None,
    page: str = "",
) -> list[ForwardMsg]:
    """One rerun; every message the server sent for it, up to ``script_finished``.

    ``cached``: the message hashes this client holds; sent with the request and, as a
    browser does, extended with every cacheable message the server sends back. ``page``:
    the page's address (``"Algorithms"``), the landing page when empty.
    """
    msg = BackMsg()
    msg.rerun_script.query_string = query
    msg.rerun_script.page_name = page
    if widgets is not None:
        msg.rerun_script.widget_states.CopyFrom(widgets)
    if cached:
        msg.rerun_script.cached_message_hashes.extend(sorted(cached))
    await ws.send(msg.SerializeToString())
    replies = []
    while True:
        reply = ForwardMsg()
        reply.ParseFromString(await ws.recv())
        replies.append(reply)
        if cached is not None and reply.metadata.cacheable and reply.hash:
            cached.add(reply.hash)
        if reply.WhichOneof("type") == "script_finished":
            return replies


def elements(replies: Iterable[ForwardMsg]) -> Iterator:
    """The page elements a run drew, in order."""
    for m in replies:
        if m.WhichOneof("type") == "delta" and m.delta.WhichOneof("type") == "new_element":
            yield m.delta.new_element


def of_kind(replies: Iterable[ForwardMsg], kind: str) -> list:
    """The payloads of one kind of element (``"exception"``, ``"number_input"``, …)."""
    return [getattr(e, kind) for e in elements(replies) if e.WhichOneof("type") == kind]


def session_id(replies: Iterable[ForwardMsg]) -> str:
    """The server's id of this session (the browser names it in backend requests)."""
    for m in replies:
        if m.WhichOneof("type") == "new_session":
            return m.new_session.initialize.session_id
    raise LookupError("no new_session message in these replies")


async def prepare_download(ws, session: str, file_id: str, request_id: str = "dl") -> str:
    """Press a download button whose data is made on demand: the address of the file the
    server made (``/media/...``), as the browser gets it before fetching it."""
    msg = BackMsg()
    req = msg.backend_operation_request
    req.request_id, req.session_id = request_id, session
    req.deferred_file.file_id = file_id
    await ws.send(msg.SerializeToString())
    while True:
        reply = ForwardMsg()
        reply.ParseFromString(await ws.recv())
        if reply.WhichOneof("type") != "backend_operation_response":
            continue
        answer = reply.backend_operation_response
        if answer.request_id != request_id:
            continue
        if answer.error_msg:
            raise RuntimeError(answer.error_msg)
        return answer.deferred_file.url


def run(coroutine):
    """``asyncio.run`` in a thread of its own: Playwright's sync API (the browser tests'
    fixtures) keeps an event loop running in the main thread for the whole test session,
    where ``asyncio.run`` refuses to start another."""
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coroutine).result()
