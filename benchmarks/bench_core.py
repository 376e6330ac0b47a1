"""How fast is the NumPy core? optim.run against torch.optim + autograd, same work, same run.

For every optimizer, on Rosenbrock (float64 everywhere):

* one trajectory of 1000 steps (what the app computes when you move one slider);
* a batch of 10,000 trajectories x 500 steps (a grid of starts or of learning rates).

When torch is importable the same work is timed with ``torch.optim`` and autograd
(one optimizer step plus one backward pass per step, one thread like NumPy) and the
table shows how many times faster the core is. Targets: 10x for one trajectory, 2x for the batch.
Both sides run every step of the batch: timing torch on a part of the steps and
scaling up would spare it most of the first-touch cost of its history buffers,
which the NumPy side pays in full. Usage: ``python benchmarks/bench_core.py [--quick]``.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import optim  # noqa: E402

# learning rates at which no trajectory diverges, so that every run does all its steps
LR = {
    "sgd": 2e-4,
    "momentum": 5e-5,
    "nesterov": 5e-5,
    "adagrad": 0.1,
    "adadelta": 0.1,
    "rmsprop": 1e-3,
    "adam": 1e-2,
    "adamw": 1e-2,
    "nadam": 1e-2,
    "radam": 1e-4,  # its first steps are plain momentum steps: lr * gradient
    "adamax": 1e-2,
    "lion": 1e-3,
}


REPEATS = 3


def best_of(repeats: int, fn) -> float:
    """The fastest of ``repeats`` timings, after one untimed warm-up call (first-call
    costs: compiling the surface, the allocator's first touch of fresh memory)."""
    fn()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def ours(name: str, starts: np.ndarray, steps: int, record: str = "all") -> tuple[float, int]:
    surface = optim.make_surface("rosenbrock")
    opt = optim.make_optimizer(name, lr=LR[name])
    result = {}

    def go():
        result["traj"] = optim.run(surface, opt, starts, steps, record=record)

    seconds = best_of(REPEATS, go)
    return seconds, int(np.sum(result["traj"].status == "diverged"))


def steps_only(name: str, starts: np.ndarray, steps: int) -> float:
    """The optimizer alone: step + effective_lr + the surface's gradient, nothing recorded.
    The difference to optim.run is run's bookkeeping (history, stopping rules)."""
    surface = optim.make_surface("rosenbrock")
    opt = optim.make_optimizer(name, lr=LR[name])

    def go():
        p = starts.copy()
        state = opt.init(p)
        for _ in range(steps):
            p, state = opt.step(p, surface.grad(p), state)
            opt.effective_lr(state)

    return best_of(REPEATS, go)


def torch_time(torch, name: str, starts: np.ndarray, steps: int) -> float:
    """torch.optim + autograd on the same problem: forward, backward, step, and the
    parameters and loss of every step kept for plotting (optim.run keeps those and more)."""
    cls = optim.OPTIMIZERS[name]

    def go():
        p = torch.tensor(starts, dtype=torch.float64, requires_grad=True)
        opt = getattr(torch.optim, cls.torch_class)([p], **{**cls.defaults(), "lr": LR[name]})
        path = torch.empty((steps + 1, *p.shape), dtype=torch.float64)
        losses = torch.empty((steps + 1, *p.shape[:-1]), dtype=torch.float64)
        path[0] = p.detach()
        for t in range(steps):
            opt.zero_grad()
            x, y = p[..., 0], p[..., 1]
            loss = (1 - x) ** 2 + 100 * (y - x * x) ** 2
            loss.sum().backward()
            opt.step()
            path[t + 1] = p.detach()
            losses[t] = loss.detach()

    return best_of(REPEATS, go)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1,000 trajectories instead of 10,000")
    parser.add_argument(
        "--torch-threads",
        type=int,
        default=1,
        help="torch's intra-op threads (default 1: NumPy's elementwise work is single-threaded too)",
    )
    args = parser.parse_args()
    try:
        import torch
    except ImportError:
        torch = None
    else:
        torch.set_num_threads(args.torch_threads)

    k = 1_000 if args.quick else 10_000
    single_steps, batch_steps = 1000, 500
    rng = np.random.default_rng(0)
    starts = np.column_stack([rng.uniform(-2, 2, k), rng.uniform(-1, 3, k)])
    start = np.array([-1.5, 2.0])

    print(f"optim.run on Rosenbrock, float64; numpy {np.__version__}", end="")
    print(f", torch {torch.__version__} (threads={torch.get_num_threads()})" if torch else "")
    print(f"single: 1 trajectory x {single_steps} steps")
    print("torch: forward + backward + step, keeping every step's parameters and loss")
    print(f"every time is the best of {REPEATS} after a warm-up run")
    print(
        f"batch:  {k} trajectories x {batch_steps} steps; 'all' records every history the app "
        "plots, 'path' only parameters and loss (what torch's side keeps: the ratio uses it), "
        "'final' no history, only each run's outcome (sweeps)"
    )
    if not torch:
        print("(torch is not installed: no comparison)")
    header = (
        f"{'optimizer':<10} {'single':>9} {'torch':>9} {'ratio':>7}   "
        f"{'all':>8} {'path':>8} {'final':>8} {'torch':>8} {'ratio':>6} {'steps only':>11}"
    )
    print(header + "  diverged")
    print("-" * (len(header) + 10))
    worst_single = worst_batch = worst_steps = np.inf
    for name in optim.OPTIMIZERS:
        t1, _ = ours(name, start, single_steps)
        ta, diverged = ours(name, starts, batch_steps)
        tb, _ = ours(name, starts, batch_steps, record="path")
        tf, _ = ours(name, starts, batch_steps, record="final")
        row = f"{name:<10} {t1 * 1e3:7.1f}ms"
        if torch and optim.OPTIMIZERS[name].torch_class:
            r1 = torch_time(torch, name, start, single_steps)
            rb = torch_time(torch, name, starts, batch_steps)
            worst_single, worst_batch = min(worst_single, r1 / t1), min(worst_batch, rb / tb)
            row += f" {r1 * 1e3:7.1f}ms {r1 / t1:6.1f}x   {ta:7.2f}s {tb:7.2f}s {tf:7.2f}s"
            row += f" {rb:7.2f}s"
            row += f" {rb / tb:5.1f}x"
        else:
            row += f" {'-':>9} {'-':>7}   {ta:7.2f}s {tb:7.2f}s {tf:7.2f}s {'-':>8} {'-':>6}"
        ts = steps_only(name, starts, batch_steps)
        if torch and optim.OPTIMIZERS[name].torch_class:
            worst_steps = min(worst_steps, rb / ts)
        print(row + f" {ts:10.2f}s  {diverged:>8}")
    print(
        "steps only: the batch's optimizer steps and gradients alone, without optim.run's records"
    )
    if torch:
        print(
            f"\nslowest ratio: single {worst_single:.1f}x (target 10x), "
            f"batch {worst_batch:.1f}x (target 2x), batch steps only {worst_steps:.1f}x"
        )


if __name__ == "__main__":
    main()
