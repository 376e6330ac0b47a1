"""What a typed formula costs: its own answer, and the other sessions of the same server.

Two figures, each against a reference measured in the same run:

* **answer**: wall time of ``surface_from_expression`` for ordinary formulas through the
  worker processes, against the same symbolic work done in this process
  (``optim.expression.analyse``, what the server did before). Each repeat uses a new text
  (a tiny extra term), so no cache answers.
* **others**: the pace of a pure-Python loop in a second thread (standing for every other
  session of the server) while a formula that SymPy needs about a minute for is submitted,
  as a share of its pace with nothing else running. Through the workers the formula is
  refused after the 1 s limit; the reference runs the same work in a thread of a child
  process (it cannot be stopped otherwise) for 3 s.

* **server**: two sessions on one real ``streamlit run`` server, over the websocket as a
  browser talks to it. Session B moves the Steps slider (a rerun every 0.2 s); its rerun
  times while session A opens a link with a slow formula, against B's rerun times with A
  idle, in the same run.

    python benchmarks/bench_formula.py [--repeat 5]

This is a measurement, not a test: it never fails on a slow result.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from optim import expression  # noqa: E402
from tests import wsclient  # noqa: E402
from tests.appserver import serve_app  # noqa: E402

TYPICAL = ["x^2 + 10*y^2", "sin(x)*cos(y) + 0.1*(x^2+y^2)"]
SLOW = "sqrt(atanh(abs(abs(abs(atanh(abs(log(sin(exp((atan((log(x-y))*y+2))*x+3))))))))))"


def spin(seconds: float) -> float:
    """Iterations per second of a pure-Python loop."""
    n, end = 0, time.perf_counter() + seconds
    while time.perf_counter() < end:
        n += 1
    return n / seconds


def answer_times(text: str, repeat: int) -> tuple[float, float]:
    """Median seconds: through the workers, and in this process."""
    isolated, local = [], []
    for k in range(repeat):
        variant = f"{text} + {k + 1}e-9*x"
        t0 = time.perf_counter()
        expression.surface_from_expression(variant)
        isolated.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        expression.analyse(variant + " + 1e-12*y")
        local.append(time.perf_counter() - t0)
    return statistics.median(isolated), statistics.median(local)


def pace_with_workers() -> tuple[float, float, str]:
    """(share of the loop's pace kept, seconds to the answer, the answer)."""
    expression._pool.wait_ready(every=True)
    baseline = spin(0.5)
    out: dict[str, object] = {}

    def submit() -> None:
        t0 = time.perf_counter()
        try:
            expression.surface_from_expression(SLOW + f" + y/{time.time_ns() % 1000 + 2}")
            out["answer"] = "accepted"
        except ValueError as err:
            out["answer"] = str(err)
        out["seconds"] = time.perf_counter() - t0

    thread = threading.Thread(target=submit)
    thread.start()
    during = spin(0.9)
    thread.join()
    return during / baseline, out["seconds"], out["answer"]


IN_PROCESS = f"""
import sys, threading, os
sys.path.insert(0, {str(ROOT)!r})
sys.path.insert(0, {str(ROOT / "benchmarks")!r})
from bench_formula import spin
from optim import expression
expression.analyse("x^2 + y^2")  # SymPy's first-use costs
baseline = spin(0.5)
threading.Thread(target=expression.analyse, args=({SLOW!r},), daemon=True).start()
print(spin(3.0) / baseline, flush=True)
os._exit(0)
"""


def pace_in_process() -> float:
    run = subprocess.run(
        [sys.executable, "-c", IN_PROCESS], capture_output=True, text=True, timeout=120
    )
    return float(run.stdout.strip().splitlines()[-1])


HOSTILE = ["x+sin(exp(1e12))", SLOW]


async def _slider_session(url: str, stop: asyncio.Event, times: list[float]) -> None:
    """Session B: a rerun with a new Steps value every 0.2 s until ``stop``."""
    async with wsclient.session(url) as ws:
        cached: set[str] = set()
        await wsclient.rerun(ws, "steps=50", cached=cached)
        i = 0
        while not stop.is_set():
            i += 1
            t0 = time.perf_counter()
            await wsclient.rerun(ws, f"steps={50 + i % 40}", cached=cached)
            times.append(time.perf_counter() - t0)
            await asyncio.sleep(0.2)


async def _two_sessions(url: str, formula: str | None, seconds: float) -> tuple[list, float]:
    """B's rerun times over ``seconds``; A opens the formula's link after 1 s (None: idle)."""
    stop, times, answer = asyncio.Event(), [], float("nan")
    b = asyncio.create_task(_slider_session(url, stop, times))
    await asyncio.sleep(1.0)
    if formula is not None:
        async with wsclient.session(url) as ws:
            query = "surface=custom&" + urlencode({"formula": formula})
            t0 = time.perf_counter()
            await wsclient.rerun(ws, query)
            answer = time.perf_counter() - t0
    await asyncio.sleep(max(0.0, seconds - 1.0))
    stop.set()
    await b
    return times[3:], answer  # B's first reruns warm its caches


def server_figures(seconds: float = 5.0) -> None:
    print("\nserver: session B's slider rerun while session A opens a formula link")
    print(f"{'session A':52s} {'B p50':>8s} {'B max':>8s} {'A answered':>11s}")
    with serve_app() as url:
        asyncio.run(_two_sessions(url, None, 2.0))  # the server's own first-run costs
        for formula in [None, *HOSTILE]:
            times, answer = asyncio.run(_two_sessions(url, formula, seconds))
            name = "idle (reference)" if formula is None else formula[:50]
            print(
                f"{name:52s} {statistics.median(times) * 1000:6.0f}ms "
                f"{max(times) * 1000:6.0f}ms {answer:9.2f} s"
            )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5, help="formulas per measurement")
    args = parser.parse_args()
    t0 = time.perf_counter()
    expression._pool.wait_ready(every=True)
    print(f"workers booted in {time.perf_counter() - t0:.2f} s (once per server process)")
    print("\nanswer: median wall time of an accepted formula")
    print(f"{'formula':34s} {'workers':>9s} {'in-process':>11s}")
    for text in TYPICAL:
        isolated, local = answer_times(text, args.repeat)
        print(f"{text:34s} {isolated * 1000:7.1f}ms {local * 1000:9.1f}ms")
    share, seconds, message = pace_with_workers()
    reference = pace_in_process()
    print("\nothers: a second thread's pace while a slow formula is analysed (1.0 = unhindered)")
    print(f"  through the workers: {share:.2f}  (answered in {seconds:.2f} s: {message[:50]}...)")
    print(f"  in this process (reference): {reference:.2f}  (and no answer for a minute)")
    server_figures()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
