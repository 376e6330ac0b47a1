"""The source posts' mistakes: each rule as the post wrote it, beside the correct one.

Every lab runs both rules on the same problem from the same start and measures what the
wrong one changes. The posts (all in Chinese) are cited by title and section:

* the Adam post: "Adam介紹 / 具體實作", uj5u.com/qita/250219 (derivation and a NumPy fit
  of y = 2x + 3, our ``linear`` surface);
* the TF2 post: "python实现tensorflow2.0的常见优化器" (SGD, Momentum, Adagrad, RMSProp and
  Adam by hand, fitting y = 0.5x² − 2x + 0.5 with a·x² + b·x, our ``quadratic`` surface);
* the overview post: "Adam优化器详解" (tech-share, MachineLearning section);
* the PyTorch post: "【Task6】PyTorch理解更多神经网络优化方法" (a race of four optimizers).
"""

from __future__ import annotations

import numpy as np

from .. import make_optimizer, make_problem, make_surface, run
from .base import AT_LEAST, AT_MOST, EXACT, Chart, Lab, LabResult, Mistake, Series, Tol
from .problems import adam_rule, iterate, losses, zeros_state

ADAM_POST = "the Adam post (“Adam介紹”, uj5u.com/qita/250219)"
TF2_POST = "the TF2 post (“python实现tensorflow2.0的常见优化器”)"
OVERVIEW_POST = "the overview post (“Adam优化器详解”)"
RACE_POST = "the PyTorch post (“PyTorch理解更多神经网络优化方法”)"


def _t(n: int) -> np.ndarray:
    return np.arange(n, dtype=np.float64)


def _excess(problem, path: np.ndarray) -> np.ndarray:
    """Loss above the problem's minimum loss along a path."""
    return losses(problem, path) - float(losses(problem, problem.minima[0]))


def _fit():
    return make_surface("linear")  # the Adam post's data: y = 2x + 3 at 100 points on [-1, 1]


def _tf2():
    return make_surface("quadratic")  # the TF2 post's data and model


# -- 1. the Adam post's first moment -------------------------------------------------------------
ADAM_POST_RUN = {"lr": 0.1, "betas": (0.9, 0.999), "eps": 1e-6, "steps": 250}


def _plus_rule(lr, betas, eps):
    b1, b2 = betas

    def rule(p, g, state, t):
        m, v = state
        m = b1 * m + (1 + b1) * g  # the post's formula
        v = b2 * v + (1 - b2) * g * g
        return p - lr * (m / (1 - b1**t)) / (np.sqrt(v / (1 - b2**t)) + eps), (m, v)

    return rule


def _adam_first_moment() -> LabResult:
    s, c = _fit(), ADAM_POST_RUN
    start, n = np.zeros(2), c["steps"]
    wrong = iterate(_plus_rule(c["lr"], c["betas"], c["eps"]), s, start, n, zeros_state(start))
    right = iterate(adam_rule(c["lr"], c["betas"], c["eps"]), s, start, n, zeros_state(start))
    factor = (1 + c["betas"][0]) / (1 - c["betas"][0])
    scaled = iterate(
        adam_rule(factor * c["lr"], c["betas"], c["eps"]), s, start, n, zeros_state(start)
    )
    best = s.minima[0]
    measured = {
        "first_step_ratio": float(
            np.linalg.norm(wrong[1] - start) / np.linalg.norm(right[1] - start)
        ),
        "gap_to_adam_at_19x_lr": float(np.max(np.abs(wrong - scaled))),
        "overshoot_wrong": float(np.max(wrong - best)),
        "overshoot_right": float(np.max(right - best)),
    }
    expected = {
        "first_step_ratio": factor,
        "gap_to_adam_at_19x_lr": 0.0,
        "overshoot_wrong": 3 * measured["overshoot_right"],
    }
    tol = {
        "first_step_ratio": Tol(rel=1e-6),
        "gap_to_adam_at_19x_lr": Tol(abs=1e-9),
        "overshoot_wrong": AT_LEAST,
    }
    t = _t(n + 1)
    chart = Chart(
        "Slope a (target 2)",
        "step",
        "a",
        (
            Series("the post's rule", t, wrong[:, 0]),
            Series("Adam (torch)", t, right[:, 0]),
            Series("target a = 2", t, np.full(t.shape, best[0]), reference=True),
        ),
    )
    return LabResult(measured, expected, tol, (chart,), {"wrong": wrong, "right": right})


ADAM_FIRST_MOMENT = Lab(
    id="post_adam_first_moment",
    title="The Adam post: m ← β₁m + (1 + β₁)g",
    question="The Adam post's formula gives the first moment the weight 1 + β₁ instead of "
    "1 − β₁. What does that do to Adam?",
    setup="The Adam post's own problem: fit y = ax + b to y = 2x + 3 at 100 points on "
    "[−1, 1], mean squared error, from (a, b) = (0, 0), with the post's lr 0.1, betas "
    "(0.9, 0.999), ε 10⁻⁶; full batch (the post used batches of 20), 250 steps.",
    source=ADAM_POST,
    expectation="The wrong m is (1 + β₁)/(1 − β₁) = 19 times the right one for the same "
    "gradients, and v is unchanged, so the post's rule is exactly Adam at 19× the "
    "learning rate: its first step is 19·lr and it overshoots the target by far more.",
    compute=_adam_first_moment,
    labels={
        "first_step_ratio": "first step, wrong / right",
        "gap_to_adam_at_19x_lr": "largest distance to Adam run at 19·lr",
        "overshoot_wrong": "largest overshoot past the target, post's rule",
        "overshoot_right": "largest overshoot past the target, Adam",
    },
    mistake=Mistake(
        post=ADAM_POST,
        where="section “1 Adam介紹”, the first aligned formula (its own code, further down, "
        "uses 1 − β₁)",
        wrong=r"m_t = \beta_1 m_{t-1} + (1 + \beta_1)\,g_t",
        right=r"m_t = \beta_1 m_{t-1} + (1 - \beta_1)\,g_t",
        consequence="Adam with a learning rate (1 + β₁)/(1 − β₁) = 19 times too large.",
    ),
    playground=lambda: {
        "surface": "linear",
        "start": (0.0, 0.0),
        "steps": ADAM_POST_RUN["steps"],
        "runs": {"adam": {"lr": ADAM_POST_RUN["lr"], "eps": ADAM_POST_RUN["eps"]}},
    },
)


