"""The classic results, each reproduced on the setup of its source."""

from __future__ import annotations

import functools
import math

import numpy as np

from .. import make_optimizer, make_problem, make_surface, run
from ..params import Param
from ..problems import LeastSquares
from .base import EXACT, Chart, Lab, LabResult, Series, Tol, rate, steps_to
from .problems import Quadratic, Slope, TwoWell, adam_rule, iterate, zeros_state


def _steps(n: int) -> np.ndarray:
    return np.arange(n, dtype=np.float64)


# -- 1. Goh: momentum turns κ into √κ -------------------------------------------------------
GOH_LEVEL = 1e-6


def _momentum_error(kappa: float, t: np.ndarray) -> np.ndarray:
    """Heavy ball at Goh's optimal (α*, β*) from (1, 1), started at rest (torch's buffer
    starts at the first gradient). Both eigen-directions then have a double root ±√β*, so
    each coordinate is (1 + B t)(±√β*)^t with B = 1 ∓ √β*: the exact error, relative."""
    r = (math.sqrt(kappa) - 1) / (math.sqrt(kappa) + 1)
    slow = (1 + (1 - r) * t) * r**t
    fast = (1 + (1 + r) * t) * r**t
    return np.sqrt((slow**2 + fast**2) / 2)


def _goh(kappa: float) -> LabResult:
    problem = Quadratic([1.0, kappa])
    start = np.array([1.0, 1.0])
    rate_gd = (kappa - 1) / (kappa + 1)
    rate_mom = (math.sqrt(kappa) - 1) / (math.sqrt(kappa) + 1)
    steps_gd = math.ceil(math.log(GOH_LEVEL) / math.log(rate_gd))
    n = steps_gd + 10
    gd = run(problem, make_optimizer("sgd", lr=2 / (1 + kappa)), start, n, record="path")
    lr_mom = (2 / (1 + math.sqrt(kappa))) ** 2
    mom = make_optimizer("momentum", lr=lr_mom, momentum=rate_mom**2)
    hb = run(problem, mom, start, n, record="path")
    e0 = np.linalg.norm(start)
    err_gd = np.linalg.norm(gd.params, axis=-1) / e0
    err_mom = np.linalg.norm(hb.params, axis=-1) / e0
    hit_gd, hit_mom = steps_to(err_gd, GOH_LEVEL), steps_to(err_mom, GOH_LEVEL)
    exact_mom = _momentum_error(kappa, _steps(n + 1))
    measured = {
        "rate_gd": rate(err_gd[: hit_gd + 1]),
        "rate_momentum": rate(err_mom[: hit_mom + 1]),
        "steps_gd": float(hit_gd),
        "steps_momentum": float(hit_mom),
    }
    exact_hit = steps_to(exact_mom, GOH_LEVEL)
    expected = {
        "rate_gd": rate_gd,
        "rate_momentum": rate_mom,
        "steps_gd": float(steps_gd),
        "steps_momentum": float(exact_hit),
    }
    # the double root's factor t lifts the rate measured over a finite window above √β*
    # by exactly this much (plus half a percent):
    lift = rate(exact_mom[: exact_hit + 1]) / rate_mom - 1
    tol = {
        "rate_gd": Tol(rel=1e-6),
        "rate_momentum": Tol(rel=round(lift + 0.005, 3)),
        "steps_gd": Tol(abs=1),
        "steps_momentum": Tol(abs=1),
    }
    t = _steps(n + 1)
    chart = Chart(
        "Error ‖x_t‖/‖x_0‖ on the quadratic with eigenvalues 1 and κ",
        "step t",
        "relative error",
        (
            Series("gradient descent", t, err_gd),
            Series("heavy-ball momentum", t[: hit_mom + 30], err_mom[: hit_mom + 30]),
            Series(
                "rate (κ−1)/(κ+1) per step",
                t,
                rate_gd**t,
                reference=True,
                color_of="gradient descent",
            ),
            Series(
                "rate (√κ−1)/(√κ+1) per step",
                t[: hit_mom + 30],
                rate_mom ** t[: hit_mom + 30],
                reference=True,
                color_of="heavy-ball momentum",
            ),
        ),
        log_y=True,
    )
    return LabResult(measured, expected, tol, (chart,), {"gd": gd.params, "momentum": hb.params})


def _goh_playground(kappa: float) -> dict:
    """Both runs of the lab on the Playground: the same quadratic as a formula."""
    n = math.ceil(math.log(GOH_LEVEL) / math.log((kappa - 1) / (kappa + 1))) + 10
    rate_mom = (math.sqrt(kappa) - 1) / (math.sqrt(kappa) + 1)
    return {
        "formula": f"0.5*(x**2 + {kappa:.6g}*y**2)",
        "start": (1.0, 1.0),
        "steps": n,
        "runs": {
            "sgd": {"lr": 2 / (1 + kappa)},
            "momentum": {"lr": (2 / (1 + math.sqrt(kappa))) ** 2, "momentum": rate_mom**2},
        },
    }


