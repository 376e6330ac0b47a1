"""A small neural network as a problem: a fully connected net on 1-D data, mean squared error.

The race of the PyTorch post, ``Linear(1, 20) -> ReLU -> Linear(20, 1)`` fitted to
``y = x² + noise`` on ``x = linspace(-1, 1, 1000)``, becomes a :class:`MLP`: a data
problem of dimension ``d`` (61 for 1-20-1) that :func:`optim.run` trains like any other.

* **Parameter order.** The flat vector holds every layer's ``weight`` (``out × in``,
  row-major) then its ``bias``, layer after layer: exactly
  ``torch.nn.utils.parameters_to_vector(net.parameters())`` of the same ``nn.Sequential``
  of ``nn.Linear`` layers, so a vector moves between the two unchanged.
* **Initialisation.** :meth:`MLP.init` follows ``torch.nn.Linear``'s default law: every
  weight and bias uniform on ``±1/√fan_in`` (kaiming-uniform with ``a = √5`` comes to
  that), drawn from NumPy's generator with the given seed (the law, not torch's stream).
* **Gradients.** Backpropagation written out in NumPy, for a whole batch of networks at
  once: ``p`` of shape ``(..., d)`` holds one network per leading index, and every layer
  is a batched matrix product.

>>> import optim
>>> net = optim.make_problem("mlp", widths=(1, 20, 1), dataset="square", seed=0)
>>> net.dim, net.x.shape, net.init(0).shape, net.init([0, 1, 2]).shape
(61, (1000, 1), (61,), (3, 61))
>>> t = optim.run(net, optim.make_optimizer("adam", lr=0.01), net.init(0), 64, batch_size=32)
>>> len(t.batches), bool(t.final_loss < t.loss[0])
(64, True)
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

# the target functions of the data sets; y = f(x) + noise · N(0, 1)
DATASETS: dict[str, tuple[str, Callable[[np.ndarray], np.ndarray]]] = {
    "square": ("y = x²", np.square),
    "sin": ("y = sin(3x)", lambda x: np.sin(3.0 * x)),
    "abs": ("y = |x|", np.abs),
    "step": ("y = step(x)", lambda x: np.where(x > 0, 1.0, 0.0)),
}
ACTIVATIONS = ("relu", "tanh")
N_TRAIN = 1000  # the post's linspace(-1, 1, 1000)
N_VALIDATION = 250


class MLP:
    """A fully connected network with ``widths`` (input, hidden..., output), mean squared error.

    ``x``, ``y`` ``(n, 1)`` are the training data, ``x_val``, ``y_val`` the held-out
    validation set drawn the same way (other points, fresh noise). ``layers`` lists each
    parameter tensor as ``(name, shape, slice)`` in torch's order; ``layer_slices`` each
    ``Linear`` layer's slice of the flat vector (weight and bias together).
    """

    def __init__(
        self,
        widths: Sequence[int] = (1, 20, 1),
        activation: str = "relu",
        dataset: str = "square",
        noise: float = 0.1,
        seed: int = 0,
        n: int = N_TRAIN,
        n_val: int = N_VALIDATION,
    ) -> None:
        widths = tuple(int(w) for w in widths)
        if len(widths) < 2 or min(widths) < 1:
            raise ValueError(f"widths must be at least (input, output), all positive: {widths}")
        if widths[0] != 1 or widths[-1] != 1:
            raise ValueError(f"the data are 1-D: widths must start and end with 1, got {widths}")
        if activation not in ACTIVATIONS:
            raise ValueError(f"activation must be one of {', '.join(ACTIVATIONS)}: {activation!r}")
        if dataset not in DATASETS:
            raise ValueError(f"unknown dataset {dataset!r}; choose one of {', '.join(DATASETS)}")
        if not (noise >= 0 and np.isfinite(noise)):
            raise ValueError(f"noise must be a non-negative number, got {noise}")
        self.name = "mlp"
        self.widths, self.activation, self.dataset = widths, activation, dataset
        self.noise, self.seed = float(noise), int(seed)
        self.label = f"{'-'.join(map(str, widths))} {activation} net on {DATASETS[dataset][0]}"

        # 1. the data: training points on the post's grid, validation points between them
        target = DATASETS[dataset][1]
        rng = np.random.default_rng(seed)
        self.x = np.linspace(-1.0, 1.0, int(n))[:, None]
        self.y = target(self.x) + self.noise * rng.standard_normal(self.x.shape)
        self.x_val = np.sort(rng.uniform(-1.0, 1.0, (int(n_val), 1)), axis=0)
        self.y_val = target(self.x_val) + self.noise * rng.standard_normal(self.x_val.shape)
        # each sample a column: x, 1 (the bias's input), y. A minibatch is one take of columns
        self._train = np.vstack([self.x.T, np.ones((1, int(n))), self.y.T])
        self._val = np.vstack([self.x_val.T, np.ones((1, int(n_val))), self.y_val.T])
        for a in (self.x, self.y, self.x_val, self.y_val, self._train, self._val):
            a.flags.writeable = False
        self.n_samples = int(n)

        # 2. the flat layout: weight (out, in) then bias (out), layer by layer
        self.layers: list[tuple[str, tuple[int, ...], slice]] = []
        self.layer_slices: list[slice] = []
        self._fan_in: list[int] = []
        at = 0
        for i, (fan_in, fan_out) in enumerate(zip(widths[:-1], widths[1:], strict=True)):
            name = self.layer_name(i)
            lo = at
            for part, shape in (("weight", (fan_out, fan_in)), ("bias", (fan_out,))):
                size = int(np.prod(shape))
                self.layers.append((f"{name}.{part}", shape, slice(at, at + size)))
                at += size
            self.layer_slices.append(slice(lo, at))
            self._fan_in.append(fan_in)
        self.dim = at
        # per Linear layer, what a pass reads: (fan_out, fan_in, weight, bias, both), the
        # last a slice of the weight and the bias after it
        self._plan = [
            (w[1][0], w[1][1], w[2], b[2], slice(w[2].start, b[2].stop))
            for w, b in zip(self.layers[0::2], self.layers[1::2], strict=True)
        ]
        self._relu = activation == "relu"
        self.start = self.init(seed)
        self.minima = None

    def layer_name(self, i: int) -> str:
        """torch-style names: ``hidden``, ``hidden2``, ... and ``predict`` (the post's names)."""
        last = len(self.widths) - 2
        return "predict" if i == last else ("hidden" if i == 0 else f"hidden{i + 1}")

    # -- initialisation ------------------------------------------------------------------
    def init(self, seed: int | Sequence[int] = 0) -> np.ndarray:
        """torch.nn.Linear's default initialisation from ``seed``: ``(d,)``, or ``(k, d)``
        for a sequence of ``k`` seeds (each network its own draw)."""
        if np.ndim(seed):
            return np.stack([self.init(int(s)) for s in seed])
        rng = np.random.default_rng(int(seed))
        out = np.empty(self.dim)
        for (_, _, where), fan_in in zip(self.layers, np.repeat(self._fan_in, 2), strict=True):
            bound = 1.0 / np.sqrt(fan_in)
            out[where] = rng.uniform(-bound, bound, where.stop - where.start)
        return out

    # -- the network -----------------------------------------------------------------------
    def unflatten(self, p: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
        """``(weight (K, out, in), bias (K, out))`` per layer for ``p`` of shape ``(K, d)``."""
        out = []
        for w, b in zip(self.layers[0::2], self.layers[1::2], strict=True):
            out.append((p[:, w[2]].reshape((-1, *w[1])), p[:, b[2]]))
        return out

    def _forward(self, p: np.ndarray, x1: np.ndarray) -> list[np.ndarray]:
        """Every layer's input, then the output ``(K, 1, m)``, for ``K`` networks ``p``
        ``(K, d)``.

        Feature-major: an activation is ``(K, width, m)``, samples along the last axis.
        ``x1`` ``(2, m)`` is the data with a row of ones under it, shared by every network;
        the last hidden activation also gets a row of ones. A weight and the bias after it
        then form one matrix, read straight from ``p`` (the first layer's ``(width, 1)``
        weight and its bias are ``(2, width)`` there, the last layer's ``(1, width)``
        weight and its bias one row), and a layer is one product instead of a product
        and a sum. A race of four small networks is bound by the count of Python and
        NumPy calls, not by arithmetic: hence the few calls, and no call that can be
        spared (the layout is prepared once in ``_plan``).
        """
        k, m = len(p), x1.shape[1]
        hs, h = [x1], x1
        for i, (fan_out, fan_in, w_at, b_at, both) in enumerate(self._plan[:-1]):
            # the activation this layer makes; the last layer's input gets its row of ones
            if i == len(self._plan) - 2:
                buf = np.empty((k, fan_out + 1, m))
                buf[:, fan_out] = 1.0
                z = buf[:, :fan_out]
            else:
                buf = z = np.empty((k, fan_out, m))
            if i == 0:  # weight then bias, each (out,): a (2, out) matrix, transposed
                np.matmul(p[:, both].reshape(k, 2, fan_out).transpose(0, 2, 1), x1, out=z)
            else:
                np.matmul(p[:, w_at].reshape(k, fan_out, fan_in), h, out=z)
                z += p[:, b_at, None]
            if self._relu:
                np.maximum(z, 0.0, out=z)
            else:
                np.tanh(z, out=z)
            hs.append(buf)
            h = buf
        # the output: [weight | bias] (K, 1, in + 1) times the input with its row of ones
        hs.append(np.matmul(p[:, None, self._plan[-1][4]], h))
        return hs

    def _loss_and_grad(self, p: Any, x1: np.ndarray, y: np.ndarray, grad: bool = True):
        """The mean squared error on the samples ``x1`` ``(2, m)`` (their ``x`` over a row
        of ones), ``y`` ``(m,)`` and its gradient, for ``p`` ``(..., d)``."""
        p = np.asarray(p, dtype=np.float64)
        if p.ndim == 0 or p.shape[-1] != self.dim:
            raise ValueError(f"points must have shape (..., {self.dim}), got {p.shape}")
        flat = p if p.ndim == 2 else p.reshape(-1, self.dim)
        k, m = len(flat), len(y)
        hs = self._forward(flat, x1)
        r = hs[-1][:, 0]  # (K, m) residuals, in place of the output
        r -= y
        loss = np.vecdot(r, r)
        loss /= m
        if not grad:
            return loss.reshape(p.shape[:-1]), None
        # backpropagation, last layer first: dz is d loss / d (the layer's pre-activation),
        # (K, out, m); each layer's weight and bias gradients written straight into g
        g = np.empty((k, self.dim))
        r *= 2.0 / m
        dz = r[:, None]
        for i in range(len(self._plan) - 1, 0, -1):
            fan_out, fan_in, w_at, b_at, both = self._plan[i]
            h = hs[i]
            if i == len(self._plan) - 1:  # [weight | bias] (K, 1, in + 1) = dz · [h; 1]^T
                np.matmul(dz, h.transpose(0, 2, 1), out=g[:, None, both])
                # d loss / d h: a layer of one output has a product of one term, dz * w
                # (the same doubles as the product, a third of the time)
                dh = flat[:, w_at, None] * dz
                h = h[:, :fan_in]
            else:
                w = flat[:, w_at].reshape(k, fan_out, fan_in)
                np.matmul(dz, h.transpose(0, 2, 1), out=g[:, w_at].reshape(k, fan_out, fan_in))
                np.sum(dz, axis=2, out=g[:, b_at])
                dh = np.matmul(w.transpose(0, 2, 1), dz)
            # through the activation
            if self._relu:
                dh *= h > 0.0  # slope 0 at exactly 0, as torch's threshold_backward
            else:
                dh *= 1.0 - h * h
            dz = dh
        # the first layer: [weight; bias] (K, 2, out) = x1 (2, m) · dz^T (K, m, out)
        fan_out, both = self._plan[0][0], self._plan[0][4]
        np.matmul(x1, dz.transpose(0, 2, 1), out=g[:, both].reshape(k, 2, fan_out))
        if p.ndim == 2:
            return loss, g
        return loss.reshape(p.shape[:-1]), g.reshape(p.shape)

    def value_and_grad(self, p: np.ndarray) -> tuple[Any, np.ndarray]:
        """The training loss (all ``n`` points) and its gradient."""
        return self._loss_and_grad(p, self._train[:2], self._train[2])

    def full_loss(self, p: np.ndarray) -> np.ndarray:
        """The training loss alone: what ``run`` records after each minibatch step."""
        return self._loss_and_grad(p, self._train[:2], self._train[2], grad=False)[0]

    def batch_grad(self, p: np.ndarray, idx: np.ndarray) -> np.ndarray:
        """The mean gradient over the training samples ``idx`` (a minibatch)."""
        return self.batch_loss_and_grad(p, idx)[1]

    def batch_loss_and_grad(self, p: np.ndarray, idx: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The loss on the samples ``idx`` and its mean gradient, from one forward pass: what
        a training loop prints each step comes free with the step's gradient."""
        batch = self._train.take(idx, axis=1)
        return self._loss_and_grad(p, batch[:2], batch[2])

    def batch_loss(self, p: Any, idx: np.ndarray) -> np.ndarray:
        """The loss on the samples ``idx``: what a training loop prints each step."""
        batch = self._train.take(idx, axis=1)
        return self._loss_and_grad(p, batch[:2], batch[2], grad=False)[0]

    def loss(self, p: Any, split: str = "train") -> np.ndarray:
        """Mean squared error on ``"train"`` or ``"validation"`` data, for ``p`` ``(..., d)``."""
        if split not in ("train", "validation"):
            raise ValueError(f"split must be 'train' or 'validation', got {split!r}")
        data = self._train if split == "train" else self._val
        return self._loss_and_grad(p, data[:2], data[2], grad=False)[0]

    def predict(self, p: Any, x: Any) -> np.ndarray:
        """The networks' outputs at inputs ``x`` ``(m,)``: shape ``(..., m)``."""
        p = np.asarray(p, dtype=np.float64)
        x = np.asarray(x, dtype=np.float64).reshape(1, -1)
        out = self._forward(p.reshape(-1, self.dim), np.vstack([x, np.ones_like(x)]))[-1]
        return out[:, 0].reshape((*p.shape[:-1], x.shape[1]))
