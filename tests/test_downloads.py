"""Downloads made on demand, on a server shared by a class.

A download button whose file is handed over when pressed (a CSV, a made PNG) gives the
browser an address that the browser then fetches. That file must still be there when the
browser comes for it, however many other students rerun in between, and go away once its
own session has moved on (runs again). Five students making a PNG at the same moment
each get one.
"""

from __future__ import annotations

import asyncio
import urllib.error
import urllib.request

import pytest

from tests import wsclient
from tests.appserver import serve_app


@pytest.fixture(scope="module")
def server():
    with serve_app() as url:
        yield url


def _status(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=60) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as err:
        return err.code, b""


def _deferred(replies, label: str) -> str:
    """The file id of the download button ``label`` (its size may follow: "…, 0.1 MB")."""
    for button in wsclient.of_kind(replies, "download_button"):
        if button.label == label or button.label.startswith(f"{label}, "):
            assert button.deferred_file_id, f"{label}: made on demand"
            return button.deferred_file_id
    raise LookupError(f"no download button {label!r}")


async def _late_fetch(url: str) -> list[tuple[int, bytes]]:
    """Prepare the CSV in one session; fetch it after others rerun; then after its own."""
    statuses = []
    async with wsclient.session(url) as mine, wsclient.session(url) as other:
        first = await wsclient.rerun(mine)
        await wsclient.rerun(other)
        sid = wsclient.session_id(first)
        address = await wsclient.prepare_download(mine, sid, _deferred(first, "Trajectories (CSV)"))
        for _ in range(3):  # every run's end clears files nobody uses
            await wsclient.rerun(other)
        statuses.append(await asyncio.to_thread(_status, url + address))
        # pressed again: made again, same content
        again = await wsclient.prepare_download(
            mine, sid, _deferred(first, "Trajectories (CSV)"), "dl2"
        )
        statuses.append(await asyncio.to_thread(_status, url + again))
        # its own session moves on: the file is released, and gone after the clean-ups
        await wsclient.rerun(mine)
        for _ in range(2):
            await wsclient.rerun(other)
        statuses.append(await asyncio.to_thread(_status, url + address))
    return statuses


def test_a_prepared_download_outlives_other_sessions_reruns(server):
    (late, late_body), (again, again_body), (after_own_rerun, _) = wsclient.run(_late_fetch(server))
    assert late == 200, "the file was gone before the browser fetched it"
    assert late_body.startswith(b"optimizer,step,x,y,loss"), "the CSV itself"
    assert (again, again_body) == (200, late_body)
    assert after_own_rerun == 404, "a session's prepared files are released when it reruns"


def _button(replies, label: str) -> str:
    for button in wsclient.of_kind(replies, "button"):
        if button.label == label:
            return button.id
    raise LookupError(f"no button {label!r}")


async def _five_png(url: str) -> list[tuple[int, bytes]]:
    async with (
        wsclient.session(url) as a,
        wsclient.session(url) as b,
        wsclient.session(url) as c,
        wsclient.session(url) as d,
        wsclient.session(url) as e,
    ):
        sessions = [a, b, c, d, e]
        firsts = [await wsclient.rerun(ws) for ws in sessions]
        # all five press "Make" at once: each run waits its turn for the renderer
        made = await asyncio.gather(
            *(
                wsclient.rerun(ws, widgets=wsclient.pressed(_button(first, "Make Contour (PNG)")))
                for ws, first in zip(sessions, firsts, strict=True)
            )
        )
        addresses = [
            await wsclient.prepare_download(
                ws, wsclient.session_id(first), _deferred(after, "Contour (PNG)")
            )
            for ws, first, after in zip(sessions, firsts, made, strict=True)
        ]
        return [await asyncio.to_thread(_status, url + a) for a in addresses]


@pytest.mark.browser
@pytest.mark.usefixtures("chromium_executable")
def test_five_sessions_export_a_png_at_once(server):
    got = wsclient.run(_five_png(server))
    assert [status for status, _ in got] == [200] * 5
    assert all(body.startswith(b"\x89PNG\r\n\x1a\n") for _, body in got)
