"""`make serve WORKERS=2`: two app processes behind HAProxy, driven by real browsers.

One ``make serve`` on a free loopback port for the module. Two students (two browser
contexts, as two machines behind one school address) must land on different workers,
each keeping its page, its websocket and its reruns on the worker its cookie names;
the page must work through the balancer (chart drawn, a slider redraws it), and the
static files come compressed and, the second time, from HAProxy's cache. Ctrl-C on
``make serve`` must leave no process behind.
"""

from __future__ import annotations

import contextlib
import gzip
import os
import re
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect

from tests.appserver import ARTIFACTS, ROOT, free_port
from tests.test_browser import SIGNATURE, open_page, trajectory_signature

sys.path.insert(0, str(ROOT / "deploy"))
import serve  # noqa: E402

pytestmark = pytest.mark.browser
LONG = 90_000


def _children(pid: int) -> set[int]:
    """Every living descendant of ``pid`` (from /proc)."""
    parents: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                stat = (entry / "stat").read_text()
                ppid = int(stat.rsplit(")", 1)[1].split()[1])
                parents.setdefault(ppid, []).append(int(entry.name))
    out, todo = set(), [pid]
    while todo:
        for child in parents.get(todo.pop(), []):
            out.add(child)
            todo.append(child)
    return out


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


class Served:
    def __init__(self, proc: subprocess.Popen, url: str, lines: list[str]) -> None:
        self.proc, self.url, self.lines = proc, url, lines
        text = "\n".join(lines)
        self.workers = {m[0]: int(m[1]) for m in re.findall(r"worker (w\d+) pid (\d+)", text)}
        self.control = re.search(r"control socket (\S+)", text)[1]

    def stat(self) -> dict[str, dict[str, str]]:
        """HAProxy's ``show stat`` for the app's workers: name -> column -> value."""
        table = serve.show_stat(self.control)
        return {r["svname"]: r for r in table if r["pxname"] == "streamlit"}


@pytest.fixture(scope="module")
def served() -> Iterator[Served]:
    port = free_port()
    ARTIFACTS.mkdir(exist_ok=True)
    venv = Path(sys.prefix)
    # the test's own interpreter stands for .venv; its packages are installed already
    cmd = ["make", "-s", "-o", f"{venv}/.run-deps", "serve", "WORKERS=2", f"PORT={port}"]
    cmd += ["ADDRESS=127.0.0.1", f"VENV={venv}"]
    proc = subprocess.Popen(
        cmd,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,  # a terminal of its own: Ctrl-C reaches make and serve.py
    )
    lines: list[str] = []
    deadline = time.monotonic() + 180
    while not any("control socket" in line for line in lines):
        line = proc.stdout.readline()
        if not line:
            pytest.fail("make serve stopped:\n" + "".join(lines))
        lines.append(line)
        if time.monotonic() > deadline:
            os.killpg(proc.pid, signal.SIGKILL)
            pytest.fail("make serve did not start within 180 s:\n" + "".join(lines))
    served = Served(proc, f"http://127.0.0.1:{port}", lines)
    try:
        yield served
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            for pid in served.workers.values():
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(pid, signal.SIGKILL)
            proc.wait()