# -- 2. the Adam post's "learning rate" plot ----------------------------------------------------
def _adam_lr_plot() -> LabResult:
    s, c = _fit(), ADAM_POST_RUN
    b1, b2 = c["betas"]
    p, m, v = np.zeros(2), np.zeros(2), np.zeros(2)
    drawn, eff, moves = [], [], []
    for t in range(1, c["steps"] + 1):
        g = s.value_and_grad(p)[1]
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        m_hat, v_hat = m / (1 - b1**t), v / (1 - b2**t)
        step = c["lr"] * m_hat / (np.sqrt(v_hat) + c["eps"])
        drawn.append(c["lr"] * m_hat[0])  # what the post plots as the learning rate of a
        eff.append(c["lr"] / (np.sqrt(v_hat[0]) + c["eps"]))  # the step size applied to m̂
        moves.append(abs(step[0]))
        p = p - step
    drawn, eff, moves = np.abs(drawn), np.array(eff), np.array(moves)
    core = run(
        s,
        make_optimizer("adam", lr=c["lr"], betas=c["betas"], eps=c["eps"]),
        np.zeros(2),
        c["steps"],
    )
    measured = {
        "drawn_final": float(drawn[-1]),
        "step_size_final": float(eff[-1]),
        "move_final": float(moves[-1]),
        "playground_gap": float(np.max(np.abs(core.effective_lr[:, 0] - eff) / eff)),
    }
    expected = {
        "move_final": float(drawn[-1] * eff[-1] / c["lr"]),  # |Δa| = lr·|m̂|/(√v̂+ε)
        "step_size_final": 100 * float(drawn[-1]),
        "playground_gap": 0.0,
    }
    tol = {
        "move_final": Tol(rel=1e-9),
        "step_size_final": AT_LEAST,
        "playground_gap": Tol(abs=1e-9),
    }
    t = _t(c["steps"]) + 1
    chart = Chart(
        "Coordinate a: what the post plots against the step size Adam uses",
        "step",
        "value (log scale)",
        (
            Series("post's curve |lr·m̂|", t, drawn),
            Series("step size lr/(√v̂+ε)", t, eff),
            Series("actual move |Δa|", t, moves, dash=True),
        ),
        log_y=True,
    )
    return LabResult(measured, expected, tol, (chart,), {})


ADAM_LR_PLOT = Lab(
    id="post_adam_lr_plot",
    title="The Adam post's “learning-rate” plot",
    question="The Adam post draws a curve it calls the learning rate of each weight. Is it?",
    setup="The same run as the post: Adam (correct first moment) fitting y = 2x + 3 from "
    "(0, 0), lr 0.1, betas (0.9, 0.999), ε 10⁻⁶, 250 full-batch steps. Beside the post's "
    "curve, the step size Adam applies to m̂ (the Playground's effective-learning-rate chart).",
    source=ADAM_POST,
    expectation="Adam moves a by lr·m̂/(√v̂ + ε). The post plots lr·m̂, the numerator: it is "
    "signed, follows the gradient to zero, and is not a step size. The per-coordinate step "
    "size is lr/(√v̂ + ε); it grows as the gradients shrink and ends orders of magnitude "
    "above the post's curve.",
    compute=_adam_lr_plot,
    labels={
        "drawn_final": "post's curve |lr·m̂| at the end",
        "step_size_final": "step size lr/(√v̂+ε) at the end",
        "move_final": "actual last move |Δa|",
        "playground_gap": "step size vs the Playground's effective lr (relative)",
    },
    mistake=Mistake(
        post=ADAM_POST,
        where="section “2 具體實作”: the values it appends to its learning-rate lists and "
        "draws in the lower plot",
        wrong=r"\text{learning rate}_t = \gamma\,\hat m_t",
        right=r"\text{step size}_t = \frac{\gamma}{\sqrt{\hat v_t} + \epsilon}, \quad "
        r"\theta_t = \theta_{t-1} - \text{step size}_t \cdot \hat m_t",
        consequence="the plot shows the update's numerator, not the learning rate.",
    ),
    playground=lambda: {
        "surface": "linear",
        "start": (0.0, 0.0),
        "steps": ADAM_POST_RUN["steps"],
        "runs": {"adam": {"lr": ADAM_POST_RUN["lr"], "eps": ADAM_POST_RUN["eps"]}},
    },
)


# -- 3. the TF2 post's momentum ------------------------------------------------------------------
TF2 = {"lr": 0.001, "beta": 0.9, "eps": 1e-5}


def _tf2_momentum_rule(lr, beta):
    def rule(p, g, m, t):
        m = beta * m + lr * g
        return p - np.array([1.0, lr]) * m, m  # a ← a − m_a, b ← b − lr·m_b

    return rule


