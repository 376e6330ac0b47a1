"""Loss surfaces: each one is a single SymPy expression in two variables.

Everything else is derived from that expression, once: the value, the gradient
and the Hessian (``sympy.diff`` + ``sympy.lambdify``, compiled on first use and
cached with :func:`functools.lru_cache`, since lambdified functions cannot be
pickled for Streamlit's cache) and the LaTeX the app shows (``sympy.latex``).

Every surface is a :class:`optim.problems.Problem` of dimension 2 (``dim``,
``value_and_grad``) with plotting extras: the window ``bounds``, ``minima``, LaTeX,
curvature. Two kinds of surface:

* analytic ones (bowl, Rosenbrock, Himmelblau, ...): a formula in ``x`` and ``y``;
* data ones (``linear``, ``quadratic``): the mean squared error of a model with
  two weights ``(a, b)`` over a fixed data set. They keep the data, so that a run
  can use minibatch gradients; the full-batch formula is the per-sample formula
  expanded as a polynomial in ``(a, b)`` and averaged over the data, which is
  exact and as cheap to compute as any analytic surface.

Points have shape ``(..., 2)``; ``loss`` returns ``(...)`` and ``grad`` returns
``(..., 2)``, whatever the leading (batch) shape.

>>> import numpy as np
>>> s = make_surface("rosenbrock")
>>> s.minima.tolist(), float(s.loss(s.minima[0])), bool(np.all(s.grad(s.minima[0]) == 0))
([[1.0, 1.0]], 0.0, True)
"""

from __future__ import annotations

import ast
import functools
import inspect
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import sympy as sp
from sympy.printing.numpy import NumPyPrinter

from .params import Param, Registry

X, Y = sp.symbols("x y", real=True)
HESSIAN_OPS = 150  # above this many operations in the gradient, differentiate numerically
A, B = sp.symbols("a b", real=True)
XI, YI = sp.symbols("x_i y_i", real=True)


def number(value: float) -> sp.Expr:
    """A SymPy number that prints nicely: ``2`` rather than ``2.0`` when integral."""
    v = float(value)
    if v.is_integer() and abs(v) < 1e15:
        return sp.Integer(int(v))
    return sp.Float(v)


def display_latex(expr: sp.Expr, digits: int = 4) -> str:
    """LaTeX of ``expr`` with long decimals cut to a few significant digits."""
    short = {f: sp.Float(f, digits) for f in expr.atoms(sp.Float)}
    return sp.latex(expr.xreplace(short))


# -- compilation ---------------------------------------------------------------------


class _Printer(NumPyPrinter):
    """NumPy code whose powers give the same bits for a single point and for an array.

    ``x**3`` on a NumPy scalar calls the C library's ``pow``, while on an array
    NumPy may use a SIMD kernel (and ``x**2`` becomes ``x*x``): the last bit can
    differ, so a batch of trajectories would drift apart from the same runs made
    one by one. Small integer powers are written as products and every other
    power as a ``numpy.power`` call, which takes the same path for both.
    """

    def _print_Float(self, expr: sp.Float) -> str:
        return repr(float(expr))  # every bit of the double, not 15 digits

    def _print_Add(self, expr: sp.Add, order: str | None = None) -> str:
        # ``-a + b`` costs a negation more than ``b - a``, the same double (a - b is
        # a + (-b) exactly); only for two terms: more would change the order of the sums
        terms = self._as_ordered_terms(expr, order=order)
        swap = len(terms) == 2 and terms[0].could_extract_minus_sign()
        if swap and not terms[1].could_extract_minus_sign():
            return f"{self._print(terms[1])} - ({self._print(-terms[0])})"
        return super()._print_Add(expr, order=order)

    def _print_Pow(self, expr: sp.Pow, rational: bool = False) -> str:
        base, exp = expr.as_base_exp()
        if exp == 2 and not base.is_Atom:
            # a sum squared: computed once, not once per factor (the same bits as b*b)
            return f"{self._module_format('numpy.square')}({self._print(base)})"
        if exp.is_Integer and 1 <= abs(int(exp)) <= 4:
            b = f"({self._print(base)})"
            prod = "*".join([b] * abs(int(exp)))
            return f"({prod})" if exp > 0 else f"(1/({prod}))"
        if exp in (sp.S.Half, -sp.S.Half):
            return super()._print_Pow(expr, rational=rational)  # numpy.sqrt
        b = repr(float(base)) if base.is_Number else self._print(base)
        return f"{self._module_format('numpy.power')}({b}, {self._print(exp)})"


def lambdify(args: Sequence[sp.Symbol], exprs: Any, cse: bool = False) -> Callable:
    """``sympy.lambdify`` to NumPy with the bit-stable power printer."""
    return sp.lambdify(args, exprs, "numpy", printer=_Printer, cse=cse)


