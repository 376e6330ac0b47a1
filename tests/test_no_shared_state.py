"""The app keeps no state outside a session and its link: any replica can serve any student.

``make serve`` and the Kubernetes Deployment put several processes behind a balancer; a
student's session lives on one of them, but a new student may land on any. That only
works while nothing a student does is kept in a process outside the student's session:
no module-level dict, list or set that fills up, no global rebound at run time, no
unbounded memo. What a process may keep is listed below, each with its reason: bounded
caches of pure functions (same answer on every replica) and resources of the process.
"""

from __future__ import annotations

import ast
import collections.abc
import functools
import importlib
import pkgutil
import sys
from pathlib import Path

import optim
import ui

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = (ui, optim)

# module.name -> why it may be module-level state; every entry is bounded or a resource
# of the process, and none of it depends on who asked (same on every replica)
ALLOWED = {
    "ui.figures.layers._STATIC_CACHE": "bounded cache (16 grids' contour layers), by grid digest",
    "optim.expression._answers": "bounded cache (CACHE_SIZE formulas), by formula text",
    "optim.expression._pending": "formulas being analysed right now; emptied as each finishes",
    "ui.export._renderer": "the PNG exporter's browser, a resource of this process",
    "ui.maps._memo": "bounded cache (the last 24 maps), by their settings",
}
MUTATORS = {
    "append", "extend", "insert", "remove", "pop", "popitem", "clear", "update",
    "setdefault", "add", "discard", "move_to_end", "sort", "reverse", "__setitem__",
}  # fmt: skip


def _modules() -> list:
    out = []
    for package in PACKAGES:
        out.append(package)
        for info in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
            out.append(importlib.import_module(info.name))
    return out


def _is_mutable_container(value: object) -> bool:
    return isinstance(
        value,
        collections.abc.MutableMapping
        | collections.abc.MutableSequence
        | collections.abc.MutableSet
        | bytearray,
    )


def _unbounded_cache(value: object) -> bool:
    # functools.cache / lru_cache(maxsize=None) grow with every distinct argument
    if isinstance(value, functools._lru_cache_wrapper):
        return value.cache_parameters()["maxsize"] is None
    return False


def module_containers() -> dict[str, str]:
    """Every module-level mutable container or unbounded memo in ui/ and optim/, under
    the module that defines it (an imported name is the same object)."""
    found: dict[int, tuple[str, str]] = {}
    for module in _modules():
        for name, value in vars(module).items():
            if name.startswith("__"):
                continue
            where = f"{module.__name__}.{name}"
            if _is_mutable_container(value):
                kind = type(value).__name__
            elif _unbounded_cache(value):
                kind = "unbounded cache"
            else:
                continue
            # the shortest dotted name is where it lives (a package re-exports it)
            if id(value) not in found or len(where) > len(found[id(value)][0]):
                found[id(value)] = (where, kind)
    return dict(found.values())


def _sources() -> list[tuple[str, ast.AST]]:
    out = []
    for package in PACKAGES:
        for path in Path(package.__file__).parent.rglob("*.py"):
            mod = ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
            out.append((mod, ast.parse(path.read_text())))
    return out


def _target_name(node: ast.AST) -> str | None:
    """``X`` of ``X[...]``, ``X.attr`` of ``module.X`` forms: the container's name."""
    if isinstance(node, ast.Subscript):
        node = node.value
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return None


def mutated_names() -> dict[str, str]:
    """Names whose container some code changes in place, and globals a function rebinds."""
    found = {}
    for mod, tree in _sources():
        for node in ast.walk(tree):
            if isinstance(node, ast.Global):
                for name in node.names:
                    found[f"{mod}.{name}"] = "rebound"
            targets = []
            if isinstance(node, ast.Assign | ast.AugAssign | ast.Delete):
                targets = node.targets if not isinstance(node, ast.AugAssign) else [node.target]
                targets = [t for t in targets if isinstance(t, ast.Subscript)]
            elif (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr in MUTATORS
            ):
                targets = [node.func.value]
            for target in targets:
                name = _target_name(target)
                if name:
                    found.setdefault(name, f"changed in {mod}")
    return found


def module_state() -> dict[str, str]:
    """Module-level containers that code changes, unbounded memos, rebound globals."""
    changed = mutated_names()
    state = {}
    for where, kind in module_containers().items():
        if kind == "unbounded cache" or where.rsplit(".", 1)[1] in changed:
            state[where] = kind
    state.update({k: v for k, v in changed.items() if "." in k and v == "rebound"})
    return state


def test_no_module_state_but_the_listed():
    state = module_state()
    unexpected = {k: v for k, v in state.items() if k not in ALLOWED}
    assert unexpected == {}, "module-level state: bound it, move it into the session, or list it"


def test_the_list_names_only_what_exists():
    """An entry left behind after its state went away hides the next one of that name."""
    state = module_state()
    assert sorted(k for k in ALLOWED if k not in state) == []


def test_the_check_sees_state(monkeypatch):
    """A module-level list that code appends to, and an unbounded memo, are both caught;
    a constant table nobody changes is not."""
    import ui.nav as nav

    monkeypatch.setattr(nav, "visitors", [], raising=False)
    monkeypatch.setattr(nav, "memo", functools.cache(lambda x: x), raising=False)
    monkeypatch.setattr(nav, "TABLE", {"a": 1}, raising=False)
    tree = ast.parse("def visit(name):\n    visitors.append(name)\n")
    real = _sources()
    monkeypatch.setattr(sys.modules[__name__], "_sources", lambda: [*real, ("ui.nav", tree)])
    found = module_state()
    assert found.get("ui.nav.visitors") == "list"
    assert found.get("ui.nav.memo") == "unbounded cache"
    assert "ui.nav.TABLE" not in found