def _tf2_momentum() -> LabResult:
    s, n = _tf2(), 500
    wrong = iterate(_tf2_momentum_rule(TF2["lr"], TF2["beta"]), s, s.start, n, np.full(2, 0.9))
    right = run(
        s, make_optimizer("momentum", lr=TF2["lr"], momentum=TF2["beta"]), s.start, n
    ).params
    g0 = s.value_and_grad(s.start)[1]
    measured = {
        "first_step_a": float(wrong[1, 0] - wrong[0, 0]),
        "first_step_b": float(wrong[1, 1] - wrong[0, 1]),
        "excess_loss_wrong": float(_excess(s, wrong)[-1]),
        "excess_loss_right": float(_excess(s, right)[-1]),
    }
    expected = {
        # the post's formulas at step 1, from its buffers' start 0.9
        "first_step_a": -(TF2["beta"] * 0.9 + TF2["lr"] * g0[0]),
        "first_step_b": -TF2["lr"] * (TF2["beta"] * 0.9 + TF2["lr"] * g0[1]),
        "excess_loss_wrong": 1.0,
        "excess_loss_right": 1e-6,
    }
    tol = {
        "first_step_a": EXACT,
        "first_step_b": EXACT,
        "excess_loss_wrong": AT_LEAST,
        "excess_loss_right": AT_MOST,
    }
    t = _t(n + 1)
    chart = Chart(
        "Loss above the minimum",
        "step",
        "excess loss",
        (
            Series("the post's rule", t, _excess(s, wrong)),
            Series("torch's momentum", t, _excess(s, right)),
        ),
        log_y=True,
    )
    return LabResult(measured, expected, tol, (chart,), {"wrong": wrong, "right": right})


def _tf2_playground(name: str, hyper: dict, steps: int):
    return lambda: {
        "surface": "quadratic",
        "start": tuple(_tf2().start),
        "steps": steps,
        "runs": {name: hyper},
    }


TF2_MOMENTUM = Lab(
    id="post_tf2_momentum",
    title="The TF2 post's momentum",
    question="The TF2 post starts its momentum buffers at 0.9 and multiplies b's step by "
    "the learning rate a second time. What does each do?",
    setup="The TF2 post's problem: fit y = a·x² + b·x to y = 0.5x² − 2x + 0.5 at x = −3, "
    "−2.9, …, 6.9 (mean squared error), lr 0.001, β = 0.9, its 500 iterations; both rules "
    "from (a, b) = (−0.25, −0.5) (the post draws a random start).",
    source=TF2_POST,
    expectation="With m₀ = 0.9 the first step of a is −(0.9β + η∂a): a spurious kick "
    "that the buffer keeps feeding, 0.9β/(1 − β) = 8.1 in all. b's step η·m_b is η = 0.001 "
    "times too small, so b hardly moves. torch's momentum reaches the minimum.",
    compute=_tf2_momentum,
    labels={
        "first_step_a": "post's rule: first step of a",
        "first_step_b": "post's rule: first step of b",
        "excess_loss_wrong": "post's rule: loss above the minimum after 500 steps",
        "excess_loss_right": "torch: loss above the minimum after 500 steps",
    },
    mistake=Mistake(
        post=TF2_POST,
        where="section “动量优化Momentum”: the function momentum (b's update) and the "
        "training loop's initial ma, mb",
        wrong=r"m_0 = 0.9,\quad m \leftarrow \beta m + \eta\,\nabla,\quad "
        r"a \leftarrow a - m_a,\quad b \leftarrow b - \eta\, m_b",
        right=r"m_0 = 0,\quad m \leftarrow \beta m + \eta\,\nabla,\quad "
        r"a \leftarrow a - m_a,\quad b \leftarrow b - m_b",
        consequence="a gets a kick of 8.1 from nowhere and b moves 1000 times too slowly.",
    ),
    playground=_tf2_playground("momentum", {"lr": TF2["lr"], "momentum": TF2["beta"]}, 500),
)


# -- 4./5. the TF2 post's Adagrad and RMSProp: b divided by a's accumulator ----------------------
def _tf2_adagrad_rule(lr, eps):
    def rule(p, g, state, t):
        sa, sb = state
        sa = sa + g[0] * g[0]
        sb = sb + g[1] * g[0]  # the post's accumulator for b (never used by its update)
        return p - lr * g / np.sqrt(sa + eps), (sa, sb)

    return rule


def _tf2_rmsprop_rule(lr, eps, beta):
    def rule(p, g, s, t):
        s = beta * s + (1 - beta) * g * g
        return p - lr * g / np.sqrt(s[0] + eps), s  # both divided by a's average

    return rule


def _b_over_a(eff: np.ndarray) -> float:
    """The median over the run of b's step size divided by a's."""
    return float(np.median(eff[:, 1] / eff[:, 0]))


