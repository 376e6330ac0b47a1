"""A student's first visit: what it costs the server, and what it downloads.

* **server CPU per cold visit**: one ``streamlit run`` process for the Playground and one
  for an empty page (same settings), visited in turns by a fresh Chromium context each
  time (no cache, no cookies: a student's first visit). The clock is the server
  process's own CPU time (``/proc``: user + system, its children included) from the
  visit's start to its network going quiet with the chart drawn. Each server is warmed
  by ``--warm`` visits first (what every student gets identically is built once per
  process); then the median of ``--visits``. Target: at most 1.3x the empty page's.
* **bytes per cold visit**: the same visit through ``make serve`` (HAProxy in front:
  compressed, cached static files, a compressed websocket), counted by HAProxy as the
  bytes its frontend sent to the student (HTTP and websocket, as on the wire), and
  straight to Streamlit as Chromium counts them (HTTP as sent, websocket frames as
  decoded). Target: at most 3 MB through ``make serve``.

    python benchmarks/bench_first_load.py [--visits 9] [--warm 3]

Run it alone (it starts Chromium; its CPU figures are the server's). A measurement, not a
test: it never fails on a slow result.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.appserver import CHROMIUM_ARGS, free_port, serve_app  # noqa: E402
from ui.export import chromium_path  # noqa: E402

sys.path.insert(0, str(ROOT / "deploy"))
import serve  # noqa: E402

EMPTY = "import streamlit as st\nst.title('Empty')\nst.write('nothing to compute')\n"
TIMEOUT_MS = 120_000
CLK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User + system CPU of ``pid`` and its waited-for children, in seconds."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return sum(int(fields[i]) for i in (11, 12, 13, 14)) / CLK


def server_pid(url: str) -> int:
    """The pid listening on the url's port (the streamlit process)."""
    port = int(url.rsplit(":", 1)[1].split("/")[0])
    out = subprocess.run(["ss", "-Hltnp", f"sport = :{port}"], capture_output=True, text=True)
    return int(out.stdout.split("pid=", 1)[1].split(",", 1)[0])


def frontend_bytes(control: str) -> int:
    """Bytes HAProxy's frontend has sent to clients so far (``show stat``'s ``bout``)."""
    for r in serve.show_stat(control):
        if r["svname"] == "FRONTEND" and r["pxname"] == "playground":
            return int(r["bout"])
    raise RuntimeError("no playground frontend in HAProxy's stats")


def visit(browser, url: str, app: bool, control: str | None = None) -> dict:
    """One cold visit: seconds until drawn and quiet, bytes received over HTTP and websocket."""
    ctx = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = ctx.new_page()
    cdp = ctx.new_cdp_session(page)
    cdp.send("Network.enable")
    http: dict[str, int] = {}
    ws = {"bytes": 0}
    cdp.on(
        "Network.loadingFinished",
        lambda e: http.__setitem__(e["requestId"], e["encodedDataLength"]),
    )

    def frame(e: dict) -> None:
        # payloads of binary frames arrive base64-encoded: 3 bytes per 4 characters
        data = e["response"]["payloadData"]
        ws["bytes"] += len(data) * 3 // 4 if e["response"]["opcode"] == 2 else len(data)

    cdp.on("Network.webSocketFrameReceived", frame)
    sent0 = frontend_bytes(control) if control else 0
    t0 = time.perf_counter()
    page.goto(url)
    if app:
        page.locator(".st-key-contour .js-plotly-plot").wait_for(timeout=TIMEOUT_MS)
        page.wait_for_function(
            "() => document.querySelectorAll('.js-plotly-plot .main-svg').length >= 3",
            timeout=TIMEOUT_MS,
        )
    else:
        page.get_by_role("heading", name="Empty").wait_for(timeout=TIMEOUT_MS)
    page.get_by_test_id("stStatusWidget").wait_for(state="detached", timeout=TIMEOUT_MS)
    page.wait_for_load_state("networkidle", timeout=TIMEOUT_MS)
    seconds = time.perf_counter() - t0
    time.sleep(0.5)  # the last frames reach HAProxy's counters
    sent = frontend_bytes(control) - sent0 if control else None
    ctx.close()
    return {
        "s": seconds,
        "http": sum(http.values()),
        "ws": ws["bytes"],
        "requests": len(http),
        "sent": sent,
    }


