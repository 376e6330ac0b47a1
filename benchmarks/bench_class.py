"""A class of sixty opens the link at the same moment, then each student moves a slider.

``--class-size`` websocket sessions (the browser's part, ``tests/wsclient.py``; static files
are HAProxy's business, see ``bench_first_load.py``) connect at once and ask for the page;
each then moves the gradient-noise slider three times, a few notches from its default (a class
following the teacher's "now try fewer steps"), a human pause apart.
Measured: seconds from connecting to the first page's ``script_finished`` (every student's
"first page"), seconds per slider move, errors (a traceback on the page, a dropped
connection, no answer within ``--timeout``), and the servers' memory (RSS of every
worker with its children) after the burst. Run on one ``streamlit run`` process and on
``make serve WORKERS=2``; the ratio of the two is printed.

Targets: every first page within 10 s on one process and within 5 s with two workers,
0 errors.

    python benchmarks/bench_class.py [--class-size 60] [--workers 2]

A measurement, not a test: it never fails on a slow result.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from bench_first_load import make_serve, server_pid  # noqa: E402
from streamlit.proto.WidgetStates_pb2 import WidgetStates  # noqa: E402

from tests import wsclient  # noqa: E402
from tests.appserver import serve_app  # noqa: E402

MOVES = 3
NOTCHES = (-3, -2, -1, 1, 2, 3)  # a slider move: arrow keys or a short drag
SLIDER = "Gradient noise (std)"  # a slider of the opening page; each move is a new race


def rss_mb(pid: int) -> float:
    """Resident memory of ``pid`` and all its descendants, in MB."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry.name))
    total, todo = 0, [pid]
    while todo:
        p = todo.pop()
        todo += children.get(p, [])
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            pass
    return total / 1024


def _slider(replies, label: str):
    for s in wsclient.of_kind(replies, "slider"):
        if s.label == label:
            return s
    raise LookupError(f"no slider {label!r}")


async def student(url: str, seed: int, timeout: float, t_start: float) -> dict:
    rng = random.Random(seed)
    out: dict = {"first": None, "moves": [], "errors": []}
    try:
        async with asyncio.timeout(timeout * (1 + MOVES)):
            async with wsclient.session(url) as ws:
                first = await asyncio.wait_for(wsclient.rerun(ws), timeout)
                out["first"] = time.perf_counter() - t_start
                if wsclient.of_kind(first, "exception"):
                    out["errors"].append("traceback on the first page")
                steps = _slider(first, SLIDER)
                for _ in range(MOVES):
                    await asyncio.sleep(rng.uniform(0.5, 1.5))  # a student's pause
                    states = WidgetStates()
                    w = states.widgets.add()
                    w.id = steps.id
                    # a few notches from where it was, as a class does when told to; a
                    # select slider's value travels as its option's label, as a browser sends it
                    notch = int(steps.default[0]) + rng.choice(NOTCHES)
                    w.string_array_value.data.append(
                        steps.options[min(max(notch, 0), len(steps.options) - 1)]
                    )
                    t0 = time.perf_counter()
                    replies = await asyncio.wait_for(wsclient.rerun(ws, widgets=states), timeout)
                    out["moves"].append(time.perf_counter() - t0)
                    if wsclient.of_kind(replies, "exception"):
                        out["errors"].append("traceback after a slider move")
    except Exception as err:  # a dropped connection or no answer in time
        out["errors"].append(f"{type(err).__name__}: {err}")
    return out


async def burst(url: str, size: int, timeout: float) -> list[dict]:
    t0 = time.perf_counter()
    return await asyncio.gather(*(student(url, i, timeout, t0) for i in range(size)))


def summary(results: list[dict], pids: list[int]) -> dict:
    firsts = sorted(r["first"] for r in results if r["first"] is not None)
    moves = sorted(m for r in results for m in r["moves"])
    errors = [e for r in results for e in r["errors"]]

    def q(xs: list[float], f: float) -> float:
        return xs[min(len(xs) - 1, int(f * len(xs)))] if xs else float("nan")

    return {
        "first": (
            statistics.median(firsts) if firsts else float("nan"),
            q(firsts, 0.95),
            max(firsts, default=float("nan")),
        ),
        "move": (
            statistics.median(moves) if moves else float("nan"),
            q(moves, 0.95),
            max(moves, default=float("nan")),
        ),
        "errors": errors,
        "rss": sum(rss_mb(p) for p in pids),
        "done": len(firsts),
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--class-size", type=int, default=60)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--timeout", type=float, default=60.0, help="seconds for one answer")
    args = ap.parse_args()

    results = {}
    with serve_app() as url:
        asyncio.run(burst(url, 2, args.timeout))  # the process's imports and first builds
        pid = server_pid(url)
        results["one process"] = summary(
            asyncio.run(burst(url, args.class_size, args.timeout)), [pid]
        )
    with make_serve(args.workers) as (url, pids, _):
        asyncio.run(burst(url, 2 * args.workers, args.timeout))  # each worker warmed
        results[f"make serve WORKERS={args.workers}"] = summary(
            asyncio.run(burst(url, args.class_size, args.timeout)), pids
        )

    print(f"a class of {args.class_size}: all connect at once, then {MOVES} slider moves each")
    print(
        f"{'':<22} {'first page p50 / p95 / max':>28} {'slider p50 / p95 / max':>26} {'errors':>7} {'RSS':>8}"
    )
    for name, r in results.items():
        f, m = r["first"], r["move"]
        print(
            f"{name:<22} {f[0]:>8.2f} /{f[1]:>6.2f} /{f[2]:>6.2f} s "
            f"{m[0]:>7.2f} /{m[1]:>6.2f} /{m[2]:>6.2f} s {len(r['errors']):>7} {r['rss']:>6.0f}MB"
        )
        for e in sorted(set(r["errors"]))[:5]:
            print(f"    error: {e}")
    one, two = results["one process"], results[f"make serve WORKERS={args.workers}"]
    print(
        f"ratio, max first page: one process / {args.workers} workers = {one['first'][2] / two['first'][2]:.2f}"
    )
    for name, r, limit in (("one process", one, 10.0), (f"WORKERS={args.workers}", two, 5.0)):
        ok = r["first"][2] <= limit and not r["errors"] and r["done"] == args.class_size
        print(
            f"target: {name}: every first page <= {limit:.0f} s, 0 errors -> {'ok' if ok else 'MISSED'}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