def _adaptive_pair(kind: str) -> LabResult:
    s, n = _tf2(), 2000
    if kind == "adagrad":
        rule = _tf2_adagrad_rule(TF2["lr"], TF2["eps"])
        state = (0.0, 0.0)
        right = run(s, make_optimizer("adagrad", lr=TF2["lr"]), s.start, n)
    else:
        rule = _tf2_rmsprop_rule(TF2["lr"], TF2["eps"], TF2["beta"])
        state = np.zeros(2)
        right = run(s, make_optimizer("rmsprop", lr=TF2["lr"], alpha=TF2["beta"]), s.start, n)
    wrong = iterate(rule, s, s.start, n, state)
    # the per-coordinate step size of the post's rule: Δθ / (−g)
    grads = s.value_and_grad(wrong[:-1])[1]
    eff_wrong = (wrong[:-1] - wrong[1:]) / grads
    measured = {
        "b_over_a_wrong": _b_over_a(eff_wrong),
        "b_over_a_right": _b_over_a(right.effective_lr),
        "b_over_a_range_right": float(
            np.ptp(np.log10(right.effective_lr[:, 1] / right.effective_lr[:, 0]))
        ),
        "b_moved_wrong": float(abs(wrong[-1, 1] - wrong[0, 1])),
        "b_moved_right": float(abs(right.params[-1, 1] - right.params[0, 1])),
    }
    # Adagrad's ratio settles early (its sums are dominated by the first gradients): b gets
    # a step size several times a's. RMSprop's follows the recent gradients: it ranges
    # over decades. The post's rules hold it at exactly 1.
    check = "b_over_a_right" if kind == "adagrad" else "b_over_a_range_right"
    expected = {"b_over_a_wrong": 1.0, check: 5.0 if kind == "adagrad" else 1.0}
    tol = {"b_over_a_wrong": Tol(rel=1e-9), check: AT_LEAST}
    t = _t(n + 1)
    label = "Adagrad" if kind == "adagrad" else "RMSprop"
    charts = (
        Chart(
            "b over the run (its target is −2.02)",
            "step",
            "b",
            (
                Series("the post's rule", t, wrong[:, 1]),
                Series(f"torch's {label}", t, right.params[:, 1]),
                Series("target", t, np.full(t.shape, s.minima[0][1]), reference=True),
            ),
        ),
        Chart(
            "b's step size divided by a's",
            "step",
            "ratio",
            (
                Series("the post's rule", t[1:], eff_wrong[:, 1] / eff_wrong[:, 0]),
                Series(
                    f"torch's {label}", t[1:], right.effective_lr[:, 1] / right.effective_lr[:, 0]
                ),
            ),
            log_y=True,
        ),
    )
    return LabResult(measured, expected, tol, charts, {"wrong": wrong, "right": right.params})


_PAIR_LABELS = {
    "b_over_a_wrong": "post's rule: b's step size / a's (median over the run)",
    "b_over_a_right": "torch: b's step size / a's (median over the run)",
    "b_over_a_range_right": "torch: decades spanned by that ratio over the run",
    "b_moved_wrong": "post's rule: how far b moved in 2000 steps",
    "b_moved_right": "torch: how far b moved in 2000 steps",
}

TF2_ADAGRAD = Lab(
    id="post_tf2_adagrad",
    title="The TF2 post's Adagrad",
    question="The TF2 post's Adagrad adds ∂b·∂a to b's accumulator and divides b's step "
    "by a's accumulator. Is it still Adagrad?",
    setup="The TF2 post's problem (fit a·x² + b·x), lr 0.001, ε = 10⁻⁵ under the root as in "
    "the post, its 2000 iterations, from (−0.25, −0.5); against torch's Adagrad, lr 0.001.",
    source=TF2_POST,
    expectation="Adagrad's point is a step size per coordinate. With both steps divided by "
    "√(s_a + ε) the two coordinates share one step size, set by a's gradients, which are "
    "far larger than b's on this problem: b's step size is a's, where torch gives b a "
    "step size many times larger, and b moves several times less. b's accumulator "
    "Σ∂b·∂a is not a sum of squares and could turn negative; the post's update never reads it.",
    compute=lambda: _adaptive_pair("adagrad"),
    labels=_PAIR_LABELS,
    mistake=Mistake(
        post=TF2_POST,
        where="section “Adagrad”: the function adagrad's accumulators and b's update (the "
        "section's own text further down writes the right rule)",
        wrong=r"s_b \leftarrow s_b + \partial_b\,\partial_a,\quad "
        r"b \leftarrow b - \frac{\eta\,\partial_b}{\sqrt{s_a + \epsilon}}",
        right=r"s_b \leftarrow s_b + \partial_b^2,\quad "
        r"b \leftarrow b - \frac{\eta\,\partial_b}{\sqrt{s_b} + \epsilon}",
        consequence="one step size for both coordinates, set by a's gradients.",
    ),
    playground=_tf2_playground("adagrad", {"lr": TF2["lr"]}, 2000),
)

TF2_RMSPROP = Lab(
    id="post_tf2_rmsprop",
    title="The TF2 post's RMSProp",
    question="The TF2 post's RMSProp divides b's step by a's running average. What is lost?",
    setup="The TF2 post's problem (fit a·x² + b·x), lr 0.001, β = 0.9, ε = 10⁻⁵ under the "
    "root as in the post, 2000 iterations, from (−0.25, −0.5); against torch's RMSprop "
    "(alpha 0.9, lr 0.001).",
    source=TF2_POST,
    expectation="Dividing b by √(s_a + ε) makes RMSProp a single adaptive step size for "
    "both coordinates, set by a's gradients: the ratio of the two step sizes is frozen at "
    "1, where torch's adapts each coordinate to its own gradients.",
    compute=lambda: _adaptive_pair("rmsprop"),
    labels=_PAIR_LABELS,
    mistake=Mistake(
        post=TF2_POST,
        where="section “RMSProp”: the function rmsprop, b's update",
        wrong=r"b \leftarrow b - \frac{\eta\,\partial_b}{\sqrt{s_a + \epsilon}}",
        right=r"b \leftarrow b - \frac{\eta\,\partial_b}{\sqrt{s_b} + \epsilon}",
        consequence="no longer per-coordinate: b's step size is a's.",
    ),
    playground=_tf2_playground("rmsprop", {"lr": TF2["lr"], "alpha": TF2["beta"]}, 2000),
)


# -- 6. the TF2 post's Adam ----------------------------------------------------------------------
def _tf2_adam_rule(lr, b1, b2, eps):
    def rule(p, g, state, t):
        m, v = state
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        m = m / (1 - b1**t)  # written back into the state
        v = v / (1 - b2**t)
        return p - lr * m / np.sqrt(v + eps), (m, v)

    return rule


