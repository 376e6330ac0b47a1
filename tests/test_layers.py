"""The core stays framework-free: importing it pulls in neither Streamlit nor Plotly."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_importing_optim_loads_no_ui_framework():
    code = (
        "import sys, optim\n"
        "s = optim.make_surface('rosenbrock')\n"
        "optim.run(s, optim.make_optimizer('sgd', lr=1e-3), s.start, 5)\n"
        "optim.surface_from_expression('x^2 + y^2')\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('streamlit', 'plotly'))\n"
        "print(','.join(bad))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    assert out.stdout.strip() == ""


def test_core_sources_import_only_numpy_sympy_and_the_standard_library():
    allowed = {"numpy", "sympy", "optim"} | set(sys.stdlib_module_names)
    for path in (ROOT / "optim").rglob("*.py"):
        for line in path.read_text().splitlines():
            words = line.split()
            if len(words) >= 2 and words[0] in ("import", "from") and not words[1].startswith("."):
                assert words[1].split(".")[0] in allowed, f"{path.name}: {line}"
