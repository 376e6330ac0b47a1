"""A 2-D slice of a network's loss landscape, with training trajectories projected on it.

A network has tens of weights; a picture has two axes. :func:`plane` picks a plane
``θ(α, β) = centre + α·u + β·v`` through weight space, and :func:`loss_slice` evaluates
the training loss on a grid of that plane. The plane is either

* ``"pca"``: through the mean of *all* runs' trajectories together, spanned by their
  top two principal directions. One shared basis, so several optimizers' paths are
  comparable on one map (a PCA per run would give each its own axes). The plane's
  ``explained`` share of the trajectories' variance says how faithful the picture is;
* ``"random"``: through a run's final weights, spanned by two random directions
  normalised filter by filter to the size of the weights they perturb (Li, Xu, Taylor,
  Studer & Goldstein, "Visualizing the Loss Landscape of Neural Nets", NeurIPS 2018;
  bias directions are zero, as there). Trajectories rarely lie in such a plane: the
  explained share is small, and the paths are shadows.

Either way it is a slice: the loss off the plane is not shown.

:func:`loss_slice` uses that every layer's weights are affine in ``(α, β)``: a layer's
pre-activation is ``A₀ + α·A_u + β·A_v`` computed by one matrix product against the
three weight matrices stacked, so a whole chunk of grid points costs a few large BLAS
calls instead of one small product per network. It works in float32: a picture.

>>> import numpy as np, optim
>>> net = optim.make_problem("mlp")
>>> t = optim.run(net, optim.make_optimizer("adam", lr=0.01), net.init([0, 1]), 50, batch_size=32)
>>> pl = plane(t.params, "pca")
>>> grid = loss_slice(net, pl, n=61)
>>> grid["loss"].shape, 0 < pl["explained"] <= 1
((61, 61), True)
"""

from __future__ import annotations

from typing import Any

import numpy as np

PLANES = {
    "pca": "top two principal directions of all runs' trajectories (one shared basis)",
    "random": "two filter-normalised random directions (Li et al., 2018)",
}


def _rows(paths: np.ndarray) -> np.ndarray:
    """Every finite point of ``paths`` ``(T+1, k, d)`` as rows ``(n, d)``."""
    x = np.asarray(paths, np.float64).reshape(-1, paths.shape[-1])
    return x[np.isfinite(x).all(axis=1)]


def _explained(points: np.ndarray, basis: np.ndarray) -> float:
    """The share of the points' variance (about their mean) inside ``span(basis)``."""
    centred = points - points.mean(axis=0)
    total = float(np.sum(centred**2))
    if total == 0.0:
        return 1.0
    q, _ = np.linalg.qr(basis.T)  # orthonormal basis of the span
    return float(np.sum((centred @ q) ** 2) / total)


