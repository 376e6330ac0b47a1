"""At the cone's tip, where torch's autograd and the app differ (runs only where torch is installed)."""

from __future__ import annotations

import numpy as np
import pytest

import optim

torch = pytest.importorskip("torch")
pytestmark = pytest.mark.torch


def _torch_grad(f, point):
    p = torch.tensor(point, dtype=torch.float64, requires_grad=True)
    f(p).backward()
    return p.grad.numpy()


def test_at_the_tip_torch_sqrt_gives_nan_where_the_app_and_vector_norm_give_zero():
    s = optim.surface_from_expression("sqrt(x^2 + y^2)")
    assert np.isnan(_torch_grad(lambda p: torch.sqrt(p[0] ** 2 + p[1] ** 2), [0.0, 0.0])).all()
    norm = _torch_grad(torch.linalg.vector_norm, [0.0, 0.0])
    assert norm.tolist() == s.grad(np.zeros(2)).tolist() == [0.0, 0.0]
    # away from the tip the formula's gradient is torch's, digit for digit
    point = [0.3, -1.7]
    want = _torch_grad(lambda p: torch.sqrt(p[0] ** 2 + p[1] ** 2), point)
    np.testing.assert_allclose(s.grad(np.array(point)), want, rtol=1e-15)