GOH = Lab(
    id="goh_momentum",
    title="Momentum turns κ into √κ",
    question="How much faster is heavy-ball momentum than gradient descent on an "
    "ill-conditioned quadratic, each at its best learning rate?",
    setup=r"Goh, *Why Momentum Really Works*, Distill 2017, sections “The Dynamics of "
    r"Momentum” and “The Critical Damping Coefficient”. The quadratic "
    r"$f(x, y) = \tfrac12(x^2 + \kappa y^2)$ (eigenvalues 1 and κ), start (1, 1). Gradient "
    r"descent at $\alpha = 2/(\lambda_{\min}+\lambda_{\max})$; heavy-ball momentum at "
    r"$\alpha^* = \big(2/(\sqrt{\lambda_{\min}}+\sqrt{\lambda_{\max}})\big)^2$, "
    r"$\beta^* = \big((\sqrt\kappa-1)/(\sqrt\kappa+1)\big)^2$ (torch's `SGD(momentum=β)`).",
    source="Goh (2017), Distill",
    expectation="The error shrinks by (κ−1)/(κ+1) per step for gradient descent and by "
    "(√κ−1)/(√κ+1) for momentum. At β* both of momentum's eigen-directions have a repeated "
    "root, which adds a factor growing like t: the measured rate sits slightly above "
    "√β*, and the expected step count comes from the exact solution (1 + Bt)(±√β*)^t. "
    "Rates are measured over the second half of each run down to 10⁻⁶.",
    compute=_goh,
    labels={
        "rate_gd": "GD: error contraction per step",
        "rate_momentum": "momentum: error contraction per step",
        "steps_gd": "GD: steps to error 10⁻⁶",
        "steps_momentum": "momentum: steps to error 10⁻⁶",
    },
    knobs=(
        Param(
            "kappa",
            100.0,
            "Condition number κ: the ratio of the two curvatures.",
            symbol=r"\kappa",
            low=10.0,
            high=1000.0,
            log=True,
            label="condition number",
        ),
    ),
    playground=_goh_playground,
)


# -- 2. Reddi et al.: Adam can converge to the worst point ------------------------------------
class InverseSqrt:
    """The learning-rate factor 1/√t of Reddi et al.'s α_t = α/√t."""

    def factors(self, steps: int) -> np.ndarray:
        return 1.0 / np.sqrt(np.arange(1, steps + 1, dtype=np.float64))


AMSGRAD_ALPHA = 0.5
SECOND_FORM = {"C": 1010.0, "period": 101, "other": -10.0}
SECOND_STEPS = 10_000


@functools.lru_cache(maxsize=1)
def _second_form() -> tuple:
    """The second form does not depend on the knob: computed once per process."""
    return _online_pair(make_problem("online_linear", **SECOND_FORM), (0.9, 0.99), SECOND_STEPS)


def _online_pair(problem, betas, steps) -> tuple:
    out = []
    for amsgrad in (False, True):
        opt = make_optimizer("adam", lr=AMSGRAD_ALPHA, betas=betas, amsgrad=amsgrad)
        out.append(run(problem, opt, problem.start, steps, schedule=InverseSqrt(), record="path"))
    return tuple(out)


def _amsgrad(C: float) -> LabResult:
    first = make_problem("online_linear", C=C)
    adam, ams = _online_pair(first, (0.0, 1.0 / (1.0 + C * C)), 3000)
    adam2, ams2 = _second_form()
    measured = {
        "x_adam": float(adam.final_params[0]),
        "x_amsgrad": float(ams.final_params[0]),
        "x_adam_second": float(adam2.final_params[0]),
        "x_amsgrad_second": float(ams2.final_params[0]),
    }
    expected = {"x_adam": 1.0, "x_amsgrad": -1.0, "x_adam_second": 1.0, "x_amsgrad_second": -1.0}
    tol = dict.fromkeys(expected, Tol(abs=0.1))
    charts = []
    for title, a, b, n in (
        (f"x_t, first form (C = {C:g})", adam, ams, 3000),
        ("x_t, second form (1010 / −10, period 101)", adam2, ams2, SECOND_STEPS),
    ):
        keep = np.unique(np.geomspace(1, n + 1, 400).astype(int)) - 1  # log-spaced rows
        t = keep.astype(np.float64)
        charts.append(
            Chart(
                title,
                "round t",
                "x",
                (
                    Series("Adam", t, a.params[keep, 0]),
                    Series("AMSGrad", t, b.params[keep, 0]),
                    Series("optimum x = −1", t, np.full(t.shape, -1.0), reference=True),
                ),
                log_x=True,
            )
        )
    trajectories = {"adam": adam.params, "amsgrad": ams.params}
    return LabResult(measured, expected, tol, tuple(charts), trajectories)


