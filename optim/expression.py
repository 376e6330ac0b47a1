"""Turn a formula a user typed, such as ``x**2 + 10*y**2``, into a :class:`Surface`.

The text is only *parsed*, never run: Python's :mod:`ast` module turns it into a
syntax tree, and we walk that tree accepting a short whitelist of node types
(numbers, ``x``, ``y``, ``pi``, ``e``, ``+ - * / **``, unary minus and calls of
whitelisted functions), building the SymPy expression ourselves. ``^`` means
power, as on a calculator.

Limits keep SymPy fast on any input of at most 300 characters: a node count, a
nesting depth, and bounds on numbers and on constant exponents (``9**9**9**9``
would otherwise ask SymPy for an integer with billions of digits). Every
rejection is a ``ValueError`` that says what is wrong and where.

>>> s = surface_from_expression("x^2 + 10*y^2")
>>> s.label, s.latex, s.minima.tolist()
('Custom: x^2 + 10*y^2', 'x^{2} + 10 y^{2}', [[0.0, 0.0]])
>>> surface_from_expression("x + import")
Traceback (most recent call last):
ValueError: syntax error at column 5: invalid syntax
"""

from __future__ import annotations

import ast
import math
import threading
from collections import OrderedDict
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import numpy as np
import sympy as sp

from .surfaces import (
    Surface,
    X,
    Y,
    hessian_exprs,
    lambdify_source,
    number,
    polish_minima,
)
from .workers import Busy, TimedOut, WorkerDied, WorkerPool

MAX_LENGTH = 300
MAX_NODES = 150
MAX_DEPTH = 24
MAX_EXPONENT = 100  # |constant exponent|
MAX_NUMBER = 1e12  # |literal|
MAX_SOURCE = 200_000  # characters of generated NumPy code (value, gradient, Hessian)
WINDOW = ((-3.0, 3.0), (-3.0, 3.0))  # the window when none is chosen
START = (-2.0, 2.0)  # the start in WINDOW; another window starts at the same place in it
# A chosen window: finite, within [-MAX_BOUND, MAX_BOUND] on both axes (a power up to
# MAX_EXPONENT of a coordinate stays below 1e300, and a wider picture is no landscape to
# follow), and at least MIN_SPAN wide (the check grid's steps stay far above rounding).
MAX_BOUND = 1e3
MIN_SPAN = 1e-2
GRID = 201  # check points per side, plus the window's round numbers (see _axis)
MAX_KINKS = 16  # isolated points where only the gradient is undefined (see _kinks)

FUNCTIONS = {
    "sin": sp.sin,
    "cos": sp.cos,
    "tan": sp.tan,
    "asin": sp.asin,
    "acos": sp.acos,
    "atan": sp.atan,
    "sinh": sp.sinh,
    "cosh": sp.cosh,
    "tanh": sp.tanh,
    "asinh": sp.asinh,
    "acosh": sp.acosh,
    "atanh": sp.atanh,
    "exp": sp.exp,
    "log": sp.log,
    "ln": sp.log,
    "sqrt": sp.sqrt,
    "abs": sp.Abs,
}
CONSTANTS = {"pi": sp.pi, "e": sp.E}
VARIABLES = {"x": X, "y": Y}

_BINARY = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.Pow: "**"}
_ALLOWED = "x, y, pi, e, numbers, + - * / ** ^, parentheses and " + ", ".join(sorted(FUNCTIONS))


class _Term(NamedTuple):
    """What a subtree builds: its SymPy expression (``None`` when only checking) and, for a
    constant subtree, its value in double precision (``None`` when it depends on x or y)."""

    expr: sp.Expr | None
    value: float | None
    where: ast.AST | None = None  # where a constant first became infinite or undefined


_OPS = {
    ast.Add: lambda a, b: a + b,
    ast.Sub: lambda a, b: a - b,
    ast.Mult: lambda a, b: a * b,
    ast.Div: lambda a, b: a / b,
    ast.Pow: lambda a, b: a**b,
}
_NUMPY = {
    "sin": np.sin,
    "cos": np.cos,
    "tan": np.tan,
    "asin": np.arcsin,
    "acos": np.arccos,
    "atan": np.arctan,
    "sinh": np.sinh,
    "cosh": np.cosh,
    "tanh": np.tanh,
    "asinh": np.arcsinh,
    "acosh": np.arccosh,
    "atanh": np.arctanh,
    "exp": np.exp,
    "log": np.log,
    "ln": np.log,
    "sqrt": np.sqrt,
    "abs": np.abs,
}
EXACT_ARGUMENT = 1e3  # sin(pi) stays exact (0); sin(1e9) becomes a float, see _Builder.call


