"""Exercise links: controls hidden by the link keep its values, a task on top as plain text."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
from streamlit.testing.v1 import AppTest

from ui import exercise, race_chart
from ui.hidden import Hidden
from ui.runlist import RunSpec, format_run

APP = "../app.py"
RUNS = [format_run(RunSpec.make("sgd", lr=0.002)), format_run(RunSpec.make("adam", lr=0.05))]
SETUP = {"surface": "Rosenbrock", "steps": "40", "compare": "Each optimizer its own learning rate"}


def run_app(query: dict) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    at.query_params = dict(query)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def keys(at: AppTest) -> set[str]:
    """The keys of every widget drawn (main area and sidebar)."""
    out = set()
    for kind in ("number_input", "selectbox", "select_slider", "slider", "radio", "checkbox",
                 "toggle", "text_input", "text_area", "button", "multiselect",
                 "segmented_control"):  # fmt: skip
        out |= {w.key for w in at.get(kind) if w.key}
    return out


def finals(at: AppTest) -> list[tuple[str, float, int]]:
    table = at.dataframe[0].value
    return list(zip(table["optimizer"], table["final loss"], table["steps"], strict=True))


def race_data(at: AppTest) -> bytes:
    """What the Playground's race chart sends to the browser."""
    return next(c.proto.bytes for c in at.get("bidi_component") if "contour" in c.proto.id)


def panel_titles(at: AppTest) -> str:
    fig = race_chart.sent_figure(race_data(at))
    return " | ".join(a["text"] for a in fig["layout"].get("annotations", []))


def notices(at: AppTest) -> str:
    return "\n".join(str(w.value) for w in at.warning)


def exercise_link(at: AppTest) -> dict:
    link = at.code[-1].value  # the exercise panel's link, the page's last code block
    return {k: v if len(v) > 1 else v[0] for k, v in parse_qs(urlsplit(link).query).items()}


def test_hidden_controls_are_not_drawn_and_the_race_uses_the_links_values():
    query = {**SETUP, "run": RUNS, "lr": "0.3"}
    shown = run_app(query)
    hides = {f"{n}_hide": "true" for n in ("surface", "runs", "steps", "tol", "start")}
    hidden = run_app({**query, **hides})
    gone = {"surface", "rosenbrock_a", "race_pick", "race_add", "compare", "steps", "tol"}
    gone |= {"patience", "x0", "y0", "preset_lr"}  # presets set these, so they go too
    assert gone <= keys(shown)
    assert not gone & keys(hidden)
    assert {"noise", "seed", "schedule", "step"} <= keys(hidden)  # the rest stays
    # the same race, to the digit: Rosenbrock, 40 steps, the link's two runs and their rates
    assert finals(hidden) == finals(shown)
    assert [f[0] for f in finals(hidden)] == ["SGD  lr=0.002", "Adam  lr=0.05"]
    assert {f[2] for f in finals(hidden)} == {40}
    assert not exercise.in_exercise(shown.query_params)
    # with the start hidden, a click on the map does not move it either
    assert race_chart.sent_clickable(race_data(shown))
    assert not race_chart.sent_clickable(race_data(hidden))


def test_a_hidden_control_keeps_a_corrected_link_value_with_its_notice():
    at = run_app({**SETUP, "steps": "5000", "steps_hide": "true"})
    assert "steps" not in keys(at)
    assert {f[2] for f in finals(at)} == {2000}
    assert "using 2000" in notices(at)


def test_hiding_only_each_runs_settings_keeps_the_list_but_not_the_editor():
    at = run_app({**SETUP, "run": RUNS, "run_settings_hide": "true"})
    assert "race_pick" in keys(at) and "race_add" in keys(at)
    assert not {k for k in keys(at) if k.startswith("ed_")}
    at.radio(key="race_pick").set_value(at.session_state["_race"][1][0]).run()
    assert not at.exception
    assert [f[0] for f in finals(at)] == ["SGD  lr=0.002", "Adam  lr=0.05"]


def test_hidden_charts_and_panels_are_left_out():
    names = ("loss", "eff_lr", "results", "inspector", "rules", "about", "export", "share")
    at = run_app({**SETUP, **{f"{n}_hide": "true" for n in names}})
    titles = panel_titles(at)
    assert "gradient norm" in titles
    assert "loss" not in titles and "effective lr" not in titles
    assert not at.dataframe  # no results, no inspector tables
    assert not [p for p in at.get("popover") if "rule" in p.proto.popover.label]
    assert not at.latex
    labels = [e.label for e in at.expander]
    assert not [x for x in labels if "Export" in x or "Share" in x or "About" in x]
    assert "Make an exercise" not in labels  # a student's page builds no other link
    # the data view of a data problem
    fit = run_app({"surface": "Linear regression (MSE)", "steps": "20"})
    assert "the data" in panel_titles(fit)
    fit = run_app({"surface": "Linear regression (MSE)", "steps": "20", "data_hide": "true"})
    assert "the data" not in panel_titles(fit)


