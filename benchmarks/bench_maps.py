"""How fast are the Maps page's computations? Each against references measured in the same run.

1. A 100 x 100 sweep of Adam on Rosenbrock (lr x beta1), 500 steps: ``optim.sweep``.
2. A 200 x 200 basin map of heavy-ball momentum on Himmelblau, 300 steps: ``optim.basins``.

The core is timed as the app runs it: split between its worker processes, one a usable
CPU (``optim.sweep.WORKERS``, booted before timing), and, for reference, all in this
process (one core).

References, timed here on the same machine, in the same process:

* **fused NumPy**: a hand-written loop that only updates the parameters (the gradient
  written out by hand, in-place updates, no bound checks, no stopping rules, no
  bookkeeping), on one core: the limit the core's generic, checked loop is measured
  against, so it is compared with the core's in-process figure.
  Target: the core at least half its speed. Half of that loop's time goes to ``B1**t`` on
  every cell; a second line raises each distinct beta1 once, as the core does.
* **torch.optim + autograd** on one ``(k, 2)`` tensor holding every trajectory
  (forward, backward, step), timed with torch's default threads (one a core) and with one
  thread, like NumPy's elementwise work. The basin map
  is exactly that: one setting, many starts. A sweep gives each trajectory its own
  (lr, beta1), which ``torch.optim`` can only do with one parameter group per cell; the
  batch here runs every cell at one setting instead, the least work torch could do for
  the same arithmetic, so the ratio is a lower bound. Target: the core 3x faster.
  The per-cell form is timed too, on fewer steps, to show what it would really cost.
  Compared with the core as users get it (workers); torch with its default threads uses
  every core too.

3. The page: a cached rerun of the Maps page against an empty Streamlit page, both as
   real servers answering a websocket client (``--no-server`` skips it).
   Target: at most 3x.

Usage: ``python benchmarks/bench_maps.py [--quick] [--no-server]``. A measurement, not a test.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import logging
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import optim  # noqa: E402

sweep_module = importlib.import_module("optim.sweep")  # optim.sweep is the function
REPEATS = 5


def best_of(fn, repeats: int = REPEATS) -> float:
    fn()  # warm-up: compiling the surface, first touch of memory
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def interleaved(fns: dict, repeats: int = REPEATS) -> dict[str, tuple[float, float]]:
    """(best, median) seconds of each callable, timed in turns: on a shared machine a burst
    of load elsewhere then hits every candidate instead of one of them."""
    for fn in fns.values():
        fn()  # warm-up: compiling the surface, first touch of memory
    times: dict[str, list[float]] = {k: [] for k in fns}
    for _ in range(repeats):
        for k, fn in fns.items():
            t0 = time.perf_counter()
            fn()
            times[k].append(time.perf_counter() - t0)
    return {k: (min(v), statistics.median(v)) for k, v in times.items()}


def returned(fn, repeats: int = REPEATS):
    """The callable itself (``best_of``'s place when ``interleaved`` times it)."""
    return fn


# -- 1. the sweep ---------------------------------------------------------------------------
def sweep_grid(n: int) -> tuple[np.ndarray, np.ndarray]:
    return np.geomspace(1e-4, 1e-1, n), np.linspace(0.0, 0.99, n)


def ours_sweep(n: int, steps: int) -> Callable[[], None]:
    s = optim.make_surface("rosenbrock")
    lrs, b1s = sweep_grid(n)
    return returned(lambda: optim.sweep(s, "adam", {"lr": lrs, "betas[0]": b1s}, steps=steps))


def rosenbrock_grad(x, y, gx, gy, tmp):
    # f = (1 - x)^2 + 100 (y - x^2)^2
    np.multiply(x, x, out=tmp)
    np.subtract(y, tmp, out=tmp)  # y - x^2
    np.multiply(tmp, 200.0, out=gy)
    np.multiply(gy, x, out=gx)
    np.multiply(gx, -2.0, out=gx)
    gx -= 2.0 * (1.0 - x)


def fused_adam(n: int, steps: int, distinct: bool = False) -> Callable[[], None]:
    """The reference loop; ``distinct``: beta1**t raised once per distinct beta1 (n values)
    and spread by index, as the core does: a stronger reference than the plain loop, whose
    B1**t on every cell is about half of its time."""
    lrs, b1s = sweep_grid(n)
    L, B1 = (a.ravel() for a in np.meshgrid(lrs, b1s, indexing="ij"))
    which = np.tile(np.arange(n), n)  # B1 == b1s[which]
    b2, eps = 0.999, 1e-8
    start = optim.make_surface("rosenbrock").start

    def go():
        k = L.size
        x, y = np.full(k, start[0]), np.full(k, start[1])
        gx, gy, tmp = np.empty(k), np.empty(k), np.empty(k)
        mx, my, vx, vy = (np.zeros(k) for _ in range(4))
        one_b1 = 1.0 - B1
        with np.errstate(all="ignore"):
            for t in range(1, steps + 1):
                rosenbrock_grad(x, y, gx, gy, tmp)
                bc1 = 1.0 - (np.take(b1s**t, which) if distinct else B1**t)
                step = L / bc1
                c2 = np.sqrt(1.0 - b2**t)
                for p, g, m, v in ((x, gx, mx, vx), (y, gy, my, vy)):
                    m *= B1
                    m += one_b1 * g
                    v *= b2
                    v += (1.0 - b2) * g * g
                    np.sqrt(v, out=tmp)
                    tmp /= c2
                    tmp += eps
                    p -= step * m / tmp

    return returned(go)


def torch_rosenbrock(torch, p):
    x, y = p[:, 0], p[:, 1]
    return ((1.0 - x) ** 2 + 100.0 * (y - x * x) ** 2).sum()


def torch_batch(
    torch, cls: str, kw: dict, starts: np.ndarray, steps: int, loss
) -> Callable[[], None]:
    def go():
        p = torch.tensor(starts, dtype=torch.float64, requires_grad=True)
        opt = getattr(torch.optim, cls)([p], **kw)
        for _ in range(steps):
            opt.zero_grad()
            loss(torch, p).backward()
            opt.step()

    return returned(go)


def torch_groups(torch, n: int, steps: int) -> float:
    """One parameter group per cell: the only torch.optim form of a sweep (few steps)."""
    lrs, b1s = sweep_grid(n)
    L, B1 = (a.ravel() for a in np.meshgrid(lrs, b1s, indexing="ij"))
    start = optim.make_surface("rosenbrock").start

    def go():
        ps = [torch.tensor(start, dtype=torch.float64, requires_grad=True) for _ in L]
        opt = torch.optim.Adam(
            [
                {"params": [p], "lr": float(a), "betas": (float(b), 0.999)}
                for p, a, b in zip(ps, L, B1, strict=True)
            ]
        )
        for _ in range(steps):
            opt.zero_grad()
            P = torch.stack(ps)
            torch_rosenbrock(torch, P).backward()
            opt.step()

    return best_of(go, repeats=1)


def in_process(fn: Callable[[], None]) -> Callable[[], None]:
    """``fn`` with every batch computed in this process (no workers)."""

    def go():
        workers, sweep_module.WORKERS = sweep_module.WORKERS, 0
        try:
            fn()
        finally:
            sweep_module.WORKERS = workers

    return go


# -- 2. the basin map -------------------------------------------------------------------------
LR_B, MU_B = 0.002, 0.9


def basin_starts(n: int) -> np.ndarray:
    xs = np.linspace(-5, 5, n)
    X, Y = np.meshgrid(xs, xs)
    return np.stack([X.ravel(), Y.ravel()], -1)


def ours_basins(n: int, steps: int) -> Callable[[], None]:
    s = optim.make_surface("himmelblau")
    xs = np.linspace(-5, 5, n)
    opt = optim.make_optimizer("momentum", lr=LR_B, momentum=MU_B)
    return returned(lambda: optim.basins(s, opt, xs, xs, steps))


def fused_momentum(n: int, steps: int) -> Callable[[], None]:
    starts = basin_starts(n)

    def go():
        x, y = starts[:, 0].copy(), starts[:, 1].copy()
        bx, by = np.zeros_like(x), np.zeros_like(y)
        for t in range(steps):
            a = x * x + y - 11.0
            b = x + y * y - 7.0
            gx = 4.0 * x * a + 2.0 * b
            gy = 2.0 * a + 4.0 * y * b
            if t == 0:
                bx[:], by[:] = gx, gy
            else:
                bx *= MU_B
                bx += gx
                by *= MU_B
                by += gy
            x -= LR_B * bx
            y -= LR_B * by

    return returned(go)


def torch_himmelblau(torch, p):
    x, y = p[:, 0], p[:, 1]
    return ((x * x + y - 11.0) ** 2 + (x + y * y - 7.0) ** 2).sum()


# -- 3. the page --------------------------------------------------------------------------------
def page_reruns(reruns: int) -> tuple[float, float]:
    from bench_app import EMPTY  # noqa: PLC0415 (a sibling script)

    from tests import wsclient
    from tests.appserver import serve_app

    async def median_rerun(url: str, page: str, query: str) -> float:
        async with wsclient.session(url) as ws:
            cached: set[str] = set()
            await wsclient.rerun(ws, query, cached=cached, page=page)
            times = []
            for _ in range(reruns):
                await asyncio.sleep(0.2)
                t0 = time.perf_counter()
                await wsclient.rerun(ws, query, cached=cached, page=page)
                times.append(time.perf_counter() - t0)
        return statistics.median(times)

    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        empty = Path(tmp) / "empty.py"
        empty.write_text(EMPTY)
        with serve_app(empty) as url:
            base = asyncio.run(median_rerun(url, "", ""))
    with serve_app() as url:
        maps = asyncio.run(median_rerun(url, "Maps", ""))
    return base, maps


def with_threads(torch, threads: int, fn):
    """``fn`` run with ``threads`` torch threads (one thread again afterwards)."""

    def go():
        torch.set_num_threads(threads)
        try:
            fn()
        finally:
            torch.set_num_threads(1)

    return go


class Fallbacks(logging.Handler):
    """Counts the batches the core computed in-process although its workers were asked."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.count, self.last = 0, ""

    def emit(self, record: logging.LogRecord) -> None:
        self.count += 1
        self.last = record.getMessage()


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="smaller grids (a smoke run)")
    parser.add_argument("--no-server", action="store_true", help="skip the page rerun")
    parser.add_argument("--no-groups", action="store_true", help="skip torch's group per cell")
    parser.add_argument("--reruns", type=int, default=15)
    args = parser.parse_args()
    n_sweep, s_sweep = (30, 100) if args.quick else (100, 500)
    n_basin, s_basin = (60, 100) if args.quick else (200, 300)
    try:
        import torch

        threads = torch.get_num_threads()  # torch's default: one a core
        torch.set_num_threads(1)
    except ImportError:
        torch = None
    print(
        f"NumPy {np.__version__}"
        + (f", torch {torch.__version__} ({threads} threads by default)" if torch else "")
        + f"; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores"
    )

    workers = sweep_module.WORKERS
    if workers > 1:
        sweep_module.start_workers()
        booted = sweep_module._pool.wait_ready(every=True)
        print(f"optim: {workers} map workers" + ("" if booted else " (did not start)"))
    else:
        print("optim: no map workers (one usable CPU, or PLAYGROUND_MAP_WORKERS)")
    fallbacks = Fallbacks()
    logging.getLogger("optim.sweep").addHandler(fallbacks)
    core = f"optim, {workers} workers" if workers > 1 else "optim"

    def report(results, rows):
        """Each row's ratio is of the core's figure it names: the in-process one for the
        one-core fused loop, the workers' one (as users get it) for torch."""
        best, med = results["ours"]
        print(f"   {core + ' (best / median)':34s} {best:7.3f} / {med:6.3f} s")
        if "here" in results:
            b, m = results["here"]
            print(f"   {'optim, in-process (one core)':34s} {b:7.3f} / {m:6.3f} s")
        for key, label, target, against in rows:
            if key not in results:
                continue
            b, m = results[key]
            ob, om = results[against if against in results else "ours"]
            who = "in-process core" if against == "here" and "here" in results else "core"
            line = f"   {label:34s} {b:7.3f} / {m:6.3f} s   {who} at {b / ob:.2f}x its speed"
            line += f" (median {m / om:.2f}x"
            if against == "ours" and "here" in results:
                line += f"; in-process {b / results['here'][0]:.2f}x"
            print(line + f"){target}")
        if fallbacks.count:
            print(f"   ({fallbacks.count} batches fell back to one process: {fallbacks.last})")
        fallbacks.count = 0

    fns = {
        "ours": ours_sweep(n_sweep, s_sweep),
        "fused": fused_adam(n_sweep, s_sweep),
        "strong": fused_adam(n_sweep, s_sweep, distinct=True),
    }
    if workers > 1:
        fns["here"] = in_process(fns["ours"])
    if torch:
        starts = np.tile(optim.make_surface("rosenbrock").start, (n_sweep * n_sweep, 1))
        one = torch_batch(torch, "Adam", {"lr": 1e-2}, starts, s_sweep, torch_rosenbrock)
        fns["torch1"], fns["torchn"] = one, with_threads(torch, threads, one)
    results = interleaved(fns)
    print(f"\n1. sweep: Adam on Rosenbrock, {n_sweep}x{n_sweep} (lr x beta1), {s_sweep} steps")
    report(
        results,
        (
            ("fused", "fused NumPy loop (one core)", "   (target >= 0.5)", "here"),
            ("strong", "fused, beta1**t per value", "", "here"),
            ("torch1", "torch, one batch, 1 thread", "   (target >= 3)", "ours"),
            ("torchn", f"torch, one batch, {threads} threads", "   (target >= 3)", "ours"),
        ),
    )
    if torch and not args.no_groups:
        few = 5 if not args.quick else 3
        tg = torch_groups(torch, n_sweep, few)
        ours = results["ours"][0]
        print(
            f"   torch, a group per cell            {tg:7.3f} s for {few} steps "
            f"(~{tg * s_sweep / few:.0f} s for {s_sweep}: core {tg * s_sweep / few / ours:.0f}x faster)"
        )

    fns = {"ours": ours_basins(n_basin, s_basin), "fused": fused_momentum(n_basin, s_basin)}
    if workers > 1:
        fns["here"] = in_process(fns["ours"])
    if torch:
        kw = {"lr": LR_B, "momentum": MU_B}
        one = torch_batch(torch, "SGD", kw, basin_starts(n_basin), s_basin, torch_himmelblau)
        fns["torch1"], fns["torchn"] = one, with_threads(torch, threads, one)
    results = interleaved(fns)
    print(
        f"\n2. basins: momentum (lr {LR_B}, beta {MU_B}) on Himmelblau, {n_basin}x{n_basin} starts, {s_basin} steps"
    )
    report(
        results,
        (
            ("fused", "fused NumPy loop (one core)", "   (target >= 0.5)", "here"),
            ("torch1", "torch, one batch, 1 thread", "   (target >= 3)", "ours"),
            ("torchn", f"torch, one batch, {threads} threads", "   (target >= 3)", "ours"),
        ),
    )
    print(f"   (load average {os.getloadavg()[0]:.1f} at the end)")

    if not args.no_server:
        base, maps = page_reruns(args.reruns)
        print("\n3. page: cached rerun (median, real server, websocket client)")
        print(
            f"   empty page {base * 1e3:7.1f} ms   Maps {maps * 1e3:7.1f} ms   {maps / base:.1f}x (target <= 3)"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
