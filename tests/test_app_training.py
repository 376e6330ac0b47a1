"""AppTest of the Training page: the post's race by default, presets, the init switch, links,
chart settings, the table and the CSV against the core's own numbers."""

from __future__ import annotations

import csv
import io
import json

import numpy as np
from streamlit.testing.v1 import AppTest

import optim
from ui import training
from ui.training_runs import CLASSICS, POST_FOUR

SHORT = {"tr_epochs": "2"}  # tests that do not need the whole race keep it short


def open_training(query: dict | None = None) -> AppTest:
    at = AppTest.from_file("../app.py", default_timeout=180).run()
    at.query_params = dict(query or {})
    at.switch_page("app_pages/training.py").run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def chart(at: AppTest, key: str) -> dict:
    for el in at.get("plotly_chart"):
        if el.proto.id.endswith(key):
            return json.loads(el.proto.spec)
    raise AssertionError(f"no chart {key!r}")


def table(at: AppTest):
    return at.dataframe[0].value


def post_race(epochs: int = 12, own_init: bool = False) -> optim.Trajectory:
    """The post's four runs straight from the core, for comparison with the page."""
    net = optim.make_problem("mlp")
    race = optim.Ensemble([optim.make_optimizer(n, **h) for n, h in POST_FOUR])
    start = net.init([0, 1, 2, 3]) if own_init else net.init(0)
    return optim.run(net, race, start, epochs * 32, batch_size=32, seed=0)


def test_default_page_is_the_post_race_with_every_chart():
    at = open_training()
    assert at.title[0].value == "Training a network"
    rows = table(at)
    assert list(rows["run"]) == [
        "1. SGD lr=0.01",
        "2. Momentum lr=0.01 momentum=0.8",
        "3. RMSprop lr=0.01 alpha=0.9",
        "4. Adam lr=0.01 betas=(0.9, 0.99)",
    ]
    # the table shows the core's numbers: the same four runs, made directly
    traj = post_race()
    np.testing.assert_allclose(rows["final train loss"], traj.final_loss, rtol=1e-12)
    net = optim.make_problem("mlp")
    val = net.loss(traj.final_params, "validation")
    np.testing.assert_allclose(rows["final validation loss"], val, rtol=1e-12)
    assert (rows["status"] == "max_steps").all()
    # a fair race by default, and the page says the post did otherwise
    assert not at.checkbox(key="tr_own").value
    assert any("own random initialisation" in c.value for c in at.caption)

    fitted = chart(at, "tr_fitted")
    assert len(fitted["frames"]) == 12 * 4 + 1  # every quarter epoch, and the start
    assert len(fitted["layout"]["sliders"][0]["steps"]) == len(fitted["frames"])
    play = fitted["layout"]["updatemenus"][0]["buttons"][0]
    assert play["label"] == "Play" and play["method"] == "animate"
    # each frame moves the four curves and the loss chart's cursor
    assert fitted["frames"][5]["traces"] == [1, 2, 3, 4, 9]
    assert fitted["frames"][5]["data"][-1]["x"] == [40, 40]
    for key in ("tr_fitted", "tr_loss", "tr_layers", "tr_landscape"):
        assert "1-20-1 relu net on y = x²" in chart(at, key)["layout"]["title"]["subtitle"]["text"]

    land = chart(at, "tr_landscape")
    contour = land["data"][0]
    assert contour["type"] == "contour"
    assert "explains" in land["layout"]["title"]["text"]
    assert "not the whole landscape" in land["layout"]["annotations"][0]["text"]
    assert "61×61" in land["layout"]["annotations"][0]["text"]
    layers = chart(at, "tr_layers")
    assert {a["text"] for a in layers["layout"]["annotations"]} >= {
        "<b>hidden: gradient norm</b>",
        "<b>predict: gradient norm</b>",
    }


def test_presets_set_every_run():
    at = open_training(SHORT)
    at.button(key="tr_preset_classics").click().run()
    assert not at.exception
    assert at.slider(key="tr_n").value == 7
    rows = table(at)
    names = [optim.OPTIMIZERS[n].label for n, _ in CLASSICS]
    assert [r.split(". ")[1].split(" ")[0] for r in rows["run"]] == names
    # torch's defaults: SGD's lr is 0.001, Adadelta's 1
    assert rows["run"][0] == "1. SGD lr=0.001" and rows["run"][4] == "5. Adadelta lr=1"
    # and back to the post's four, after a change
    at.select_slider(key="tr1_sgd_lr").set_value(0.1).run()
    at.button(key="tr_preset_post").click().run()
    assert at.slider(key="tr_n").value == 4
    assert list(table(at)["run"])[:2] == ["1. SGD lr=0.01", "2. Momentum lr=0.01 momentum=0.8"]


def test_each_its_own_initialisation_changes_every_run_but_the_first():
    at = open_training(SHORT)
    shared = table(at)
    at.checkbox(key="tr_own").check().run()
    own = table(at)
    traj = post_race(epochs=2, own_init=True)
    np.testing.assert_allclose(own["final train loss"], traj.final_loss, rtol=1e-12)
    assert own["final train loss"][0] == shared["final train loss"][0]  # run 1: seed 0 both ways
    assert (own["final train loss"][1:] != shared["final train loss"][1:]).all()
    assert any("luck of the draw" in c.value for c in at.caption)


