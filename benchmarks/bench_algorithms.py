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

    python benchmarks/bench_algorithms.py [--fresh 3] [--reruns 20] [--port 8521]

A measurement, not a test: it never fails on a slow result.
"""

from __future__ import annotations

import argparse
import asyncio
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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fresh", type=int, default=3, help="fresh server processes per page")
    parser.add_argument("--reruns", type=int, default=20, help="reruns per process")
    parser.add_argument("--port", type=int, default=None, help="server port (default: any free)")
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
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
