"""The Training page's speed, each figure against a reference measured in the same run.

1. **The post's race**: SGD, Momentum, RMSprop and Adam train the 1-20-1 ReLU net for
   12 epochs of 32 minibatches. Ours: one ``optim.run`` over an ``optim.Ensemble`` (all
   four in one vectorized pass), as the page records it (``"all"``: every history) and
   with ``record="final"``. Reference: ``torch.nn`` + ``torch.optim`` doing the same four
   runs one after another (minibatch forward, ``MSELoss``, ``backward``, ``step``) on
   the same batches, in float64 (our precision) and float32 (the post's). Target: ≥ 10×.
2. **The 60×60 landscape slice**: ``optim.landscape.loss_slice`` against torch evaluating
   the same 3,600 networks on the same 1,000 points in float32 (load the vector, forward,
   loss, under ``no_grad``), one network after another. Target: ≥ 3×.
3. **A rerun of the default Training page** on a real server (websocket client in the
   browser's place, as ``bench_app.py``), against an empty Streamlit page. Target: ≤ 3×.

BLAS and torch each get one thread: the products here are small, and on a shared
machine a second thread fighting for the same cores makes both sides slower and noisier.
The race's torch loop is also timed with torch's default threads (one a core). The torch
loop is the post's: forward, ``mse_loss``, ``zero_grad``, ``backward``, ``step``, keeping
each minibatch's ``loss.item()``; ours records that loss too, plus the full-data loss once
an epoch, the gradients and the effective learning rates (the page's ``record="all"``).

    python benchmarks/bench_training.py [--repeat 5] [--reruns 20]

A measurement, not a test: it never fails on a slow result.
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # before NumPy loads its BLAS

import argparse  # noqa: E402
import asyncio  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import optim  # noqa: E402
from optim.landscape import loss_slice, plane  # noqa: E402
from tests.appserver import serve_app  # noqa: E402

POST = (
    ("sgd", {"lr": 0.01}),
    ("momentum", {"lr": 0.01, "momentum": 0.8}),
    ("rmsprop", {"lr": 0.01, "alpha": 0.9}),
    ("adam", {"lr": 0.01, "betas": (0.9, 0.99)}),
)
EPOCHS, BATCH = 12, 32


def best_of(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


# -- 1. the race -----------------------------------------------------------------------------
def ours_race(net, record: str, loss_every: int | None = None):
    """The race in one pass; ``loss_every=None``: the full-data loss once an epoch, as the
    page records it (the minibatch loss of every step comes with its gradient)."""
    race = optim.Ensemble([optim.make_optimizer(n, **h) for n, h in POST])
    per_epoch = -(-net.n_samples // BATCH)
    return optim.run(
        net,
        race,
        net.start,
        EPOCHS * per_epoch,
        batch_size=BATCH,
        seed=0,
        record=record,
        loss_every=per_epoch if loss_every is None else loss_every,
    )


def torch_race(net, batches, dtype):
    import torch

    from tests.make_golden_mlp import torch_net

    x, y = torch.tensor(net.x, dtype=dtype), torch.tensor(net.y, dtype=dtype)
    idx = [torch.as_tensor(b) for b in batches]
    makers = (
        lambda p: torch.optim.SGD(p, lr=0.01),
        lambda p: torch.optim.SGD(p, lr=0.01, momentum=0.8),
        lambda p: torch.optim.RMSprop(p, lr=0.01, alpha=0.9),
        lambda p: torch.optim.Adam(p, lr=0.01, betas=(0.9, 0.99)),
    )
    finals = []
    for make in makers:
        model = torch_net(net).to(dtype)
        torch.nn.utils.vector_to_parameters(
            torch.tensor(net.start, dtype=dtype), model.parameters()
        )
        opt = make(model.parameters())
        losses = []  # what the post's loop keeps: each minibatch's loss
        for b in idx:
            loss = torch.nn.functional.mse_loss(model(x[b]), y[b])
            opt.zero_grad()
            loss.backward()
            opt.step()
            losses.append(loss.item())
        finals.append(torch.nn.utils.parameters_to_vector(model.parameters()).detach().double())
    return torch.stack(finals).numpy()


def bench_race(repeat: int, threads: int) -> None:
    import torch

    net = optim.make_problem("mlp")
    traj = ours_race(net, "all")
    finals = torch_race(net, traj.batches, torch.float64)
    error = np.abs(finals - traj.final_params).max() / np.abs(finals).max()
    # every timing repeated in turn, so that a burst of load elsewhere hits all of them
    runs = {
        "all": lambda: ours_race(net, "all"),
        "final": lambda: ours_race(net, "final"),
        "every": lambda: ours_race(net, "all", loss_every=1),
        "t64": lambda: torch_race(net, traj.batches, torch.float64),
        "t32": lambda: torch_race(net, traj.batches, torch.float32),
        "t64n": lambda: torch_race(net, traj.batches, torch.float64),
    }
    times = {k: [] for k in runs}
    for _ in range(repeat):
        for k, fn in runs.items():
            torch.set_num_threads(threads if k == "t64n" else 1)
            t0 = time.perf_counter()
            fn()
            times[k].append(time.perf_counter() - t0)
    torch.set_num_threads(1)
    best = {k: min(v) for k, v in times.items()}
    med = {k: statistics.median(v) for k, v in times.items()}
    t64, t32 = best["t64"], best["t32"]
    print("1. the post's race: 4 optimizers x 12 epochs x 32 minibatches, 1-20-1 ReLU")
    print(f"   same weights as torch float64: max relative difference {error:.1e}")
    print("   (best / median of", repeat, "runs each, interleaved)")
    for k, label in (
        ("t64", "torch.nn + torch.optim, 4 runs in turn, float64, 1 thread"),
        ("t64n", f"the same, torch's default {threads} threads"),
        ("t32", "torch.nn + torch.optim, 4 runs in turn, float32, 1 thread"),
    ):
        print(f"   {label:58s} {best[k] * 1e3:7.1f} / {med[k] * 1e3:7.1f} ms")
    for k, name in (
        ("all", 'record="all", loss once an epoch (the page)'),
        ("final", 'record="final", loss once an epoch'),
        ("every", 'record="all", full-data loss every step'),
    ):
        print(
            f"   ours, one pass, {name:42s} {best[k] * 1e3:7.1f} / {med[k] * 1e3:7.1f} ms   "
            f"{t64 / best[k]:5.1f}x torch float64 (median {med['t64'] / med[k]:4.1f}x), "
            f"{t32 / best[k]:5.1f}x float32   (target >= 10x)"
        )


# -- 2. the landscape slice ----------------------------------------------------------------------
def torch_slice(net, pl, grid) -> np.ndarray:
    import torch

    from tests.make_golden_mlp import torch_net

    model = torch_net(net).float()
    x, y = torch.tensor(net.x, dtype=torch.float32), torch.tensor(net.y, dtype=torch.float32)
    aa, bb = np.meshgrid(grid["alpha"], grid["beta"])
    thetas = pl["centre"] + aa.reshape(-1, 1) * pl["u"] + bb.reshape(-1, 1) * pl["v"]
    thetas = torch.tensor(thetas, dtype=torch.float32)
    out = np.empty(len(thetas))
    with torch.no_grad():
        for i, theta in enumerate(thetas):
            torch.nn.utils.vector_to_parameters(theta, model.parameters())
            out[i] = torch.nn.functional.mse_loss(model(x), y).item()
    return out.reshape(aa.shape)


def bench_landscape(repeat: int) -> None:
    net = optim.make_problem("mlp")
    traj = ours_race(net, "path")
    pl = plane(traj.params, "pca")
    grid = loss_slice(net, pl, n=60)
    theirs = torch_slice(net, pl, grid)
    error = np.abs(theirs - grid["loss"]).max() / np.abs(theirs).max()
    t_ours = best_of(lambda: loss_slice(net, pl, n=60), repeat)
    t_torch = best_of(lambda: torch_slice(net, pl, grid), max(1, repeat // 2))
    print("2. loss-landscape slice, 60 x 60 = 3,600 networks on 1,000 points (float32)")
    print(f"   same losses as torch: max relative difference {error:.1e}")
    print(f"   torch, one network after another      {t_torch * 1e3:8.1f} ms")
    print(
        f"   ours, loss_slice                      {t_ours * 1e3:8.1f} ms   "
        f"{t_torch / t_ours:5.1f}x   (target >= 3x)"
    )


# -- 3. a rerun of the default page on a server ---------------------------------------------------
EMPTY = "import streamlit as st\nst.title('Empty')\nst.write('nothing to compute')\n"


async def _rerun(ws, page: str, cached: set[str]) -> float:
    from streamlit.proto.BackMsg_pb2 import BackMsg
    from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

    msg = BackMsg()
    msg.rerun_script.query_string = ""
    msg.rerun_script.page_name = page
    msg.rerun_script.cached_message_hashes.extend(sorted(cached))
    t0 = time.perf_counter()
    await ws.send(msg.SerializeToString())
    while True:
        reply = ForwardMsg()
        reply.ParseFromString(await ws.recv())
        if reply.metadata.cacheable and reply.hash:
            cached.add(reply.hash)
        if reply.WhichOneof("type") == "script_finished":
            return time.perf_counter() - t0


async def _reruns(url: str, page: str, n: int) -> tuple[float, float]:
    from urllib.parse import urlsplit

    from websockets.asyncio.client import connect

    stream = f"ws://{urlsplit(url).netloc}/_stcore/stream"
    # no keepalive pings: on a busy machine a slow first run must not end the session
    async with connect(
        stream, subprotocols=["streamlit"], origin=url, max_size=None, ping_interval=None
    ) as ws:
        cached: set[str] = set()
        first = await _rerun(ws, page, cached)
        times = []
        for _ in range(n):
            await asyncio.sleep(0.2)  # the gap between a user's clicks
            times.append(await _rerun(ws, page, cached))
    return first, statistics.median(times)


def bench_page(reruns: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        empty = Path(tmp) / "empty_page.py"
        empty.write_text(EMPTY)
        results = {}
        for name, script, page in (("empty", empty, ""), ("training", ROOT / "app.py", "Training")):
            with serve_app(script) as url:
                asyncio.run(_reruns(url, page, 2))  # the process's first runs: imports, caches
                results[name] = asyncio.run(_reruns(url, page, reruns))
    (_, empty_t), (first, train_t) = results["empty"], results["training"]
    print("3. a rerun of the default Training page on a server (median)")
    print(f"   empty Streamlit page                  {empty_t * 1e3:8.1f} ms")
    print(
        f"   Training page, cached                 {train_t * 1e3:8.1f} ms   "
        f"{train_t / empty_t:5.1f}x the empty page   (target <= 3x)"
    )
    print(f"   (a new session's first run on a warm server: {first * 1e3:.0f} ms)")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--reruns", type=int, default=20)
    ap.add_argument("--skip-page", action="store_true")
    args = ap.parse_args()
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    print(
        f"torch {torch.__version__}, NumPy {np.__version__}, one thread each unless said; "
        f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores\n"
    )
    bench_race(args.repeat, threads)
    print()
    bench_landscape(args.repeat)
    if not args.skip_page:
        print()
        bench_page(args.reruns)


if __name__ == "__main__":
    main()
