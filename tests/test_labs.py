"""The labs reproduce their sources: every number pinned to the paper's (or derived) value.

The expected values here are typed from the sources, not read from the labs, so a lab
whose formula drifts fails even if it still agrees with itself.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import optim
from optim.labs import LABS, Tol, classic, mistakes
from optim.labs.problems import TwoWell, adam_rule, iterate, zeros_state

# the ids and measured keys the issue names are part of the API
API_KEYS = {
    "goh_momentum": {"rate_gd", "rate_momentum", "steps_gd", "steps_momentum"},
    "amsgrad_counterexample": {"x_adam", "x_amsgrad"},
    "wilson_generalization": {
        "test_error_gd",
        "test_error_adagrad",
        "test_error_rmsprop",
        "test_error_adam",
    },
    "adamw_vs_l2": {"adam_l2_x", "adam_l2_y", "adamw_x", "adamw_y"},
    "radam_warmup": {"first_adaptive_step", "rectifier_100", "rectifier_1000"},
    "bias_correction": {"first_step_with", "first_step_without"},
    "lion_sign": {"step_size_ratio"},
    "lr_range_test": {"suggested_lr", "lr_unstable", "two_over_lambda_max"},
}


@pytest.fixture(scope="module")
def results():
    return {lab_id: lab.run() for lab_id, lab in LABS.items()}


def test_every_issue_lab_exists_with_its_keys(results):
    for lab_id, keys in API_KEYS.items():
        assert keys <= set(results[lab_id].measured), lab_id
    assert sum(lab.mistake is not None for lab in LABS.values()) >= 9


@pytest.mark.parametrize("lab_id", list(LABS))
def test_every_lab_passes_at_its_defaults(results, lab_id):
    r = results[lab_id]
    failing = {k: (r.measured[k], r.expected[k]) for k, ok in r.checks.items() if not ok}
    assert r.passed and not failing, failing
    assert r.expected, "a lab with nothing to check"
    assert r.charts and all(len(s.x) == len(s.y) > 0 for c in r.charts for s in c.series)


def test_a_check_fails_when_the_number_is_off():
    assert Tol(abs=0.1).holds(1.05, 1.0) and not Tol(abs=0.1).holds(1.2, 1.0)
    assert Tol(rel=0.02).holds(101.0, 100.0) and not Tol(rel=0.02).holds(103.0, 100.0)
    assert Tol(bound="at least").holds(5, 3) and not Tol(bound="at least").holds(2, 3)
    assert not Tol(abs=1).holds(float("nan"), 0.0)
    r = LABS["lion_sign"].run()
    r.measured["step_size_ratio"] = 0.99
    assert not r.passed and r.checks["step_size_ratio"] is False


def test_knobs_are_checked():
    with pytest.raises(ValueError, match="kappa"):
        LABS["goh_momentum"].run(kappa=1e6)
    with pytest.raises(ValueError, match="no knob"):
        LABS["goh_momentum"].run(condition=10)


# -- the classic results, against the papers' numbers --------------------------------------------
@pytest.mark.parametrize(
    ("kappa", "rate_gd", "rate_mom", "steps_gd"),
    [(100.0, 99 / 101, 9 / 11, 691), (10.0, 9 / 11, None, 69), (1000.0, 999 / 1001, None, 6908)],
)
def test_goh_rates_are_kappa_and_root_kappa(kappa, rate_gd, rate_mom, steps_gd):
    r = LABS["goh_momentum"].run(kappa=kappa)
    m = r.measured
    assert m["rate_gd"] == pytest.approx(rate_gd, rel=1e-9)
    root = (math.sqrt(kappa) - 1) / (math.sqrt(kappa) + 1)
    # the double root adds a factor t: measured a little above √β*, less so as κ grows
    assert m["rate_momentum"] == pytest.approx(rate_mom or root, rel=0.02 if kappa >= 100 else 0.06)
    assert m["steps_gd"] == steps_gd
    # momentum needs about √κ times fewer steps: far fewer, and the gap grows with κ
    assert m["steps_momentum"] < m["steps_gd"] / (0.5 * math.sqrt(kappa))
    assert r.passed


def test_goh_momentum_steps_match_the_exact_double_root_solution():
    # κ = 100: √β* = 9/11; the slow and fast coordinates are (1 + (1 ∓ √β)t)(±√β)^t
    r = 9 / 11
    t = np.arange(200)
    err = np.sqrt(((1 + (1 - r) * t) ** 2 + (1 + (1 + r) * t) ** 2) / 2) * r**t
    assert LABS["goh_momentum"].run().measured["steps_momentum"] == np.flatnonzero(err <= 1e-6)[0]


@pytest.mark.parametrize("C", [2.5, 3.0, 10.0])
def test_adam_goes_to_the_worst_point_and_amsgrad_to_the_best(C):
    m = LABS["amsgrad_counterexample"].run(C=C).measured
    assert m["x_adam"] > 0.99  # +1: the worst point
    assert m["x_amsgrad"] < -0.98  # −1: the optimum
    assert m["x_adam_second"] > 0.9 and m["x_amsgrad_second"] < -0.85


def test_the_counterexample_needs_amsgrad_not_just_any_run():
    # with AMSGrad off in both runs, both go to +1: the lab's contrast comes from amsgrad
    problem = optim.make_problem("online_linear", C=3.0)
    opt = optim.make_optimizer("adam", lr=classic.AMSGRAD_ALPHA, betas=(0.0, 0.1))
    x = optim.run(problem, opt, problem.start, 3000, schedule=classic.InverseSqrt()).final_params
    assert x[0] > 0.99


@pytest.mark.parametrize("p", [0.6, 0.75])
def test_wilson_gd_generalises_and_adaptive_methods_say_plus(p):
    m = LABS["wilson_generalization"].run(p=p).measured
    assert m["test_error_gd"] == 0.0
    for key in ("adagrad", "rmsprop", "adam"):
        assert m[f"test_error_{key}"] == pytest.approx(1 - p)


def test_wilson_data_is_the_papers_construction():
    X, y = classic.wilson_data(10, 0.6)
    assert (y > 0).sum() == 6
    assert np.array_equal(X[:, 0], y) and np.all(X[:, 1:3] == 1)
    unique = X[:, 3:]
    assert np.all(unique.sum(axis=0) == 1)  # every unique feature belongs to one example
    assert np.array_equal(unique.sum(axis=1), np.where(y > 0, 1, 5))


@pytest.mark.parametrize("wd", [0.1, 0.3])
def test_adam_l2_lands_on_the_ridge_solution_and_adamw_shrinks_alike(wd):
    m = LABS["adamw_vs_l2"].run(weight_decay=wd).measured
    assert m["adam_l2_x"] == pytest.approx(2 / (1 + wd), abs=1e-3)
    assert m["adam_l2_y"] == pytest.approx(200 / (100 + wd), abs=1e-3)
    assert abs(m["adamw_x"] - m["adamw_y"]) < 1e-6 and m["adamw_gap"] < 1e-6
    # L2 shrinks the flat x far more than the steep y; AdamW shrinks them alike
    ridge_gap = m["adam_l2_y"] - m["adam_l2_x"]
    assert ridge_gap > 0.08 and m["adamw_x"] < 2.0


def test_radam_numbers_from_the_paper():
    m = LABS["radam_warmup"].run().measured
    assert m["first_adaptive_step"] == 6  # rho_5 = 4.996 <= 5 < rho_6 = 5.994
    # r_t from the paper's formula, beta2 = 0.999 (rho_inf = 1999)
    rho_inf = 1999.0
    for t, key in ((100, "rectifier_100"), (1000, "rectifier_1000")):
        rho = rho_inf - 2 * t * 0.999**t / (1 - 0.999**t)
        r = math.sqrt((rho - 4) * (rho - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho))
        assert m[key] == pytest.approx(r, rel=1e-6)
    assert m["rectifier_100"] == pytest.approx(0.21534, abs=1e-5)
    assert m["rectifier_1000"] == pytest.approx(0.64533, abs=1e-5)
    # Monte Carlo: the spread of 1/sqrt(v_hat) falls by the rectifier's ratio (within 10%)
    assert m["mc_spread_ratio"] == pytest.approx(0.21534 / 0.64533, rel=0.1)


def test_bias_correction_first_steps():
    m = LABS["bias_correction"].run().measured
    assert m["first_step_with"] == pytest.approx(1.0, rel=1e-6)
    assert m["first_step_without"] == pytest.approx(9.4868, abs=1e-4)  # 0.3 / sqrt(0.001)
    m = LABS["bias_correction"].run(beta1=0.9).measured
    assert m["first_step_without"] == pytest.approx(0.1 / math.sqrt(0.001), rel=1e-6)
    # the oversized early steps change which well the starts end in
    assert m["share_global_with"] != m["share_global_without"]


def test_the_labs_adam_is_torchs_adam():
    problem = TwoWell()
    start = np.array([[0.6, 0.5], [-1.5, 1.0]])
    mine = iterate(adam_rule(0.1, (0.7, 0.999)), problem, start, 50, zeros_state(start))
    core = optim.run(problem, optim.make_optimizer("adam", lr=0.1, betas=(0.7, 0.999)), start, 50)
    np.testing.assert_allclose(mine, core.params, rtol=1e-12, atol=1e-14)


def test_lion_moves_exactly_lr_and_never_settles():
    m = LABS["lion_sign"].run(lr=0.05).measured
    assert m["step_size_ratio"] == pytest.approx(1.0, abs=1e-12)
    assert m["smallest_step_ratio"] == pytest.approx(1.0, abs=1e-12)
    assert m["late_distance"] >= 0.05


@pytest.mark.parametrize("condition", [20.0, 200.0])
def test_lr_range_test_finds_two_over_lambda_max(condition):
    m = LABS["lr_range_test"].run(condition=condition).measured
    assert m["two_over_lambda_max"] == pytest.approx(0.5)  # the bowl's sharp curvature is 4
    assert 0.5 < m["lr_unstable"] <= 0.5 * 1.123  # the first lr of the sweep above it
    assert m["suggested_lr"] < 0.5 < m["lr_loss_rises"]


# -- the posts' mistakes: the rule is the one the post wrote, and the consequence is real ----------
def test_every_mistake_cites_its_post_and_states_both_rules():
    for lab in LABS.values():
        if lab.mistake is None:
            continue
        m = lab.mistake
        assert m.post and m.where and m.consequence, lab.id
        assert m.wrong != m.right and "\\" in m.wrong, lab.id
        assert lab.source == m.post, lab.id


def test_adam_post_first_moment_rule():
    # the post's formula: m_1 = beta1 * 0 + (1 + beta1) * g
    rule = mistakes._plus_rule(0.1, (0.9, 0.999), 1e-6)
    _, (m, v) = rule(np.zeros(1), np.array([2.0]), (np.zeros(1), np.zeros(1)), 1)
    assert m[0] == pytest.approx(1.9 * 2.0) and v[0] == pytest.approx(0.001 * 4.0)
    r = LABS["post_adam_first_moment"].run().measured
    assert r["first_step_ratio"] == pytest.approx(19.0)
    assert r["gap_to_adam_at_19x_lr"] < 1e-9  # exactly Adam at 19x the learning rate
    assert r["overshoot_wrong"] > 5 * r["overshoot_right"]


def test_adam_post_plot_is_not_the_step_size():
    r = LABS["post_adam_lr_plot"].run().measured
    assert r["step_size_final"] > 1e4 * r["drawn_final"]
    assert r["playground_gap"] < 1e-12  # the step size is the Playground's effective lr


def test_tf2_momentum_rule():
    rule = mistakes._tf2_momentum_rule(0.001, 0.9)
    p, m = rule(np.zeros(2), np.array([2.0, 3.0]), np.full(2, 0.9), 1)
    assert m == pytest.approx([0.81 + 0.002, 0.81 + 0.003])
    assert p == pytest.approx([-(0.81 + 0.002), -0.001 * (0.81 + 0.003)])  # lr twice on b
    r = LABS["post_tf2_momentum"].run().measured
    assert r["excess_loss_wrong"] > 1.0 and r["excess_loss_right"] < 1e-6


def test_tf2_adagrad_rule():
    rule = mistakes._tf2_adagrad_rule(0.001, 1e-5)
    p, (sa, sb) = rule(np.zeros(2), np.array([3.0, 4.0]), (0.0, 0.0), 1)
    assert (sa, sb) == (9.0, 12.0)  # b's accumulator adds db*da
    assert p == pytest.approx(-0.001 * np.array([3.0, 4.0]) / math.sqrt(9.0 + 1e-5))
    r = LABS["post_tf2_adagrad"].run().measured
    assert r["b_over_a_wrong"] == pytest.approx(1.0) and r["b_over_a_right"] > 5
    assert r["b_moved_wrong"] < r["b_moved_right"] / 5


def test_tf2_rmsprop_rule():
    rule = mistakes._tf2_rmsprop_rule(0.001, 1e-5, 0.9)
    p, s = rule(np.zeros(2), np.array([3.0, 4.0]), np.zeros(2), 1)
    assert s == pytest.approx([0.9, 1.6])
    assert p[1] == pytest.approx(-0.001 * 4.0 / math.sqrt(0.9 + 1e-5))  # a's average
    r = LABS["post_tf2_rmsprop"].run().measured
    assert r["b_over_a_wrong"] == pytest.approx(1.0) and r["b_over_a_range_right"] > 1


def test_tf2_adam_rule_writes_the_correction_back():
    rule = mistakes._tf2_adam_rule(0.001, 0.9, 0.999, 1e-5)
    g = np.array([1.0])
    p, (m, v) = rule(np.zeros(1), g, (np.full(1, 0.9), np.zeros(1)), 1)
    assert m[0] == pytest.approx((0.81 + 0.1) / 0.1) and v[0] == pytest.approx(1.0)
    _, (m2, v2) = rule(p, g, (m, v), 2)
    assert v2[0] == pytest.approx((0.999 * 1.0 + 0.001) / (1 - 0.999**2))  # ≈ 500
    r = LABS["post_tf2_adam"].run().measured
    assert r["moved_after_step_10_wrong"] < 1e-6 < 0.1 < r["moved_after_step_10_right"]


def test_eps_inside_breaks_scale_invariance():
    inside = adam_rule(0.1, eps=0.01, eps_inside=True)
    g = np.array([0.3])
    p, _ = inside(np.zeros(1), g, (np.zeros(1), np.zeros(1)), 1)
    assert p[0] == pytest.approx(-0.1 * 0.3 / math.sqrt(0.09 + 0.01))
    r = LABS["post_eps_inside"].run().measured
    assert r["moved_ratio_outside"] == pytest.approx(1.0, rel=0.01)
    assert r["moved_ratio_inside"] < 0.3


def test_post_patience_counts_quiet_steps_anywhere():
    loss = np.array([10.0, 9.0, 9.0, 5.0, 5.0, 1.0, 1.0, 0.5, 0.5, 0.5, 0.5])
    # quiet steps (|Δ| < 1e-5) at 2, 4, 6, 8, 9, 10: the post stops at the third, 6;
    # three in a row first happen at 10
    assert mistakes.post_patience_stop(loss, 1e-5, 3) == 6
    r = LABS["post_patience"].run().measured
    assert r["stop_step_post"] < r["stop_step_consecutive"]
    assert r["loss_at_post_stop"] > 10 * r["loss_at_consecutive_stop"]


def test_race_with_own_starts_reorders_the_runners():
    r = LABS["post_race_init"].run().measured
    assert r["rank_changes"] >= 0.25
    assert r["init_spread_adam"] > 100  # one optimizer's loss varies by orders over starts


def test_overview_adagrad_plus_sign_climbs():
    r = LABS["post_adagrad_ascent"].run().measured
    assert r["loss_ratio_wrong"] > 1.2 and r["loss_ratio_right"] < 0.8