def _tf2_adam() -> LabResult:
    s, n = _tf2(), 1000
    b1, b2 = 0.9, 0.999
    rule = _tf2_adam_rule(TF2["lr"], b1, b2, TF2["eps"])
    wrong = iterate(rule, s, s.start, n, (np.full(2, 0.9), np.zeros(2)))
    right = run(s, make_optimizer("adam", lr=TF2["lr"]), s.start, n).params
    g0 = s.value_and_grad(s.start)[1]
    first = -TF2["lr"] * ((b1 * 0.9 + (1 - b1) * g0) / (1 - b1)) / np.sqrt(g0 * g0 + TF2["eps"])
    measured = {
        "first_step_a": float(wrong[1, 0] - wrong[0, 0]),
        "moved_after_step_10_wrong": float(np.linalg.norm(wrong[-1] - wrong[10])),
        "moved_after_step_10_right": float(np.linalg.norm(right[-1] - right[10])),
        "excess_loss_wrong": float(_excess(s, wrong)[-1]),
        "excess_loss_right": float(_excess(s, right)[-1]),
    }
    expected = {
        "first_step_a": float(first[0]),
        "moved_after_step_10_wrong": 1e-6,
        "moved_after_step_10_right": 0.1,
    }
    tol = {
        "first_step_a": EXACT,
        "moved_after_step_10_wrong": AT_MOST,
        "moved_after_step_10_right": AT_LEAST,
    }
    t = _t(n + 1)
    chart = Chart(
        "Loss above the minimum",
        "step",
        "excess loss",
        (
            Series("the post's rule", t, _excess(s, wrong)),
            Series("torch's Adam", t, _excess(s, right)),
        ),
        log_x=True,
        log_y=True,
    )
    return LabResult(measured, expected, tol, (chart,), {"wrong": wrong, "right": right})


TF2_ADAM = Lab(
    id="post_tf2_adam",
    title="The TF2 post's Adam",
    question="The TF2 post stores the bias-corrected m̂ and v̂ back into m and v, and "
    "starts m at 0.9. What happens over 1000 steps?",
    setup="The TF2 post's problem (fit a·x² + b·x), lr 0.001, betas (0.9, 0.999), "
    "ε = 10⁻⁵ under the root as in the post, its 1000 iterations, from (−0.25, −0.5); "
    "against torch's Adam (lr 0.001).",
    source=TF2_POST,
    expectation="Written back, each step divides the running averages by 1 − β^t again: "
    "v is multiplied by β₂/(1 − β₂^t), about 500 at t = 2, 333 at t = 3, … — it explodes "
    "within a few steps, the step lr·m/√v vanishes and the post's Adam freezes where it "
    "is. The m₀ = 0.9 start adds a first step of 8.1 + g in the numerator.",
    compute=_tf2_adam,
    labels={
        "first_step_a": "post's rule: first step of a",
        "moved_after_step_10_wrong": "post's rule: distance moved after step 10",
        "moved_after_step_10_right": "torch: distance moved after step 10",
        "excess_loss_wrong": "post's rule: final loss above the minimum",
        "excess_loss_right": "torch: final loss above the minimum",
    },
    mistake=Mistake(
        post=TF2_POST,
        where="section “Adam”: the function adam (its four bias-correction lines) and the "
        "training loop's initial ma, mb",
        wrong=r"""\begin{aligned}
m_0 &= 0.9 \\
m_t &\leftarrow \big(\beta_1 m_{t-1} + (1-\beta_1)g_t\big) / (1-\beta_1^t) \\
v_t &\leftarrow \big(\beta_2 v_{t-1} + (1-\beta_2)g_t^2\big) / (1-\beta_2^t) \\
\theta_t &\leftarrow \theta_{t-1} - \eta\, m_t / \sqrt{v_t + \epsilon}
\end{aligned}""",
        right=r"""\begin{aligned}
m_0 &= 0, \quad m_t \leftarrow \beta_1 m_{t-1} + (1-\beta_1)g_t,
\quad v_t \leftarrow \beta_2 v_{t-1} + (1-\beta_2)g_t^2 \\
\hat m_t &= m_t / (1-\beta_1^t), \quad \hat v_t = v_t / (1-\beta_2^t) \\
\theta_t &\leftarrow \theta_{t-1} - \eta\, \hat m_t / (\sqrt{\hat v_t} + \epsilon)
\end{aligned}""",
        consequence="the second moment explodes and Adam stops moving after a few steps.",
    ),
    playground=_tf2_playground("adam", {"lr": TF2["lr"]}, 1000),
)


# -- 7. ε under the root ---------------------------------------------------------------------------
EPS_SCALE = 1e-6


class _Scaled:
    def __init__(self, base, c: float) -> None:
        self.base, self.c, self.dim, self.minima = base, c, base.dim, base.minima

    def value_and_grad(self, p):
        f, g = self.base.value_and_grad(p)
        return self.c * f, self.c * g


def _eps_inside() -> LabResult:
    s, n = _tf2(), 1000
    paths = {}
    for inside in (True, False):
        rule = adam_rule(TF2["lr"], eps=TF2["eps"], eps_inside=inside)
        for c in (1.0, EPS_SCALE):
            paths[inside, c] = iterate(rule, _Scaled(s, c), s.start, n, zeros_state(s.start))

    def moved(inside, c):
        return float(np.linalg.norm(paths[inside, c][-1] - s.start))

    measured = {
        "moved_ratio_outside": moved(False, EPS_SCALE) / moved(False, 1.0),
        "moved_ratio_inside": moved(True, EPS_SCALE) / moved(True, 1.0),
    }
    expected = {"moved_ratio_outside": 1.0, "moved_ratio_inside": 0.5}
    tol = {"moved_ratio_outside": Tol(rel=0.01), "moved_ratio_inside": AT_MOST}
    t = _t(n + 1)
    chart = Chart(
        f"Distance from the start, loss multiplied by {EPS_SCALE:g}",
        "step",
        "distance",
        (
            Series(
                "ε outside (torch)", t, np.linalg.norm(paths[False, EPS_SCALE] - s.start, axis=-1)
            ),
            Series(
                "ε inside (the post)", t, np.linalg.norm(paths[True, EPS_SCALE] - s.start, axis=-1)
            ),
            Series(
                "either, loss unscaled",
                t,
                np.linalg.norm(paths[False, 1.0] - s.start, axis=-1),
                reference=True,
            ),
        ),
    )
    return LabResult(measured, expected, tol, (chart,), {})