class _Builder:
    """Walks the syntax tree; ``at(node)`` maps a column back to the user's text.

    Constants are folded in double precision as they are met. SymPy would keep
    ``sin(exp(1e12))`` exact and evaluate it to billions of digits later (to print it, or to
    decide the sign of ``sin(cosh(1e12))`` while building ``cosh`` of it), holding the GIL
    for minutes; NumPy says ``inf`` at once. With ``symbolic=False`` the walk only checks,
    without SymPy: cheap enough to run in the server before a worker is asked.
    """

    def __init__(self, text: str, columns: list[int], symbolic: bool = True) -> None:
        self.text = text
        self.columns = columns
        self.symbolic = symbolic

    def at(self, node: ast.AST) -> str:
        col = getattr(node, "col_offset", 0)
        return f"column {self.columns[min(col, len(self.columns) - 1)] + 1}"

    def fail(self, node: ast.AST, what: str, hint: str = "") -> ValueError:
        return ValueError(f"{what} at {self.at(node)}" + (f" ({hint})" if hint else ""))

    def source(self, node: ast.AST) -> str:
        """The user's own text of a subtree."""
        last = len(self.columns) - 1
        start = self.columns[min(getattr(node, "col_offset", 0), last)]
        end = self.columns[min(getattr(node, "end_col_offset", None) or last, last)]
        return self.text[start:end].strip() or "?"

    def finite(self, term: _Term) -> _Term:
        """``term``, unless it is a constant that overflowed or has no real value."""
        if term.value is None or math.isfinite(term.value):
            return term
        what = self.source(term.where)
        if math.isnan(term.value):
            raise self.fail(term.where, f"{what} is undefined or complex")
        raise ValueError(
            f"the formula has an infinite or undefined value at {self.at(term.where)}: "
            f"{what} is infinite (too large, or a division by zero)"
        )

    def build(self, node: ast.AST, depth: int = 0) -> _Term:
        if depth > MAX_DEPTH:
            raise self.fail(node, f"formula nested too deeply (more than {MAX_DEPTH} levels)")
        if isinstance(node, ast.Constant):
            return self.constant(node)
        if isinstance(node, ast.Name):
            return self.name(node)
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
            t = self.build(node.operand, depth + 1)
            if isinstance(node.op, ast.UAdd):
                return t
            return _Term(
                None if t.expr is None else -t.expr, None if t.value is None else -t.value, t.where
            )
        if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
            left = self.build(node.left, depth + 1)
            right = self.build(node.right, depth + 1)
            if isinstance(node.op, ast.Pow):
                self.check_power(node, left, right)
            if left.value is not None and right.value is not None:
                return self.fold(node, left, right)
            left, right = self.finite(left), self.finite(right)
            if isinstance(node.op, ast.Div) and right.value == 0:
                raise self.fail(
                    node, "the formula has an infinite or undefined value", "division by zero"
                )
            expr = _OPS[type(node.op)](left.expr, right.expr) if self.symbolic else None
            return _Term(expr, None)
        if isinstance(node, ast.Call):
            return self.call(node, depth)
        raise self.fail(node, f"{_describe(node)} is not allowed", f"use {_ALLOWED}")

    def constant(self, node: ast.Constant) -> _Term:
        v = node.value
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            kind = "imaginary number" if isinstance(v, complex) else type(v).__name__
            raise self.fail(node, f"a {kind} is not allowed, only real numbers")
        if not math.isfinite(v) or abs(v) > MAX_NUMBER:
            raise self.fail(node, f"number too large (more than {MAX_NUMBER:g})")
        return _Term(number(v) if self.symbolic else None, float(v))

    def name(self, node: ast.Name) -> _Term:
        if node.id in VARIABLES:
            return _Term(VARIABLES[node.id] if self.symbolic else None, None)
        if node.id in CONSTANTS:
            c = CONSTANTS[node.id]
            return _Term(c if self.symbolic else None, float(c))
        if node.id in FUNCTIONS:
            raise self.fail(node, f"{node.id} is a function: write {node.id}(...)")
        if len(node.id) > 1 and set(node.id) <= set(VARIABLES):
            product = "*".join(node.id)
            raise self.fail(node, f"unknown name {node.id!r}", f"for a product write {product}")
        raise self.fail(node, f"unknown name {node.id!r}", f"use {_ALLOWED}")

    def call(self, node: ast.Call, depth: int) -> _Term:
        if not isinstance(node.func, ast.Name):
            raise self.fail(node, "only calls of plain function names are allowed")
        fname = node.func.id
        if fname not in FUNCTIONS:
            raise self.fail(
                node, f"unknown function {fname!r} (use {', '.join(sorted(FUNCTIONS))})"
            )
        if node.keywords or len(node.args) != 1 or isinstance(node.args[0], ast.Starred):
            raise self.fail(node, f"{fname} takes exactly one argument")
        arg = self.build(node.args[0], depth + 1)
        if arg.value is None:
            return _Term(FUNCTIONS[fname](arg.expr) if self.symbolic else None, None)
        if not math.isfinite(arg.value):
            return arg  # already infinite or undefined: report the innermost cause
        with np.errstate(all="ignore"):
            value = float(_NUMPY[fname](np.float64(arg.value)))
        if not math.isfinite(value):
            return _Term(None, value, node)
        if not self.symbolic:
            return _Term(None, value)
        # small exact arguments stay exact (sin(pi) is 0, not 1.2e-16); SymPy needs many
        # digits for huge ones (sin(1e20)), so those become their double-precision value
        exact = abs(arg.value) <= EXACT_ARGUMENT and not arg.expr.atoms(sp.Float)
        return _Term(FUNCTIONS[fname](arg.expr) if exact else number(value), value)

    def check_power(self, node: ast.BinOp, base: _Term, exponent: _Term) -> None:
        if exponent.value is None:
            return
        ev = exponent.value
        if not math.isfinite(ev) or abs(ev) > MAX_EXPONENT:
            raise self.fail(node, f"exponent too large (at most {MAX_EXPONENT} in size)")
        if base.value is None or not math.isfinite(base.value):
            return
        bv = base.value
        if bv != 0 and abs(ev * math.log10(abs(bv))) > 300:
            raise self.fail(node, "number too large (the power overflows)")
        if bv < 0 and not float(ev).is_integer():
            raise self.fail(node, "a negative number to a fractional power is complex")

    def fold(self, node: ast.BinOp, left: _Term, right: _Term) -> _Term:
        """Both sides constant: the value in double precision, and SymPy's exact form."""
        for side in (left, right):
            if not math.isfinite(side.value):
                return side
        with np.errstate(all="ignore"):
            value = float(_OPS[type(node.op)](np.float64(left.value), np.float64(right.value)))
        if not math.isfinite(value):
            return _Term(None, value, node)
        return _Term(_OPS[type(node.op)](left.expr, right.expr) if self.symbolic else None, value)