# -- compiled in one process, loaded in another ----------------------------------------------
# A typed formula is differentiated and lambdified in a worker process (optim.expression);
# the server process receives the generated NumPy source and only loads it, which costs time
# in proportion to its length, never SymPy's open-ended symbolic work.
def lambdify_source(args: Sequence[sp.Symbol], exprs: Any, cse: bool = False) -> str:
    """The Python source ``lambdify`` generates (a function of ``args`` using ``numpy.*``)."""
    return inspect.getsource(lambdify(args, exprs, cse=cse))


def load_source(source: str, args: Sequence[str] = ("x", "y")) -> Callable:
    """Compile ``lambdify_source`` output after checking it is nothing but arithmetic
    (:func:`arithmetic_function`): the source came from another process, so it is checked,
    not trusted."""
    tree, fn = arithmetic_function(source, args)
    namespace = {"numpy": np, "__builtins__": {"abs": abs}}
    exec(compile(tree, "<formula>", "exec"), namespace)  # checked: arithmetic only
    return namespace[fn.name]


def arithmetic_function(
    source: str, args: Sequence[str] | None = ("x", "y")
) -> tuple[ast.Module, ast.FunctionDef]:
    """The syntax tree of ``source`` and its one function, after checking that the
    function is nothing but arithmetic. Every piece of generated code this module runs
    passes here first.

    Allowed: one function of ``args`` (of two plain arguments when ``args`` is ``None``),
    assignments to plain names, a return of a value or a list, numbers, + - * / ** and
    unary minus, and calls of ``abs`` or of the NumPy functions the printer writes for the
    parser's functions and their derivatives (``_NUMPY_NAMES``). Anything else (an
    import, an attribute other than numpy's, a subscript, a keyword) raises ``ValueError``.
    """
    tree = ast.parse(source)
    fn = tree.body[0] if len(tree.body) == 1 else None
    if not isinstance(fn, ast.FunctionDef) or fn.decorator_list:
        raise ValueError("compiled formula: expected one plain function")
    params = [a.arg for a in fn.args.args]
    if args is None and len(params) == 2:
        args = params
    if args is None or params != list(args) or fn.args.vararg or fn.args.kwarg:
        raise ValueError("compiled formula: unexpected arguments")
    names = set(args)
    for stmt in fn.body:
        if isinstance(stmt, ast.Assign) and all(isinstance(t, ast.Name) for t in stmt.targets):
            names.update(t.id for t in stmt.targets)
        elif not isinstance(stmt, ast.Return) or stmt.value is None:
            raise ValueError(f"compiled formula: {type(stmt).__name__} is not allowed")
    for node in ast.walk(ast.Module(body=fn.body, type_ignores=[])):
        ok = isinstance(node, _SOURCE_NODES) or (
            isinstance(node, ast.Name) and (node.id in names or node.id in _SOURCE_GLOBALS)
        )
        if isinstance(node, ast.Attribute):
            ok = isinstance(node.value, ast.Name) and node.value.id == "numpy"
            ok = ok and node.attr in _NUMPY_NAMES
        if isinstance(node, ast.Call):
            ok = not node.keywords and (
                isinstance(node.func, ast.Attribute)
                or (isinstance(node.func, ast.Name) and node.func.id == "abs")
            )
        if isinstance(node, ast.Constant):
            ok = type(node.value) in (int, float)
        if not ok:
            raise ValueError(f"compiled formula: {type(node).__name__} is not allowed")
    return tree, fn


_SOURCE_GLOBALS = frozenset({"numpy", "abs"})
# what lambdify prints for the parser's functions (optim.expression.FUNCTIONS), their
# derivatives and Hessians, and the printer's own powers; nothing that reads or writes
_NUMPY_NAMES = frozenset(
    {"sin", "cos", "tan", "arcsin", "arccos", "arctan", "sinh", "cosh", "tanh"}
    | {"arcsinh", "arccosh", "arctanh", "exp", "log", "sqrt", "power", "square"}
    | {"sign", "absolute", "pi", "e"}
)
_SOURCE_NODES = (
    ast.Assign,
    ast.Return,
    ast.Load,
    ast.Store,
    ast.Expr,
    ast.BinOp,
    ast.UnaryOp,
    ast.List,
    ast.Tuple,
    ast.Add,
    ast.Sub,
    ast.Mult,
    ast.Div,
    ast.Pow,
    ast.USub,
    ast.UAdd,
    ast.Module,
)


@dataclass(frozen=True)
class Compiled:
    """Lambdified pieces of one expression (all take the two coordinates)."""

    value: Callable  # (u, v) -> f
    value_and_grad: Callable  # (u, v) -> [f, df/du, df/dv]
    gradient: tuple[sp.Expr, sp.Expr] | None  # None when compiled in another process


# Bounded caches rather than functools.cache: custom formulas typed into a
# long-running server would otherwise pile up forever.
@functools.lru_cache(maxsize=256)
def compile_expression(expr: sp.Expr, variables: tuple[sp.Symbol, sp.Symbol] = (X, Y)) -> Compiled:
    """Differentiate and lambdify ``expr`` (cached: sliders rebuild surfaces often)."""
    u, v = variables
    gu, gv = sp.diff(expr, u), sp.diff(expr, v)
    # cse shares subexpressions between the value and its derivatives: fewer NumPy calls
    return Compiled(
        value=lambdify((u, v), expr),
        value_and_grad=lambdify((u, v), _fewest_operations(expr, gu, gv), cse=True),
        gradient=(gu, gv),
    )


