"""Server-side cost of a Playground rerun, against an empty Streamlit page measured in the same run.

Two measures, each for the empty page, the default Playground and 6 optimizers x 1,000
steps:

* **server** (what the targets are about): a real ``streamlit run`` server per page on
  a loopback port, and a websocket client in the browser's place. The client asks for a
  rerun with nothing changed, names the large messages it already holds (as the browser
  does, so unchanged charts come back as references), and stops the clock at the run's
  ``script_finished`` message. That is everything the server does for a rerun: the
  session, the script, serialising and sending, and Streamlit's garbage collection
  after every run (``runner.postScriptGC``), which holds the GIL and so delays the run's
  last messages. A pause between reruns stands for the gap between a user's slider
  moves. Median over ``--reruns``.
* **script** (AppTest, in this process): the page script's own Python work with warm
  caches, none of the server's. It shows what is left for the page itself to shrink;
  the empty page's script is almost nothing, so this ratio is large by nature.

Also printed: the first run in a fresh session, the bytes sent, the size of each
figure's JSON, and a classroom burst: ``--class-size`` sessions of one server rerun at
the same moment (a class moving a slider together) and the clock stops when the last
one is done.

Targets: a default rerun at most 1x the empty page's; 6 optimizers x 1,000 steps
rerun under 150 ms; the figure of 8 runs x 2,000 steps at most 1 MB of JSON.

    python benchmarks/bench_app.py [--reruns 30] [--repeat 9]

This is a measurement, not a test: it never fails on a slow result.
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
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from streamlit.testing.v1 import AppTest  # noqa: E402

import optim  # noqa: E402
from tests import wsclient  # noqa: E402
from tests.appserver import serve_app  # noqa: E402

EMPTY = "import streamlit as st\nst.title('Empty')\nst.write('nothing to compute')\n"
# The same page with the Playground's heap freezing (ui.nav.settle_heap): the floor
# of a rerun once Streamlit's after-run collection is cheap, for a fair look at the rest.
EMPTY_FROZEN = "from ui.nav import settle_heap\nsettle_heap()\n" + EMPTY
PAUSE_S = 0.2  # between reruns, as between a user's slider moves


# -- server: a websocket client in the browser's place ---------------------------------------
async def _rerun(ws, query: str, cached: set[str]) -> tuple[float, int]:
    """One rerun: seconds until ``script_finished``, and the bytes the server sent."""
    t0 = time.perf_counter()
    replies = await wsclient.rerun(ws, query, cached=cached)
    seconds = time.perf_counter() - t0
    for reply in replies:
        if reply.WhichOneof("type") == "session_event" and reply.session_event.HasField(
            "script_compilation_exception"
        ):
            raise RuntimeError("the page did not compile")
    return seconds, sum(reply.ByteSize() for reply in replies)


async def _server_reruns(url: str, query: str, reruns: int) -> dict:
    async with wsclient.session(url) as ws:
        cached: set[str] = set()
        first, first_bytes = await _rerun(ws, query, cached)
        times, sent = [], 0
        for _ in range(reruns):
            await asyncio.sleep(PAUSE_S)
            t, sent = await _rerun(ws, query, cached)
            times.append(t)
    return {
        "first": first,
        "rerun": statistics.median(times),
        "best": min(times),
        "first_kB": first_bytes / 1024,
        "rerun_kB": sent / 1024,
    }


async def _class_burst(url: str, query: str, size: int, bursts: int = 3) -> float:
    """``size`` sessions rerun at the same moment: median seconds until the last one is done."""
    async with contextlib.AsyncExitStack() as stack:
        sessions = [await stack.enter_async_context(wsclient.session(url)) for _ in range(size)]
        caches: list[set[str]] = [set() for _ in sessions]
        await asyncio.gather(
            *(_rerun(ws, query, c) for ws, c in zip(sessions, caches, strict=True))
        )
        times = []
        for _ in range(bursts):
            await asyncio.sleep(PAUSE_S)
            t0 = time.perf_counter()
            await asyncio.gather(
                *(_rerun(ws, query, c) for ws, c in zip(sessions, caches, strict=True))
            )
            times.append(time.perf_counter() - t0)
    return statistics.median(times)


def server_side(cases: dict[str, dict | str], reruns: int, class_size: int) -> dict[str, dict]:
    out = {}
    with tempfile.TemporaryDirectory() as tmp:
        pages = {}
        for page, text in (("empty", EMPTY), ("frozen", EMPTY_FROZEN)):
            pages[page] = Path(tmp) / f"{page}_page.py"
            pages[page].write_text(text)
        for name, query in cases.items():
            script = ROOT / "app.py" if isinstance(query, dict) else pages[query]
            with serve_app(script) as url:
                qs = urlencode(query, doseq=True) if isinstance(query, dict) else ""
                asyncio.run(_server_reruns(url, qs, 2))  # the process's first runs: imports
                out[name] = asyncio.run(_server_reruns(url, qs, reruns))
                out[name]["class"] = asyncio.run(_class_burst(url, qs, class_size))
    return out


# -- script: AppTest, this process ----------------------------------------------------------
def app(query: dict | None) -> AppTest:
    if query is None:
        return AppTest.from_string(EMPTY, default_timeout=120)
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.query_params = dict(query)
    return at


def script_side(query: dict | None, repeat: int) -> dict:
    at = app(query)
    t0 = time.perf_counter()
    at.run()
    first = time.perf_counter() - t0
    if at.exception:
        raise RuntimeError(at.exception[0].value)
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        at.run()
        times.append(time.perf_counter() - t0)
    sizes = {el.proto.id.rsplit("-", 1)[-1]: len(el.proto.spec) for el in at.get("plotly_chart")}
    # the race chart is a component of its own (ui/race_chart.py): its figure, as sent
    for el in at.get("bidi_component"):
        if el.proto.component_name == "race_chart":
            sizes[el.proto.id.rsplit("-", 1)[-1]] = len(el.proto.bytes)
    return {"first": first, "rerun": statistics.median(times), "best": min(times), "sizes": sizes}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reruns", type=int, default=30, help="server reruns per page")
    parser.add_argument("--repeat", type=int, default=9, help="AppTest reruns per page")
    parser.add_argument(
        "--class-size", type=int, default=60, help="sessions that rerun at the same moment"
    )
    args = parser.parse_args()
    six = list(optim.OPTIMIZERS)[:6]
    # the largest race: eight runs (the seven classics and Lion) at their own rates
    eight = [optim.OPTIMIZERS[n].label for n in list(optim.OPTIMIZERS)[:7]] + ["Lion"]
    # a query for the Playground; "empty" or "frozen" for the two empty pages
    cases: dict[str, dict | str] = {
        "empty page": "empty",
        "empty page, heap frozen": "frozen",
        "Playground, defaults": {},
        "Playground, 6 x 1,000 steps": {"opt": six, "steps": "1000"},
        "Playground, 8 x 2,000 steps": {"run": eight, "steps": "2000", "compare": "own"},
    }
    server = server_side(cases, args.reruns, args.class_size)
    script = {
        name: script_side(None if q == "empty" else q, args.repeat)
        for name, q in cases.items()
        if q != "frozen"  # in this process the freeze is the test process's, not a page's
    }

    print("server: a real Streamlit server, websocket client in the browser's place")
    print(
        f"{'case':<30} {'first run':>10} {'rerun':>9} {'best':>7} {'x empty':>8}"
        f" {'sent: first':>12} {'rerun':>9} {'class of ' + str(args.class_size):>13}"
    )
    base = server["empty page"]["rerun"]
    for name, r in server.items():
        print(
            f"{name:<30} {r['first'] * 1e3:>8.0f}ms {r['rerun'] * 1e3:>7.1f}ms "
            f"{r['best'] * 1e3:>5.1f}ms {r['rerun'] / base:>7.1f}x "
            f"{r['first_kB']:>10.0f}kB {r['rerun_kB']:>7.0f}kB {r['class']:>12.2f}s"
        )
    print(
        f"(class of {args.class_size}: that many sessions rerun at the same moment; "
        "seconds until the last one is done)"
    )
    print()
    print("script: the page's own Python work (AppTest, warm caches, no server)")
    print(
        f"{'case':<30} {'first run':>10} {'rerun':>9} {'best':>7} {'x empty':>8}  figure JSON (kB)"
    )
    script_base = script["empty page"]["rerun"]
    for name, r in script.items():
        sizes = ", ".join(f"{k} {v / 1024:.0f}" for k, v in r["sizes"].items()) or "-"
        print(
            f"{name:<30} {r['first'] * 1e3:>8.0f}ms {r['rerun'] * 1e3:>7.1f}ms "
            f"{r['best'] * 1e3:>5.1f}ms {r['rerun'] / script_base:>7.1f}x  {sizes}"
        )
    print("(rerun: median; best: the fastest; x empty: median against median)")

    default_ratio = server["Playground, defaults"]["rerun"] / base
    big = server["Playground, 6 x 1,000 steps"]["rerun"]
    floor = server["Playground, defaults"]["rerun"] / server["empty page, heap frozen"]["rerun"]
    print()
    print(
        f"target: default rerun <= 1x empty page (server)   -> {default_ratio:.1f}x  "
        f"{'ok' if default_ratio <= 1 else 'MISSED'}"
    )
    print(f"        (against the empty page with its heap frozen too: {floor:.1f}x)")
    print(
        f"target: 6 x 1,000 rerun < 150 ms (server)         -> {big * 1e3:.0f} ms  "
        f"{'ok' if big < 0.150 else 'MISSED'}"
    )
    biggest = max(script["Playground, 8 x 2,000 steps"]["sizes"].values())
    print(
        f"target: figure JSON of 8 x 2,000 <= 1 MB          -> {biggest / 1e6:.2f} MB  "
        f"{'ok' if biggest <= 1e6 else 'MISSED'}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
