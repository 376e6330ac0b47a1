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
import functools
import math

import numpy as np
import sympy as sp

from .surfaces import Surface, X, Y, compile_expression, number, polish_minima

MAX_LENGTH = 300
MAX_NODES = 150
MAX_DEPTH = 24
MAX_EXPONENT = 100  # |constant exponent|
MAX_NUMBER = 1e12  # |literal|
WINDOW = ((-3.0, 3.0), (-3.0, 3.0))
START = (-2.0, 2.0)
GRID = 201  # odd, so that 0 is a grid point

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


class _Builder:
    """Walks the syntax tree; ``at(node)`` maps a column back to the user's text."""

    def __init__(self, text: str, columns: list[int]) -> None:
        self.text = text
        self.columns = columns

    def at(self, node: ast.AST) -> str:
        col = getattr(node, "col_offset", 0)
        return f"column {self.columns[min(col, len(self.columns) - 1)] + 1}"

    def fail(self, node: ast.AST, what: str, hint: str = "") -> ValueError:
        return ValueError(f"{what} at {self.at(node)}" + (f" ({hint})" if hint else ""))

    def build(self, node: ast.AST, depth: int = 0) -> sp.Expr:
        if depth > MAX_DEPTH:
            raise self.fail(node, f"formula nested too deeply (more than {MAX_DEPTH} levels)")
        if isinstance(node, ast.Constant):
            return self.constant(node)
        if isinstance(node, ast.Name):
            return self.name(node)
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
            inner = self.build(node.operand, depth + 1)
            return -inner if isinstance(node.op, ast.USub) else inner
        if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
            left = self.build(node.left, depth + 1)
            right = self.build(node.right, depth + 1)
            if isinstance(node.op, ast.Pow):
                return self.power(node, left, right)
            if isinstance(node.op, ast.Add):
                return left + right
            if isinstance(node.op, ast.Sub):
                return left - right
            if isinstance(node.op, ast.Mult):
                return left * right
            return left / right
        if isinstance(node, ast.Call):
            return self.call(node, depth)
        raise self.fail(node, f"{_describe(node)} is not allowed", f"use {_ALLOWED}")

    def constant(self, node: ast.Constant) -> sp.Expr:
        v = node.value
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            kind = "imaginary number" if isinstance(v, complex) else type(v).__name__
            raise self.fail(node, f"a {kind} is not allowed, only real numbers")
        if not math.isfinite(v) or abs(v) > MAX_NUMBER:
            raise self.fail(node, f"number too large (more than {MAX_NUMBER:g})")
        return number(v)

    def name(self, node: ast.Name) -> sp.Expr:
        if node.id in VARIABLES:
            return VARIABLES[node.id]
        if node.id in CONSTANTS:
            return CONSTANTS[node.id]
        if node.id in FUNCTIONS:
            raise self.fail(node, f"{node.id} is a function: write {node.id}(...)")
        if len(node.id) > 1 and set(node.id) <= set(VARIABLES):
            product = "*".join(node.id)
            raise self.fail(node, f"unknown name {node.id!r}", f"for a product write {product}")
        raise self.fail(node, f"unknown name {node.id!r}", f"use {_ALLOWED}")

    def call(self, node: ast.Call, depth: int) -> sp.Expr:
        if not isinstance(node.func, ast.Name):
            raise self.fail(node, "only calls of plain function names are allowed")
        fname = node.func.id
        if fname not in FUNCTIONS:
            raise self.fail(
                node, f"unknown function {fname!r} (use {', '.join(sorted(FUNCTIONS))})"
            )
        if node.keywords or len(node.args) != 1 or isinstance(node.args[0], ast.Starred):
            raise self.fail(node, f"{fname} takes exactly one argument")
        return FUNCTIONS[fname](self.build(node.args[0], depth + 1))

    def power(self, node: ast.BinOp, base: sp.Expr, exponent: sp.Expr) -> sp.Expr:
        if not exponent.free_symbols:
            ev = _as_float(exponent)
            if ev is None or abs(ev) > MAX_EXPONENT:
                raise self.fail(node, f"exponent too large (at most {MAX_EXPONENT} in size)")
            if not base.free_symbols:
                bv = _as_float(base)
                if bv is None or (bv != 0 and abs(ev * math.log10(abs(bv))) > 300):
                    raise self.fail(node, "number too large (the power overflows)")
                if bv < 0 and not float(ev).is_integer():
                    raise self.fail(node, "a negative number to a fractional power is complex")
        return base**exponent