# the ufunc each arithmetic operator calls: ``numpy.add(a, b, out=o)`` gives the bits of ``a + b``
_OPERATOR_UFUNCS = {ast.Add: "add", ast.Sub: "subtract", ast.Mult: "multiply", ast.Div: "divide"}


def gradient_writer(value_and_grad: Callable) -> Callable | None:
    """``value_and_grad(u, v) -> [f, df/du, df/dv]`` rewritten as ``(u, v, gu, gv) -> f``,
    writing each derivative into the array given for it, or ``None`` when its source cannot
    be read (a formula compiled in another process keeps the plain function).

    A derivative whose code ends in ``+ - * /`` has that last operation called as its ufunc
    with ``out=`` (the same bits); any other is assigned into the array. A batch's gradient
    is then computed in place instead of in two temporaries copied into it afterwards.
    """
    try:
        # the same check as any code from another process: arithmetic, nothing else
        tree, fn = arithmetic_function(inspect.getsource(value_and_grad), args=None)
    except (OSError, TypeError, SyntaxError, ValueError):
        return None
    returned = fn.body[-1].value if isinstance(fn.body[-1], ast.Return) else None
    if not isinstance(returned, ast.List) or len(returned.elts) != 3:
        return None
    outs = ("_du", "_dv")  # lambdify names its variables x0, x1, ...: no clash
    fn.args.args += [ast.arg(name) for name in outs]
    fn.body[-1:] = [
        ast.Expr(
            ast.Call(
                ast.Attribute(
                    ast.Name("numpy", ast.Load()), _OPERATOR_UFUNCS[type(e.op)], ast.Load()
                ),
                [e.left, e.right],
                [ast.keyword("out", ast.Name(name, ast.Load()))],
            )
        )
        if isinstance(e, ast.BinOp) and type(e.op) in _OPERATOR_UFUNCS
        else ast.Assign(
            [ast.Subscript(ast.Name(name, ast.Load()), ast.Constant(...), ast.Store())], e
        )
        for name, e in zip(outs, returned.elts[1:], strict=True)
    ]
    fn.body.append(ast.Return(returned.elts[0]))
    namespace = {"numpy": np, "__builtins__": {"abs": abs}}
    # checked above: arithmetic, plus the ufunc calls and array writes made here
    exec(compile(ast.fix_missing_locations(tree), "<gradient writer>", "exec"), namespace)
    return namespace[fn.name]


def _fewest_operations(expr: sp.Expr, gu: sp.Expr, gv: sp.Expr) -> list[sp.Expr]:
    """``[f, df/du, df/dv]`` in the form whose code makes fewer NumPy operations.

    SymPy distributes a number over a sum (``2*(x + y**2 - 7)`` becomes ``2*x + 2*y**2 -
    14``), which hides the value's subexpressions from cse; ``factor_terms`` undoes that
    where it helps (Himmelblau: 17 operations instead of 23, counted after cse)
    and can lengthen others (Beale), so both forms are counted and the shorter kept.
    """

    def operations(exprs: list[sp.Expr]) -> int:
        shared, reduced = sp.cse(exprs)
        return sum(sp.count_ops(e) for _, e in shared) + sum(sp.count_ops(e) for e in reduced)

    plain = [expr, gu, gv]
    factored = [expr, sp.factor_terms(gu), sp.factor_terms(gv)]
    return factored if operations(factored) < operations(plain) else plain


@functools.lru_cache(maxsize=256)
def compile_hessian(
    expr: sp.Expr, variables: tuple[sp.Symbol, sp.Symbol] = (X, Y)
) -> Callable | None:
    """``(u, v) -> [f_uu, f_uv, f_vv]``; separate because only diagnostics need it.

    ``None`` when :func:`hessian_exprs` gives none: the Hessian is then taken by central
    differences of the exact gradient instead.
    """
    second = hessian_exprs(compile_expression(expr, variables).gradient, variables)
    return None if second is None else lambdify(variables, second, cse=True)


def hessian_exprs(
    gradient: tuple[sp.Expr, sp.Expr], variables: tuple[sp.Symbol, sp.Symbol] = (X, Y)
) -> list[sp.Expr] | None:
    """``[f_uu, f_uv, f_vv]`` from the gradient, or ``None`` when it is not worth it.

    ``None`` when the gradient is already large (a long typed formula): its symbolic second
    derivatives could take SymPy seconds. Also ``None`` when SymPy leaves a derivative it
    cannot write out (``abs(abs(...))``), which NumPy code could not evaluate.
    """
    u, v = variables
    gu, gv = gradient
    if sp.count_ops(gu) + sp.count_ops(gv) > HESSIAN_OPS:
        return None
    second = [sp.diff(gu, u), sp.diff(gu, v), sp.diff(gv, v)]
    # abs() has a kink: its second derivative is a Dirac delta, zero almost everywhere
    second = [h.replace(sp.DiracDelta, lambda *args: sp.S.Zero) for h in second]
    if any(h.has(sp.Derivative, sp.Subs) for h in second):
        return None
    return second