def filter_normalised(problem: Any, centre: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A random direction scaled, row by row of each weight matrix, to that row's norm in
    ``centre``; zero on the biases (Li et al., 2018)."""
    d = np.zeros(problem.dim)
    for name, shape, where in problem.layers:
        if name.endswith(".bias"):
            continue
        w = centre[where].reshape(shape)
        r = rng.standard_normal(shape)
        r *= np.linalg.norm(w, axis=1, keepdims=True) / np.linalg.norm(r, axis=1, keepdims=True)
        d[where] = r.ravel()
    return d


def plane(
    paths: np.ndarray,
    mode: str = "pca",
    *,
    problem: Any = None,
    centre: np.ndarray | None = None,
    seed: int = 0,
) -> dict:
    """The plane of ``mode`` for trajectories ``paths`` ``(T+1, k, d)``.

    Returns ``centre`` ``(d,)``, ``u``, ``v`` ``(d,)``, ``coords`` ``(T+1, k, 2)`` (every
    point's position in the plane; least squares when u, v are not orthonormal) and
    ``explained`` (the share of the trajectories' variance the plane holds). ``"random"``
    needs the ``problem`` (its layer layout) and a ``centre`` (default: the last point of
    the first trajectory).
    """
    paths = np.asarray(paths, np.float64)
    if paths.ndim == 2:
        paths = paths[:, None, :]
    points = _rows(paths)
    if mode == "pca":
        mid = points.mean(axis=0)
        _, s, vt = np.linalg.svd(points - mid, full_matrices=False)
        u, v = vt[0], vt[1] if len(vt) > 1 else np.zeros_like(vt[0])
        # a sign convention, so that the picture does not flip between runs of the code:
        # the first run moves towards +u and +v overall
        first = _rows(paths[:, :1])
        step = first[-1] - first[0]
        u = u if step @ u >= 0 else -u
        v = v if step @ v >= 0 else -v
    elif mode == "random":
        if problem is None:
            raise ValueError("random directions need the problem's layer layout")
        mid = _rows(paths[:, :1])[-1] if centre is None else np.asarray(centre, np.float64)
        rng = np.random.default_rng(seed)
        u, v = filter_normalised(problem, mid, rng), filter_normalised(problem, mid, rng)
    else:
        raise ValueError(f"mode must be one of {', '.join(PLANES)}, got {mode!r}")
    basis = np.stack([u, v])
    coef, *_ = np.linalg.lstsq(basis.T, (paths - mid).reshape(-1, len(mid)).T, rcond=None)
    coords = coef.T.reshape((*paths.shape[:-1], 2))
    return {
        "mode": mode,
        "centre": mid,
        "u": u,
        "v": v,
        "coords": coords,
        "explained": _explained(points, basis),
    }


def grid_range(coords: np.ndarray, margin: float = 0.25) -> tuple[float, float, float, float]:
    """A box around every finite projected point, ``margin`` of its size on each side."""
    c = np.asarray(coords).reshape(-1, 2)
    c = c[np.isfinite(c).all(axis=1)]
    lo, hi = c.min(axis=0), c.max(axis=0)
    pad = np.maximum((hi - lo) * margin, 1e-3 * max(1.0, float(np.abs(c).max())))
    return (
        float(lo[0] - pad[0]),
        float(hi[0] + pad[0]),
        float(lo[1] - pad[1]),
        float(hi[1] + pad[1]),
    )


def loss_slice(
    problem: Any,
    pl: dict,
    n: int = 61,
    box: tuple[float, float, float, float] | None = None,
    chunk: int = 48,
) -> dict:
    """The training loss on an ``n × n`` grid of the plane ``pl`` (from :func:`plane`).

    Returns ``alpha`` ``(n,)``, ``beta`` ``(n,)`` and ``loss`` ``(n, n)`` (rows: beta).
    """
    box = grid_range(pl["coords"]) if box is None else box
    alpha = np.linspace(box[0], box[1], n)
    beta = np.linspace(box[2], box[3], n)
    aa, bb = np.meshgrid(alpha, beta)

    # each layer's weight and bias as three stacked parts: centre, u, v
    f32 = np.float32
    parts = np.stack([pl["centre"], pl["u"], pl["v"]]).astype(f32)  # (3, d)
    layers = []
    for w, b in zip(problem.layers[0::2], problem.layers[1::2], strict=True):
        out, fan_in = w[1]
        # (3 * out, in): one product gives all three parts of a layer's pre-activation
        stacked = np.ascontiguousarray(parts[:, w[2]].reshape(3 * out, fan_in))
        layers.append((stacked, parts[:, b[2]].reshape(3, 1, out), out))
    x = problem.x.astype(f32)  # (m, 1)
    y = problem.y[:, 0].astype(f32)
    m = len(x)
    a_all, b_all = aa.ravel().astype(f32), bb.ravel().astype(f32)

    # the first layer's input is the same for every grid point: its three parts once,
    # as (3, m * out) rows
    w0, b0, out0 = layers[0]
    first = (x @ w0.T).reshape(m, 3, out0).transpose(1, 0, 2) + b0
    first = np.ascontiguousarray(first).reshape(3, m * out0)
    tanh = problem.activation == "tanh"
    losses = np.empty(len(a_all), np.float32)
    buf, tmp = np.empty((chunk, m * out0), f32), np.empty((chunk, m * out0), f32)
    for lo in range(0, len(a_all), chunk):
        a, b = a_all[lo : lo + chunk, None], b_all[lo : lo + chunk, None]  # (g, 1)
        g = len(a)
        # pre-activations of g networks at once, F0 + alpha F1 + beta F2, elementwise
        # (a matrix product with an inner size of 3 is slow in BLAS)
        h, t = buf[:g], tmp[:g]
        np.multiply(first[1], a, out=h)
        h += first[0]
        np.multiply(first[2], b, out=t)
        h += t
        h = h.reshape(g * m, out0)
        for wl, bl, out in layers[1:]:
            np.tanh(h, out=h) if tanh else np.maximum(h, 0.0, out=h)
            # (3 * out, in) @ (in, g m): BLAS is much faster this way round than
            # (g m, in) @ (in, 3 * out) for these shapes; h.T is a view, no copy
            z = (wl @ h.T).reshape(3, out, g, m)
            h = z[1] * a
            h += z[0]
            h += z[2] * b
            h += (bl[0] + bl[1] * a + bl[2] * b).T[:, :, None]  # the bias, (out, g, 1)
            h = np.ascontiguousarray(h.transpose(1, 2, 0)).reshape(g * m, out)
        r = h.reshape(g, m) - y  # the output layer has one unit
        losses[lo : lo + g] = np.einsum("gm,gm->g", r, r) / m
    return {"alpha": alpha, "beta": beta, "loss": losses.reshape(n, n).astype(np.float64)}
