"""Server-side cost of the Playground, against an empty Streamlit page measured in the same run.

For each case: the median time of a rerun (AppTest, caches warm, nothing changed), the
first run in a fresh session, and the size of the figure JSON sent to the browser.

Targets: a default rerun at most 3x the empty page's; 6 optimizers x 1,000 steps
rerun under 150 ms.

    python benchmarks/bench_app.py [--repeat 7]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from streamlit.testing.v1 import AppTest  # noqa: E402

import optim  # noqa: E402

EMPTY = "import streamlit as st\nst.title('Empty')\nst.write('nothing to compute')\n"


def app(query: dict | None) -> AppTest:
    if query is None:
        return AppTest.from_string(EMPTY, default_timeout=120)
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.query_params = dict(query)
    return at


def measure(query: dict | None, repeat: int) -> dict:
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
    return {"first": first, "rerun": statistics.median(times), "best": min(times), "sizes": sizes}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    six = list(optim.OPTIMIZERS)[:6]
    cases = {
        "empty page": None,
        "Playground, defaults": {},
        "Playground, 6 x 1,000 steps": {"opt": six, "steps": "1000"},
    }
    results = {name: measure(q, args.repeat) for name, q in cases.items()}
    base = results["empty page"]["rerun"]
    print(
        f"{'case':<30} {'first run':>10} {'rerun':>9} {'best':>7} {'x empty':>8}  figure JSON (kB)"
    )
    for name, r in results.items():
        sizes = ", ".join(f"{k} {v / 1024:.0f}" for k, v in r["sizes"].items()) or "-"
        print(
            f"{name:<30} {r['first'] * 1e3:>8.0f}ms {r['rerun'] * 1e3:>7.0f}ms "
            f"{r['best'] * 1e3:>5.0f}ms {r['rerun'] / base:>7.1f}x  {sizes}"
        )
    print("(rerun: median of the reruns; best: the fastest; x empty: median against median)")
    default_ratio = results["Playground, defaults"]["rerun"] / base
    big = results["Playground, 6 x 1,000 steps"]["rerun"]
    print()
    print(
        f"target: default rerun <= 3x empty page   -> {default_ratio:.1f}x  "
        f"{'ok' if default_ratio <= 3 else 'MISSED'}"
    )
    print(
        f"target: 6 x 1,000 rerun < 150 ms         -> {big * 1e3:.0f} ms  "
        f"{'ok' if big < 0.150 else 'MISSED'}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