CONTIGUOUS_FROM = 256  # points in a batch from which value_and_grad copies the coordinates out


def _as_points(p: Any) -> np.ndarray:
    p = np.asarray(p, dtype=np.float64)
    if p.ndim == 0 or p.shape[-1] != 2:
        raise ValueError(f"points must have shape (..., 2), got {p.shape}")
    return p


def _full(value: Any, shape: tuple[int, ...]) -> np.ndarray:
    """Broadcast a result to ``shape``: a constant derivative is a plain number."""
    out = np.empty(shape, dtype=np.float64)
    out[...] = value
    return out


# -- surfaces ------------------------------------------------------------------------


@dataclass(eq=False)
class Surface:
    """A loss surface: one SymPy expression plus what the app needs to show it.

    ``bounds`` is the plot window ``((xmin, xmax), (ymin, ymax))``; ``start`` the
    default starting point; ``minima`` the known minima, shape ``(k, 2)`` (empty
    when there is none, e.g. the saddle).
    """

    name: str
    label: str
    expr: sp.Expr
    bounds: tuple[tuple[float, float], tuple[float, float]]
    start: np.ndarray
    minima: np.ndarray = field(default_factory=lambda: np.empty((0, 2)))
    params: dict[str, float] = field(default_factory=dict)
    param_specs: tuple[Param, ...] = ()
    variables: tuple[str, str] = ("x", "y")
    symbols: tuple[sp.Symbol, sp.Symbol] = (X, Y)
    description: str = ""
    latex: str = ""

    is_data = False
    n_samples = 0
    dim = 2  # a Problem (optim.problems) of two parameters, with plotting extras
    elementwise = True  # one formula, point by point: no batch changes a point's bits
    # a batch of points as run() stores it: column-major, each coordinate one contiguous
    # array. The compiled formula then reads the coordinates without copying them out, and
    # a batch hyperparameter widened to (k, 2) is two contiguous copies (optimizers' buffers
    # follow the parameters' layout)
    batch_order = "F"

    def __post_init__(self) -> None:
        self.bounds = tuple((float(lo), float(hi)) for lo, hi in self.bounds)
        self.start = _readonly(np.asarray(self.start, dtype=np.float64).reshape(2))
        self.minima = _readonly(np.asarray(self.minima, dtype=np.float64).reshape(-1, 2))
        if not self.latex:
            self.latex = display_latex(self.expr)

    @property
    def compiled(self) -> Compiled:
        # kept on the instance (a cache look-up per step costs as much as the math)
        c = self.__dict__.get("_compiled")
        if c is None:
            c = self.__dict__["_compiled"] = compile_expression(self.expr, self.symbols)
        return c

    @property
    def _hessian_fn(self) -> Callable | None:
        if "_hessian" not in self.__dict__:
            self.__dict__["_hessian"] = compile_hessian(self.expr, self.symbols)
        return self.__dict__["_hessian"]

    def load_sources(self, value: str, value_and_grad: str, hessian: str | None) -> None:
        """Use NumPy code generated elsewhere (a worker process's :func:`lambdify_source`
        output, checked by :func:`load_source`) instead of compiling here; ``hessian``
        ``None`` for finite differences.

        The sources are kept: a copy of this surface sent to another process (a map
        worker) loads them again, instead of redoing SymPy's work on the formula there,
        without the formula workers' time limit.
        """
        # all three loaded before any is kept: a source that fails leaves the surface as it was
        compiled = Compiled(load_source(value), load_source(value_and_grad), None)
        hessian_fn = None if hessian is None else load_source(hessian)
        self.__dict__["_compiled"] = compiled
        self.__dict__["_hessian"] = hessian_fn
        self.__dict__["_sources"] = (value, value_and_grad, hessian)
        self.__dict__.pop("_writer", None)

    @property
    def _gradient_writer(self) -> Callable | None:
        if "_writer" not in self.__dict__:
            self.__dict__["_writer"] = gradient_writer(self.compiled.value_and_grad)
        return self.__dict__["_writer"]

    def __getstate__(self) -> dict:
        # lambdified functions cannot be pickled: a copy loads its kept sources again
        # (__setstate__), or compiles its formula on first use when it has none
        skip = ("_compiled", "_hessian", "_writer")
        return {k: v for k, v in self.__dict__.items() if k not in skip}

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        if state.get("_sources") is not None:
            self.load_sources(*state["_sources"])

    # Unbatched points take a fast path: NumPy scalars cost far less per
    # operation than 0-d arrays, and one trajectory step must cost microseconds.
    def value_and_grad(self, p: np.ndarray) -> tuple[Any, np.ndarray]:
        """Loss and gradient at ``p`` (no error-state handling: callers set it)."""
        fn = self.compiled.value_and_grad
        if p.ndim == 1:
            f, gu, gv = fn(p[0], p[1])
            return np.float64(f), np.array([gu, gv], dtype=np.float64)
        u, v = p[..., 0], p[..., 1]
        if u.size > CONTIGUOUS_FROM:
            # every operation of the formula runs faster on contiguous coordinates than on
            # the strided columns of a row-major p; two copies pay for themselves on a big
            # batch (a column-major p's are contiguous already: no copy)
            u, v = np.ascontiguousarray(u), np.ascontiguousarray(v)
            write = self._gradient_writer
        else:
            write = None
        shape = p.shape[:-1]
        g = np.empty_like(p, dtype=np.float64)  # p's layout
        if write is not None:  # the derivatives computed straight into g's columns
            f = write(u, v, g[..., 0], g[..., 1])
        else:
            f, g[..., 0], g[..., 1] = fn(u, v)
        return (f if np.shape(f) == shape else _full(f, shape)), g

    def value(self, p: np.ndarray) -> Any:
        f = self.compiled.value(p[..., 0], p[..., 1])
        shape = p.shape[:-1]
        if p.ndim == 1:
            return np.float64(f)
        return f if np.shape(f) == shape else _full(f, shape)

    def loss(self, p: Any) -> np.ndarray:
        """Loss at points ``(..., 2)`` -> ``(...)``; ``inf``/``nan`` where undefined."""
        p = _as_points(p)
        with np.errstate(all="ignore"):
            return np.asarray(self.value(p), dtype=np.float64)

    def grad(self, p: Any) -> np.ndarray:
        """Gradient at points ``(..., 2)`` -> ``(..., 2)``."""
        p = _as_points(p)
        with np.errstate(all="ignore"):
            return self.value_and_grad(p)[1]

    def hessian(self, p: Any) -> np.ndarray:
        """Hessian at points ``(..., 2)`` -> ``(..., 2, 2)``."""
        p = _as_points(p)
        fn = self._hessian_fn
        if fn is None:
            return self._hessian_by_differences(p)
        with np.errstate(all="ignore"):
            huu, huv, hvv = fn(p[..., 0], p[..., 1])
            h = np.empty(p.shape + (2,), dtype=np.float64)
            h[..., 0, 0] = huu
            h[..., 0, 1] = huv
            h[..., 1, 0] = huv
            h[..., 1, 1] = hvv
        return h

    def _hessian_by_differences(self, p: np.ndarray) -> np.ndarray:
        step = 1e-5 * (1.0 + np.abs(p))
        cols = []
        with np.errstate(all="ignore"):
            for k in range(2):
                e = np.zeros(p.shape)
                e[..., k] = step[..., k]
                diff = self.value_and_grad(p + e)[1] - self.value_and_grad(p - e)[1]
                cols.append(diff / (2 * step[..., k, None]))
            h = np.stack(cols, axis=-1)
            return 0.5 * (h + np.swapaxes(h, -1, -2))  # symmetric, like the exact one

    def max_curvature(self, p: Any) -> np.ndarray:
        """Largest Hessian eigenvalue at each point, ``L`` in the step-size limit ``2/L``."""
        h = self.hessian(p)
        a, b, d = h[..., 0, 0], h[..., 0, 1], h[..., 1, 1]
        with np.errstate(all="ignore"):
            return 0.5 * (a + d) + np.hypot(0.5 * (a - d), b)

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.params.items())
        return f"Surface({self.name!r}{', ' if args else ''}{args})"


