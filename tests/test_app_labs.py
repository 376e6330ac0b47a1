"""AppTest of the Labs page: every lab tells its story, shows its numbers and its ✓ line."""

from __future__ import annotations

import json
from urllib.parse import parse_qs, urlsplit

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

import optim
from optim.labs import LABS, SLIPS, Chart, Series
from ui import labs
from ui.figures.lab import lab_figure

APP = "../app.py"  # relative to this file, as AppTest resolves it


def open_page(script: str, query: dict | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=120)
    if script == "app_pages/playground.py":  # the landing page: its link opens it directly
        at.query_params = dict(query or {})
        at.run()
    else:
        # the router knows its pages' addresses after a first run (the landing page)
        at.query_params = {"steps": "10"}
        at.run()
        at.query_params = dict(query or {})
        at.switch_page(script).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def open_lab(lab_id: str | None = None, **query: str) -> AppTest:
    return open_page("app_pages/labs.py", ({"lab": lab_id} if lab_id else {}) | query)


# the lab's runs that a Playground link repeats, and the loss the Playground reports
SAME_RUNS = {
    "adamw_vs_l2": (
        {"adam": "adam_l2", "adamw": "adamw"},
        lambda p: 0.5 * ((p[0] - 2) ** 2 + 100 * (p[1] - 2) ** 2),
    ),
    "lion_sign": ({"lion": "lion"}, lambda p: optim.make_surface("bowl").loss(p)),
    "post_tf2_momentum": ({"momentum": "right"}, lambda p: optim.make_surface("quadratic").loss(p)),
    "goh_momentum": (
        {"sgd": "gd", "momentum": "momentum"},
        lambda p: 0.5 * (p[0] ** 2 + 100 * p[1] ** 2),
    ),
}


def table(at: AppTest):
    return at.dataframe[0].value


def test_the_page_opens_on_the_first_lab_with_its_check():
    at = open_lab()
    assert at.title[0].value == "Labs"
    first = LABS[labs.CLASSIC[0]]
    assert at.header[0].value == first.title
    assert at.success and at.success[0].value.startswith("✓ Reproduced")
    assert "±" in at.success[0].value  # the tolerances are stated
    assert len(at.get("plotly_chart")) == len(first.run().charts)


@pytest.mark.parametrize("lab_id", list(LABS))
def test_every_lab_tells_its_story(lab_id):
    lab = LABS[lab_id]
    at = open_lab(lab_id)
    assert at.header[0].value == lab.title
    text = "\n".join(m.value for m in at.markdown)
    assert lab.question in text and lab.expectation in text
    assert lab.setup in text and f"Source: {lab.source}" in at.caption[-1].value
    rows = table(at)
    assert list(rows["key"]) == list(lab.labels)
    result = lab.run()
    checked = rows[rows["check"] != ""]
    assert set(checked["key"]) == set(result.expected)
    assert set(checked["check"]) == {"✓"}
    assert at.success[0].value.startswith("✓") and not at.error
    charts = at.get("plotly_chart")
    assert len(charts) == len(result.charts)
    for el, chart in zip(charts, result.charts, strict=True):
        fig = json.loads(el.proto.spec)
        assert chart.title in fig["layout"]["title"]["text"]
        assert [t["name"] for t in fig["data"]] == [s.label for s in chart.series]
    if lab.mistake:
        latex = [x.value.strip("$\n") for x in at.latex]
        assert lab.mistake.wrong in latex and lab.mistake.right in latex
        assert lab.mistake.where in text
    labels = [b.proto.label for b in at.get("link_button")]
    assert any("Playground" in t for t in labels) == (lab.playground is not None)
    assert any("Maps" in t for t in labels) == (lab.maps is not None)


def test_a_knob_reruns_the_lab():
    at = open_lab("goh_momentum")
    assert "691" in list(table(at)["measured"])
    at.select_slider(key="lab_goh_momentum_kappa").set_value(1000.0).run()
    assert not at.exception
    rows = table(at).set_index("key")
    assert rows.loc["steps_gd", "measured"] == "6908"
    assert rows.loc["steps_gd", "expected"] == "6908"
    assert at.success[0].value.startswith("✓")


def test_knob_values_come_from_the_link_and_bad_ones_are_reported():
    at = open_lab("wilson_generalization", lab_wilson_generalization_p="0.75")
    rows = table(at).set_index("key")
    assert rows.loc["test_error_adam", "measured"] == "0.25"
    at = open_lab("wilson_generalization", lab_wilson_generalization_p="7")
    assert any("outside" in w.value for w in at.warning)
    at = open_lab("no_such_lab")
    assert any("unknown value" in w.value for w in at.warning)
    assert at.header[0].value == LABS[labs.CLASSIC[0]].title


def test_the_verdict_turns_red_when_a_check_fails():
    result = LABS["lion_sign"].run()
    result.measured["step_size_ratio"] = 0.5
    ok, text = labs.verdict(result)
    assert not ok and text.startswith("✗") and "step_size_ratio" in text
    rows = {r["key"]: r for r in labs.result_rows(LABS["lion_sign"], result)}
    assert rows["step_size_ratio"]["check"] == "✗"
    assert rows["late_distance"]["expected"] == "shown, not checked"