def _describe(node: ast.AST) -> str:
    ops = {
        ast.Mod: "'%'",
        ast.FloorDiv: "'//'",
        ast.BitXor: "'^'",
        ast.BitAnd: "'&'",
        ast.BitOr: "'|'",
        ast.MatMult: "'@'",
        ast.LShift: "'<<'",
        ast.RShift: "'>>'",
    }
    if isinstance(node, ast.BinOp):
        return f"the operator {ops.get(type(node.op), type(node.op).__name__)}"
    if isinstance(node, ast.UnaryOp):
        word = {ast.Invert: "'~'", ast.Not: "'not'"}.get(type(node.op), type(node.op).__name__)
        return f"the operator {word}"
    if isinstance(node, ast.BoolOp):
        return f"the logical operator {'and' if isinstance(node.op, ast.And) else 'or'!r}"
    if isinstance(node, ast.IfExp):
        return "a conditional ('if … else')"
    if isinstance(node, ast.Compare):
        return "a comparison"
    if isinstance(node, ast.Attribute):
        return "attribute access ('.')"
    if isinstance(node, ast.Subscript):
        return "indexing ('[]')"
    return f"{type(node).__name__!r}"


def _syntax_tree(text: str) -> tuple[ast.AST, list[int]]:
    """The formula's syntax tree (one expression) and the map from its columns to the text's."""
    if not isinstance(text, str):
        raise ValueError(f"the formula must be text, got {type(text).__name__}")
    if len(text) > MAX_LENGTH:
        raise ValueError(f"formula too long: {len(text)} characters (at most {MAX_LENGTH})")
    if not text.strip():
        raise ValueError("the formula is empty")
    if "\n" in text.strip() or "\r" in text.strip():
        raise ValueError("the formula must fit on one line")
    # '^' is power here; columns[i] maps a position in the rewritten text back to the user's
    source, columns = [], []
    for i, ch in enumerate(text):
        part = "**" if ch == "^" else ch
        source.append(part)
        columns.extend([i] * len(part))
    source_text = "".join(source)
    columns.append(len(text))
    try:
        module = ast.parse(source_text.strip())
    except SyntaxError as err:
        offset = len(source_text) - len(source_text.lstrip())
        col = (err.offset or 1) - 1 + offset
        col = columns[min(max(col, 0), len(columns) - 1)] + 1
        reason = (err.msg or "invalid syntax").split("(")[0].strip()
        if "decimal literal" in reason:  # Python's words for "2x"
            reason += " (put * between a number and a name, e.g. 2*x)"
        raise ValueError(f"syntax error at column {col}: {reason}") from None
    except (RecursionError, MemoryError, ValueError):
        raise ValueError("the formula is nested too deeply to read") from None
    strip_offset = len(source_text) - len(source_text.lstrip())
    columns = columns[strip_offset:]
    # a formula is a module holding exactly one expression statement
    if len(module.body) != 1:
        second = module.body[1] if len(module.body) > 1 else module
        col = columns[min(getattr(second, "col_offset", 0), len(columns) - 1)] + 1
        raise ValueError(f"syntax error at column {col}: write a single formula")
    if not isinstance(module.body[0], ast.Expr):
        kind = type(module.body[0]).__name__.lower()
        raise ValueError(f"syntax error at column 1: a formula, not a statement ({kind})")
    tree = module.body[0].value
    nodes = sum(1 for _ in ast.walk(tree))
    if nodes > MAX_NODES:
        raise ValueError(f"formula too complex: {nodes} syntax nodes (at most {MAX_NODES})")
    return tree, columns