def _readonly(a: np.ndarray) -> np.ndarray:
    a = a.copy()
    a.flags.writeable = False
    return a


class DataSurface(Surface):
    """Mean squared error of a two-weight model over a fixed data set.

    ``sample_expr`` is the loss of one sample in the weights ``(a, b)`` and the
    sample symbols ``x_i, y_i``. The full-batch loss is its mean over the data,
    computed exactly by averaging the coefficients of the polynomial in ``(a, b)``.
    """

    is_data = True
    # row-major: the minibatch gradient averages (k, n) per-sample terms along each row,
    # kept in the layout whose sums the batch-equals-single-runs tests were written against
    batch_order = "C"

    def __init__(
        self, *, sample_expr: sp.Expr, xs: np.ndarray, ys: np.ndarray, **kwargs: Any
    ) -> None:
        self.sample_expr = sample_expr
        self.xs = _readonly(np.asarray(xs, dtype=np.float64))
        self.ys = _readonly(np.asarray(ys, dtype=np.float64))
        self.n_samples = len(self.xs)
        kwargs.setdefault("latex", rf"\frac{{1}}{{n}} \sum_{{i=1}}^{{n}} {sp.latex(sample_expr)}")
        super().__init__(
            expr=_batch_mean(sample_expr, self.xs, self.ys),
            variables=("a", "b"),
            symbols=(A, B),
            **kwargs,
        )

    @property
    def _sample_grad(self) -> Callable:
        return _compile_samples(self.sample_expr)

    def batch_grad(self, p: np.ndarray, idx: np.ndarray) -> np.ndarray:
        """Mean gradient over the samples ``idx`` (a minibatch), at points ``(..., 2)``."""
        xs, ys = self.xs[idx], self.ys[idx]
        if p.ndim == 1:
            ga, gb = self._sample_grad(p[0], p[1], xs, ys)
            return np.array([np.mean(ga), np.mean(gb)])
        a, b = p[..., 0, None], p[..., 1, None]
        ga, gb = self._sample_grad(a, b, xs, ys)
        g = np.empty(p.shape, dtype=np.float64)
        g[..., 0] = np.mean(np.broadcast_to(ga, p.shape[:-1] + (len(xs),)), axis=-1)
        g[..., 1] = np.mean(np.broadcast_to(gb, p.shape[:-1] + (len(xs),)), axis=-1)
        return g

    def sample_loss(self, p: Any) -> np.ndarray:
        """Loss of every sample at points ``(..., 2)`` -> ``(..., n)``."""
        p = _as_points(p)
        fn = _compile_sample_loss(self.sample_expr)
        with np.errstate(all="ignore"):
            out = fn(p[..., 0, None], p[..., 1, None], self.xs, self.ys)
        return np.broadcast_to(out, p.shape[:-1] + (self.n_samples,)).astype(np.float64)


