"""CSV export of the trajectories a page shows: every valid step at full precision."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from typing import Any

import numpy as np

CSV_COLUMNS = (
    "optimizer",
    "step",
    "x",
    "y",
    "loss",
    "grad_x",
    "grad_y",
    "eff_lr_x",
    "eff_lr_y",
    "lr",
    "status",
)


def csv_cell(v: float) -> str:
    """A number at full precision; empty where it is not finite."""
    return repr(float(v)) if np.isfinite(v) else ""


def trajectories_csv(series: Iterable[Any]) -> bytes:
    """Every shown trajectory as CSV, one row per valid step (UTF-8, header first).

    Columns: ``optimizer, step, x, y, loss, grad_x, grad_y, eff_lr_x, eff_lr_y, lr,
    status``. Row ``step`` holds the parameters after that step; the gradient,
    effective learning rate and learning rate are those of the step that led there
    (empty on step 0). ``status`` is the run's outcome (``max_steps``,
    ``converged`` or ``diverged``), repeated on each of its rows.
    """
    buf = io.StringIO()
    out = csv.writer(buf, lineterminator="\n")
    out.writerow(CSV_COLUMNS)
    for s in series:
        traj = s.traj
        params = np.asarray(traj.params, dtype=np.float64)
        n = traj.n_valid()
        loss = np.asarray(traj.loss, dtype=np.float64)
        grad = np.asarray(traj.grad, dtype=np.float64)
        elr = np.asarray(traj.effective_lr, dtype=np.float64)
        lr = np.asarray(traj.lr, dtype=np.float64)
        status = str(np.asarray(traj.status).reshape(-1)[0])
        for t in range(n):
            if t == 0:
                per_step = ["", "", "", "", ""]
            else:
                g, e = grad[t - 1], elr[t - 1]
                per_step = [csv_cell(v) for v in (g[0], g[1], e[0], e[1], lr[t - 1])]
            out.writerow(
                [
                    s.label,
                    t,
                    csv_cell(params[t, 0]),
                    csv_cell(params[t, 1]),
                    csv_cell(loss[t]),
                    *per_step,
                    status,
                ]
            )
    return buf.getvalue().encode("utf-8")


def csv_button(container: Any, label: str, make: Any, file_name: str, key: str) -> None:
    """A CSV download whose file is made only when it is clicked (``make() -> bytes``)."""
    container.download_button(
        label,
        data=make,
        file_name=file_name,
        mime="text/csv",
        key=key,
        on_click="ignore",
        icon=":material/table:",
    )