AMSGRAD = Lab(
    id="amsgrad_counterexample",
    title="Adam can converge to the worst point",
    question="Can Adam, with a decreasing learning rate, fail on a one-dimensional convex "
    "problem where AMSGrad succeeds?",
    setup=r"Reddi, Kale & Kumar, *On the Convergence of Adam and Beyond*, ICLR 2018, §3 "
    r"(and the synthetic experiment of §5). Online losses $f_t(x) = C x$ when "
    r"$t \bmod 3 = 1$, else $-x$, with $C > 2$; $x$ projected onto $[-1, 1]$, start 0. "
    r"Adam with $\beta_1 = 0$, $\beta_2 = 1/(1 + C^2)$ and $\alpha_t = \alpha/\sqrt t$ "
    rf"($\alpha = {AMSGRAD_ALPHA}$, 3000 rounds), against the same with `amsgrad=True`. "
    r"Second form: $f_t = 1010x$ when $t \bmod 101 = 1$, else $-10x$, "
    rf"betas (0.9, 0.99), {SECOND_STEPS:,} rounds.",
    source="Reddi, Kale & Kumar (2018), §3 and §5",
    expectation="The average slope (C − 2)/3 is positive, so the best fixed point is x = −1. "
    "With β2 = 1/(1 + C²) the large gradient C is forgotten fast: Adam's step after it is "
    "small, the two steps of −1 are large, and Adam drifts to x = +1, the worst point. "
    "AMSGrad keeps the largest second moment seen, so the −1 steps stay small and it "
    "reaches −1.",
    compute=_amsgrad,
    labels={
        "x_adam": "Adam: final x",
        "x_amsgrad": "AMSGrad: final x",
        "x_adam_second": "Adam, second form: final x",
        "x_amsgrad_second": "AMSGrad, second form: final x",
    },
    knobs=(
        Param(
            "C",
            3.0,
            "The large gradient of every third round (C > 2).",
            symbol="C",
            low=2.1,
            high=10.0,
            label="C",
        ),
    ),
)


# -- 3. Wilson et al.: adaptive methods and the minimum-norm solution ------------------------
WILSON_N = 40
WILSON_STEPS = 2000
WILSON_RUNS = {
    "gd": ("sgd", {"lr": 0.05}),
    "adagrad": ("adagrad", {"lr": 0.1}),
    "rmsprop": ("rmsprop", {"lr": 0.01}),
    "adam": ("adam", {"lr": 0.01}),
}