@functools.lru_cache(maxsize=16)
def _compile_sample_loss(sample_expr: sp.Expr) -> Callable:
    return lambdify((A, B, XI, YI), sample_expr)


@functools.lru_cache(maxsize=16)
def _compile_samples(sample_expr: sp.Expr) -> Callable:
    grads = [sp.diff(sample_expr, w) for w in (A, B)]
    return lambdify((A, B, XI, YI), grads, cse=True)


def _batch_mean(sample_expr: sp.Expr, xs: np.ndarray, ys: np.ndarray) -> sp.Expr:
    """Mean of ``sample_expr`` over the data, as a polynomial in the weights.

    A quadratic mean is rewritten around its minimizer ``w*`` (the least-squares
    solution) as ``r + (w - w*)^T H (w - w*) / 2``, with the residual ``r``
    averaged directly: the expanded form would lose the loss's last digits to
    cancellation near the minimum (and could even dip below zero there).
    """
    poly = sp.Poly(sp.expand(sample_expr), A, B)
    total = sp.Integer(0)
    for (i, j), coeff in poly.terms():
        values = lambdify((XI, YI), coeff)(xs, ys)
        mean = float(np.mean(np.broadcast_to(values, xs.shape)))
        total += sp.Float(mean) * A**i * B**j
    if poly.total_degree() != 2:
        return total
    hess = np.array(sp.hessian(total, (A, B)).tolist(), dtype=np.float64)
    g0 = np.array([float(sp.diff(total, w).subs({A: 0, B: 0})) for w in (A, B)])
    if abs(np.linalg.det(hess)) <= 1e-12 * np.abs(hess).max() ** 2:
        return total
    wa, wb = -np.linalg.solve(hess, g0)
    per_sample = lambdify((A, B, XI, YI), sample_expr)(wa, wb, xs, ys)
    residual = float(np.mean(per_sample))
    u, v = A - sp.Float(wa), B - sp.Float(wb)
    h = [[sp.Float(hess[i, j] / 2) for j in range(2)] for i in range(2)]
    return sp.Float(residual) + h[0][0] * u**2 + 2 * h[0][1] * u * v + h[1][1] * v**2


# -- minima --------------------------------------------------------------------------


def polish_minima(
    surface: Surface, guesses: Sequence[Sequence[float]], iters: int = 50
) -> np.ndarray:
    """Refine approximate minima with Newton's method on the exact gradient and Hessian."""
    pts = np.array(guesses, dtype=np.float64).reshape(-1, 2)
    with np.errstate(all="ignore"):
        for _ in range(iters):
            g = surface.grad(pts)
            h = surface.hessian(pts)
            # 2x2 solve by hand: a singular Hessian (flat direction) just stops moving
            a, b, d = h[:, 0, 0], h[:, 0, 1], h[:, 1, 1]
            det = a * d - b * b
            ok = np.isfinite(det) & (np.abs(det) > 1e-12 * (a * a + d * d + 2 * b * b + 1e-300))
            det = np.where(ok, det, 1.0)
            step = np.stack([d * g[:, 0] - b * g[:, 1], a * g[:, 1] - b * g[:, 0]], axis=-1)
            step = np.where(ok[:, None] & np.isfinite(step), step / det[:, None], 0.0)
            pts = pts - step
            if np.all(np.abs(step) <= 1e-15 * (1 + np.abs(pts))):
                break
    return pts


# -- the catalogue -------------------------------------------------------------------


