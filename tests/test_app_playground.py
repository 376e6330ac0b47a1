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
from ui.controls import COMPARE, shared_lr_for
from ui.race_chart import sent_figure
from ui.runlist import RunSpec, format_run, playground_link

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
    """The Plotly figure a chart element (or the race chart) sends to the browser."""
    for el in at.get("plotly_chart"):
        if el.proto.id.endswith(key) or key in el.proto.id:
            return json.loads(el.proto.spec)
    for el in at.get("bidi_component"):
        if el.proto.component_name == "race_chart" and key in el.proto.id:
            return sent_figure(el.proto.bytes)
    raise AssertionError(f"no chart {key!r}; ids: {[e.proto.id for e in at.get('plotly_chart')]}")


def path_points(fig: dict) -> list:
    """Every x/y coordinate of the traces that carry a legend entry (the trajectories)."""
    return [
        (t.get("x"), t.get("y")) for t in fig["data"] if t.get("showlegend", True) and t.get("name")
    ]


def results(at: AppTest):
    return at.dataframe[0].value


def race(at: AppTest) -> list:
    """The runs as the page holds them: (uid, RunSpec) pairs in race order."""
    return list(at.session_state["_race"])


def pick(at: AppTest, i: int) -> AppTest:
    """Show the i-th run in the editor."""
    at.radio(key="race_pick").set_value(race(at)[i][0]).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def add(at: AppTest, name: str) -> AppTest:
    at.selectbox(key="race_add_name").set_value(name)
    at.button(key="race_add").click().run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def open_box(at: AppTest, key: str) -> AppTest:
    """Open an expander or popover whose contents are drawn only when open."""
    at.session_state[key] = True
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def link_query(at: AppTest) -> dict:
    open_box(at, "share_open")
    link = next(c.value for c in at.code if c.language != "python" and "classroom" not in c.value)
    return {k: v if len(v) > 1 else v[0] for k, v in parse_qs(urlsplit(link).query).items()}


def names(at: AppTest) -> list[str]:
    return [r.name for _, r in race(at)]


def warnings_text(at: AppTest) -> str:
    return "\n".join(str(w.value) for w in at.warning)


def test_default_page_shows_chart_table_and_share_link():
    at = run_app()
    assert at.title[0].value == "Optimizer Playground"
    fig = chart(at)
    assert fig["data"], "the contour chart has traces"
    table = results(at)
    assert len(table) == len(race(at)) == 3
    assert all(isinstance(s, str) and "_" not in s for s in table["status"])  # words, no codes
    # a first visit draws no code box (it would load the syntax highlighter's script)
    assert not at.code
    shown = [x.value.strip("$\n") for x in at.latex]
    assert not any(optim.OPTIMIZERS[n].latex in shown for n in names(at))  # rules: when opened
    open_box(at, "share_open")
    assert any(c.value.startswith("http") or c.value.startswith("?") for c in at.code)
    for name in names(at):  # the update rules sit one click away
        open_box(at, f"rule_open_{name}")
        assert optim.OPTIMIZERS[name].latex in [x.value.strip("$\n") for x in at.latex]


def test_opening_view_compares_at_one_learning_rate_where_every_path_travels():
    # torch's defaults (lr 1e-3) barely move in 200 steps; the opening view must show a race
    at = run_app()
    assert at.radio(key="compare").value == "same"
    surface_name = at.selectbox(key="surface").value
    assert at.number_input(key="lr").value == shared_lr_for(surface_name)
    table = results(at)
    surface = optim.make_surface(surface_name)
    start_loss = float(surface.loss(surface.start))
    assert not table["status"].str.startswith("diverged").any()
    assert (table["final loss"] < 0.5 * start_loss).all(), table
    # and the chart says so
    assert COMPARE["same"] in chart(at)["layout"]["title"]["subtitle"]["text"]


@pytest.mark.parametrize("surface", list(optim.SURFACES))
def test_no_surface_opens_with_a_race_that_blows_up_at_once(surface):
    at = run_app({"steps": "20"})
    at.selectbox(key="surface").set_value(surface).run()
    assert at.number_input(key="lr").value == shared_lr_for(surface)
    assert not results(at)["status"].str.startswith("diverged").any(), results(at)