EPS_INSIDE = Lab(
    id="post_eps_inside",
    title="ε inside the square root",
    question="The TF2 post writes √(v + ε); torch writes √v̂ + ε. Does it matter?",
    setup="Adam on the TF2 post's problem, lr 0.001, betas (0.9, 0.999), ε = 10⁻⁵ in both "
    f"places, 1000 steps from (−0.25, −0.5); then the same with the loss multiplied by "
    f"{EPS_SCALE:g} (the same problem in other units).",
    source=TF2_POST,
    expectation="Adam's step is unchanged when the loss is rescaled, as long as ε is small "
    "next to √v̂: with ε outside it is 10⁻⁵ against gradients of order 10⁻⁴ here. Under "
    "the root it is √ε ≈ 0.003, which swamps such gradients: the step turns into a tiny "
    "gradient step and the run covers a fraction of the distance.",
    compute=_eps_inside,
    labels={
        "moved_ratio_outside": "ε outside: distance covered, scaled / unscaled",
        "moved_ratio_inside": "ε inside: distance covered, scaled / unscaled",
    },
    mistake=Mistake(
        post=TF2_POST,
        where="sections “Adagrad”, “RMSProp” and “Adam”: every update divides by the root "
        "of the accumulator plus ε",
        wrong=r"\theta \leftarrow \theta - \frac{\eta\,\hat m_t}{\sqrt{\hat v_t + \epsilon}}",
        right=r"\theta \leftarrow \theta - \frac{\eta\,\hat m_t}{\sqrt{\hat v_t} + \epsilon}",
        consequence="a hidden scale: √ε is far larger than ε, and Adam stops being "
        "invariant to the loss's units.",
    ),
)


# -- 8. early stopping whose patience is never reset ----------------------------------------------
PATIENCE = {"tol": 1e-5, "patience": 3, "lr": 0.1, "steps": 2000}


def post_patience_stop(loss: np.ndarray, tol: float, patience: int) -> int:
    """Where the TF2 post's loop stops: at the ``patience``-th step whose loss changed by
    less than ``tol``, counted over the whole run (its counter is never reset); -1: never."""
    count = 0
    for t in range(1, len(loss)):
        if abs(loss[t] - loss[t - 1]) < tol:
            count += 1
        if count == patience:
            return t
    return -1


def _patience() -> LabResult:
    s = _fit()
    opt = make_optimizer("adam", lr=PATIENCE["lr"])
    full = run(s, opt, s.start, PATIENCE["steps"])
    post_stop = post_patience_stop(full.loss, PATIENCE["tol"], PATIENCE["patience"])
    right = run(
        s, opt, s.start, PATIENCE["steps"], tol=PATIENCE["tol"], patience=PATIENCE["patience"]
    )
    right_stop = right.steps_taken()
    measured = {
        "stop_step_post": float(post_stop),
        "stop_step_consecutive": float(right_stop),
        "loss_at_post_stop": float(full.loss[post_stop]),
        "loss_at_consecutive_stop": float(right.final_loss),
    }
    expected = {"loss_at_post_stop": 10 * measured["loss_at_consecutive_stop"]}
    tol = {"loss_at_post_stop": AT_LEAST}
    t = _t(len(full.loss))
    keep = t <= right_stop + 20
    chart = Chart(
        "Loss of one Adam run and where each rule stops it",
        "step",
        "loss",
        (
            Series("loss", t[keep], full.loss[keep]),
            Series(
                "post's stop",
                np.array([post_stop] * 2, float),
                np.array([full.loss[keep].min(), full.loss[0]]),
                reference=True,
                color_of="loss",
            ),
            Series(
                "3 in a row",
                np.array([right_stop] * 2, float),
                np.array([full.loss[keep].min(), full.loss[0]]),
                reference=True,
            ),
        ),
        log_y=True,
    )
    return LabResult(measured, expected, tol, (chart,), {"loss": full.loss})


PATIENCE_LAB = Lab(
    id="post_patience",
    title="Early stopping whose patience is never reset",
    question="The TF2 post stops when the loss changed by less than 10⁻⁵ three times. Three "
    "times in a row, or three times in all?",
    setup="The TF2 post's stopping rule (TOL 10⁻⁵, patience 3) applied to one run of Adam "
    f"(lr {PATIENCE['lr']}) on the Adam post's fit of y = 2x + 3 from (−0.5, 0), against "
    "the same rule counting consecutive quiet steps (the Playground's tolerance/patience).",
    source=TF2_POST,
    expectation="The post's counter only grows, so three isolated quiet steps, e.g. where an "
    "oscillating loss turns around, stop the run. Counting consecutive steps waits until the "
    "loss has really settled.",
    compute=_patience,
    labels={
        "stop_step_post": "post's rule: stops at step",
        "stop_step_consecutive": "3 in a row: stops at step",
        "loss_at_post_stop": "loss where the post's rule stops",
        "loss_at_consecutive_stop": "loss where 3-in-a-row stops",
    },
    mistake=Mistake(
        post=TF2_POST,
        where="section “SGD算法”, the function train (and every later train): the patience counter",
        wrong=r"k \leftarrow k + [\,|\Delta L_t| < \mathrm{tol}\,],\quad \text{stop when } k = 3",
        right=r"k \leftarrow \begin{cases} k + 1 & |\Delta L_t| < \mathrm{tol} \\ 0 & "
        r"\text{otherwise}\end{cases},\quad \text{stop when } k = 3",
        consequence="the run stops at the third quiet step, wherever it falls.",
    ),
)