@dataclass(frozen=True)
class SurfaceSpec:
    """A registry entry: name, label and parameters known before building anything."""

    name: str
    label: str
    build: Callable[..., Surface]
    param_specs: tuple[Param, ...] = ()
    description: str = ""

    def defaults(self) -> dict[str, float]:
        return {s.name: s.default for s in self.param_specs}

    def __call__(self, **params: Any) -> Surface:
        known = self.defaults()
        unknown = sorted(set(params) - set(known))
        if unknown:
            raise ValueError(
                f"surface {self.name!r} has no parameter {', '.join(map(repr, unknown))}"
                + (f"; it takes {', '.join(known)}" if known else "; it takes none")
            )
        values = {**known, **params}
        for key, v in values.items():
            if isinstance(v, bool) or not isinstance(v, (int, float, np.integer, np.floating)):
                raise ValueError(f"parameter {key!r} of {self.name!r} must be a number, got {v!r}")
            if not math.isfinite(v):
                raise ValueError(f"parameter {key!r} of {self.name!r} must be finite, got {v!r}")
        values = {k: float(v) for k, v in values.items()}
        surface = _build_cached(self.name, tuple(values.items()))
        return surface


@functools.lru_cache(maxsize=128)
def _build_cached(name: str, items: tuple[tuple[str, float], ...]) -> Surface:
    entry = SURFACES[name]
    params = dict(items)
    s = entry.build(**params)
    s.params = params
    s.param_specs = entry.param_specs
    s.description = entry.description
    return s


def _linear(label_noise: float) -> Surface:
    xs = np.linspace(-1.0, 1.0, 100)
    ys = 2.0 * xs + 3.0
    if label_noise > 0:
        ys = ys + label_noise * np.random.default_rng(0).standard_normal(xs.shape)
    s = DataSurface(
        name="linear",
        label="Linear regression (MSE)",
        sample_expr=(A * XI + B - YI) ** 2,
        xs=xs,
        ys=ys,
        bounds=((-1.0, 5.0), (-1.0, 7.0)),
        start=(-0.5, 0.0),
    )
    s.minima = _readonly(polish_minima(s, [(0.0, 0.0)]))
    return s


def _quadratic(label_noise: float) -> Surface:
    xs = np.arange(-30, 70) / 10.0  # -3.0, -2.9, ..., 6.9
    ys = 0.5 * xs**2 - 2.0 * xs + 0.5
    if label_noise > 0:
        ys = ys + label_noise * np.random.default_rng(0).standard_normal(xs.shape)
    s = DataSurface(
        name="quadratic",
        label="Quadratic fit (MSE)",
        sample_expr=(A * XI**2 + B * XI - YI) ** 2,
        xs=xs,
        ys=ys,
        bounds=((-0.5, 1.5), (-4.0, 0.0)),
        start=(-0.25, -0.5),
    )
    s.minima = _readonly(polish_minima(s, [(0.0, 0.0)]))
    return s


def _bowl(condition: float, angle: float) -> Surface:
    if condition < 1:
        raise ValueError(f"condition number must be at least 1, got {condition}")
    theta = math.radians(angle)
    if angle % 360 == 0:
        u, v = X, Y
    else:
        c, s = number(math.cos(theta)), number(math.sin(theta))
        u, v = c * X + s * Y, -s * X + c * Y
    # curvature 4 across the valley, 4/condition along it: d2l's 0.1 x^2 + 2 y^2 at 20
    expr = number(2.0 / condition) * u**2 + 2 * v**2
    return Surface(
        name="bowl",
        label="Ill-conditioned bowl",
        expr=expr,
        bounds=((-6.0, 6.0), (-4.0, 4.0)),
        start=(-5.0, -2.0),
        minima=[(0.0, 0.0)],
    )


def _rosenbrock(a: float, b: float) -> Surface:
    if b <= 0:
        raise ValueError(f"Rosenbrock's b must be positive, got {b}")
    ka, kb = number(a), number(b)
    expr = (ka - X) ** 2 + kb * (Y - X**2) ** 2
    return Surface(
        name="rosenbrock",
        label="Rosenbrock",
        expr=expr,
        bounds=((-2.0, 2.0), (-1.0, 3.0)),
        start=(-1.5, 2.0),
        minima=[(a, a * a)],
    )


def _beale() -> Surface:
    expr = (
        (sp.Rational(3, 2) - X + X * Y) ** 2
        + (sp.Rational(9, 4) - X + X * Y**2) ** 2
        + (sp.Rational(21, 8) - X + X * Y**3) ** 2
    )
    return Surface(
        name="beale",
        label="Beale",
        expr=expr,
        bounds=((-4.5, 4.5), (-4.5, 4.5)),
        start=(1.0, 1.5),
        minima=[(3.0, 0.5)],
    )


def _himmelblau() -> Surface:
    expr = (X**2 + Y - 11) ** 2 + (X + Y**2 - 7) ** 2
    s = Surface(
        name="himmelblau",
        label="Himmelblau (four minima)",
        expr=expr,
        bounds=((-5.0, 5.0), (-5.0, 5.0)),
        start=(0.0, 0.0),
    )
    s.minima = _readonly(
        polish_minima(s, [(3.0, 2.0), (-2.805, 3.131), (-3.779, -3.283), (3.584, -1.848)])
    )
    return s


def _rastrigin(A: float) -> Surface:
    if A < 0:
        raise ValueError(f"Rastrigin's A must be non-negative, got {A}")
    k = number(A)
    expr = 2 * k + X**2 - k * sp.cos(2 * sp.pi * X) + Y**2 - k * sp.cos(2 * sp.pi * Y)
    return Surface(
        name="rastrigin",
        label="Rastrigin (many local minima)",
        expr=expr,
        bounds=((-4.0, 4.0), (-4.0, 4.0)),
        start=(-3.2, 2.7),
        minima=[(0.0, 0.0)],
    )