def _as_float(e: sp.Expr) -> float | None:
    """A constant's value in double precision, or None (complex, infinite, undefined).

    NumPy rather than SymPy's arbitrary precision: a tower like exp(exp(exp(9))) just overflows
    to inf instead of being computed to arbitrary precision.
    """
    try:
        with np.errstate(all="ignore"):
            v = complex(sp.lambdify((), e, "numpy")())
    except (TypeError, ValueError, ArithmeticError, NameError):
        return None
    if v.imag != 0 or not math.isfinite(v.real):
        return None
    return v.real


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
    if isinstance(node, ast.Compare):
        return "a comparison"
    if isinstance(node, ast.Attribute):
        return "attribute access ('.')"
    if isinstance(node, ast.Subscript):
        return "indexing ('[]')"
    return f"{type(node).__name__!r}"


def parse_formula(text: str) -> sp.Expr:
    """Parse ``text`` into a SymPy expression in ``x`` and ``y`` (``ValueError`` if not allowed).

    >>> parse_formula("sin(x) * e^-y")
    exp(-y)*sin(x)
    """
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
    try:
        expr = _Builder(text, columns).build(tree)
    except ValueError:
        raise
    except (RecursionError, MemoryError, TypeError, AttributeError, ArithmeticError) as err:
        raise ValueError(f"could not build the formula: {err}") from None
    if expr.has(sp.zoo, sp.oo, -sp.oo, sp.nan):
        raise ValueError("the formula has an infinite or undefined value (division by zero?)")
    if not expr.free_symbols & {X, Y}:
        raise ValueError("constant expression: the formula must depend on x or y")
    return expr


def _grid(bounds: tuple, n: int = GRID) -> np.ndarray:
    (x0, x1), (y0, y1) = bounds
    gx, gy = np.meshgrid(np.linspace(x0, x1, n), np.linspace(y0, y1, n), indexing="xy")
    return np.stack([gx, gy], axis=-1)


@functools.lru_cache(maxsize=128)
def _surface(text: str) -> Surface:
    expr = parse_formula(text)
    try:
        compiled = compile_expression(expr, (X, Y))
    except Exception as err:  # SymPy cannot print or differentiate it
        raise ValueError(f"the formula is not differentiable: {err}") from None
    if any(g.has(sp.Derivative, sp.Subs, sp.DiracDelta) for g in compiled.gradient):
        raise ValueError("the formula is not differentiable (its gradient has no closed form)")

    surface = Surface(
        name="custom",
        label=f"Custom: {text.strip()}",
        expr=expr,
        bounds=WINDOW,
        start=START,
        description="A surface typed by the user.",
    )
    pts = _grid(WINDOW)
    with np.errstate(all="ignore"):
        f, g = surface.value_and_grad(pts)
    if np.iscomplexobj(f) or np.iscomplexobj(g):
        raise ValueError("the formula takes complex values in the window [-3, 3] x [-3, 3]")
    f = np.asarray(f, dtype=np.float64)
    for what, bad in (
        ("not finite", ~np.isfinite(f)),
        ("not differentiable", ~np.isfinite(g).all(axis=-1)),
    ):
        if bad.any():
            j, i = np.argwhere(bad)[0]
            x, y = pts[j, i]
            raise ValueError(
                f"the formula is {what} at (x, y) = ({x:.3g}, {y:.3g}) in the window "
                f"[-3, 3] x [-3, 3]; keep it finite and smooth there, e.g. sqrt(x^2 + 1) "
                f"instead of sqrt(x)"
            )
    surface.minima = _estimate_minima(surface, pts, f)
    return surface


def _estimate_minima(surface: Surface, pts: np.ndarray, f: np.ndarray) -> np.ndarray:
    """Polish the lowest grid point with Newton's method; keep it if it is a true minimum."""
    j, i = np.unravel_index(np.argmin(f), f.shape)
    if j in (0, f.shape[0] - 1) or i in (0, f.shape[1] - 1):
        return np.empty((0, 2))  # lowest on the border: the minimum lies outside the window
    guess = pts[j, i]
    m = polish_minima(surface, [guess], iters=30)[0]
    (x0, x1), (y0, y1) = WINDOW
    with np.errstate(all="ignore"):
        fm = float(surface.loss(m))
        gm = surface.grad(m)
        if not (x0 <= m[0] <= x1 and y0 <= m[1] <= y1) or not fm <= float(f[j, i]) + 1e-9:
            m, fm, gm = guess, float(f[j, i]), surface.grad(guess)
        if not np.all(np.abs(gm) <= 1e-6 * (1 + abs(fm))):
            return np.empty((0, 2))
    out = np.array([m], dtype=np.float64)
    out.flags.writeable = False
    return out


def surface_from_expression(text: str) -> Surface:
    """A :class:`Surface` for a formula in ``x`` and ``y``, on the window [-3, 3]².

    Raises ``ValueError`` with a message saying what is wrong and where.
    """
    if not isinstance(text, str):
        raise ValueError(f"the formula must be text, got {type(text).__name__}")
    return _surface(text)
