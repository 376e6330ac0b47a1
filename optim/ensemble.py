"""Several different optimizers as one, each driving its own rows of a batch.

:func:`optim.run` vectorizes over a batch of trajectories of *one* optimizer (with
per-trajectory hyperparameters). A race of SGD, Momentum, RMSprop and Adam is four
optimizers; :class:`Ensemble` lets them run in the same pass: member ``i`` owns the
next ``sizes[i]`` rows of the batch, its update is applied to those rows only, and
everything else (the gradients, the minibatches, the bookkeeping of ``run``) is shared.

>>> import numpy as np, optim
>>> race = Ensemble([optim.make_optimizer("sgd", lr=0.1), optim.make_optimizer("adam", lr=0.1)])
>>> s = optim.make_surface("bowl")
>>> t = optim.run(s, race, np.stack([s.start, s.start]), 20)
>>> bool(np.array_equal(t.params[:, 1], optim.run(s, race.members[1], s.start, 20).params))
True
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np


class Ensemble:
    """Optimizers side by side: ``members[i]`` updates rows ``offsets[i]:offsets[i+1]``.

    ``sizes`` (one row each by default) says how many consecutive rows every member owns;
    a member may itself carry a batch of hyperparameters of that length. ``hyper["lr"]``
    is every row's learning rate, so a schedule scales each member's own ``lr``.
    """

    def __init__(self, members: Sequence[Any], sizes: Sequence[int] | None = None) -> None:
        self.members = list(members)
        if not self.members:
            raise ValueError("an ensemble needs at least one optimizer")
        self.sizes = [1] * len(self.members) if sizes is None else [int(s) for s in sizes]
        if len(self.sizes) != len(self.members) or min(self.sizes) < 1:
            raise ValueError(f"sizes {self.sizes} do not fit {len(self.members)} optimizers")
        self.offsets = np.concatenate([[0], np.cumsum(self.sizes)]).tolist()
        # each member's rows, as slices made once: a step of a small race is bound by the
        # count of Python and NumPy calls, not by arithmetic
        self._slices = [
            slice(a, b) for a, b in zip(self.offsets[:-1], self.offsets[1:], strict=True)
        ]
        self._lr_into = [getattr(m, "effective_lr_into", None) for m in self.members]
        lrs = [
            np.broadcast_to(np.asarray(m.hyper.get("lr", np.nan), np.float64), (n,))
            for m, n in zip(self.members, self.sizes, strict=True)
        ]
        self.hyper = {"lr": np.concatenate(lrs)}
        self.label = " · ".join(type(m).label or type(m).__name__ for m in self.members)

    def _rows(self):
        return zip(self.members, self.offsets[:-1], self.offsets[1:], strict=True)

    @staticmethod
    def _lr(lr: Any, a: int, b: int) -> Any:
        return None if lr is None else np.asarray(lr, np.float64).reshape(-1)[a:b]

    def _check(self, params: np.ndarray) -> None:
        if params.ndim != 2 or len(params) != self.offsets[-1]:
            raise ValueError(
                f"this ensemble drives {self.offsets[-1]} rows: params must be "
                f"({self.offsets[-1]}, d), got {params.shape}"
            )

    def init(self, params: np.ndarray) -> tuple:
        params = np.asarray(params, np.float64)
        self._check(params)
        return tuple(m.init(params[a:b]) for m, a, b in self._rows())

    def step(self, params: np.ndarray, grad: np.ndarray, state: tuple, lr: Any = None):
        new_p, new_s = [], []
        for (m, a, b), s in zip(self._rows(), state, strict=True):
            p, s = m.step(params[a:b], grad[a:b], s, lr=self._lr(lr, a, b))
            new_p.append(p)
            new_s.append(s)
        return np.concatenate(new_p), tuple(new_s)

    def step_into(
        self, params: np.ndarray, grad: np.ndarray, state: tuple, out: np.ndarray, lr=None
    ):
        """:meth:`step` written into ``out``: each member steps its own rows in place."""
        return tuple(
            [
                m.step_into(
                    params[r],
                    grad[r],
                    s,
                    out[r],
                    lr=None if lr is None else self._lr(lr, r.start, r.stop),
                )
                for m, r, s in zip(self.members, self._slices, state, strict=True)
            ]
        )

    def effective_lr(self, state: tuple, lr: Any = None) -> np.ndarray:
        return np.concatenate(
            [
                m.effective_lr(s, lr=self._lr(lr, a, b))
                for (m, a, b), s in zip(self._rows(), state, strict=True)
            ]
        )

    def effective_lr_into(self, state: tuple, out: np.ndarray, lr: Any = None) -> None:
        """:meth:`effective_lr` written into ``out`` (shaped like the parameters), each
        member's rows in place: by its own ``effective_lr_into`` when it has one."""
        for m, into, r, s in zip(self.members, self._lr_into, self._slices, state, strict=True):
            member_lr = None if lr is None else self._lr(lr, r.start, r.stop)
            if into is not None:
                into(s, out[r], lr=member_lr)
            else:
                np.copyto(out[r], m.effective_lr(s, lr=member_lr))

    def __repr__(self) -> str:
        return f"Ensemble({self.members!r}, sizes={self.sizes})"