def _walk(text: str, symbolic: bool) -> _Term:
    tree, columns = _syntax_tree(text)
    builder = _Builder(text, columns, symbolic)
    try:
        term = builder.finite(builder.build(tree))
    except ValueError:
        raise
    except (RecursionError, MemoryError, TypeError, AttributeError, ArithmeticError) as err:
        raise ValueError(f"could not build the formula: {err}") from None
    if term.value is not None:
        raise ValueError("constant expression: the formula must depend on x or y")
    return term


def check_formula(text: str) -> None:
    """Every check that needs no SymPy: syntax, names, sizes, constants (``ValueError``).

    Cheap (a syntax tree of at most MAX_NODES nodes, and double-precision arithmetic), so
    the server runs it itself before it asks a worker process for the symbolic work.

    >>> check_formula("x + sqrt(-1)")
    Traceback (most recent call last):
    ValueError: sqrt(-1) is undefined or complex at column 5
    """
    _walk(text, symbolic=False)


def parse_formula(text: str) -> sp.Expr:
    """Parse ``text`` into a SymPy expression in ``x`` and ``y`` (``ValueError`` if not allowed).

    >>> parse_formula("sin(x) * e^-y")
    exp(-y)*sin(x)
    """
    expr = _walk(text, symbolic=True).expr
    if expr.has(sp.zoo, sp.oo, -sp.oo, sp.nan):
        raise ValueError("the formula has an infinite or undefined value (division by zero?)")
    if not expr.free_symbols & {X, Y}:
        raise ValueError("constant expression: the formula must depend on x or y")
    # SymPy multiplies constants together: x*10**200*10**200 has the coefficient 10**400
    for n in expr.atoms(sp.Number):
        if isinstance(n, sp.Rational) and max(abs(n.p), n.q) > 10**300:
            raise ValueError("number too large (a coefficient of the formula is beyond 1e300)")
        if isinstance(n, sp.Float) and not math.isfinite(float(n)):
            raise ValueError("number too large (a coefficient of the formula overflows)")
    return expr


Window = tuple[tuple[float, float], tuple[float, float]]


def check_window(window: Any) -> Window:
    """``((x_lo, x_hi), (y_lo, y_hi))`` as floats, or ``ValueError`` saying what is wrong.

    >>> check_window([(-1, 10), (0, 2)])
    ((-1.0, 10.0), (0.0, 2.0))
    >>> check_window(((3, -3), (-3, 3)))
    Traceback (most recent call last):
    ValueError: the x range must go from a lower to a higher number, at least 0.01 apart: got [3, -3]
    """
    try:
        (x0, x1), (y0, y1) = window
        pairs = ((float(x0), float(x1)), (float(y0), float(y1)))
    except (TypeError, ValueError, OverflowError):
        raise ValueError("the window must be two ranges: x from, x to and y from, y to") from None
    for var, (lo, hi) in zip("xy", pairs, strict=True):
        if not (math.isfinite(lo) and math.isfinite(hi)):
            raise ValueError(f"the {var} range must be finite numbers")
        if max(abs(lo), abs(hi)) > MAX_BOUND:
            raise ValueError(
                f"the {var} range must lie within [{-MAX_BOUND:g}, {MAX_BOUND:g}]: "
                f"got [{lo:g}, {hi:g}]"
            )
        if not hi - lo >= MIN_SPAN:
            raise ValueError(
                f"the {var} range must go from a lower to a higher number, at least "
                f"{MIN_SPAN:g} apart: got [{lo:g}, {hi:g}]"
            )
    return tuple((lo + 0.0, hi + 0.0) for lo, hi in pairs)  # -0.0 -> 0.0: one cache key


