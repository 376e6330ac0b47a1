"""AppTest of the Playground page: defaults, controls, formulas, shared links, every combination."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

import optim
from ui.controls import COMPARE, SHARED_LR

APP = "../app.py"  # relative to this file, as AppTest resolves it
ROOT = Path(__file__).resolve().parents[1]
OWN = {"compare": COMPARE["own"]}  # per-optimizer hyperparameters, torch's defaults
FAST = {"steps": "20", **OWN}  # every test that does not need long runs keeps them short


def run_app(query: dict | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    at.query_params = dict(query or {})
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def chart(at: AppTest, key: str = "contour") -> dict:
    """The Plotly figure a chart element sends to the browser."""
    for el in at.get("plotly_chart"):
        if el.proto.id.endswith(key) or key in el.proto.id:
            return json.loads(el.proto.spec)
    raise AssertionError(f"no chart {key!r}; ids: {[e.proto.id for e in at.get('plotly_chart')]}")


def path_points(fig: dict) -> list:
    """Every x/y coordinate of the traces that carry a legend entry (the trajectories)."""
    return [
        (t.get("x"), t.get("y")) for t in fig["data"] if t.get("showlegend", True) and t.get("name")
    ]


def results(at: AppTest):
    return at.dataframe[0].value


def warnings_text(at: AppTest) -> str:
    return "\n".join(str(w.value) for w in at.warning)


def test_default_page_shows_chart_table_and_share_link():
    at = run_app()
    assert at.title[0].value == "Optimizer Playground"
    fig = chart(at)
    assert fig["data"], "the contour chart has traces"
    table = results(at)
    assert len(table) == len(at.multiselect(key="opt").value) >= 1
    assert set(table["status"]) <= {"max_steps", "converged", "diverged"}
    assert any(c.value.startswith("http") or c.value.startswith("?") for c in at.code)
    for name in at.multiselect(key="opt").value:  # the update rules sit one click away
        assert optim.OPTIMIZERS[name].latex in [x.value.strip("$\n") for x in at.latex]


def test_opening_view_compares_at_one_learning_rate_where_every_path_travels():
    # torch's defaults (lr 1e-3) barely move in 200 steps; the opening view must show a race
    at = run_app()
    assert at.radio(key="compare").value == "same"
    assert at.select_slider(key="lr").value == SHARED_LR
    table = results(at)
    start = optim.make_surface(at.selectbox(key="surface").value).start
    start_loss = float(optim.make_surface(at.selectbox(key="surface").value).loss(start))
    assert (table["status"] != "diverged").all()
    assert (table["final loss"] < 0.5 * start_loss).all(), table
    # and the chart says so
    assert COMPARE["same"] in chart(at)["layout"]["title"]["subtitle"]["text"]


def test_changing_a_hyperparameter_changes_the_chart_and_results():
    at = run_app(FAST)
    before_fig, before = chart(at), results(at)
    first = at.multiselect(key="opt").value[0]
    lr = at.select_slider(key=f"{first}_lr")
    options = [float(o) for o in lr.proto.options]
    bigger = options[min(options.index(lr.value) + 3, len(options) - 1)]
    lr.set_value(bigger).run()
    assert not at.exception
    assert chart(at) != before_fig
    after = results(at)
    assert after["final loss"].iloc[0] != before["final loss"].iloc[0]
    assert after["final loss"].iloc[1:].tolist() == before["final loss"].iloc[1:].tolist()


def test_reset_button_restores_torch_defaults():
    at = run_app(FAST)
    first = at.multiselect(key="opt").value[0]
    lr = at.select_slider(key=f"{first}_lr")
    default = lr.value
    lr.set_value(float(lr.proto.options[-1])).run()
    assert at.select_slider(key=f"{first}_lr").value != default
    at.button(key=f"reset_{first}").click().run()
    assert at.select_slider(key=f"{first}_lr").value == default
    assert default == optim.OPTIMIZERS[first].defaults()["lr"]


def test_reset_restores_every_hyperparameter_of_adam_including_both_betas():
    at = run_app({**FAST, "opt": "Adam"})
    widgets = {
        "adam_lr": at.select_slider(key="adam_lr"),
        "adam_betas0": at.slider(key="adam_betas0"),
        "adam_betas1": at.slider(key="adam_betas1"),
        "adam_amsgrad": at.checkbox(key="adam_amsgrad"),
    }
    defaults = {k: w.value for k, w in widgets.items()}
    at.select_slider(key="adam_lr").set_value(float(widgets["adam_lr"].proto.options[-1]))
    at.slider(key="adam_betas0").set_value(0.5)
    at.slider(key="adam_betas1").set_value(0.9)
    at.checkbox(key="adam_amsgrad").check().run()
    moved = {
        "adam_lr": at.select_slider(key="adam_lr").value,
        "adam_betas0": at.slider(key="adam_betas0").value,
        "adam_betas1": at.slider(key="adam_betas1").value,
        "adam_amsgrad": at.checkbox(key="adam_amsgrad").value,
    }
    assert all(moved[k] != defaults[k] for k in defaults), moved
    at.button(key="reset_adam").click().run()
    assert at.select_slider(key="adam_lr").value == defaults["adam_lr"]
    assert at.slider(key="adam_betas0").value == defaults["adam_betas0"] == 0.9
    assert at.slider(key="adam_betas1").value == defaults["adam_betas1"] == 0.999
    assert at.checkbox(key="adam_amsgrad").value is defaults["adam_amsgrad"] is False


def test_optimizers_run_in_teaching_order_whatever_the_click_order():
    at = run_app(FAST)
    at.multiselect(key="opt").set_value(["adam", "rmsprop", "sgd"]).run()
    labels = [str(o) for o in results(at)["optimizer"]]
    order = [optim.OPTIMIZERS[n].label for n in ("sgd", "rmsprop", "adam")]
    assert [next(o for o in order if lab.startswith(o)) for lab in labels] == order


def test_custom_formula_is_used_and_a_bad_one_is_rejected_keeping_the_chart():
    at = run_app(FAST)
    at.selectbox(key="surface").set_value("custom").run()
    at.text_input(key="formula").input("(x - 1)**2 + 3*(y + 2)**2").run()
    assert not at.exception and not at.error
    good_fig, good = chart(at), results(at)
    # the typed formula's own minimum, (1, -2), is found and the runs head there
    assert good["distance to nearest minimum"].notna().all()
    start = np.hypot(-2.0 - 1.0, 2.0 + 2.0)  # the formula window's start is (-2, 2)
    assert (good["distance to nearest minimum"] < start).all()
    assert (good["final loss"] < (-2.0 - 1) ** 2 + 3 * (2.0 + 2) ** 2).all()
    for bad in ("__import__('os').system('true')", "x**", "x.__class__", "lambda: 1"):
        at.text_input(key="formula").input(bad).run()
        assert not at.exception
        assert at.error, f"no message for {bad!r}"
        assert "formula" in at.error[0].value.lower()
        assert chart(at) == good_fig
        assert results(at)["final loss"].tolist() == good["final loss"].tolist()


def test_share_link_restores_the_same_settings():
    at = run_app(FAST)
    names = list(optim.OPTIMIZERS)[:2]
    at.multiselect(key="opt").set_value(names).run()
    lr = at.select_slider(key=f"{names[1]}_lr")
    lr.set_value(float(lr.proto.options[1])).run()
    at.selectbox(key="surface").set_value(list(optim.SURFACES)[-1]).run()
    at.number_input(key="x0").set_value(0.5).run()
    link = next(c.value for c in at.code if c.language != "python" and "classroom" not in c.value)
    query = {k: v if len(v) > 1 else v[0] for k, v in parse_qs(urlsplit(link).query).items()}
    again = run_app(query)
    assert not again.warning, warnings_text(again)
    for kind, key in (
        ("multiselect", "opt"),
        ("selectbox", "surface"),
        ("number_input", "x0"),
        ("select_slider", f"{names[1]}_lr"),
    ):
        assert getattr(again, kind)(key=key).value == getattr(at, kind)(key=key).value, key
    assert results(again).equals(results(at))


def test_out_of_range_url_values_are_clamped_with_a_notice_keeping_the_rest():
    first = list(optim.OPTIMIZERS)[0]
    at = run_app(
        {
            "steps": "99999",
            f"{first}_lr": "1e9",
            "opt": [first, "no_such_opt"],
            "x0": "-1e6",
            "surface": "rosenbrock",
            "seed": "abc",
            **OWN,
        }
    )
    text = warnings_text(at)
    assert "99999" in text and "1e9" in text and "no_such_opt" in text and "abc" in text
    assert at.slider(key="steps").value == 2000
    lr = at.select_slider(key=f"{first}_lr")
    assert lr.value == max(float(o) for o in lr.proto.options)
    assert at.multiselect(key="opt").value == [first]
    assert at.selectbox(key="surface").value == "rosenbrock"  # other settings kept
    xmin = optim.make_surface("rosenbrock").bounds[0][0]
    assert at.number_input(key="x0").value == xmin
    # from the next interaction on, the address bar holds the corrected values too
    at.toggle(key="view3d").set_value(True).run()
    assert at.query_params["steps"] == "2000"
    assert float(at.query_params["x0"]) == xmin


def test_a_diverging_run_is_drawn_and_explained_in_words():
    at = run_app({"steps": "200", "surface": "rosenbrock", "opt": "sgd", "sgd_lr": "1", **OWN})
    assert results(at)["status"].tolist() == ["diverged"]
    assert "diverged" in warnings_text(at)
    assert not at.exception and not at.error
    assert chart(at)["data"]


def test_classroom_link_hides_controls_and_can_be_left():
    at = run_app({**FAST, "classroom": "1"})
    assert not at.title  # the chart gets the room
    assert not [e for e in at.expander if "Export" in e.label]
    at.button(key="leave_classroom").click().run()
    assert "classroom" not in at.query_params
    assert at.title[0].value == "Optimizer Playground"


def test_3d_view_toggle():
    at = run_app(FAST)
    at.toggle(key="view3d").set_value(True).run()
    assert not at.exception
    assert any(t["type"] == "surface" for t in chart(at, "surface3d")["data"])


@pytest.mark.parametrize("surface", [*optim.SURFACES, "custom"])
def test_every_optimizer_on_every_surface_renders(surface):
    names = list(optim.OPTIMIZERS)
    at = run_app({"steps": "10", "surface": surface, "opt": names[:6]})
    seen = list(results(at)["optimizer"])
    at.multiselect(key="opt").set_value(names[6:12]).run()
    assert not at.exception and not at.error
    seen += list(results(at)["optimizer"])
    assert len(seen) == len(names)


def test_same_learning_rate_mode_gives_everyone_the_shared_rate_and_says_so():
    at = run_app(FAST)
    at.radio(key="compare").set_value("same").run()
    lr = at.select_slider(key="lr")
    lr.set_value(float(lr.proto.options[-3])).run()
    chosen = float(at.select_slider(key="lr").value)
    labels = results(at)["optimizer"].tolist()
    assert all(label.endswith(f"lr={chosen:.3g}") for label in labels), labels
    for name in at.multiselect(key="opt").value:  # no per-optimizer lr left to contradict it
        assert not [w for w in at.select_slider if w.key == f"{name}_lr"]
    assert "Same learning rate for all" in json.dumps(chart(at)["layout"])


def test_minibatch_gradients_on_a_data_surface_change_the_paths():
    at = run_app({**FAST, "surface": "linear"})
    full = results(at)["final loss"].tolist()
    at.radio(key="grad").set_value("minibatch").run()
    assert not at.exception
    assert results(at)["final loss"].tolist() != full
    at.radio(key="grad").set_value("single").run()
    assert "batch size 1" in json.dumps(chart(at)["layout"])


def test_a_schedule_changes_the_learning_rate_actually_applied():
    at = run_app(FAST)
    before = results(at)["final loss"].tolist()
    # a schedule whose defaults already change the rate within these 20 steps
    name = next(
        n for n in optim.SCHEDULES if not np.allclose(optim.make_schedule(n).factors(20), 1.0)
    )
    at.selectbox(key="schedule").set_value(name).run()
    assert not at.exception and not at.error
    assert results(at)["final loss"].tolist() != before


def test_changing_surface_moves_the_start_to_the_new_surfaces_default():
    at = run_app(FAST)
    at.number_input(key="x0").set_value(1.0).run()
    at.selectbox(key="surface").set_value("rosenbrock").run()
    start = optim.make_surface("rosenbrock").start
    assert at.number_input(key="x0").value == pytest.approx(start[0])
    assert at.number_input(key="y0").value == pytest.approx(start[1])


def test_a_malicious_formula_in_a_link_is_refused_with_a_message():
    at = run_app({**FAST, "surface": "custom", "formula": "__import__('os').getcwd()"})
    assert at.error and "formula" in at.error[0].value.lower()
    fallback = run_app({**FAST, "surface": "custom"})  # the example formula
    assert chart(at) == chart(fallback)


@pytest.mark.parametrize("raw", ["inf", "-inf", "nan", "7.5"])
def test_non_finite_or_fractional_numbers_in_a_link_never_crash_the_page(raw):
    # an integer control (the seed) once crashed inside Streamlit on ?seed=inf
    at = run_app({**FAST, "seed": raw, "x0": raw})
    assert not at.exception
    text = warnings_text(at)
    assert f"Seed = `{raw}`" in text, text
    assert results(at)["status"].notna().all()
    if raw == "7.5":
        assert "whole number; using 8" in text


def test_update_rules_give_the_pytorch_line_for_the_settings_on_screen():
    at = run_app({**FAST, "opt": ["sgd", "momentum", "lion"]})
    lr = at.select_slider(key="momentum_lr")
    lr.set_value(0.05).run()
    calls = [c.value for c in at.code if c.language == "python"]
    assert "torch.optim.SGD(model.parameters(), lr=0.001)" in calls
    assert "torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)" in calls
    assert not any("Lion" in c for c in calls)  # not in torch.optim: no line to copy


def test_after_two_runs_the_after_run_collection_has_little_left_to_walk():
    # In a fresh interpreter (freezing is for the whole process): before the Playground's
    # second run, every object alive walks through each of Streamlit's after-run
    # collections; from then on, what the first run loaded is frozen out of them.
    code = """
