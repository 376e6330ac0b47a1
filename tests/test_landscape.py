"""The loss-landscape slice: the grid is the network's loss on the plane, the planes are what
they claim (shared PCA, filter-normalised random directions), the variance share is right."""

from __future__ import annotations

import numpy as np
import pytest

import optim
from optim.landscape import filter_normalised, grid_range, loss_slice, plane


@pytest.fixture(scope="module", params=[((1, 20, 1), "relu"), ((1, 8, 6, 1), "tanh")])
def raced(request):
    widths, activation = request.param
    net = optim.make_problem("mlp", widths=widths, activation=activation, dataset="sin")
    race = optim.Ensemble(
        [optim.make_optimizer("sgd", lr=0.05), optim.make_optimizer("adam", lr=0.01)]
    )
    return net, optim.run(net, race, net.start, 96, batch_size=32)


@pytest.mark.parametrize("mode", ["pca", "random"])
def test_the_grid_is_the_network_loss_on_the_plane(raced, mode):
    net, traj = raced
    pl = plane(traj.params, mode, problem=net)
    grid = loss_slice(net, pl, n=61)
    assert grid["loss"].shape == (61, 61)
    rng = np.random.default_rng(0)
    for i, j in rng.integers(0, 61, size=(12, 2)):
        weights = pl["centre"] + grid["alpha"][j] * pl["u"] + grid["beta"][i] * pl["v"]
        np.testing.assert_allclose(grid["loss"][i, j], net.loss(weights), rtol=2e-4)
    # every projected point of every run lies inside the grid's box
    lo_a, hi_a, lo_b, hi_b = grid["alpha"][0], grid["alpha"][-1], grid["beta"][0], grid["beta"][-1]
    c = pl["coords"].reshape(-1, 2)
    assert (c[:, 0] > lo_a).all() and (c[:, 0] < hi_a).all()
    assert (c[:, 1] > lo_b).all() and (c[:, 1] < hi_b).all()


def test_pca_plane_is_shared_and_its_variance_share_is_the_top_two_singular_values(raced):
    net, traj = raced
    pl = plane(traj.params, "pca")
    points = traj.params.reshape(-1, net.dim)
    centred = points - points.mean(axis=0)
    s = np.linalg.svd(centred, compute_uv=False)
    assert pl["explained"] == pytest.approx((s[0] ** 2 + s[1] ** 2) / np.sum(s**2), rel=1e-10)
    np.testing.assert_allclose(pl["u"] @ pl["v"], 0.0, atol=1e-12)
    np.testing.assert_allclose([pl["u"] @ pl["u"], pl["v"] @ pl["v"]], 1.0)
    # the coordinates are the projections of the points, for both runs in one basis
    back = pl["centre"] + pl["coords"][..., :1] * pl["u"] + pl["coords"][..., 1:] * pl["v"]
    resid = np.linalg.norm(back - traj.params) ** 2 / np.sum(centred**2)
    assert resid == pytest.approx(1 - pl["explained"], abs=1e-9)
    # the first run heads towards +u (a fixed orientation)
    assert pl["coords"][-1, 0, 0] > pl["coords"][0, 0, 0]


def test_random_directions_are_filter_normalised_and_skip_biases(raced):
    net, traj = raced
    centre = traj.final_params[1]
    d = filter_normalised(net, centre, np.random.default_rng(3))
    for name, shape, where in net.layers:
        if name.endswith(".bias"):
            assert not d[where].any(), name
        else:
            rows, w = d[where].reshape(shape), centre[where].reshape(shape)
            np.testing.assert_allclose(np.linalg.norm(rows, axis=1), np.linalg.norm(w, axis=1))
    pl = plane(traj.params, "random", problem=net, centre=centre, seed=3)
    np.testing.assert_array_equal(pl["centre"], centre)
    assert 0 <= pl["explained"] < plane(traj.params, "pca")["explained"]
    # the final point of the run the plane goes through sits at its origin
    np.testing.assert_allclose(pl["coords"][-1, 1], 0.0, atol=1e-9)


def test_bad_planes_are_refused(raced):
    net, traj = raced
    with pytest.raises(ValueError, match="mode must be one of"):
        plane(traj.params, "hessian")
    with pytest.raises(ValueError, match="layer layout"):
        plane(traj.params, "random")
    assert grid_range(np.array([[0.0, 0.0], [1.0, 2.0]]), margin=0.5) == (-0.5, 1.5, -1.0, 3.0)
