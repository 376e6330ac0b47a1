"""Record golden learning rates from torch.optim.lr_scheduler for tests/test_schedules.py.

Each case builds the torch scheduler that our schedule stands for, steps a one-parameter
SGD (base lr 1) and records the lr in force at each optimizer step, so the test compares
our factors with torch's without torch installed.

Usage, with the test oracles of requirements-oracle.txt installed::

    python tests/make_golden_schedules.py   # rewrites tests/golden/torch_schedules.json
"""

from __future__ import annotations

import json
from pathlib import Path

OUT = Path(__file__).with_name("golden") / "torch_schedules.json"

# (our schedule, its parameters, steps, the torch scheduler built on optimizer o from the
# lr_scheduler module m); torch is imported only when the script runs, so that collecting
# the test folder never needs it
CASES = [
    ("step", {"step_size": 7, "gamma": 0.3}, 120, lambda o, m: m.StepLR(o, step_size=7, gamma=0.3)),
    (
        "step",
        {"step_size": 100, "gamma": 0.5},
        300,
        lambda o, m: m.StepLR(o, step_size=100, gamma=0.5),
    ),
    ("exponential", {"gamma": 0.97}, 120, lambda o, m: m.ExponentialLR(o, gamma=0.97)),
    (
        "cosine",
        {"T_max": 40, "eta_min": 0.05},
        120,
        lambda o, m: m.CosineAnnealingLR(o, T_max=40, eta_min=0.05),
    ),
    ("cosine", {"T_max": 200, "eta_min": 0.0}, 200, lambda o, m: m.CosineAnnealingLR(o, T_max=200)),
    (
        "warmup_cosine",
        {"warmup": 10, "start_factor": 0.25, "T_max": 60, "eta_min": 0.0},
        60,
        lambda o, m: m.SequentialLR(
            o,
            [m.LinearLR(o, start_factor=0.25, total_iters=10), m.CosineAnnealingLR(o, T_max=50)],
            milestones=[10],
        ),
    ),
    (
        "inverse_time",
        {"decay": 0.05},
        120,
        lambda o, m: m.LambdaLR(o, lambda t: 1.0 / (1.0 + 0.05 * t)),
    ),
]


def lrs(make, steps: int) -> list[float]:
    import torch

    param = torch.zeros(1, dtype=torch.float64, requires_grad=True)
    opt = torch.optim.SGD([param], lr=1.0)
    sched = make(opt, torch.optim.lr_scheduler)
    out = []
    for _ in range(steps):
        out.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    return out


def main() -> None:
    cases = [
        {"name": name, "params": params, "steps": steps, "lr": lrs(make, steps)}
        for name, params, steps, make in CASES
    ]
    import torch

    OUT.write_text(json.dumps({"torch": torch.__version__, "cases": cases}) + "\n")
    print(f"wrote {len(cases)} cases to {OUT}")


if __name__ == "__main__":
    main()
