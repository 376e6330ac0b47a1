"""The Algorithms page's first visit and rerun, against an empty Streamlit page in the same run.

For the empty page, the Algorithms page and (for comparison) the default Playground, each
on ``--fresh`` fresh ``streamlit run`` processes in turn, a websocket client in the
browser's place (as ``bench_app.py``) times, up to the run's ``script_finished``:

* **fresh process**: the first visit a newly started server gets (its imports, and what
  every visitor shares, built for the first time);
* **new visitor**: the first visit of a second session on that now warm process (what a
  student opening the page gets, once anyone has opened the app);
* **rerun**: that session's reruns with nothing changed, naming the messages it already
  holds as a browser does (median of ``--reruns``).

Targets: the Algorithms page's new visitor and rerun each at most 3x the empty page's
rerun. The fresh process's first visit is shown against the empty page's own.

With ``--browser N``, also in headless Chromium, against warm servers: a first visit (a
new browser context: nothing cached, every static file fetched) and a visit with the
static files cached (a second page in that context), each timed from the address being
opened to the page's last element drawn and Streamlit's running indicator gone (median
of N), for the empty page, the Algorithms page and the Playground.

    python benchmarks/bench_algorithms.py [--fresh 3] [--reruns 20] [--port 8521] [--browser 5]

A measurement, not a test: it never fails on a slow result.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests import wsclient  # noqa: E402
from tests.appserver import serve_app  # noqa: E402

EMPTY = "import streamlit as st\nst.title('Empty')\nst.write('nothing to compute')\n"
PAUSE_S = 0.2  # between reruns, as between a user's clicks


async def _visit(ws, page: str, cached: set[str]) -> float:
    t0 = time.perf_counter()
    replies = await wsclient.rerun(ws, cached=cached, page=page)
    seconds = time.perf_counter() - t0
    if wsclient.of_kind(replies, "exception"):
        raise RuntimeError(f"the page {page or '/'} raised an exception")
    return seconds


async def _measure(url: str, page: str, reruns: int) -> dict[str, float | list[float]]:
    async with wsclient.session(url) as ws:
        fresh = await _visit(ws, page, set())
    async with wsclient.session(url) as ws:
        cached: set[str] = set()
        visitor = await _visit(ws, page, cached)
        times = []
        for _ in range(reruns):
            await asyncio.sleep(PAUSE_S)
            times.append(await _visit(ws, page, cached))
    return {"fresh": fresh, "visitor": visitor, "reruns": times}


def measure(fresh: int, reruns: int, port: int | None) -> dict[str, dict[str, float]]:
    out: dict[str, dict[str, list[float]]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        empty = Path(tmp) / "empty_page.py"
        empty.write_text(EMPTY)
        cases = {
            "empty page": (empty, ""),
            "Algorithms": (ROOT / "app.py", "Algorithms"),
            "Playground, defaults": (ROOT / "app.py", ""),
        }
        for _ in range(fresh):  # the cases take turns, so that a busy moment hits all of them
            for name, (script, page) in cases.items():
                with serve_app(script, port=port) as url:
                    r = asyncio.run(_measure(url, page, reruns))
                got = out.setdefault(name, {"fresh": [], "visitor": [], "reruns": []})
                got["fresh"].append(r["fresh"])
                got["visitor"].append(r["visitor"])
                got["reruns"].extend(r["reruns"])
    return {
        name: {kind: statistics.median(values) for kind, values in r.items()}
        for name, r in out.items()
    }


# per page: the address below the server's root and the element that is drawn last
BROWSER_PAGES = {
    "empty page": ("", "text=nothing to compute"),
    "Algorithms": ("Algorithms", "text=Run to the end and checked"),
    "Playground, defaults": ("", "[data-testid=stPlotlyChart]"),
}


def browser_visits(visits: int, port: int | None) -> dict[str, dict[str, float]]:
    from playwright.sync_api import sync_playwright

    from tests.appserver import CHROMIUM_ARGS
    from ui.export import chromium_path

    def visit(page, url: str, last: str) -> float:
        t0 = time.perf_counter()
        page.goto(url)
        page.locator(last).first.wait_for(state="visible", timeout=120_000)
        page.get_by_test_id("stStatusWidget").wait_for(state="detached", timeout=120_000)
        return time.perf_counter() - t0

    out: dict[str, dict[str, list[float]]] = {}
    with tempfile.TemporaryDirectory() as tmp, contextlib.ExitStack() as stack:
        empty = Path(tmp) / "empty_page.py"
        empty.write_text(EMPTY)
        urls = {
            "empty page": stack.enter_context(serve_app(empty, port=port)),
            "app": stack.enter_context(serve_app(ROOT / "app.py", port=port and port + 1)),
        }
        pw = stack.enter_context(sync_playwright())
        browser = pw.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        for name, (path, last) in BROWSER_PAGES.items():  # warm the servers once
            ctx = browser.new_context()
            visit(ctx.new_page(), f"{urls.get(name, urls['app'])}/{path}", last)
            ctx.close()
        for _ in range(visits):
            for name, (path, last) in BROWSER_PAGES.items():
                url = f"{urls.get(name, urls['app'])}/{path}"
                ctx = browser.new_context(viewport={"width": 1400, "height": 1000})
                got = out.setdefault(name, {"first": [], "cached": []})
                for kind in ("first", "cached"):  # the second finds the static files cached
                    page = ctx.new_page()
                    got[kind].append(visit(page, url, last))
                    page.close()
                ctx.close()
        browser.close()
    return {
        name: {kind: statistics.median(values) for kind, values in r.items()}
        for name, r in out.items()
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fresh", type=int, default=3, help="fresh server processes per page")
    parser.add_argument("--reruns", type=int, default=20, help="reruns per process")
    parser.add_argument("--port", type=int, default=None, help="server port (default: any free)")
    parser.add_argument("--browser", type=int, default=5, help="browser visits per page (0: none)")
    args = parser.parse_args()
    results = measure(args.fresh, args.reruns, args.port)
    base = results["empty page"]
    print(f"a real Streamlit server per page, {args.fresh} fresh processes each (medians)")
    print(
        f"{'page':<22} {'fresh process':>14} {'x empty':>8} {'new visitor':>12} {'x empty':>8}"
        f" {'rerun':>9} {'x empty':>8}"
    )
    for name, r in results.items():
        print(
            f"{name:<22} {r['fresh'] * 1e3:>12.0f}ms {r['fresh'] / base['fresh']:>7.1f}x "
            f"{r['visitor'] * 1e3:>10.0f}ms {r['visitor'] / base['reruns']:>7.1f}x "
            f"{r['reruns'] * 1e3:>7.1f}ms {r['reruns'] / base['reruns']:>7.1f}x"
        )
    print("(fresh process: x its own first visit of the empty page; the others: x its rerun)")
    algo = results["Algorithms"]
    for what, key in (("new visitor", "visitor"), ("rerun", "reruns")):
        ratio = algo[key] / base["reruns"]
        print(
            f"target: Algorithms {what} <= 3x the empty page's rerun -> {ratio:.1f}x  "
            f"{'ok' if ratio <= 3 else 'MISSED'}"
        )
    if args.browser:
        shown = browser_visits(args.browser, args.port)
        empty = shown["empty page"]
        print()
        print(f"headless Chromium, warm servers, {args.browser} visits per page (medians)")
        print(
            f"{'page':<22} {'first visit':>12} {'x empty':>8} {'cached files':>13} {'x empty':>8}"
        )
        for name, r in shown.items():
            print(
                f"{name:<22} {r['first'] * 1e3:>10.0f}ms {r['first'] / empty['first']:>7.1f}x "
                f"{r['cached'] * 1e3:>11.0f}ms {r['cached'] / empty['cached']:>7.1f}x"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