def test_two_students_get_two_workers_and_keep_them(served, browser: Browser, artifacts):
    contexts = [browser.new_context(viewport={"width": 1400, "height": 1000}) for _ in "ab"]
    try:
        pages = [c.new_page() for c in contexts]
        for page in pages:
            open_page(page, served.url)
        cookies = [
            {c["name"]: c["value"] for c in ctx.cookies()}.get("op_worker") for ctx in contexts
        ]
        assert sorted(cookies) == ["w1", "w2"], f"one student a worker, by cookie: {cookies}"
        stat = served.stat()
        # each worker holds exactly one open connection: its student's websocket
        assert {w: int(stat[w]["scur"]) for w in ("w1", "w2")} == {"w1": 1, "w2": 1}
        assert all(stat[w]["status"] == "UP" for w in ("w1", "w2")), "health checks"

        # the page works through the balancer: a slider redraws the chart, on the same worker
        page = pages[0]
        before = trajectory_signature(page)
        served_before = {w: int(stat[w]["stot"]) for w in ("w1", "w2")}
        noise = page.get_by_role("slider", name="Gradient noise (std)")
        noise.focus()
        noise.press("End")  # the noisiest gradients: every path ends elsewhere
        page.wait_for_function(f"(b) => ({SIGNATURE})() !== b", arg=before, timeout=LONG)
        expect(page.get_by_test_id("stStatusWidget")).to_have_count(0, timeout=LONG)
        stat = served.stat()
        assert {w: int(stat[w]["scur"]) for w in ("w1", "w2")} == {"w1": 1, "w2": 1}
        # the rerun stayed on the first student's worker: the other one saw nothing of it
        other = "w2" if cookies[0] == "w1" else "w1"
        assert int(stat[other]["stot"]) == served_before[other]
        page.screenshot(path=str(artifacts / "serve-two-workers.png"), full_page=True)
    finally:
        for c in contexts:
            c.close()


def _get(url: str) -> tuple[dict, bytes]:
    req = urllib.request.Request(url, headers={"Accept-Encoding": "gzip"})
    with urllib.request.urlopen(req, timeout=30) as r:
        return {k.lower(): v for k, v in r.headers.items()}, r.read()


def _worker_requests(served) -> int:
    """Requests the workers have answered so far (HAProxy's count; health checks aside)."""
    return sum(int(row["stot"]) for name, row in served.stat().items() if name != "BACKEND")


def test_static_files_come_compressed_and_from_the_balancer(served):
    _, index = _get(served.url + "/")
    html = gzip.decompress(index).decode()
    script = re.search(r'src="\./(static/js/[^"]+\.js)"', html)[1]
    before = _worker_requests(served)
    headers, body = _get(f"{served.url}/{script}")
    assert headers.get("content-encoding") == "gzip"
    assert "immutable" in headers.get("cache-control", "")
    raw = (serve.streamlit_static() / script.removeprefix("static/")).read_bytes()
    assert gzip.decompress(body) == raw
    # compressed once, tighter than gzip -9 (HAProxy's own compressor makes ~50 % more)
    assert len(body) <= len(gzip.compress(raw, compresslevel=9))
    again, body_again = _get(f"{served.url}/{script}")
    assert body_again == body and again.get("content-encoding") == "gzip"
    assert _worker_requests(served) == before, "scripts come from HAProxy, not a worker"
    # a browser that takes no gzip still gets the file, from a worker
    with urllib.request.urlopen(f"{served.url}/{script}", timeout=30) as r:
        assert r.read() == raw and r.headers.get("content-encoding") is None
    # the race chart's plotly.js (the app's own static folder) comes the same way
    [(url, source)] = serve.app_static().items()
    count = _worker_requests(served)
    headers, body = _get(served.url + url)
    assert headers.get("content-encoding") == "gzip" and "immutable" in headers["cache-control"]
    assert gzip.decompress(body) == source.read_bytes()
    assert _worker_requests(served) == count, "plotly.js comes from HAProxy, not a worker"
    # fonts (compressed already): the first request reaches a worker, the next the cache
    font = sorted((serve.streamlit_static() / "media").glob("*.woff2"))[0]
    url = f"{served.url}/static/media/{font.name}"
    first = _get(url)[1]
    count = _worker_requests(served)
    assert _get(url)[1] == first == font.read_bytes()
    assert _worker_requests(served) == count, "the second fetch came from HAProxy's cache"


def test_ctrl_c_stops_everything(served):
    """Last in this module: Ctrl-C, as a terminal sends it, leaves no process behind."""
    tree = _children(served.proc.pid)
    for pid in served.workers.values():
        tree |= {pid} | _children(pid)
    assert len(served.workers) == 2 and tree
    os.killpg(served.proc.pid, signal.SIGINT)
    served.proc.wait(timeout=60)
    deadline = time.monotonic() + 10
    while (left := [p for p in tree if _alive(p)]) and time.monotonic() < deadline:
        time.sleep(0.2)  # waiting for the kernel to reap what was stopped
    assert left == [], f"left running after Ctrl-C: {left}"