def window_text(window: Window) -> str:
    """``[-3, 3] x [-3, 3]``: the window as the messages name it."""
    return " x ".join(f"[{lo:g}, {hi:g}]" for lo, hi in window)


def default_start(window: Window) -> tuple[float, float]:
    """The start in ``window`` where START is in WINDOW: a sixth in from the top left."""
    (x0, x1), (y0, y1) = window
    return x0 + (x1 - x0) / 6, y1 - (y1 - y0) / 6


def _axis(lo: float, hi: float, n: int = GRID) -> np.ndarray:
    """``n`` evenly spaced coordinates plus the round numbers between ``lo`` and ``hi``.

    Poles and kinks sit at round numbers (``1/x``, ``1/(x - 1)``, ``sqrt((x - 0.5)^2)``)
    that an even spacing can miss by a hair: the multiples of the finest of 1/4, 1, 10 and
    100 that gives at most ``n`` of them join the grid, and 0 always does.
    """
    extra = [0.0] if lo <= 0 <= hi else []
    for step in (0.25, 1.0, 10.0, 100.0):
        first, last = math.ceil(lo / step), math.floor(hi / step)
        if last - first + 1 <= n:
            extra = list(np.arange(first, last + 1) * step) + extra
            break
    return np.union1d(np.linspace(lo, hi, n), np.array(extra, dtype=np.float64))


def _grid(bounds: Window, n: int = GRID) -> np.ndarray:
    (x0, x1), (y0, y1) = bounds
    gx, gy = np.meshgrid(_axis(x0, x1, n), _axis(y0, y1, n), indexing="xy")
    return np.stack([gx, gy], axis=-1)


# -- the symbolic work, in a worker process --------------------------------------------------------
@dataclass(frozen=True)
class Analysis:
    """What a worker sends back for an accepted formula: all the server needs, pre-digested.

    The NumPy sources are loaded with :func:`~optim.surfaces.load_source`, which costs time
    in proportion to their length; the server never differentiates or lambdifies.
    """

    text: str
    expr: sp.Expr  # rebuilt by unpickling: linear in its size, no differentiation
    latex: str
    minima: np.ndarray
    value_source: str
    value_and_grad_source: str
    hessian_source: str | None  # None: the Hessian is taken by finite differences
    window: Window = WINDOW
    kinks: np.ndarray = field(default_factory=lambda: np.empty((0, 2)))


def _request(request: str | tuple[str, Any]) -> tuple[str, Window]:
    """A worker's argument: the formula's text, or (text, window)."""
    if isinstance(request, str):
        return request, WINDOW
    text, window = request
    return text, check_window(window)


def analyse(request: str | tuple[str, Any]) -> Analysis:
    """Parse, differentiate and lambdify a formula, check it on its window, find its minimum.

    ``request``: the formula's text (on WINDOW), or ``(text, window)``. Open-ended symbolic
    work: run it in a worker (see :func:`surface_from_expression`).
    """
    text, window = _request(request)
    expr = parse_formula(text)
    gradient = (sp.diff(expr, X), sp.diff(expr, Y))
    if any(g.has(sp.Derivative, sp.Subs, sp.DiracDelta) for g in gradient):
        raise ValueError("the formula is not differentiable (its gradient has no closed form)")
    if any(e.has(sp.I) for e in (expr, *gradient)):
        raise ValueError(
            "the formula takes complex values (a negative number to a power in x or y?)"
        )
    second = hessian_exprs(gradient, (X, Y))
    value_src = lambdify_source((X, Y), expr)
    vg_src = lambdify_source((X, Y), [expr, *gradient], cse=True)
    hess_src = None if second is None else lambdify_source((X, Y), second, cse=True)
    if len(value_src) + len(vg_src) + len(hess_src or "") > MAX_SOURCE:
        raise ValueError("formula too complex: its derivatives are too long to compute with")
    surface = _custom_surface(text, expr, window)
    surface.load_sources(value_src, vg_src, hess_src)
    where = f"in the window {window_text(window)}"
    pts = _grid(window)
    with np.errstate(all="ignore"):
        f, g = Surface.value_and_grad(surface, pts)  # the formulas as they are, no subgradient
    if np.iscomplexobj(f) or np.iscomplexobj(g):
        raise ValueError(f"the formula takes complex values {where}")
    f = np.asarray(f, dtype=np.float64)
    if not np.isfinite(f).all():
        x, y = pts[tuple(np.argwhere(~np.isfinite(f))[0])]
        raise ValueError(
            f"the formula is not finite at (x, y) = ({x:.3g}, {y:.3g}) {where}; keep it "
            f"finite there, e.g. sqrt(x^2 + 1) instead of sqrt(x), or choose a window "
            f"that leaves the point out"
        )
    surface.kinks = _kinks(surface, pts, g, where)
    minima = _estimate_minima(surface, pts, f)
    return Analysis(
        text, expr, surface.latex, minima, value_src, vg_src, hess_src, window, surface.kinks
    )