# -- 9. the PyTorch post's race: a random start for each network ----------------------------------
RACE = {"seeds": 20, "steps": 200, "spread": 2.0}
RACE_RUNS = {
    "sgd": {"lr": 0.01},
    "momentum": {"lr": 0.01, "momentum": 0.8},
    "rmsprop": {"lr": 0.01, "alpha": 0.9},
    "adam": {"lr": 0.01, "betas": (0.9, 0.99)},
}


def _race() -> LabResult:
    s = _fit()
    rng = np.random.default_rng(0)
    k = RACE["seeds"]
    shared = s.minima[0] + RACE["spread"] * rng.standard_normal((k, 2))
    own = {n: s.minima[0] + RACE["spread"] * rng.standard_normal((k, 2)) for n in RACE_RUNS}
    names = list(RACE_RUNS)
    fair = np.stack(
        [
            run(s, make_optimizer(n, **h), shared, RACE["steps"], record="final").final_loss
            for n, h in RACE_RUNS.items()
        ]
    )
    post = np.stack(
        [
            run(s, make_optimizer(n, **h), own[n], RACE["steps"], record="final").final_loss
            for n, h in RACE_RUNS.items()
        ]
    )
    # per seed: the ranking of the four; the fair race's order is the optimizers'
    fair_rank = np.argsort(fair, axis=0)
    post_rank = np.argsort(post, axis=0)
    spread = post.max(axis=1) / post.min(axis=1)  # each optimizer's loss over the starts
    measured = {
        "rank_changes": float(np.mean(np.any(fair_rank != post_rank, axis=0))),
        "init_spread_sgd": float(spread[names.index("sgd")]),
        "init_spread_adam": float(spread[names.index("adam")]),
    }
    expected = {"rank_changes": 0.25}
    tol = {"rank_changes": AT_LEAST}
    seeds = _t(k) + 1
    charts = tuple(
        Chart(
            title,
            "race",
            f"loss after {RACE['steps']} steps",
            tuple(
                Series(n, seeds, losses_[i], markers=True, lines=False) for i, n in enumerate(names)
            ),
            log_y=True,
        )
        for title, losses_ in (
            ("As the post races: each optimizer its own random start", post),
            ("Fair: one random start shared by all four", fair),
        )
    )
    return LabResult(measured, expected, tol, charts, {"fair": fair, "post": post})


RACE_LAB = Lab(
    id="post_race_init",
    title="A race where every runner starts somewhere else",
    question="The PyTorch post races SGD, Momentum, RMSprop and Adam, each on its own freshly "
    "initialised network. How much of the result is the start, not the optimizer?",
    setup=f"{RACE['seeds']} races on the Adam post's fit of y = 2x + 3 with the PyTorch post's "
    "settings (lr 0.01; momentum 0.8; RMSprop alpha 0.9; Adam betas (0.9, 0.99)), "
    f"{RACE['steps']} full-batch steps. Each race once as the post runs it (a random start "
    f"per optimizer, spread {RACE['spread']:g} around the minimum) and once fairly (one random "
    "start shared by all four).",
    source=RACE_POST,
    expectation="With one shared start, every difference within a race is the optimizers' "
    "doing (on that start). With a start each, start and optimizer are mixed up: one "
    "optimizer's final loss varies over starts by orders of magnitude, so the order the "
    "post's race reports differs from the fair race's order in most races.",
    compute=_race,
    labels={
        "rank_changes": "share of races whose order differs from the fair race's",
        "init_spread_sgd": "SGD: largest / smallest loss over the starts",
        "init_spread_adam": "Adam: largest / smallest loss over the starts",
    },
    mistake=Mistake(
        post=RACE_POST,
        where="its training script: four networks built one after another, each with its "
        "own random weights",
        wrong=r"\theta^{\text{SGD}}_0,\ \theta^{\text{Mom}}_0,\ \theta^{\text{RMS}}_0,\ "
        r"\theta^{\text{Adam}}_0 \ \text{drawn independently}",
        right=r"\theta^{\text{SGD}}_0 = \theta^{\text{Mom}}_0 = \theta^{\text{RMS}}_0 = "
        r"\theta^{\text{Adam}}_0 \ \text{(one draw, copied)}",
        consequence="the race measures the starts as much as the optimizers.",
    ),
    related_page="Training",
)


# -- 10. the overview post's Adagrad climbs -------------------------------------------------------
ASCENT = {"lr": 0.01, "steps": 100}


def _adagrad_ascent() -> LabResult:
    problem = make_problem("least_squares", n=10, dim=10, seed=0)

    def plus(p, g, s, t):
        s = s + g * g
        return p + ASCENT["lr"] * g / (np.sqrt(s) + 1e-10), s  # the post's sign

    wrong = iterate(plus, problem, problem.start, ASCENT["steps"], np.zeros(problem.dim))
    right = run(problem, make_optimizer("adagrad", lr=ASCENT["lr"]), problem.start, ASCENT["steps"])
    lw = losses(problem, wrong)
    measured = {
        "loss_ratio_wrong": float(lw[-1] / lw[0]),
        "loss_ratio_right": float(right.loss[-1] / right.loss[0]),
    }
    expected = {"loss_ratio_wrong": 1.0, "loss_ratio_right": 1.0}
    tol = {"loss_ratio_wrong": AT_LEAST, "loss_ratio_right": AT_MOST}
    t = _t(ASCENT["steps"] + 1)
    chart = Chart(
        "Training loss",
        "step",
        "mean squared error",
        (
            Series("the post's formula (+)", t, lw),
            Series("torch's Adagrad (−)", t, right.loss),
        ),
    )
    return LabResult(measured, expected, tol, (chart,), {"wrong": wrong, "right": right.params})


