"""The one exec in the code base: generated NumPy source from a formula worker, checked first.

No user text reaches it as text: the worker builds a SymPy expression from the whitelisted
syntax tree (symbols x and y, numbers, whitelisted functions) and lambdify prints that. The
server still treats the source as untrusted and accepts nothing but arithmetic.
"""

from __future__ import annotations

import numpy as np
import pytest

from optim.surfaces import X, Y, lambdify_source, load_source


def test_generated_source_loads_and_computes():
    import sympy as sp

    fn = load_source(lambdify_source((X, Y), sp.sin(X) * Y**2 + sp.Abs(X)))
    assert fn(np.array(1.0), np.array(2.0)) == pytest.approx(np.sin(1.0) * 4 + 1)


@pytest.mark.parametrize(
    "source",
    [
        "import os\ndef f(x, y):\n    return x",
        "def f(x, y):\n    return os.system('true')",
        "def f(x, y):\n    return numpy.__class__",
        "def f(x, y):\n    return numpy._core",
        "def f(x, y):\n    return __import__('os')",
        "def f(x, y):\n    return numpy.sin(x, out=y)",
        "def f(x, y):\n    return 'text'",
        "def f(x, y):\n    return x[0]",
        "def f(x, y):\n    return (lambda: x)()",
        "def f(x, y):\n    open('/tmp/x', 'w')\n    return x",
        "@numpy.vectorize\ndef f(x, y):\n    return x",
        "def f(x, y, z):\n    return x",
        "def f(x, y):\n    return numpy.fromfile(x)",  # public, but no arithmetic
        "def f(x, y):\n    return numpy.save(x, y)",
    ],
)
def test_anything_but_arithmetic_is_refused(source):
    with pytest.raises(ValueError, match="compiled formula"):
        load_source(source)


def test_every_function_the_parser_offers_loads_with_its_derivatives():
    import sympy as sp

    from optim.expression import FUNCTIONS

    for name, f in FUNCTIONS.items():
        expr = (
            f(X * Y / 3 + sp.Rational(1, 7)) ** 2
            + sp.sqrt(X**2 + Y**2) * sp.pi
            + sp.E**Y
            + sp.Abs(X - Y)
        )
        grad = [sp.diff(expr, v) for v in (X, Y)]
        for cse in (False, True):
            fn = load_source(lambdify_source((X, Y), [expr, *grad], cse=cse))
            with np.errstate(all="ignore"):  # acosh is undefined below 1: loading is the point
                values = fn(np.array(0.3), np.array(0.2))
            assert len(values) == 3, name


def test_a_formula_surface_sent_to_another_process_loads_its_checked_code_not_sympy(
    monkeypatch,
):
    # a map worker gets the surface pickled: it must load the generated NumPy code the
    # formula workers made (checked), not differentiate the user's formula again, which
    # no time limit guards there
    import pickle

    import numpy as np

    import optim
    from optim import surfaces

    surface = optim.surface_from_expression("sin(3*x)*cos(2*y) + 0.1*(x^2 + y^2)")
    copy = pickle.loads(pickle.dumps(surface))

    def no_sympy(*args, **kwargs):
        raise AssertionError("SymPy work on a copy that carries its code")

    monkeypatch.setattr(surfaces, "compile_expression", no_sympy)
    monkeypatch.setattr(surfaces, "compile_hessian", no_sympy)
    pts = np.random.default_rng(0).uniform(-3, 3, size=(50, 2))
    for a, b in zip(copy.value_and_grad(pts), surface.value_and_grad(pts), strict=True):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(copy.hessian(pts[0]), surface.hessian(pts[0]))
    # a copy asked for its Hessian first loads it too
    other = pickle.loads(pickle.dumps(surface))
    np.testing.assert_array_equal(other.hessian(pts[0]), surface.hessian(pts[0]))