def _kinks(surface: Surface, pts: np.ndarray, g: np.ndarray, where: str) -> np.ndarray:
    """The grid points where the value is finite but the gradient formula is not, ``(k, 2)``.

    Accepted only as kinks: isolated points (no two neighbours on the grid, at most
    MAX_KINKS) around which the slope stays bounded, like the tip of the cone
    ``sqrt(x^2 + y^2)``, whose gradient formula ``x / sqrt(x^2 + y^2)`` is 0/0 there.
    Anything else is a ``ValueError``: a crease along a line (``sqrt(abs(x))``) or a cusp
    (``(x^2 + y^2)^0.25``, whose slope grows without bound towards the tip).
    """
    bad = ~np.isfinite(g).all(axis=-1)
    if not bad.any():
        return np.empty((0, 2))
    padded = np.pad(bad, 1)
    rows, cols = bad.shape
    crowded = np.zeros_like(bad)
    for dj in (-1, 0, 1):
        for di in (-1, 0, 1):
            if dj or di:
                crowded |= padded[1 + dj : rows + 1 + dj, 1 + di : cols + 1 + di]
    crowded &= bad
    if crowded.any() or bad.sum() > MAX_KINKS:
        x, y = pts[tuple(np.argwhere(crowded if crowded.any() else bad)[0])]
        raise ValueError(
            f"the formula is not differentiable at (x, y) = ({x:.3g}, {y:.3g}) and at "
            f"points next to it {where}; a kink at a single point, such as the tip of "
            f"sqrt(x^2 + y^2), is fine, a crease along a line, such as sqrt(abs(x)), is not"
        )
    kinks = pts[bad]
    # the slope next to each kink: no steeper at 1/10,000 of a grid step than at one step
    step = np.diff(pts[0, :, 0]).min(), np.diff(pts[:, 0, 1]).min()
    slope = []
    with np.errstate(all="ignore"):
        for radius in (1e-4 * min(step), min(step)):
            ring = kinks[:, None, :] + radius * _DIRECTIONS
            slope.append(np.linalg.norm(Surface.value_and_grad(surface, ring)[1], axis=-1))
        tips = surface.grad(kinks)  # the subgradients the runs will use
    near, far = slope
    steep = ~np.isfinite(near).all(axis=-1) | ~np.isfinite(far).all(axis=-1)
    steep |= near.max(axis=-1) > 2 * far.max(axis=-1) + 1e-12
    steep |= ~np.isfinite(tips).all(axis=-1)
    if steep.any():
        x, y = kinks[np.argmax(steep)]
        raise ValueError(
            f"the formula is not differentiable at (x, y) = ({x:.3g}, {y:.3g}) {where}: its "
            f"slope grows without bound towards that point (a cusp); a kink with a bounded "
            f"slope, such as the tip of sqrt(x^2 + y^2), is fine"
        )
    return _readonly(kinks)


def analyse_or_explain(request: str | tuple[str, Any]) -> Analysis | str:
    """:func:`analyse`, with every failure turned into the message for the user (the worker's
    entry point: whatever SymPy or NumPy raise, only a message leaves it)."""
    try:
        return analyse(request)
    except ValueError as err:
        return str(err)
    except (RecursionError, MemoryError):
        return "formula too complex: it needs too much memory or nesting to analyse"
    except Exception as err:  # SymPy's own failures, named so they can be reported
        return f"the formula cannot be analysed ({type(err).__name__}: {err})"[:300]


# -- kinks: a subgradient where the gradient formula is undefined ---------------------------------
RING = 16  # gradients sampled around such a point
RING_RADIUS = 1e-7  # their distance from it, relative to 1 + |point|
_ANGLES = 2 * np.pi * np.arange(RING) / RING
_DIRECTIONS = np.stack([np.cos(_ANGLES), np.sin(_ANGLES)], axis=-1)
_DIRECTIONS.flags.writeable = False