ADAGRAD_ASCENT = Lab(
    id="post_adagrad_ascent",
    title="The overview post's Adagrad climbs",
    question="The overview post writes Adagrad's update with a plus sign. Which way does it go?",
    setup="A least-squares fit like the post's example (10 samples, 10 features, Gaussian), "
    f"from zero weights, η = {ASCENT['lr']}, {ASCENT['steps']} steps (the post's 100 epochs).",
    source=OVERVIEW_POST,
    expectation="Adding the scaled gradient climbs: the loss grows every step, where "
    "torch's Adagrad (minus) brings it down. (The post's AdaDelta formula has the same "
    "sign slip.)",
    compute=_adagrad_ascent,
    labels={
        "loss_ratio_wrong": "post's formula: final loss / initial loss",
        "loss_ratio_right": "torch: final loss / initial loss",
    },
    mistake=Mistake(
        post=OVERVIEW_POST,
        where="section “AdaGrad”, the parameter update formula",
        wrong=r"x_t = x_{t-1} + \frac{\eta}{\sqrt{s_t + \epsilon}} \odot g_t",
        right=r"x_t = x_{t-1} - \frac{\eta}{\sqrt{s_t} + \epsilon} \odot g_t",
        consequence="gradient ascent: the loss grows.",
    ),
)

MISTAKE_LABS = (
    ADAM_FIRST_MOMENT,
    ADAM_LR_PLOT,
    TF2_MOMENTUM,
    TF2_ADAGRAD,
    TF2_RMSPROP,
    TF2_ADAM,
    EPS_INSIDE,
    PATIENCE_LAB,
    RACE_LAB,
    ADAGRAD_ASCENT,
)


# -- slips in the posts' text: no rule to run, but a student copies them too ----------------------
SLIPS: tuple[Mistake, ...] = (
    Mistake(
        post=ADAM_POST,
        where="the opening of “1 Adam介紹”",
        wrong=r"\text{gradient descent: one sample per step}",
        right=r"\text{gradient descent: all samples; one sample per step is SGD}",
        consequence="full-batch and stochastic gradients confused.",
    ),
    Mistake(
        post=RACE_POST,
        where="its list of methods: “标准梯度下降法” and “NAG牛顿加速梯度”",
        wrong=r"\text{GD: a step per sample;}\quad \text{NAG = Newton accelerated gradient}",
        right=r"\text{GD: a step per full batch;}\quad \text{NAG = Nesterov accelerated gradient}",
        consequence="NAG has nothing of Newton's method: it is momentum with a look-ahead gradient.",
    ),
    Mistake(
        post=TF2_POST,
        where="the note after its RMSProp code",
        wrong=r"s = 0.9 \cdot \text{current} + 0.1 \cdot \text{past}",
        right=r"s_t = \beta\, s_{t-1} + (1-\beta)\, g_t^2 = 0.9 \cdot \text{past} + 0.1 \cdot \text{current}",
        consequence="the weights of the running average swapped.",
    ),
    Mistake(
        post=TF2_POST,
        where="the text of “动量优化Momentum”",
        wrong=r"\beta \text{ is the learning rate}",
        right=r"\beta \text{ is the momentum (decay of the buffer); } \eta \text{ is the learning rate}",
        consequence="the two hyperparameters confused.",
    ),
    Mistake(
        post=OVERVIEW_POST,
        where="section “AdaGrad”, on ε",
        wrong=r"\epsilon \text{ keeps the denominator from being negative}",
        right=r"\epsilon \text{ keeps it from being zero } (s_t \ge 0 \text{ always})",
        consequence="the reason for ε misstated.",
    ),
    Mistake(
        post=OVERVIEW_POST,
        where="section “AdaDelta”",
        wrong=r"x_t = x_{t-1} + \frac{\sqrt{\Delta x + \epsilon}}{\sqrt{s_t + \epsilon}} \odot g_t,\quad "
        r"x_t = \rho\, x_{t-1} + (1-\rho)\, g'_t \odot g'_t",
        right=r"x_t = x_{t-1} - \frac{\sqrt{\Delta x_{t-1} + \epsilon}}{\sqrt{s_t + \epsilon}} \odot g_t,\quad "
        r"\Delta x_t = \rho\, \Delta x_{t-1} + (1-\rho)\, g'_t \odot g'_t",
        consequence="an ascent step, and the average of squared updates written into the parameters.",
    ),
    Mistake(
        post=OVERVIEW_POST,
        where="its AdaGrad code",
        wrong=r"x_t = x_{t-1} - \frac{\eta}{\sqrt{s_{t-1} + 1}}\, g_t,\quad s_t = s_{t-1} + g_t^2",
        right=r"s_t = s_{t-1} + g_t^2,\quad x_t = x_{t-1} - \frac{\eta}{\sqrt{s_t} + \epsilon}\, g_t",
        consequence="the accumulator is updated after the step and ε = 1: the first step is plain SGD.",
    ),
    Mistake(
        post="the torch-source post (blog.csdn.net/dgyuanshaofeng/article/details/78759165)",
        where="its description of Adam's arguments",
        wrong=r"\texttt{beta1}\text{: for the gradient's average, and } \texttt{beta1} \text{ for its square}",
        right=r"\beta_1 \text{ for the gradient's average, } \beta_2 \text{ for its square}",
        consequence="a typo; the torch source it quotes (2017) also adds ε before the bias "
        "correction, an ε of ε/√(1−β₂ᵗ) in today's terms.",
    ),
)
