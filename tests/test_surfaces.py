"""Surfaces: gradients, Hessians and minima are right; shapes and parameters behave."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

import optim

NAMES = list(optim.SURFACES)
SPEC_KEYS = {"key", "label", "symbol", "default", "low", "high", "log", "help", "kind"}


def random_points(surface, n=40, seed=0):
    (x0, x1), (y0, y1) = surface.bounds
    rng = np.random.default_rng(seed)
    return np.stack([rng.uniform(x0, x1, n), rng.uniform(y0, y1, n)], axis=-1)


def central_diff(fn, p, h=1e-6):
    """Central differences of ``fn`` along each coordinate: shape ``fn(p).shape + (2,)``."""
    cols = []
    for k in range(2):
        e = np.zeros(2)
        e[k] = h
        cols.append((fn(p + e) - fn(p - e)) / (2 * h))
    return np.stack(cols, axis=-1)


def test_registry_order_and_names():
    assert NAMES == [
        "linear",
        "quadratic",
        "bowl",
        "rosenbrock",
        "beale",
        "himmelblau",
        "rastrigin",
        "booth",
        "saddle",
        "camel",
    ]


@pytest.mark.parametrize("name", NAMES)
def test_surface_attributes(name):
    s = optim.make_surface(name)
    assert s.name == name and s.label and s.latex
    assert len(s.variables) == 2
    (x0, x1), (y0, y1) = s.bounds
    assert x0 < x1 and y0 < y1
    assert s.start.shape == (2,)
    assert x0 <= s.start[0] <= x1 and y0 <= s.start[1] <= y1
    assert s.minima.ndim == 2 and s.minima.shape[1] == 2
    for m in s.minima:
        assert x0 <= m[0] <= x1 and y0 <= m[1] <= y1
    assert s.is_data == (name in ("linear", "quadratic"))
    for spec in s.param_specs:
        assert set(spec) == SPEC_KEYS
        assert spec["low"] <= spec["default"] <= spec["high"]
    assert s.params == {sp["key"]: sp["default"] for sp in s.param_specs}
    assert np.isfinite(s.loss(s.start))


@pytest.mark.parametrize("name", NAMES)
def test_loss_and_grad_are_shape_stable(name):
    s = optim.make_surface(name)
    for shape in [(), (5,), (3, 4)]:
        p = np.broadcast_to(s.start, shape + (2,)) + 0.1
        assert s.loss(p).shape == shape
        assert s.grad(p).shape == shape + (2,)
        assert s.hessian(p).shape == shape + (2, 2)
    # a batch gives the same numbers as single points
    pts = random_points(s, 6)
    np.testing.assert_allclose(s.grad(pts), np.array([s.grad(q) for q in pts]), rtol=1e-12)
    np.testing.assert_allclose(s.loss(pts), np.array([s.loss(q) for q in pts]), rtol=1e-12)


@pytest.mark.parametrize("name", NAMES)
def test_gradient_matches_central_differences(name):
    s = optim.make_surface(name)
    pts = random_points(s)
    numeric = central_diff(s.loss, pts)
    scale = 1 + np.abs(numeric).max()
    np.testing.assert_allclose(s.grad(pts), numeric, atol=1e-6 * scale, rtol=1e-5)


@pytest.mark.parametrize("name", NAMES)
def test_hessian_matches_differences_of_the_gradient(name):
    s = optim.make_surface(name)
    pts = random_points(s, 10, seed=1)
    numeric = central_diff(s.grad, pts)  # (n, 2, 2): d grad_i / d p_j
    scale = 1 + np.abs(numeric).max()
    np.testing.assert_allclose(s.hessian(pts), numeric, atol=1e-5 * scale, rtol=1e-5)
    h = s.hessian(pts)
    np.testing.assert_array_equal(h[:, 0, 1], h[:, 1, 0])


@pytest.mark.parametrize("name", [n for n in NAMES if n != "saddle"])
def test_minima_are_stationary_and_lowest_nearby(name):
    s = optim.make_surface(name)
    assert len(s.minima) >= 1
    angles = np.linspace(0, 2 * np.pi, 16, endpoint=False)
    ring = 1e-3 * np.stack([np.cos(angles), np.sin(angles)], axis=-1)
    for m in s.minima:
        g = s.grad(m)
        assert np.all(np.abs(g) < 1e-8 * (1 + np.abs(s.hessian(m)).max())), (m, g)
        assert np.all(s.loss(m + ring) >= s.loss(m))
        assert np.all(np.linalg.eigvalsh(s.hessian(m)) > -1e-9)


def test_special_minima():
    assert optim.make_surface("saddle").minima.shape == (0, 2)
    hb = optim.make_surface("himmelblau")
    assert len(hb.minima) == 4
    np.testing.assert_allclose(hb.loss(hb.minima), 0.0, atol=1e-20)
    assert len(np.unique(np.round(hb.minima, 3), axis=0)) == 4
    camel = optim.make_surface("camel")
    assert len(camel.minima) == 2
    np.testing.assert_allclose(camel.loss(camel.minima[0]), camel.loss(camel.minima[1]))
    np.testing.assert_allclose(camel.loss(camel.minima[0]), -1.0316284534898774, rtol=1e-12)
    # the six-hump camel's global minima are lower than every point of a fine grid
    g = np.stack(np.meshgrid(np.linspace(-2, 2, 201), np.linspace(-1.2, 1.2, 121)), axis=-1)
    assert camel.loss(g).min() >= camel.loss(camel.minima[0])
    np.testing.assert_allclose(optim.make_surface("beale").minima, [[3.0, 0.5]])
    np.testing.assert_allclose(optim.make_surface("booth").minima, [[1.0, 3.0]])


def test_parameters_change_the_surface():
    r = optim.make_surface("rosenbrock", a=-0.5, b=10.0)
    np.testing.assert_allclose(r.minima, [[-0.5, 0.25]])
    assert r.loss(r.minima[0]) == 0.0
    assert r.params == {"a": -0.5, "b": 10.0}
    assert optim.make_surface("rastrigin", A=0.0).loss(np.array([0.5, 0.5])) == pytest.approx(0.5)


@pytest.mark.parametrize("condition,angle", [(20.0, 0.0), (100.0, 30.0), (5.0, 90.0)])
def test_bowl_condition_and_angle(condition, angle):
    s = optim.make_surface("bowl", condition=condition, angle=angle)
    eig, vec = np.linalg.eigh(s.hessian(np.array([1.0, -2.0])))
    assert eig[1] / eig[0] == pytest.approx(condition)
    # the flat direction (smallest curvature) points along the rotation angle
    flat = vec[:, 0]
    phi = np.radians(angle)
    assert abs(flat @ [np.cos(phi), np.sin(phi)]) == pytest.approx(1.0)


def test_bowl_default_is_d2l_quadratic():
    s = optim.make_surface("bowl")
    p = random_points(s)
    np.testing.assert_allclose(s.loss(p), 0.1 * p[:, 0] ** 2 + 2 * p[:, 1] ** 2)
    assert s.latex == "0.1 x^{2} + 2 y^{2}"


@pytest.mark.parametrize("name", ["linear", "quadratic"])
def test_data_surface_full_batch_is_the_mean_over_samples(name):
    s = optim.make_surface(name)
    pts = random_points(s, 12)
    np.testing.assert_allclose(s.loss(pts), s.sample_loss(pts).mean(axis=-1), rtol=1e-10)
    everything = np.arange(s.n_samples)
    np.testing.assert_allclose(s.batch_grad(pts, everything), s.grad(pts), rtol=1e-9, atol=1e-9)
    # a single sample's gradient, written out by hand for the model of each surface
    a, b = pts[0]
    xi, yi = s.xs[7], s.ys[7]
    feat = (xi, 1.0) if name == "linear" else (xi**2, xi)
    r = a * feat[0] + b * feat[1] - yi
    np.testing.assert_allclose(
        s.batch_grad(pts[0], np.array([7])), [2 * r * feat[0], 2 * r * feat[1]]
    )


@pytest.mark.parametrize(
    "name,features,target",
    [
        ("linear", lambda x: np.stack([x, np.ones_like(x)], -1), lambda x: 2 * x + 3),
        ("quadratic", lambda x: np.stack([x**2, x], -1), lambda x: 0.5 * x**2 - 2 * x + 0.5),
    ],
)
def test_data_minimum_is_least_squares(name, features, target):
    s = optim.make_surface(name)
    assert s.n_samples == 100 and s.variables == ("a", "b")
    np.testing.assert_allclose(s.ys, target(s.xs))
    lstsq = np.linalg.lstsq(features(s.xs), s.ys, rcond=None)[0]
    np.testing.assert_allclose(s.minima[0], lstsq, rtol=1e-9, atol=1e-9)


def test_linear_data_and_noise():
    s = optim.make_surface("linear")
    np.testing.assert_allclose(s.xs, np.linspace(-1, 1, 100))
    np.testing.assert_allclose(s.minima, [[2.0, 3.0]], atol=1e-9)
    assert s.loss(s.minima[0]) == pytest.approx(0.0, abs=1e-20)
    noisy = optim.make_surface("linear", label_noise=0.5)
    assert noisy.loss(noisy.minima[0]) > 0.1  # noise the line cannot fit
    assert np.all(np.abs(noisy.minima[0] - [2, 3]) < 0.5)
    q = optim.make_surface("quadratic")
    np.testing.assert_allclose(q.xs, np.arange(-3, 7, 0.1), atol=1e-12)


@pytest.mark.parametrize(
    "call,match",
    [
        (lambda: optim.make_surface("nope"), "unknown surface 'nope'"),
        (lambda: optim.make_surface("rosenbrock", c=1.0), "no parameter 'c'"),
        (lambda: optim.make_surface("booth", a=1.0), "no parameter 'a'"),
        (lambda: optim.make_surface("rosenbrock", a=float("nan")), "finite"),
        (lambda: optim.make_surface("rosenbrock", a="1"), "number"),
        (lambda: optim.make_surface("bowl", condition=0.5), "at least 1"),
        (lambda: optim.make_surface("rosenbrock", b=-1.0), "positive"),
    ],
)
def test_bad_arguments_raise_value_error(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_surfaces_pickle_and_still_evaluate():
    for name in ("rosenbrock", "linear"):
        s = optim.make_surface(name)
        s.grad(s.start)  # compile first: the compiled functions must not be pickled
        back = pickle.loads(pickle.dumps(s))
        np.testing.assert_array_equal(back.grad(s.start), s.grad(s.start))


def test_largest_curvature():
    s = optim.make_surface("bowl")
    assert s.max_curvature(np.zeros(2)) == pytest.approx(4.0)
    r = optim.make_surface("rosenbrock")
    p = random_points(r, 5)
    np.testing.assert_allclose(r.max_curvature(p), np.linalg.eigvalsh(r.hessian(p))[:, -1])


@pytest.mark.parametrize("order", ["C", "F"])
@pytest.mark.parametrize("name", NAMES)
def test_a_big_batch_gets_the_formulas_own_loss_and_gradient(name, order):
    # a big batch writes the derivatives straight into the gradient array (the formula's
    # last operation given out=): the bits of the formula's own arrays, in either layout
    s = optim.make_surface(name)
    pts = np.array(random_points(s, n=1000, seed=3), order=order)
    f, gu, gv = s.compiled.value_and_grad(pts[:, 0].copy(), pts[:, 1].copy())
    loss, grad = s.value_and_grad(pts)
    np.testing.assert_array_equal(loss, f)
    np.testing.assert_array_equal(grad, np.stack(np.broadcast_arrays(gu, gv, loss)[:2], -1))


def test_a_formula_compiled_elsewhere_keeps_its_plain_gradient():
    # a typed formula arrives as checked source from a worker process: nothing rewrites it,
    # and a big batch copies the derivatives the checked function returns
    s = optim.surface_from_expression("x^2 + 3*y^2 - x*y")
    assert s._gradient_writer is None
    pts = random_points(s, n=500)
    f, gu, gv = s.compiled.value_and_grad(pts[:, 0].copy(), pts[:, 1].copy())
    loss, grad = s.value_and_grad(pts)
    np.testing.assert_array_equal(loss, f)
    np.testing.assert_array_equal(grad, np.stack([gu, gv], -1))


@pytest.mark.parametrize("name", NAMES)
def test_every_surface_gets_its_in_place_gradient(name):
    # the writer is the checked source rewritten: a check that refused a surface's own
    # formula would quietly cost every big batch its fast path
    assert optim.make_surface(name)._gradient_writer is not None


def _opens_a_file(x, y):
    return [open(x).read(), x, y]  # noqa: SIM115 (never called: only its source is read)


def _writes_to_a_subscript(x, y):
    x[0] = y
    return [x, x, y]


@pytest.mark.parametrize("fn", [_opens_a_file, _writes_to_a_subscript])
def test_the_gradient_writer_rewrites_nothing_but_arithmetic(fn):
    from optim.surfaces import gradient_writer

    assert gradient_writer(fn) is None