def test_the_explanation_of_a_run_that_blew_up_can_be_hidden():
    query = {
        "run": [format_run(RunSpec.make("sgd", lr=0.55))],
        "compare": "Each optimizer its own learning rate",
    }
    assert "diverged at step" in notices(run_app(query))
    at = run_app({**query, "messages_hide": "true"})
    assert "diverged" not in notices(at)
    assert finals(at)[0][2] < 200  # the run did blow up all the same


def test_the_task_is_shown_on_top_as_plain_text_and_cut_when_too_long():
    task = (
        "Which run wins?\n[click](https://evil.example) ![x](https://evil.example/p.png) <b>x</b>"
    )
    at = run_app({**SETUP, "task": task})
    assert [t.value for t in at.text] == [task]
    every_markdown = " ".join(str(m.value) for m in at.markdown) + notices(at)
    assert "evil.example" not in every_markdown  # only in the plain text element
    assert "plain text" in notices(at)
    long = run_app({**SETUP, "task": "word " * 400})
    shown = long.text[0].value
    assert len(shown) == exercise.MAX_TASK and shown.endswith("…")
    assert "cut" in notices(long)


@pytest.mark.parametrize(
    "query, notice",
    [
        ({"surface_hide": "maybe"}, "expected true or false"),
        ({"nonsense_hide": "true"}, "no control or panel called"),
        ({"_hide": "true", "task": "\x00\u202e"}, ""),
        ({"task": "x" * 100_000}, "cut"),
    ],
)
def test_bad_exercise_values_never_crash_and_get_a_notice(query, notice):
    at = run_app({**SETUP, **query})
    assert notice in notices(at)
    assert "surface" in keys(at)  # an unusable hide hides nothing


def test_the_leave_button_is_the_teachers_own():
    assert run_app({**SETUP, "classroom": "1"}).button(key="leave_classroom")
    for extra in ({"task": "Find the best rate"}, {"steps_hide": "true"}):
        at = run_app({**SETUP, "classroom": "1", **extra})
        assert "leave_classroom" not in keys(at)


def test_the_panel_builds_a_link_that_opens_that_exercise():
    at = run_app({**SETUP, "run": RUNS})
    assert not at.get("text_area")  # closed, the panel draws nothing
    at.session_state["ex_panel"] = True  # opened
    at.run()
    at.number_input(key="steps").set_value(60.0)
    at.checkbox(key="ex_hide_steps").check()
    at.checkbox(key="ex_hide_runs").check()
    at.text_area(key="ex_task").input("Why does SGD crawl?\nTry <b>no</b> markup.")
    at.run()
    query = exercise_link(at)
    assert query["steps_hide"] == query["runs_hide"] == "true"
    assert query["task"] == "Why does SGD crawl?\nTry <b>no</b> markup."
    assert query["steps"] == "60" and query["run"] == RUNS
    opened = run_app(query)
    assert not {"steps", "race_pick", "compare"} & keys(opened)
    assert [t.value for t in opened.text] == [query["task"]]
    assert finals(opened) == finals(at)
    assert {f[2] for f in finals(opened)} == {60}
    # a student's share link keeps the exercise as it is
    opened.session_state["share_open"] = True  # the share panel fills in when opened
    opened.run()
    share = next(c.value for c in opened.code if "runs_hide=true" in c.value)
    assert "task=Why" in share and "steps_hide=true" in share