def test_changing_a_hyperparameter_changes_the_chart_and_results():
    at = run_app(FAST)
    before_fig, before = chart(at), results(at)
    first = names(at)[0]
    lr = at.number_input(key=f"ed_{first}_lr")
    lr.set_value(lr.value * 20).run()
    assert not at.exception
    assert chart(at) != before_fig
    after = results(at)
    assert after["final loss"].iloc[0] != before["final loss"].iloc[0]
    assert after["final loss"].iloc[1:].tolist() == before["final loss"].iloc[1:].tolist()


def test_reset_button_restores_torch_defaults():
    at = run_app(FAST)
    first = names(at)[0]
    default = at.number_input(key=f"ed_{first}_lr").value
    at.number_input(key=f"ed_{first}_lr").set_value(0.5).run()
    assert at.number_input(key=f"ed_{first}_lr").value == 0.5
    at.button(key="ed_reset").click().run()
    assert at.number_input(key=f"ed_{first}_lr").value == default
    assert default == optim.OPTIMIZERS[first].defaults()["lr"]
    assert race(at)[0][1].values["lr"] == default


def test_reset_restores_every_hyperparameter_of_adam_including_both_betas():
    at = run_app({**FAST, "run": "Adam"})
    keys = ("ed_adam_lr", "ed_adam_betas0", "ed_adam_betas1")
    defaults = {k: at.number_input(key=k).value for k in keys}
    defaults["ed_adam_amsgrad"] = at.checkbox(key="ed_adam_amsgrad").value
    at.number_input(key="ed_adam_lr").set_value(0.5)
    at.number_input(key="ed_adam_betas0").set_value(0.5)
    at.number_input(key="ed_adam_betas1").set_value(0.9)
    at.checkbox(key="ed_adam_amsgrad").check().run()
    moved = {k: at.number_input(key=k).value for k in keys}
    moved["ed_adam_amsgrad"] = at.checkbox(key="ed_adam_amsgrad").value
    assert all(moved[k] != defaults[k] for k in defaults), moved
    at.button(key="ed_reset").click().run()
    assert at.number_input(key="ed_adam_lr").value == defaults["ed_adam_lr"]
    assert at.number_input(key="ed_adam_betas0").value == defaults["ed_adam_betas0"] == 0.9
    assert at.number_input(key="ed_adam_betas1").value == defaults["ed_adam_betas1"] == 0.999
    assert at.checkbox(key="ed_adam_amsgrad").value is defaults["ed_adam_amsgrad"] is False
    assert race(at)[0][1] == RunSpec.make("adam")


def test_optimizers_run_in_teaching_order_whatever_the_click_order():
    at = run_app({**FAST, "run": "Adam"})
    add(add(at, "rmsprop"), "sgd")
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
    add(at, list(optim.OPTIMIZERS)[-1])
    last = names(at)[-1]
    at.number_input(key=f"ed_{last}_lr").set_value(0.0123).run()
    at.selectbox(key="surface").set_value(list(optim.SURFACES)[-1]).run()
    at.number_input(key="x0").set_value(0.5).run()
    again = run_app(link_query(at))
    assert not again.warning, warnings_text(again)
    assert [r for _, r in race(again)] == [r for _, r in race(at)]
    assert race(again)[-1][1].values["lr"] == 0.0123
    for kind, key in (("selectbox", "surface"), ("number_input", "x0")):
        assert getattr(again, kind)(key=key).value == getattr(at, kind)(key=key).value, key
    assert results(again).equals(results(at))


def test_a_setting_of_a_run_after_an_inserted_one_reaches_the_address_bar_and_a_reload():
    # SGD, Momentum, Adam; add RMSprop (it goes before Adam), then move Adam's beta1
    at = run_app(FAST)
    add(at, "rmsprop")
    assert names(at) == ["sgd", "momentum", "rmsprop", "adam"]
    pick(at, 3)
    at.number_input(key="ed_adam_betas0").set_value(0.5).run()
    in_bar = at.query_params["run"]
    assert any(r.startswith("Adam") and "betas0=0.5" in r for r in in_bar), in_bar
    reloaded = run_app({**FAST, "run": in_bar})
    assert names(reloaded) == ["sgd", "momentum", "rmsprop", "adam"]
    assert race(reloaded)[3][1].values["betas[0]"] == 0.5
    assert results(reloaded).equals(results(at))