@pytest.mark.parametrize("lab_id", list(SAME_RUNS))
def test_the_playground_link_opens_the_same_setup(lab_id):
    lab = LABS[lab_id]
    setup = lab.setup_link()
    link = labs.playground_link(setup)
    query = {k: v if len(v) > 1 else v[0] for k, v in parse_qs(urlsplit(link).query).items()}
    at = open_page("app_pages/playground.py", query)
    notes = [w.value for w in at.warning]
    assert not any("from the link" in n for n in notes), notes  # every value taken as is
    shown_runs = [str(o).lower() for o in at.dataframe[0].value["optimizer"]]
    assert len(shown_runs) == len(setup["runs"])
    for name, label in zip(setup["runs"], shown_runs, strict=True):
        assert label.startswith(optim.OPTIMIZERS[name].label.lower()), (name, label)
    # the Playground's runs end where the lab's own runs of the same optimizers end
    result = lab.run()
    shown = at.dataframe[0].value
    finals = dict(zip(shown["optimizer"], shown["final loss"], strict=True))
    paths, loss = SAME_RUNS[lab_id]
    for name, path in paths.items():
        label = next(k for k in finals if k.lower().startswith(name))
        expected = float(loss(result.trajectories[path][-1]))
        if lab_id == "goh_momentum":
            # the runs end 11 and 114 decades down; the link rounds their lr to 6 digits,
            # which moves where they end by a fraction of a decade
            assert abs(np.log10(finals[label]) - np.log10(expected)) < 1, (name, finals[label])
        else:
            assert finals[label] == pytest.approx(expected, rel=1e-6, abs=1e-12), name


def test_related_page_link_only_when_the_page_exists():
    assert labs.page_address("Algorithms") == "/Algorithms"
    assert labs.page_address("No such page") is None
    at = open_lab("post_race_init")
    text = "\n".join(m.value for m in at.markdown)
    assert ("/Training" in text) == (labs.page_address("Training") is not None)


def test_the_algorithms_page_links_to_the_weight_decay_lab():
    at = open_page("app_pages/algorithms.py")
    text = "\n".join(m.value for m in at.markdown)
    assert labs.lab_address("adamw_vs_l2") in text


def test_lab_figure_draws_references_dashed_and_gaps_on_log_axes():
    chart = Chart(
        "t",
        "x",
        "y",
        (
            Series("run", np.arange(3.0), np.array([1.0, 0.0, np.nan])),
            Series("ref", np.arange(3.0), np.ones(3), reference=True, color_of="run"),
        ),
        log_y=True,
    )
    fig = lab_figure(chart)
    run, ref = fig.data
    assert fig.layout.yaxis.type == "log"
    assert ref.line.dash == "dash" and run.line.dash == "solid"
    assert ref.line.color == run.line.color and ref.line.width < run.line.width
    assert np.isnan(run.y[1]) and np.isnan(run.y[2]) and run.y[0] == 1.0


def test_lab_figure_markers_only_and_few_ticks_over_many_decades():
    chart = Chart(
        "t",
        "x",
        "y",
        (Series("pts", np.arange(3.0), np.array([1e-30, 1.0, 1e3]), lines=False),),
        log_y=True,
    )
    fig = lab_figure(chart)
    assert fig.data[0].mode == "markers"
    assert fig.layout.yaxis.dtick >= 4  # 33 decades: about 8 ticks, not 33


def test_the_posts_slips_are_listed_beside_every_mistake():
    at = open_lab("post_tf2_adam")
    text = "\n".join(m.value for m in at.markdown)
    for slip in SLIPS:
        assert f"✗ ${slip.wrong}$" in text and f"✓ ${slip.right}$" in text
    at = open_lab("goh_momentum")
    assert not at.expander


def test_the_maps_link_opens_the_basins_of_the_same_adam():
    lab = LABS["bias_correction"]
    assert lab.maps_link() is not None and LABS["goh_momentum"].maps_link() is None
    at = open_lab("bias_correction", lab_bias_correction_beta1="0.5")
    [button] = [b for b in at.get("link_button") if "Maps" in b.proto.label]
    link = button.proto.url
    assert link.startswith(labs.page_address("Maps") + "?")
    query = {k: v if len(v) > 1 else v[0] for k, v in parse_qs(urlsplit(link).query).items()}
    at = open_page("app_pages/maps.py", query)
    notes = [w.value for w in at.warning]
    assert not any("from the link" in n or "unknown" in n for n in notes), notes
    state = at.session_state
    assert state["map_view"] == "basins" and state["map_opt"] == ["adam"]
    assert state["map_adam_betas0"] == 0.5 and state["map_adam_lr"] == 0.1
    assert state["map_steps"] == 1000 and state["map_bn"] == 41
    assert state["map_formula"] == "(x**2 - 1)**2 + 0.3*x + 0.5*y**2"
    [chart] = at.get("plotly_chart")
    fig = json.loads(chart.proto.spec)
    assert "Which minimum each start reaches" in fig["layout"]["title"]["text"]