def wilson_data(n: int, p: float, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Wilson et al.'s over-parameterised least squares: feature 1 is the label, features
    2 and 3 are 1, then each example owns one unique feature if positive, five if negative.
    ``round(p·n)`` of the ``n`` labels are positive, in random order."""
    rng = np.random.default_rng(seed)
    y = np.where(np.arange(n) < round(p * n), 1.0, -1.0)
    rng.shuffle(y)
    widths = np.where(y > 0, 1, 5)
    X = np.zeros((n, 3 + int(widths.sum())))
    X[:, 0], X[:, 1], X[:, 2] = y, 1.0, 1.0
    col = 3
    for i, w in enumerate(widths):
        X[i, col : col + w] = 1.0
        col += w
    return X, y


def _wilson(p: float) -> LabResult:
    X, y = wilson_data(WILSON_N, p)
    problem = LeastSquares(X, y)
    # a new point has the features 1-3 of its label and unique features never seen (0)
    tests = np.zeros((2, X.shape[1]))
    tests[:, :3] = [[1.0, 1.0, 1.0], [-1.0, 1.0, 1.0]]
    measured, weights = {}, {}
    series = []
    for key, (name, hyper) in WILSON_RUNS.items():
        tr = run(problem, make_optimizer(name, **hyper), problem.start, WILSON_STEPS, record="path")
        w = tr.final_params
        pred = np.sign(tests @ w)
        measured[f"test_error_{key}"] = p * (pred[0] != 1) + (1 - p) * (pred[1] != -1)
        weights[key] = w
        series.append(
            Series(name if key != "gd" else "gradient descent", _steps(WILSON_STEPS + 1), tr.loss)
        )
    expected = {"test_error_gd": 0.0} | {
        f"test_error_{k}": 1 - p for k in ("adagrad", "rmsprop", "adam")
    }
    measured = {k: float(v) for k, v in measured.items()}
    tol = dict.fromkeys(expected, EXACT)
    first = Chart(
        "Weights on features 1–3 (label, constant, constant)",
        "feature",
        "weight",
        tuple(
            Series(
                k if k != "gd" else "gradient descent",
                np.array([1.0, 2.0, 3.0]),
                w[:3],
                markers=True,
                lines=False,
            )
            for k, w in weights.items()
        ),
    )
    loss = Chart(
        "Training loss (all reach ≈ 0)", "step", "mean squared error", tuple(series), log_y=True
    )
    return LabResult(measured, expected, tol, (first, loss), weights)


WILSON = Lab(
    id="wilson_generalization",
    title="Adaptive methods can generalise worse",
    question="All four optimizers fit the training set perfectly. Do they predict new points "
    "equally well?",
    setup=r"Wilson, Roelofs, Stern, Srebro & Recht, *The Marginal Value of Adaptive Gradient "
    r"Methods in Machine Learning*, NeurIPS 2017, §3.3. "
    rf"{WILSON_N} examples with labels ±1, a share $p$ of them positive. Feature 1 is the "
    r"label, features 2–3 are 1, then each example owns unique features: one if positive, "
    r"five if negative. Least squares from $w = 0$, full batch, "
    rf"{WILSON_STEPS} steps: gradient descent (lr 0.05), Adagrad (0.1), RMSprop (0.01), "
    r"Adam (0.01). A new point has features 1–3 of its label and no known unique feature.",
    source="Wilson et al. (2017), §3.3",
    expectation="Gradient descent from 0 stays in the span of the data and reaches the "
    "minimum-norm solution, which puts most weight on feature 1 (the label): every new "
    "point is classified right, test error 0. The adaptive methods move every coordinate "
    "by about the same amount, so features 1–3 end with similar weights and w·x > 0 for "
    "every new point: they say “+” always, and err on every negative, a share 1 − p.",
    compute=_wilson,
    labels={
        "test_error_gd": "gradient descent: test error",
        "test_error_adagrad": "Adagrad: test error",
        "test_error_rmsprop": "RMSprop: test error",
        "test_error_adam": "Adam: test error",
    },
    knobs=(
        Param(
            "p",
            0.6,
            "Share of positive labels (p > ½).",
            symbol="p",
            low=0.55,
            high=0.9,
            label="share of positives",
        ),
    ),
)


# -- 4. Loshchilov & Hutter: L2 inside Adam is not weight decay ---------------------------------
ADAMW = {"lr": 0.1, "steps": 2000, "start": (0.0, 0.0), "h": (1.0, 100.0), "center": (2.0, 2.0)}


def _adamw(weight_decay: float) -> LabResult:
    problem = Quadratic(ADAMW["h"], ADAMW["center"])
    start, steps, lr = np.array(ADAMW["start"]), ADAMW["steps"], ADAMW["lr"]
    l2 = run(
        problem,
        make_optimizer("adam", lr=lr, weight_decay=weight_decay),
        start,
        steps,
        record="path",
    )
    dw = run(
        problem,
        make_optimizer("adamw", lr=lr, weight_decay=weight_decay),
        start,
        steps,
        record="path",
    )
    h = np.array(ADAMW["h"])
    ridge = h * 2.0 / (h + weight_decay)  # minimum of f + (λ/2)|θ|²
    measured = {
        "adam_l2_x": float(l2.final_params[0]),
        "adam_l2_y": float(l2.final_params[1]),
        "adamw_x": float(dw.final_params[0]),
        "adamw_y": float(dw.final_params[1]),
        "adamw_gap": float(np.max(np.abs(dw.params[:, 0] - dw.params[:, 1]))),
    }
    expected = {
        "adam_l2_x": float(ridge[0]),
        "adam_l2_y": float(ridge[1]),
        "adamw_y": measured["adamw_x"],  # the same shrink for both: y ends where x does
        "adamw_gap": 0.0,
    }
    tol = {
        "adam_l2_x": Tol(abs=1e-3),
        "adam_l2_y": Tol(abs=1e-3),
        "adamw_y": Tol(abs=1e-6),
        "adamw_gap": Tol(abs=1e-6),
    }
    t = _steps(steps + 1)
    chart = Chart(
        "Each coordinate over the run (the minimum of f is x = y = 2)",
        "step",
        "value",
        (
            Series("Adam + L2: x", t, l2.params[:, 0]),
            Series("Adam + L2: y", t, l2.params[:, 1]),
            Series("AdamW: x", t, dw.params[:, 0]),
            Series("AdamW: y", t, dw.params[:, 1], dash=True),
        ),
        log_x=False,
    )
    return LabResult(measured, expected, tol, (chart,), {"adam_l2": l2.params, "adamw": dw.params})


def _adamw_playground(weight_decay: float) -> dict:
    return {
        "formula": "0.5*((x - 2)**2 + 100*(y - 2)**2)",
        "start": ADAMW["start"],
        "steps": ADAMW["steps"],
        "runs": {
            "adam": {"lr": ADAMW["lr"], "weight_decay": weight_decay},
            "adamw": {"lr": ADAMW["lr"], "weight_decay": weight_decay},
        },
    }


ADAMW_LAB = Lab(
    id="adamw_vs_l2",
    title="Adam's weight_decay is not weight decay",
    question="Adam with `weight_decay` and AdamW with the same value: do they regularise "
    "the two coordinates of a badly scaled problem alike?",
    setup=r"Loshchilov & Hutter, *Decoupled Weight Decay Regularization*, ICLR 2019, §2 "
    r"(Algorithm 2). $f(x, y) = \tfrac12[(x-2)^2 + 100(y-2)^2]$, start (0, 0), lr 0.1, "
    r"2000 steps, weight decay λ. Adam adds $\lambda\theta$ to the gradient (L2, "
    r"torch's `Adam(weight_decay=λ)`); AdamW shrinks $\theta \leftarrow (1-\gamma\lambda)\theta$ "
    r"before its step (torch's `AdamW`).",
    source="Loshchilov & Hutter (2019), §2",
    expectation="L2 inside Adam is a penalty added to f: Adam converges to the minimum of "
    "f + (λ/2)‖θ‖², the ridge solution (2/(1+λ), 200/(100+λ)), which shrinks the flat x "
    "by 9% and the steep y by 0.1% at λ = 0.1. AdamW's shrink is the same fraction γλ of "
    "both coordinates and is not divided by √v̂; Adam's own step is the same for both "
    "too (it is scale-free), so its iterates keep x = y at every step. Where AdamW stands "
    "after 2000 steps is shown, not checked: its shrink is balanced by Adam's normalised "
    "step, which fades only slowly, so it depends on the run's length.",
    compute=_adamw,
    labels={
        "adam_l2_x": "Adam + L2: final x",
        "adam_l2_y": "Adam + L2: final y",
        "adamw_x": "AdamW: final x",
        "adamw_y": "AdamW: final y",
        "adamw_gap": "AdamW: largest |x − y| on the way",
    },
    knobs=(
        Param(
            "weight_decay",
            0.1,
            "Weight decay λ for both.",
            symbol=r"\lambda",
            low=0.01,
            high=0.5,
            label="weight decay",
        ),
    ),
    playground=_adamw_playground,
)


# -- 5. Liu et al.: RAdam's rectifier -------------------------------------------------------------
RHO_THRESHOLD = 5.0  # torch's RAdam rectifies where rho_t > 5
RADAM_MC = {"samples": 4000, "steps": 1000, "seed": 0}


def rho(beta2: float, t: np.ndarray) -> np.ndarray:
    rho_inf = 2.0 / (1.0 - beta2) - 1.0
    return rho_inf - 2.0 * t * beta2**t / (1.0 - beta2**t)


def rectifier(beta2: float, t: np.ndarray) -> np.ndarray:
    rho_inf = 2.0 / (1.0 - beta2) - 1.0
    r = rho(beta2, t)
    with np.errstate(invalid="ignore"):
        return np.sqrt((r - 4) * (r - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * r))


def _radam(beta2: float) -> LabResult:
    steps = 1000
    t = np.arange(1, steps + 1, dtype=np.float64)
    # measured: RAdam's step against Adam's on f(x) = x (the same gradient, 1, every step):
    # their ratio is the rectifier where RAdam is adaptive, and RAdam's own SGD-like step
    # (lr·m̂, m̂ = 1) before
    line = Slope(1.0)
    kw = {"lr": 1e-3, "betas": (0.9, beta2), "eps": 1e-12}
    radam = run(line, make_optimizer("radam", **kw), np.zeros(1), steps, record="path")
    adam = run(line, make_optimizer("adam", **kw), np.zeros(1), steps, record="path")
    ratio = np.diff(radam.params[:, 0]) / np.diff(adam.params[:, 0])
    adaptive = np.flatnonzero(np.abs(ratio - 1.0) > 1e-9)
    # Monte Carlo: the spread of Adam's adaptive factor 1/√v̂ with g ~ N(0, 1)
    rng = np.random.default_rng(RADAM_MC["seed"])
    v = np.zeros(RADAM_MC["samples"])
    var = np.empty(steps)
    for k in range(1, steps + 1):
        g = rng.standard_normal(RADAM_MC["samples"])
        v = beta2 * v + (1 - beta2) * g * g
        var[k - 1] = np.var(1.0 / np.sqrt(v / (1 - beta2**k)))
    r_t = rectifier(beta2, t)
    first = int(t[rho(beta2, t) > RHO_THRESHOLD][0])
    measured = {
        "first_adaptive_step": float(adaptive[0] + 1) if adaptive.size else float("nan"),
        "rectifier_100": float(ratio[99]),
        "rectifier_1000": float(ratio[999]),
        "mc_spread_ratio": float(np.sqrt(var[999] / var[99])),
    }
    expected = {
        "first_adaptive_step": float(first),
        "rectifier_100": float(r_t[99]),
        "rectifier_1000": float(r_t[999]),
        "mc_spread_ratio": float(r_t[99] / r_t[999]),
    }
    tol = {
        "first_adaptive_step": EXACT,
        "rectifier_100": Tol(rel=1e-6),
        "rectifier_1000": Tol(rel=1e-6),
        "mc_spread_ratio": Tol(rel=0.1),
    }
    shown = t >= first
    charts = (
        Chart(
            "The rectifier r_t and RAdam's measured step / Adam's",
            "step t",
            "r_t",
            (
                Series("r_t (paper's formula)", t[shown], r_t[shown], reference=True),
                Series("RAdam step / Adam step", t[shown], ratio[shown]),
            ),
            log_x=True,
        ),
        Chart(
            "Variance of Adam's adaptive factor 1/√v̂_t (g ~ N(0, 1), Monte Carlo)",
            "step t",
            "variance",
            (
                Series("Monte Carlo", t[shown], var[shown]),
                Series(
                    "its value at t = 1000 · (r_1000 / r_t)²",
                    t[shown],
                    var[999] * (r_t[999] / r_t[shown]) ** 2,
                    reference=True,
                ),
            ),
            log_x=True,
            log_y=True,
        ),
    )
    return LabResult(measured, expected, tol, charts, {"radam": radam.params, "adam": adam.params})


RADAM = Lab(
    id="radam_warmup",
    title="Why Adam needs a warm-up: RAdam's rectifier",
    question="Is Adam's adaptive step trustworthy in its first steps, and how much does "
    "RAdam damp it?",
    setup=r"Liu et al., *On the Variance of the Adaptive Learning Rate and Beyond*, ICLR "
    r"2020, §4–5. $\rho_\infty = 2/(1-\beta_2) - 1$, "
    r"$\rho_t = \rho_\infty - 2t\beta_2^t/(1-\beta_2^t)$, rectifier "
    r"$r_t = \sqrt{\frac{(\rho_t-4)(\rho_t-2)\rho_\infty}{(\rho_\infty-4)(\rho_\infty-2)\rho_t}}$, "
    r"applied where $\rho_t > 5$ (torch's threshold; the paper's is 4). Measured: torch's "
    r"`RAdam` against `Adam` fed the same gradient (1) every step, and the variance of "
    rf"$1/\sqrt{{\hat v_t}}$ over {RADAM_MC['samples']:,} runs with $g \sim N(0, 1)$.",
    source="Liu et al. (2020), §4–5",
    expectation="Early on v̂ averages only a few squared gradients, so 1/√v̂ varies wildly "
    "(at t = 1 its variance is infinite). Its variance falls roughly like 1/ρ_t; r_t is the "
    "ratio of standard deviations that makes the adaptive step's spread that of t → ∞. "
    "Before ρ_t passes the threshold RAdam takes plain momentum steps.",
    compute=_radam,
    labels={
        "first_adaptive_step": "first step that divides by √v̂",
        "rectifier_100": "r_100 (RAdam step / Adam step)",
        "rectifier_1000": "r_1000 (RAdam step / Adam step)",
        "mc_spread_ratio": "Monte Carlo: std of 1/√v̂ at t=1000 / at t=100",
    },
    knobs=(
        Param(
            "beta2",
            0.999,
            "β₂ of both optimizers.",
            symbol=r"\beta_2",
            low=0.99,
            high=0.9999,
            label="beta2",
        ),
    ),
)


# -- 6. Adam's bias correction --------------------------------------------------------------------
BIAS = {"beta2": 0.999, "steps": 1000, "grid": (41, 31)}


def _bias(beta1: float, lr: float) -> LabResult:
    betas = (beta1, BIAS["beta2"])
    problem = TwoWell()
    (x0, x1), (y0, y1) = problem.bounds
    nx, ny = BIAS["grid"]
    starts = np.stack(np.meshgrid(np.linspace(x0, x1, nx), np.linspace(y0, y1, ny)), -1).reshape(
        -1, 2
    )
    measured = {}
    paths = {}
    g0 = problem.value_and_grad(starts)[1]
    for key, corr in (("with", True), ("without", False)):
        rule = adam_rule(lr, betas, bias_correction=corr)
        path = iterate(rule, problem, starts, BIAS["steps"], zeros_state(starts))
        first = np.abs(path[1] - path[0]) / lr  # in units of lr, for every start
        measured[f"first_step_{key}"] = float(np.median(first[np.abs(g0) > 1e-3]))
        best = problem.minima[0]
        measured[f"share_global_{key}"] = float(
            np.mean(np.linalg.norm(path[-1] - best, axis=-1) < 0.05)
        )
        paths[key] = path
    expected = {
        "first_step_with": 1.0,
        "first_step_without": (1 - beta1) / math.sqrt(1 - BIAS["beta2"]),
    }
    tol = dict.fromkeys(expected, Tol(rel=1e-6))
    t = _steps(31)
    mid = np.argmin(
        np.linalg.norm(starts - [0.6, 0.5], axis=-1)
    )  # one start in the right well's slope
    chart = Chart(
        "x over the first 30 steps, from (0.6, 0.5)",
        "step",
        "x",
        (
            Series("with bias correction", t, paths["with"][:31, mid, 0]),
            Series("without", t, paths["without"][:31, mid, 0]),
            Series("global minimum", t, np.full(31, problem.minima[0][0]), reference=True),
        ),
    )
    return LabResult(measured, expected, tol, (chart,), {"starts": starts} | paths)


def _bias_maps(beta1: float, lr: float) -> dict:
    """Adam's basins on the same two wells (with bias correction, as torch's Adam has it)."""
    return {
        "formula": f"(x**2 - 1)**2 + {TwoWell().tilt:g}*x + 0.5*y**2",
        "view": "basins",
        "runs": {"adam": {"lr": lr, "betas": (beta1, BIAS["beta2"])}},
        "steps": BIAS["steps"],
        "starts": BIAS["grid"][0],
    }


BIAS_CORRECTION = Lab(
    id="bias_correction",
    title="What Adam's bias correction does to the first steps",
    question="Adam's running averages start at zero. What happens to the first steps "
    "with and without dividing by 1 − β^t?",
    setup=r"Kingma & Ba, *Adam*, ICLR 2015, §3 (initialization bias correction). Adam on "
    r"the two-well surface $f(x,y) = (x^2-1)^2 + 0.3x + \tfrac12 y^2$ (global minimum near "
    rf"$x = -1.04$), from a grid of {BIAS['grid'][0]}×{BIAS['grid'][1]} starts on "
    rf"$[-2, 2]\times[-1.5, 1.5]$, β₂ = {BIAS['beta2']}, {BIAS['steps']} steps, with "
    r"$\hat m_t = m_t/(1-\beta_1^t)$, $\hat v_t = v_t/(1-\beta_2^t)$ and without.",
    source="Kingma & Ba (2015), §3",
    expectation="With the correction the first step is m̂₁/√v̂₁ = g/|g|: exactly lr·sign(g). "
    "Without it, m₁/√v₁ = (1−β₁)g/(√(1−β₂)|g|): (1−β₁)/√(1−β₂) times lr, 9.5× for "
    "β = (0.7, 0.999). Those oversized early steps throw some starts into the other well; "
    "the share of starts ending in the global minimum is shown for both (no published value).",
    compute=_bias,
    labels={
        "first_step_with": "first step / lr, with correction",
        "first_step_without": "first step / lr, without",
        "share_global_with": "share of starts reaching the global minimum, with",
        "share_global_without": "share of starts reaching the global minimum, without",
    },
    knobs=(
        Param(
            "beta1",
            0.7,
            "β₁ (β₂ stays 0.999).",
            symbol=r"\beta_1",
            low=0.0,
            high=0.95,
            label="beta1",
        ),
        Param("lr", 0.1, "Learning rate.", symbol=r"\gamma", low=0.01, high=0.3, label="lr"),
    ),
    maps=_bias_maps,
)


# -- 7. Lion: a step of exactly lr in every coordinate -------------------------------------------
LION = {"steps": 200}


def _lion(lr: float) -> LabResult:
    surface = make_surface("bowl")
    tr = run(surface, make_optimizer("lion", lr=lr), surface.start, LION["steps"], record="path")
    moves = np.abs(np.diff(tr.params, axis=0)) / lr
    dist = np.linalg.norm(tr.params - surface.minima[0], axis=-1)
    measured = {
        "step_size_ratio": float(moves.mean()),
        "smallest_step_ratio": float(moves.min()),
        "late_distance": float(dist[-50:].max()),
    }
    expected = {"step_size_ratio": 1.0, "smallest_step_ratio": 1.0}
    tol = dict.fromkeys(expected, Tol(abs=1e-9))
    t = _steps(LION["steps"] + 1)
    charts = (
        Chart(
            "Distance to the minimum",
            "step",
            "distance",
            (
                Series("Lion", t, dist),
                Series("lr", t, np.full(t.shape, lr), reference=True),
            ),
            log_y=True,
        ),
    )
    return LabResult(measured, expected, tol, charts, {"lion": tr.params})


def _lion_playground(lr: float) -> dict:
    s = make_surface("bowl")
    return {
        "surface": "bowl",
        "start": tuple(s.start),
        "steps": LION["steps"],
        "runs": {"lion": {"lr": lr}},
    }


LION_LAB = Lab(
    id="lion_sign",
    title="Lion moves every coordinate by exactly lr",
    question="Lion's update is a sign. What does that mean for its step sizes, and can it "
    "settle at the minimum with a constant learning rate?",
    setup=r"Chen et al., *Symbolic Discovery of Optimization Algorithms*, 2023 (Lion, "
    r"Program 1): $\theta_t = \theta_{t-1} - \gamma\,\mathrm{sign}(\beta_1 m_{t-1} + "
    r"(1-\beta_1)g_t)$. The Playground's opening bowl (κ = 20), its start (−5, −2), "
    rf"{LION['steps']} steps, default betas (0.9, 0.99).",
    source="Chen et al. (2023)",
    expectation="Every coordinate of every step moves by exactly lr: |Δθ|/lr = 1, never "
    "less. Near the minimum it keeps jumping by lr across it, so the distance stalls at "
    "the scale of lr instead of going to 0; only a decaying lr lets it settle.",
    compute=_lion,
    labels={
        "step_size_ratio": "mean |Δθ|/lr per coordinate",
        "smallest_step_ratio": "smallest |Δθ|/lr",
        "late_distance": "largest distance to the minimum over the last 50 steps",
    },
    knobs=(
        Param(
            "lr",
            0.1,
            "Lion's learning rate (the Playground's own steps: 1-2-5).",
            symbol=r"\gamma",
            low=0.01,
            high=0.5,
            log=True,
            label="lr",
        ),
    ),
    playground=_lion_playground,
)


# -- 8. The learning-rate range test -------------------------------------------------------------
RANGE = {"low": 1e-4, "high": 10.0, "steps": 100}


class Geometric:
    """lr multiplied by a constant factor every step, from ``low`` to ``high``."""

    def __init__(self, low: float, high: float) -> None:
        self.low, self.high = low, high

    def factors(self, steps: int) -> np.ndarray:
        return np.geomspace(self.low, self.high, steps)


def _lr_range(condition: float) -> LabResult:
    surface = make_surface("bowl", condition=condition)
    n = RANGE["steps"]
    lrs = np.geomspace(RANGE["low"], RANGE["high"], n)
    tr = run(
        surface,
        make_optimizer("sgd", lr=1.0),
        surface.start,
        n,
        schedule=Geometric(RANGE["low"], RANGE["high"]),
        bound=1e12,
        record="path",
    )
    loss = tr.loss[1:]  # loss after the step taken at lrs[i]
    ok = np.isfinite(loss)
    best = int(np.nanargmin(loss))
    rising = np.flatnonzero(np.diff(tr.loss) > 0)
    # the sharpest direction is y (curvature 4): it starts growing once lr > 2/4
    sharp = np.abs(tr.params[:, 1])
    grows = np.flatnonzero(sharp[1:] > sharp[:-1])
    lam_max = float(np.max(np.linalg.eigvalsh(surface.hessian(surface.minima[0]).reshape(2, 2))))
    measured = {
        "lr_min_loss": float(lrs[best]),
        "suggested_lr": float(lrs[best] / 10),
        "lr_loss_rises": float(lrs[rising[0]]) if rising.size else float("nan"),
        "lr_unstable": float(lrs[grows[0]]) if grows.size else float("nan"),
        "two_over_lambda_max": 2.0 / lam_max,
    }
    step = (RANGE["high"] / RANGE["low"]) ** (1 / (n - 1))
    expected = {"lr_unstable": 2.0 / lam_max}
    tol = {"lr_unstable": Tol(rel=step - 1)}  # one notch of the geometric sweep
    chart = Chart(
        "Loss after each step against that step's lr",
        "learning rate",
        "loss",
        (
            Series("loss", lrs[ok], loss[ok]),
            Series(
                "2/λ_max",
                np.array([2 / lam_max] * 2),
                np.array([np.nanmin(loss), np.nanmax(loss[ok])]),
                reference=True,
            ),
            Series(
                "suggested (min-loss lr / 10)",
                np.array([lrs[best] / 10] * 2),
                np.array([np.nanmin(loss), np.nanmax(loss[ok])]),
                reference=True,
                color_of="loss",
            ),
        ),
        log_x=True,
        log_y=True,
    )
    return LabResult(measured, expected, tol, (chart,), {"sgd": tr.params})


LR_RANGE = Lab(
    id="lr_range_test",
    title="The learning-rate range test",
    question="Sweep the learning rate upward during one short run: where does the loss say "
    "to stop, and how does that compare with the stability limit 2/λ_max?",
    setup=r"Smith, *Cyclical Learning Rates for Training Neural Networks*, WACV 2017, §3.3, "
    r"and fastai's LR finder. SGD on the Playground's bowl (curvatures 4/κ and 4), its "
    rf"start (−5, −2), lr growing geometrically from {RANGE['low']:g} to {RANGE['high']:g} "
    rf"over {RANGE['steps']} steps (×{(RANGE['high'] / RANGE['low']) ** (1 / 99):.3f} a step).",
    source="Smith (2017), §3.3; fastai",
    expectation="On a quadratic, gradient descent is stable exactly when lr < 2/λ_max = 0.5: "
    "the sharp coordinate starts growing at the first lr above it. The loss, though, keeps "
    "falling well past 0.5, because by then the sharp direction has already been flattened "
    "and its regrowth takes a few steps to show; the finder's rule of thumb (the lr of the "
    "lowest loss, divided by 10) lands below the limit.",
    compute=_lr_range,
    labels={
        "lr_min_loss": "lr at the lowest loss",
        "suggested_lr": "suggested lr (lowest-loss lr / 10)",
        "lr_loss_rises": "lr at which the loss first rises",
        "lr_unstable": "lr at which the sharp direction starts to grow",
        "two_over_lambda_max": "2/λ_max",
    },
    knobs=(
        Param(
            "condition",
            20.0,
            "The bowl's condition number κ.",
            symbol=r"\kappa",
            low=2.0,
            high=1000.0,
            log=True,
            label="condition number",
        ),
    ),
)

CLASSIC_LABS = (GOH, AMSGRAD, WILSON, ADAMW_LAB, RADAM, BIAS_CORRECTION, LION_LAB, LR_RANGE)