def test_a_link_restores_runs_and_settings_and_reports_bad_values():
    link = {
        "tr_n": "2",
        "tr1_opt": "Adam",
        "tr1_adam_lr": "0.05",
        "tr2_opt": "lion",
        "tr_data": "y = sin(3x)",
        "tr_depth": "2 hidden layers",
        "tr_width": "8",
        "tr_act": "tanh",
        "tr_epochs": "3",
        "tr_batch": "64",
    }
    at = open_training(link)
    assert list(table(at)["run"]) == ["1. Adam lr=0.05", "2. Lion lr=0.0001"]
    sub = chart(at, "tr_loss")["layout"]["title"]["subtitle"]["text"]
    assert "1-8-8-1 tanh net on y = sin(3x)" in sub and "3 epochs, batch 64" in sub
    # the page's own share link carries the same settings
    at.session_state["tr_share_open"] = True
    at.run()
    shared = [c.value for c in at.code if "tr_n=2" in c.value]
    assert shared and "tr1_adam_lr=0.05" in shared[0] and "tr_act=tanh" in shared[0]

    bad = open_training({"tr_n": "99", "tr1_opt": "[x](https://evil.example)", **SHORT})
    notes = "\n".join(w.value for w in at.warning) + "\n".join(w.value for w in bad.warning)
    assert "outside [1, 8]" in notes and "`[x](https://evil.example)`" in notes
    assert len(table(bad)) == 8


def test_chart_settings_log_axes_and_landscape_plane():
    at = open_training(SHORT)
    assert chart(at, "tr_loss")["layout"]["yaxis"]["type"] == "log"
    at.checkbox(key="tr_log").uncheck().run()
    assert chart(at, "tr_loss")["layout"]["yaxis"]["type"] == "linear"
    pca = chart(at, "tr_landscape")["layout"]
    at.radio(key="tr_plane").set_value("random").run()
    assert not at.exception
    rand = chart(at, "tr_landscape")["layout"]
    assert "filter-normalised random directions" in rand["annotations"][0]["text"]
    assert rand["meta"]["explained"] < pca["meta"]["explained"]


def test_results_level_and_csv_of_per_step_losses():
    setup = training.Setup(
        runs=tuple(training.RunSpec(n, tuple(h.items())) for n, h in POST_FOUR), epochs=2
    )
    r = training.race(setup)
    assert training.first_epoch_below(np.array([[1.0, 1.0], [0.5, 0.9], [0.1, 0.8]]), 0.5) == [
        1,
        None,
    ]
    rows = training.results(setup, 0.05).to_pylist()
    reached = [row["first epoch with train loss ≤ 0.05"] for row in rows]
    assert reached == training.first_epoch_below(r.epoch_train, 0.05)
    text = training.losses_csv(setup).decode()
    table_rows = list(csv.DictReader(io.StringIO(text)))
    assert len(table_rows) == 4 * (2 * 32 + 1)
    assert list(table_rows[0]) == list(training.CSV_COLUMNS)
    net = setup.problem()
    first = table_rows[1]  # run 1, step 1: the loss on the first minibatch, at the start
    assert first["step"] == "1" and first["epoch"] == "0.03125"
    expected = net.batch_loss(net.init(0), r.traj.batches[0])
    assert float(first["batch_loss"]) == float(expected)
    assert float(table_rows[0]["train_loss"]) == float(net.loss(net.init(0)))
    assert table_rows[0]["batch_loss"] == ""


def test_csv_train_loss_every_step_and_the_race_records_each_minibatch_loss():
    setup = training.Setup(
        runs=tuple(training.RunSpec(n, tuple(h.items())) for n, h in POST_FOUR), epochs=2
    )
    r = training.race(setup)
    net = setup.problem()
    # the race evaluates the full loss once an epoch; the CSV still has it after every step
    rows = list(csv.DictReader(io.StringIO(training.losses_csv(setup).decode())))
    for run, step in ((1, 5), (3, 40), (4, 64)):
        row = rows[(run - 1) * (2 * 32 + 1) + step]
        assert (row["run"], row["step"]) == (str(run), str(step))
        expected = float(net.loss(r.traj.params[step, run - 1]))
        assert abs(float(row["train_loss"]) - expected) <= 1e-12 * expected
        batch = net.batch_loss(r.traj.params[step - 1, run - 1], r.traj.batches[step - 1])
        assert float(row["batch_loss"]) == float(batch)
    np.testing.assert_array_equal(r.epoch_train, net.loss(r.traj.params[[0, 32, 64]]))


def test_a_batch_of_all_the_data_is_full_batch_descent():
    setup = training.Setup(
        runs=tuple(training.RunSpec(n, tuple(h.items())) for n, h in POST_FOUR[:2]),
        epochs=3,
        batch_size=1000,
    )
    r = training.race(setup)
    assert r.steps == 3 and r.batch_loss.shape == (3, 2)
    net = setup.problem()
    np.testing.assert_allclose(r.batch_loss, net.loss(r.traj.params[:3]), rtol=1e-14)
    assert len(training.losses_csv(setup).decode().splitlines()) == 1 + 2 * 4