@contextlib.contextmanager
def make_serve(
    workers: int, script: Path = ROOT / "app.py"
) -> Iterator[tuple[str, list[int], str]]:
    """``deploy/serve.py`` (what ``make serve`` runs) on a free loopback port: its URL,
    its workers' pids and HAProxy's control socket."""
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, str(ROOT / "deploy" / "serve.py"), "--workers", str(workers)]
        + ["--port", str(port), "--address", "127.0.0.1", "--app", str(script)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    pids = []
    try:
        for line in proc.stdout:
            if " pid " in line and line.startswith("serve: worker"):
                pids.append(int(line.split(" pid ")[1].split()[0]))
            if "control socket" in line:
                control = line.split("control socket ", 1)[1].split()[0]
                break
        else:
            raise RuntimeError("make serve did not start")
        yield f"http://127.0.0.1:{port}", pids, control
    finally:
        os.killpg(proc.pid, signal.SIGINT)
        proc.wait(timeout=60)


def cpu_per_visit(
    browser, url: str, app: bool, warm: int, visits: int, pid: int | None = None
) -> list[float]:
    pid = pid or server_pid(url)
    for _ in range(warm):
        visit(browser, url, app)
    out = []
    for _ in range(visits):
        time.sleep(0.5)  # the previous session's teardown is not this visit's cost
        c0 = cpu_seconds(pid)
        visit(browser, url, app)
        out.append(cpu_seconds(pid) - c0)
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--visits", type=int, default=9)
    ap.add_argument("--warm", type=int, default=3)
    args = ap.parse_args()
    browser_path = chromium_path()
    if browser_path is None:
        print("No Chromium found (set CHROMIUM_PATH); nothing measured.")
        return 1
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as p:
        empty = Path(tmp) / "empty_page.py"
        empty.write_text(EMPTY)
        browser = p.chromium.launch(executable_path=browser_path, args=CHROMIUM_ARGS, headless=True)
        # the deployment: static files from HAProxy's cache, the worker does the rest
        with make_serve(1, empty) as (url, (pid,), _):
            lb_empty = cpu_per_visit(browser, url, False, args.warm, args.visits, pid)
        with make_serve(1) as (url, (pid,), control):
            cold = visit(browser, url, True, control)  # fills HAProxy's cache
            through = visit(browser, url, True, control)
            lb_app = cpu_per_visit(browser, url, True, args.warm, args.visits, pid)
        # one Streamlit process alone, serving its static files itself
        with serve_app(empty) as empty_url, serve_app() as app_url:
            cpu_empty = cpu_per_visit(browser, empty_url, False, args.warm, args.visits)
            cpu_app = cpu_per_visit(browser, app_url, True, args.warm, args.visits)
            direct = visit(browser, app_url, True)
        browser.close()

    print(
        "server CPU per cold visit (fresh browser context, median of "
        f"{args.visits}, after {args.warm} warm-up visits; /proc ticks of {1e3 / CLK:.0f} ms)"
    )
    ratios = {}
    for where, empty_cpu, app_cpu in (
        ("make serve (WORKERS=1): the worker", lb_empty, lb_app),
        ("one streamlit process, static files too", cpu_empty, cpu_app),
    ):
        e, a = statistics.median(empty_cpu), statistics.median(app_cpu)
        ratios[where] = a / e
        print(f"  {where}")
        for name, v, all_ in (("empty page", e, empty_cpu), ("Playground", a, app_cpu)):
            runs = ", ".join(f"{c * 1e3:.0f}" for c in all_)
            print(f"    {name:<12} {v * 1e3:6.0f} ms   (all: {runs})")
        print(f"    ratio        {a / e:6.2f}x")
    ratio = ratios["make serve (WORKERS=1): the worker"]
    print(f"  target: <= 1.3x (make serve) -> {ratio:.2f}x  {'ok' if ratio <= 1.3 else 'MISSED'}")
    print()
    print("bytes per cold visit")
    for name, v in (
        ("straight to Streamlit", direct),
        ("make serve, cache cold", cold),
        ("make serve, cache warm", through),
    ):
        total = (v["sent"] if v["sent"] is not None else v["http"] + v["ws"]) / 1e6
        how = "as HAProxy sent them" if v["sent"] is not None else "as Chromium counts them"
        print(
            f"  {name:<24} {total:6.3f} MB {how}  (Chromium: HTTP {v['http'] / 1e6:.2f} MB in "
            f"{v['requests']} requests, websocket {v['ws'] / 1e6:.2f} MB decoded; {v['s']:.1f} s)"
        )
    total = through["sent"] / 1e6
    print(
        f"  target: <= 3 MB through make serve -> {total:.3f} MB  {'ok' if total <= 3 else 'MISSED'}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