def shortest_in_hull(g: np.ndarray) -> np.ndarray:
    """The shortest vector in the convex hull of each set of 2-D vectors, ``(..., k, 2) -> (..., 2)``.

    Zero when the vectors surround the origin (no half-plane holds them all); otherwise the
    nearest point of a segment between two of them. NaN when any vector is not finite.

    >>> shortest_in_hull(np.array([[1.0, 0.0], [0.0, 1.0], [-1.0, 0.0], [0.0, -1.0]])).tolist()
    [0.0, 0.0]
    >>> shortest_in_hull(np.array([[2.0, 1.0], [2.0, -1.0], [3.0, 0.0]])).tolist()
    [2.0, 0.0]
    """
    with np.errstate(all="ignore"):
        angles = np.sort(np.arctan2(g[..., 1], g[..., 0]), axis=-1)
        gaps = np.diff(angles, axis=-1, append=angles[..., :1] + 2 * np.pi)
        surrounded = gaps.max(axis=-1) <= np.pi
        a, d = g[..., :, None, :], g[..., None, :, :] - g[..., :, None, :]
        dd = (d * d).sum(axis=-1)
        t = np.clip(-(a * d).sum(axis=-1) / np.where(dd > 0, dd, 1.0), 0.0, 1.0)
        near = (a + t[..., None] * d).reshape(*g.shape[:-2], -1, 2)
        k = np.argmin((near * near).sum(axis=-1), axis=-1)
        best = np.take_along_axis(near, k[..., None, None], axis=-2)[..., 0, :]
    out = np.where(surrounded[..., None], 0.0, best)
    return np.where(np.isfinite(g).all(axis=(-2, -1))[..., None], out, np.nan)


class FormulaSurface(Surface):
    """A typed formula's surface, with a subgradient wherever its gradient formula fails.

    Where the value is finite but the gradient formula is not (the cone's tip, 0/0), the
    gradient used is the shortest vector in the convex hull of the gradients on a tiny
    ring around the point: an estimate of the smallest element of the point's (Clarke)
    subdifferential, which is 0 at the tip of the cone. ``torch.sqrt`` differentiates to
    ``inf * 0 = nan`` there; ``torch.linalg.vector_norm`` and ``torch.abs`` use 0, as here.
    ``kinks``: the isolated points of the check grid where this happens (for the page).
    """

    kinks = np.empty((0, 2))

    def value_and_grad(self, p: np.ndarray) -> tuple[Any, np.ndarray]:
        f, g = super().value_and_grad(p)
        if p.ndim == 1:  # one trajectory step: two float checks, nothing more
            if (math.isfinite(g[0]) and math.isfinite(g[1])) or not math.isfinite(f):
                return f, g
            return f, _subgradient(self, p[None])[0]
        with np.errstate(invalid="ignore"):
            bad = ~np.isfinite(g).all(axis=-1) & np.isfinite(f)
        if bad.any():
            g[bad] = _subgradient(self, p[bad])
        return f, g


def _subgradient(surface: Surface, pts: np.ndarray) -> np.ndarray:
    radius = RING_RADIUS * (1.0 + np.abs(pts).max(axis=-1))
    ring = pts[:, None, :] + radius[:, None, None] * _DIRECTIONS
    with np.errstate(all="ignore"):
        return shortest_in_hull(Surface.value_and_grad(surface, ring)[1])


def _custom_surface(text: str, expr: sp.Expr, window: Window = WINDOW, **kwargs: Any) -> Surface:
    return FormulaSurface(
        name="custom",
        label=f"Custom: {text.strip()}",
        expr=expr,
        bounds=window,
        start=default_start(window),
        description="A surface typed by the user."
        if window == WINDOW
        else f"A surface typed by the user, on the window {window_text(window)}.",
        **kwargs,
    )


def _estimate_minima(surface: Surface, pts: np.ndarray, f: np.ndarray) -> np.ndarray:
    """Polish the lowest grid point with Newton's method; keep it if it is a true minimum."""
    j, i = np.unravel_index(np.argmin(f), f.shape)
    if j in (0, f.shape[0] - 1) or i in (0, f.shape[1] - 1):
        return np.empty((0, 2))  # lowest on the border: the minimum lies outside the window
    guess = pts[j, i]
    m = polish_minima(surface, [guess], iters=30)[0]
    (x0, x1), (y0, y1) = surface.bounds
    with np.errstate(all="ignore"):
        fm = float(surface.loss(m))
        gm = surface.grad(m)
        if not (x0 <= m[0] <= x1 and y0 <= m[1] <= y1) or not fm <= float(f[j, i]) + 1e-9:
            m, fm, gm = guess, float(f[j, i]), surface.grad(guess)
        if not np.all(np.abs(gm) <= 1e-6 * (1 + abs(fm))):
            return np.empty((0, 2))
    return _readonly(np.array([m], dtype=np.float64))


