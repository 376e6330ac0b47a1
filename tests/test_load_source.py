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
    ],
)
def test_anything_but_arithmetic_is_refused(source):
    with pytest.raises(ValueError, match="compiled formula"):
        load_source(source)