def test_the_same_optimizer_races_at_three_learning_rates():
    runs = [RunSpec.make("sgd", lr=v) for v in (0.01, 0.1, 0.5)]
    at = run_app({**FAST, "run": [format_run(r) for r in runs]})
    labels = results(at)["optimizer"].tolist()
    assert [lab.split("lr=")[1] for lab in labels] == ["0.01", "0.1", "0.5"]
    paths = [t for t in chart(at)["data"] if t.get("showlegend") and t["name"].startswith("SGD")]
    assert len({t["line"]["color"] for t in paths}) == 1  # one colour for one optimizer
    assert len({t["line"].get("dash", "solid") for t in paths}) == 3  # told apart by dash
    assert len(set(results(at)["final loss"])) == 3


def test_an_older_link_opens_the_same_race():
    old = {
        **FAST,
        "opt": ["Adam", "SGD"],
        "sgd_lr": "0.0005",
        "adam_betas0": "0.8",
        "surface": "Rosenbrock",
    }
    at = run_app(old)
    assert not at.warning, warnings_text(at)
    assert names(at) == ["sgd", "adam"]  # teaching order, as older links showed them
    assert race(at)[0][1].values["lr"] == 0.0005
    assert race(at)[1][1].values["betas[0]"] == 0.8
    assert "opt" not in at.query_params and "sgd_lr" not in at.query_params
    # in the older link's default mode everyone shared one rate: still so
    shared = run_app({"steps": "20", "opt": ["SGD", "Adam"], "lr": "0.02"})
    assert shared.radio(key="compare").value == "same"
    assert all(lab.endswith("lr=0.02") for lab in results(shared)["optimizer"])


def test_a_link_built_for_other_pages_opens_that_race():
    query = playground_link(
        [("sgd", {"lr": 0.01}), ("adam", {"lr": 0.01, "betas": (0.9, 0.99)})],
        surface="himmelblau",
        start=(1.23456, -2.0),
        steps=30,
        compare="own",
    )
    at = run_app({k: v if len(v) > 1 else v[0] for k, v in parse_qs(query[1:]).items()})
    assert not at.warning, warnings_text(at)
    assert [r for _, r in race(at)] == [
        RunSpec.make("sgd", lr=0.01),
        RunSpec.make("adam", lr=0.01, betas1=0.99),
    ]
    assert at.selectbox(key="surface").value == "himmelblau"
    assert at.number_input(key="x0").value == 1.235
    assert results(at)["steps"].tolist() == [30, 30]


def test_out_of_range_url_values_are_clamped_with_a_notice_keeping_the_rest():
    first = list(optim.OPTIMIZERS)[0]
    label = optim.OPTIMIZERS[first].label
    at = run_app(
        {
            "steps": "99999",
            "run": [f"{label} lr=1e9 bogus=1", "no_such_opt lr=1"],
            "x0": "-1e6",
            "surface": "rosenbrock",
            "seed": "abc",
            **OWN,
        }
    )
    text = warnings_text(at)
    for raw in ("99999", "1e9", "no_such_opt", "abc", "bogus"):
        assert raw in text, raw
    assert at.number_input(key="steps").value == 2000
    lr_high = next(s["high"] for s in optim.OPTIMIZERS[first].slider_specs() if s["key"] == "lr")
    assert at.number_input(key=f"ed_{first}_lr").value == lr_high
    assert names(at) == [first]
    assert at.selectbox(key="surface").value == "rosenbrock"  # other settings kept
    xmin = optim.make_surface("rosenbrock").bounds[0][0]
    assert at.number_input(key="x0").value == xmin
    # from the next interaction on, the address bar holds the corrected values too
    at.toggle(key="view3d").set_value(True).run()
    assert float(at.query_params["steps"]) == 2000
    assert float(at.query_params["x0"]) == xmin
    assert at.query_params["run"] in ([f"{label} lr=10"], f"{label} lr=10")