def _readonly(a: np.ndarray) -> np.ndarray:
    a.flags.writeable = False
    return a


# -- the server's side -----------------------------------------------------------------------------
WORKERS = 2  # formulas analysed at once; more wait (up to LIMIT_S), then hear "busy"
LIMIT_S = 1.0  # wall time to answer a formula, whatever it is
WARM_UP = "sin(x)*cos(y) + 0.1*(x^2 + y^2) + log(1 + abs(x*y)) + sqrt(1 + x^2)/(2 + tanh(y))"
TOO_LONG = (
    f"the formula takes too long to analyse (over {LIMIT_S:g} s); simplify it, e.g. fewer "
    "nested functions"
)
BUSY = "the server is busy analysing other formulas; try again in a moment"
CACHE_SIZE = 256

_pool = WorkerPool("optim.expression:analyse_or_explain", WORKERS, WARM_UP)
_lock = threading.Lock()
_answers: OrderedDict[tuple[str, Window], Surface | str] = OrderedDict()  # a surface, or why not
_pending: dict[tuple[str, Window], Future] = {}  # (text, window) -> an answer being computed


def start_workers() -> None:
    """Boot the worker processes now, in the background, so that the first formula is fast."""
    _pool.start()


def _answer(text: str, window: Window) -> tuple[Surface | str, bool]:
    """The surface or the reason it is refused, and whether that answer may be cached."""
    try:
        check_formula(text)  # most refusals need no worker
    except ValueError as err:
        return str(err), True
    if not _pool.wait_ready():  # only the first formula of a server waits for the boot
        return "the formula checker could not start; try again later", False
    try:
        reply = _pool.call((text, window), LIMIT_S)
    except Busy:
        return BUSY, False
    except TimedOut as err:
        if err.waited > 0.1:  # it had less than the full second: not the formula's fault
            return BUSY, False
        return TOO_LONG, True
    except WorkerDied as err:
        return f"the formula cannot be analysed (the worker stopped: {err})"[:300], True
    if isinstance(reply, str):
        return reply, True
    try:
        if reply.window != window:
            raise ValueError("the reply is for another window")
        surface = _custom_surface(text, reply.expr, window, latex=reply.latex, minima=reply.minima)
        surface.kinks = _readonly(np.asarray(reply.kinks, dtype=np.float64).reshape(-1, 2))
        surface.load_sources(reply.value_source, reply.value_and_grad_source, reply.hessian_source)
    except Exception as err:  # a worker's reply that does not load is refused, not shown
        return f"the formula cannot be analysed ({type(err).__name__}: {err})"[:300], True
    return surface, True


def surface_from_expression(text: str, window: Any = None) -> Surface:
    """A :class:`Surface` for a formula in ``x`` and ``y``, on ``window`` (default WINDOW,
    [-3, 3]²): ``((x_lo, x_hi), (y_lo, y_hi))``, checked by :func:`check_window`.

    The window is where the formula must be finite, where its minimum is looked for and
    where runs start. Raises ``ValueError`` with a message saying what is wrong and where,
    within about LIMIT_S seconds whatever the formula: the symbolic work runs in a worker
    process that is killed when it runs over, so the server's other threads never wait for
    SymPy. Answers, refusals included, are remembered per text and window.
    """
    if not isinstance(text, str):
        raise ValueError(f"the formula must be text, got {type(text).__name__}")
    window = WINDOW if window is None else check_window(window)
    key = (text, window)
    with _lock:
        known = _answers.get(key)
        if known is not None:
            _answers.move_to_end(key)
        else:
            pending = _pending.get(key)
            mine = pending is None
            if mine:
                pending = _pending[key] = Future()
    if known is None and not mine:  # the same request from another session: share its answer
        try:
            known = pending.result(timeout=LIMIT_S + 0.5)
        except Exception:  # it ran late, or failed in a way its own caller hears about
            known = BUSY
    elif known is None:
        try:
            known, keep = _answer(text, window)
        except BaseException as err:
            pending.set_exception(err)
            raise
        finally:
            with _lock:
                _pending.pop(key, None)
        with _lock:
            if keep:
                _answers[key] = known
                while len(_answers) > CACHE_SIZE:
                    _answers.popitem(last=False)
        pending.set_result(known)
    if isinstance(known, str):
        raise ValueError(known)
    return known