# -- the stand-in container, on its own ----------------------------------------------------------
def test_hidden_widgets_return_state_then_link_then_default():
    h = Hidden({"n": "2.5", "c": "Beta", "b": "true", "t": "hi", "x": "nan"}, {"s": 7.0})
    bind = dict(bind="query-params")
    assert h.number_input("n", 0.0, 10.0, 1.0, key="n", **bind) == 2.5
    assert h.number_input("n", 0.0, 2.0, 1.0, key="n", **bind) == 2.0  # clamped
    assert h.number_input("n", 0.0, 10.0, 1.0, key="n") == 1.0  # not bound: the default
    assert h.number_input("x", 0.0, 10.0, 1.0, key="x", **bind) == 1.0  # unusable: default
    assert h.number_input("s", 0.0, 10.0, 1.0, key="s", **bind) == 7.0  # the session's
    labels = {"a": "Alpha", "b": "Beta"}
    assert h.selectbox("c", ["a", "b"], format_func=labels.get, key="c", **bind) == "b"
    assert h.radio("c", ["a", "b"], index=0, key="missing", **bind) == "a"
    assert h.select_slider("n", [1.0, 2.5, 5.0], value=1.0, key="n", **bind) == 2.5
    assert h.checkbox("b", key="b", **bind) is True and h.toggle("q", key="q") is False
    assert h.text_input("t", value="x", key="t", **bind) == "hi"
    assert h.button("go") is False
    a, b = h.columns([1, 2])
    assert a.number_input("s", 0.0, 10.0, key="s") == 7.0
    assert h.expander("e").slider("n", 0.0, 10.0, 1.0, key="n", **bind) == 2.5


class Query(dict):
    def get_all(self, key):
        value = self.get(key)
        return value if isinstance(value, list) else [value]


def test_hidden_choices_of_many_and_segmented_ones_read_the_link():
    h = Hidden(Query({"m": ["Beta", "c", "zzz"], "v": "Basins"}), {})
    bind = dict(bind="query-params")
    labels = {"a": "Alpha", "b": "Beta", "c": "Gamma"}
    many = dict(options=["a", "b", "c"], format_func=labels.get, **bind)
    assert h.multiselect("m", default=["a"], key="m", **many) == ["b", "c"]
    assert h.multiselect("m", default=["a"], key="m", max_selections=1, **many) == ["b"]
    assert h.multiselect("m", default=["a"], key="other", **many) == ["a"]
    views = {"map": "Map", "basins": "Basins"}
    view = dict(options=list(views), format_func=views.get, default="map", **bind)
    assert h.segmented_control("v", key="v", **view) == "basins"
    assert h.segmented_control("v", key="nope", **view) == "map"


# -- the other pages ----------------------------------------------------------------------------
def open_page(script: str, query: dict) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=180).run()  # the router learns its pages
    at.query_params = dict(query)
    at.switch_page(f"app_pages/{script}.py").run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def tables(at: AppTest) -> list:
    return [d.value.to_dict("list") for d in at.dataframe]


def test_training_hides_its_runs_network_and_charts_and_trains_the_links_setup():
    query = {"tr_n": "2", "tr1_opt": "Adam", "tr_epochs": "3", "tr_width": "8", "tr_batch": "64"}
    shown = open_page("training", query)
    hides = {f"{n}_hide": "true" for n in ("runs", "network", "training", "landscape", "layers")}
    hidden = open_page("training", {**query, **hides, "task": "Which one wins?"})
    gone = {"tr_n", "tr1_opt", "tr_width", "tr_act", "tr_epochs", "tr_batch", "tr_seed"}
    assert gone <= keys(shown)
    assert not gone & keys(hidden)
    assert not [k for k in keys(hidden) if k.startswith("tr_preset")]
    assert {"tr_data", "tr_noise", "tr_log"} <= keys(hidden)
    assert tables(hidden) == tables(shown)  # the same two runs, three epochs, 8 units
    charts = [c.proto.id for c in hidden.get("plotly_chart")]
    assert len(charts) == 2 and not [c for c in charts if "landscape" in c or "layers" in c]
    assert [t.value for t in hidden.text] == ["Which one wins?"]


def test_maps_hides_its_controls_and_keeps_the_links_view_and_settings():
    query = {"map_surface": "Rosenbrock", "map_steps": "60", "map_opt": ["Adam"]}
    query["map_view"] = "Basins of attraction"
    shown = open_page("maps", query)
    hides = {f"{n}_hide": "true" for n in ("surface", "steps", "optimizers", "view", "share")}
    hidden = open_page("maps", {**query, **hides})
    gone = {"map_surface", "map_steps", "map_opt", "map_view", "map_rosenbrock_a"}
    assert gone <= keys(shown)
    assert not gone & keys(hidden)
    assert {"map_x0", "map_tol"} <= keys(hidden)
    assert tables(hidden) == tables(shown)
    assert [c.proto.spec for c in hidden.get("plotly_chart")] == [
        c.proto.spec for c in shown.get("plotly_chart")
    ]
    assert not [e for e in hidden.expander if "Share" in e.label]