def test_a_value_below_a_range_open_at_the_top_is_clamped_with_a_notice():
    # the tolerance has a lower bound only: its notice once crashed the page
    at = run_app({**FAST, "tol": "-185"})
    assert "-185" in warnings_text(at) and "∞]" in warnings_text(at)
    assert at.number_input(key="tol").value >= 0


def test_a_static_folder_that_cannot_be_written_falls_back_to_plotly_chart(tmp_path, monkeypatch):
    from ui import race_chart

    drawn = chart(run_app(FAST))["data"]  # by the race chart component
    blocked = tmp_path / "static"
    blocked.write_text("a file where the folder should be")  # neither made nor written
    monkeypatch.setattr(race_chart, "STATIC", blocked)
    assert race_chart.ensure_bundle() is None
    monkeypatch.setattr(race_chart, "BUNDLE", None)
    at = run_app(FAST)
    assert not at.get("bidi_component")
    (el,) = [e for e in at.get("plotly_chart") if e.proto.id.endswith("contour")]
    assert [t.get("name") for t in json.loads(el.proto.spec)["data"]] == [
        t.get("name") for t in drawn
    ]


def test_more_than_eight_runs_in_a_link_keep_the_first_eight():
    at = run_app({**FAST, "run": [f"SGD lr={0.001 * (i + 1):g}" for i in range(10)]})
    assert len(race(at)) == 8
    assert "first 8" in warnings_text(at)


def test_a_diverging_run_is_drawn_and_explained_in_words():
    at = run_app({"steps": "200", "surface": "rosenbrock", "run": "SGD lr=1", **OWN})
    assert [s.split()[0] for s in results(at)["status"]] == ["diverged"]
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
    labels = [c.label for c in optim.OPTIMIZERS.values()]
    at = run_app({"steps": "10", "surface": surface, "run": labels[:8]})
    seen = list(results(at)["optimizer"])
    again = run_app({"steps": "10", "surface": surface, "run": labels[8:]})
    assert not at.exception and not at.error and not again.error
    seen += list(results(again)["optimizer"])
    assert len(seen) == len(labels)


def test_same_learning_rate_mode_gives_everyone_the_shared_rate_and_says_so():
    at = run_app(FAST)
    at.radio(key="compare").set_value("same").run()
    at.number_input(key="lr").set_value(0.0371).run()
    labels = results(at)["optimizer"].tolist()
    assert all(label.endswith("lr=0.0371") for label in labels), labels
    for name in names(at):  # no per-run lr left to contradict it
        assert not [w for w in at.number_input if w.key == f"ed_{name}_lr"]
    assert "Same learning rate for all" in json.dumps(chart(at)["layout"])


def test_at_one_shared_rate_an_optimizer_far_from_its_own_default_is_flagged():
    at = run_app({"steps": "20", "run": ["SGD", "Adadelta", "Adam"]})
    text = warnings_text(at)
    assert "Adadelta" in text and "SGD" not in text.split("Adadelta")[0]
    assert "Adadelta" not in warnings_text(run_app({**FAST, "run": ["SGD", "Adadelta"]}))


def test_minibatch_gradients_on_a_data_surface_change_the_paths():
    at = run_app({**FAST, "surface": "linear", "run": ["SGD lr=0.1", "SGD lr=0.1"]})
    full = results(at)["final loss"].tolist()
    assert full[0] == full[1]
    pick(at, 1)
    at.radio(key="ed_grad").set_value("minibatch").run()
    assert not at.exception
    after = results(at)["final loss"].tolist()
    assert after[0] == full[0] and after[1] != full[1]  # each run its own gradient
    at.radio(key="ed_grad").set_value("single").run()
    assert "single sample" in results(at)["optimizer"].iloc[1]
    assert race(at)[1][1].batch == 1 and race(at)[0][1].batch is None
    assert "batch=1" in at.query_params["run"][1]


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
    at = run_app({**FAST, "run": ["SGD", "Momentum", "Lion"]})
    pick(at, 1)
    at.number_input(key="ed_momentum_lr").set_value(0.05).run()
    for name in ("sgd", "momentum", "lion"):
        at.session_state[f"rule_open_{name}"] = True
    at.run()
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
        assert row["status"].startswith("reached a minimum"), row["status"]
        assert row["steps"] == int(traj.stop_step) < 1500


