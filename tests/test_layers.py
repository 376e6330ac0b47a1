"""Layering: the core imports no UI library; pages, the ui package and its modules keep to their jobs."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

from ui import nav

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


# -- the front end: pages build pages, ui/ holds the parts, each module one job ---------------


def imports_of(path: Path) -> set[str]:
    """Absolute names a module imports; relative ones as ``.name`` (``from .x import y``)."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            names.add("." * node.level + (node.module or ""))
    return names


def test_every_page_script_is_in_the_menu_and_stays_thin():
    scripts = {spec.script for spec in nav.PAGES}
    assert scripts == {str(p.relative_to(ROOT)) for p in (ROOT / "app_pages").glob("*.py")}
    assert not (ROOT / "pages").exists()  # Streamlit would list it beside the router's pages
    for script in scripts:
        text = (ROOT / script).read_text()
        assert len(text.splitlines()) <= 80, script
        assert {name.split(".")[0] for name in imports_of(ROOT / script)} <= {
            "streamlit",
            "optim",
            "ui",
        }, script
        assert "set_page_config" not in text and "noqa" not in text, script


def test_ui_is_a_library_the_pages_use_never_the_other_way_round():
    for path in (ROOT / "ui").rglob("*.py"):
        assert not any(n.startswith("app_pages") for n in imports_of(path)), path.name


def test_figure_modules_keep_to_their_jobs():
    figures = ROOT / "ui" / "figures"
    charts = {"contour", "surface3d", "lines", "lab", "maps", "training"}
    shared = {"layers", "style", "series", "plotly_fast"}
    composed = {"race"}  # the Playground's one figure: the contour's parts plus line panels
    assert {p.stem for p in figures.glob("*.py")} == charts | shared | composed | {"__init__"}
    for path in figures.glob("*.py"):
        names = imports_of(path)
        # figures are pure functions: testable without Streamlit
        assert not any(n.split(".")[0] == "streamlit" for n in names), path.name
        # a chart builds on the shared parts, never on another chart
        if path.stem in charts | shared:
            assert not {f".{c}" for c in charts} & names, path.name
    # the layers, the style and a run's drawn form make no figures
    for stem in ("layers", "style", "series"):
        assert "plotly.graph_objects" not in imports_of(figures / f"{stem}.py"), stem


def test_only_plotly_fast_touches_plotly_internals():
    internals = ("_validate", "_orphan_props", "_frame_objs")
    for path in (ROOT / "ui").rglob("*.py"):
        text = path.read_text()
        used = [name for name in internals if name in text]
        assert path.name == "plotly_fast.py" or not used, (path.name, used)