def _booth() -> Surface:
    expr = (X + 2 * Y - 7) ** 2 + (2 * X + Y - 5) ** 2
    return Surface(
        name="booth",
        label="Booth",
        expr=expr,
        bounds=((-10.0, 10.0), (-10.0, 10.0)),
        start=(-8.0, -6.0),
        minima=[(1.0, 3.0)],
    )


def _saddle() -> Surface:
    return Surface(
        name="saddle",
        label="Saddle",
        expr=X**2 - Y**2,
        bounds=((-2.0, 2.0), (-2.0, 2.0)),
        start=(-1.8, 0.01),
    )


def _camel() -> Surface:
    expr = (4 - sp.Rational(21, 10) * X**2 + X**4 / 3) * X**2 + X * Y + (-4 + 4 * Y**2) * Y**2
    s = Surface(
        name="camel",
        label="Six-hump camel",
        expr=expr,
        bounds=((-2.0, 2.0), (-1.2, 1.2)),
        start=(-1.5, -0.8),
    )
    s.minima = _readonly(polish_minima(s, [(0.0898, -0.7127), (-0.0898, 0.7127)]))
    return s


_NOISE_HELP = "Standard deviation of Gaussian noise added to the targets (fixed seed)."
_LABEL_NOISE = Param(
    "label_noise", 0.0, _NOISE_HELP, symbol=r"\sigma", low=0.0, high=2.0, label="label noise"
)

SURFACES: Registry[SurfaceSpec] = Registry(
    "surface",
    (
        SurfaceSpec(
            "linear",
            "Linear regression (MSE)",
            _linear,
            (_LABEL_NOISE,),
            "Fit y = a x + b to 100 points of y = 2x + 3 on [-1, 1]: the loss of the "
            "weights (a, b). Minibatches give stochastic gradients.",
        ),
        SurfaceSpec(
            "quadratic",
            "Quadratic fit (MSE)",
            _quadratic,
            (_LABEL_NOISE,),
            "Fit y = a x^2 + b x to y = 0.5x^2 - 2x + 0.5 on [-3, 7): the two features "
            "have very different scales, so the valley is long and narrow.",
        ),
        SurfaceSpec(
            "bowl",
            "Ill-conditioned bowl",
            _bowl,
            (
                Param(
                    "condition",
                    20.0,
                    "Ratio of the largest to the smallest curvature.",
                    symbol=r"\kappa",
                    low=1.0,
                    high=1000.0,
                    log=True,
                    label="condition number",
                ),
                Param(
                    "angle",
                    0.0,
                    "Rotate the valley (degrees): axis-aligned valleys favour "
                    "per-coordinate methods.",
                    symbol=r"\varphi",
                    low=0.0,
                    high=180.0,
                    label="rotation angle",
                ),
            ),
            "A quadratic bowl, 2/κ·u² + 2·v², much steeper across than along.",
        ),
        SurfaceSpec(
            "rosenbrock",
            "Rosenbrock",
            _rosenbrock,
            (
                Param("a", 1.0, "The minimum sits at (a, a²).", symbol="a", low=-2.0, high=2.0),
                Param(
                    "b",
                    100.0,
                    "Steepness of the valley walls.",
                    symbol="b",
                    low=1.0,
                    high=1000.0,
                    log=True,
                ),
            ),
            "A curved, flat-bottomed banana valley: easy to find, slow to follow.",
        ),
        SurfaceSpec(
            "beale", "Beale", _beale, (), "Flat plateaus and steep ridges; one minimum at (3, 0.5)."
        ),
        SurfaceSpec(
            "himmelblau",
            "Himmelblau (four minima)",
            _himmelblau,
            (),
            "Four equally deep minima: where you end depends on where you start.",
        ),
        SurfaceSpec(
            "rastrigin",
            "Rastrigin (many local minima)",
            _rastrigin,
            (Param("A", 10.0, "Height of the ripples.", symbol="A", low=0.0, high=20.0),),
            "A bowl covered in ripples: many local minima trap plain descent.",
        ),
        SurfaceSpec(
            "booth",
            "Booth",
            _booth,
            (),
            "A gently tilted quadratic bowl with its minimum at (1, 3).",
        ),
        SurfaceSpec(
            "saddle",
            "Saddle",
            _saddle,
            (),
            "x² − y²: no minimum; a saddle point at the origin slows descent down.",
        ),
        SurfaceSpec(
            "camel",
            "Six-hump camel",
            _camel,
            (),
            "Six humps, two global minima and several local ones.",
        ),
    ),
)


def make_surface(name: str, **params: Any) -> Surface:
    """Build a registered surface; unknown names or parameters raise ``ValueError``.

    >>> make_surface("bowl").latex
    '0.1 x^{2} + 2 y^{2}'
    """
    return SURFACES.make(name, **params)