def load(at: AppTest, key: str) -> AppTest:
    at.button(key=f"preset_{key}").click().run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_preset_learning_rate_too_small_right_too_big():
    at = load(run_app(), "lr")
    assert names(at) == ["sgd"] * 3 and at.radio(key="compare").value == "own"
    status = results(at)["status"].tolist()
    assert status[0].startswith("ran all") and status[2].startswith("diverged"), status
    loss = results(at)["final loss"].tolist()
    assert loss[1] < loss[0]  # the right rate arrives, the small one crawls
    assert len(at.query_params["run"]) == 3  # the preset is an ordinary link


def test_preset_gd_vs_sgd_vs_minibatch():
    at = load(run_app(), "batch")
    assert at.selectbox(key="surface").value == "linear"
    assert [r.batch for _, r in race(at)] == [None, 10, 1]
    labels = results(at)["optimizer"].tolist()
    assert len(set(labels)) == 3 and "batch 10" in labels[1] and "single sample" in labels[2]


def test_preset_seven_classics_in_one_race():
    at = load(run_app(), "classics")
    assert names(at) == [
        "sgd", "momentum", "nesterov", "adagrad", "adadelta", "rmsprop", "adam"
    ]  # fmt: skip
    paths = [t for t in chart(at)["data"] if t.get("showlegend") and "lr=" in t.get("name", "")]
    assert len({t["line"]["color"] for t in paths}) == 7
    assert not results(at)["status"].str.startswith("diverged").any()


def test_preset_tf2_post_on_its_quadratic_fit_with_its_early_stop():
    at = load(run_app(), "tf2")
    assert at.selectbox(key="surface").value == "quadratic"
    assert names(at) == ["sgd", "momentum", "adagrad", "rmsprop", "adam"]
    assert all(r.values["lr"] == 0.001 for _, r in race(at))
    assert race(at)[3][1].values["alpha"] == 0.9 and race(at)[4][1].values["eps"] == 1e-5
    assert at.number_input(key="tol").value == 1e-5
    assert at.number_input(key="patience").value == 3
    assert results(at)["status"].str.contains("stopped early|minimum").any()
    assert "1e-05" in json.dumps(chart(at)["layout"])  # the chart states the early stop


def test_preset_pytorch_post_four_with_its_settings():
    at = load(run_app(), "torch4")
    runs = [r for _, r in race(at)]
    assert [r.name for r in runs] == ["sgd", "momentum", "rmsprop", "adam"]
    assert all(r.values["lr"] == 0.01 and r.batch == 32 for r in runs)
    assert runs[1].values["momentum"] == 0.8 and runs[2].values["alpha"] == 0.9
    assert (runs[3].values["betas[0]"], runs[3].values["betas[1]"]) == (0.9, 0.99)
    again = run_app(link_query(at))  # and its link opens it again
    assert [r for _, r in race(again)] == runs


def test_step_inspector_takes_a_chosen_step_apart_and_keeps_it_in_the_link():
    at = run_app({**FAST, "run": ["SGD lr=0.01", "Adam lr=0.1"], "step": "1"})
    assert at.subheader[-1].value == "Step 1, taken apart" or any(
        h.value == "Step 1, taken apart" for h in at.subheader
    )
    tables = {m.value.strip("*"): None for m in at.markdown if m.value.startswith("**")}
    assert any("Adam" in t for t in tables)
    adam = at.dataframe[-1].value
    rows = dict(zip(adam["quantity"], adam["x"], strict=True))
    surface = optim.make_surface("bowl")
    g = surface.value_and_grad(surface.start)[1]
    assert rows["g (gradient)"] == pytest.approx(g[0])
    assert rows["m̂ (bias-corrected)"] == pytest.approx(g[0])
    assert rows["Δθ (the step)"] == pytest.approx(-0.1 * np.sign(g[0]), rel=1e-6)
    at.button(key="step_fwd").click().run()
    assert at.number_input(key="step").value == 2
    assert link_query(at)["step"] == "2"
    fig = chart(at)
    meta = fig["layout"]["meta"]["race"]
    assert all(fig["data"][i]["x"] == [2, 2] for i in meta["cursors"])
    at.button(key="step_back").click().run()
    at.button(key="step_back").click().run()
    at.button(key="step_back").click().run()  # not below the start
    assert at.number_input(key="step").value == 0
    assert any(h.value == "Step 0: the start" for h in at.subheader)