import gc, sys
from streamlit.testing.v1 import AppTest
at = AppTest.from_file(sys.argv[1], default_timeout=120)
at.run()
before = len(gc.get_objects())
at.run()
at.run()
print(before, len(gc.get_objects()), gc.get_freeze_count())
"""
    out = subprocess.run(
        [sys.executable, "-c", code, str(ROOT / "app.py")],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        check=True,
    )
    before, after, frozen = map(int, out.stdout.split())
    assert frozen > 0.9 * before  # what the first run left alive
    assert after < 0.1 * before  # what a collection still walks


def test_unusable_view3d_and_classroom_values_get_a_notice():
    at = run_app({**FAST, "view3d": "maybe", "classroom": "perhaps"})
    text = warnings_text(at)
    assert "3-D view = `maybe`" in text and "classroom mode = `perhaps`" in text
    assert at.title and not at.toggle(key="view3d").value  # both stay off, the page works
    assert chart(at)["data"]


def test_a_formula_error_quotes_no_live_markdown():
    # the parser's message names what the user typed; Markdown would make __x__ bold
    at = run_app({**FAST, "surface": "custom", "formula": "x + __bold__"})
    message = at.error[0].value
    assert r"\_\_bold\_\_" in message, message


def test_results_give_the_nearest_minimum_and_the_steps_actually_taken():
    # Himmelblau has four minima; with an early stop, runs end before the steps asked for
    at = run_app(
        {
            "surface": "Himmelblau (four minima)",
            "opt": ["SGD", "Adam"],
            "lr": "0.01",
            "steps": "1500",
            "tol": "1e-08",
        }
    )
    table = results(at)
    surface = optim.make_surface("himmelblau")
    for (_, row), name in zip(table.iterrows(), ["sgd", "adam"], strict=True):
        # the same run, made here, and read without the accessors the page uses
        traj = optim.run(
            surface, optim.make_optimizer(name, lr=0.01), surface.start, 1500, tol=1e-8
        )
        end = traj.params[int(traj.valid_length) - 1]
        gaps = np.linalg.norm(surface.minima - end, axis=1)
        assert row["distance to nearest minimum"] == pytest.approx(gaps.min(), rel=1e-9)
        assert gaps.min() < gaps.max()  # which minimum counts matters here
        assert row["status"] == "converged"
        assert row["steps"] == int(traj.stop_step) < 1500