def test_the_shown_step_defaults_to_the_end_and_is_clamped_to_the_run():
    at = run_app(FAST)
    assert at.number_input(key="step").value == 20 and "step" not in link_query(at)
    at = run_app({**FAST, "step": "500"})
    assert at.number_input(key="step").value == 20
    assert "500" in warnings_text(at)


def test_the_loss_axis_switches_to_linear_and_the_link_keeps_it():
    at = run_app(FAST)
    at.radio(key="loss_scale").set_value("linear").run()
    assert chart(at)["layout"]["yaxis2"]["type"] == "linear"
    assert link_query(at)["loss_scale"] == "linear"
    again = run_app({**FAST, "loss_scale": "linear"})
    assert chart(again)["layout"]["yaxis2"]["type"] == "linear"


def test_a_data_problem_says_what_its_data_is():
    at = run_app({**FAST, "surface": "linear"})
    about = [e for e in at.expander if "About this surface" in e.label]
    assert about
    text = " ".join(c.value for c in at.caption)
    assert "100 points of y = 2x \\+ 3" in text or "100 points of y = 2x + 3" in text.replace(
        "\\", ""
    )
    assert any(t.get("name") == "data" for t in chart(at)["data"])  # and shows it


def test_a_click_on_the_map_stores_a_rounded_start():
    from ui.controls import clicked_start

    event = {"selection": {"points": [{"x": 0.123456789, "y": -1.98765}]}}
    assert clicked_start(event) == (0.123, -1.988)
    assert clicked_start({"selection": {"points": [{"x": "1", "y": 1}]}}) is None


def test_surface_and_schedule_settings_take_typed_values():
    # a lecturer enters the exact value a lesson uses, not the nearest slider notch
    at = run_app({**FAST, "surface": "linear"})
    at.number_input(key="linear_label_noise").set_value(0.37).run()
    assert link_query(at)["linear_label_noise"] == "0.37"
    name = next(n for n in optim.SCHEDULES if optim.make_schedule(n).params)
    at.selectbox(key="schedule").set_value(name).run()
    spec = next(p for p in optim.make_schedule(name).params if p["kind"] == "float")
    key = f"{name}_{spec['key']}"
    typed = round((spec["low"] or 0) + 0.37 * ((spec["high"] or 1) - (spec["low"] or 0)), 4)
    at.number_input(key=key).set_value(typed).run()
    assert not at.exception and at.number_input(key=key).value == typed


def test_playground_link_keeps_the_shared_rate_of_an_older_style_query():
    from ui.runlist import from_legacy

    query = {"opt": ["SGD", "Adam"], "lr": "0.02", "adam_betas0": "0.8"}
    notes: list[str] = []
    runs = from_legacy(query.get, lambda k: query.get(k, []), notes, 0.1, ["sgd"])
    assert [r.values["lr"] for r in runs] == [0.02, 0.02] and not notes
    assert runs[1].values["betas[0]"] == 0.8
    own = from_legacy(query.get, lambda k: query.get(k, []), notes, None, ["sgd"])
    assert [r.values["lr"] for r in own] == [0.001, 0.001]  # each its own (torch's)


def test_the_runs_list_shows_a_change_at_once():
    at = run_app({**FAST, "run": ["SGD lr=0.01", "Adam lr=0.1"]})
    at.number_input(key="ed_sgd_lr").set_value(0.05).run()
    assert at.radio(key="race_pick").options[0] == "1. SGD lr=0.05"
