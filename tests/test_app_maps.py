"""AppTest of the Maps page: the maps, the theory, basins, the race, links and exports."""

from __future__ import annotations

import importlib
import json
from urllib.parse import parse_qs, urlsplit

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

import optim
from optim.theory import QuadraticTheory, quadratic_hessian
from optim.workers import WorkerPool
from ui import maps
from ui.links import RunSpec, playground_query
from ui.state import fmt_number

APP = "../app.py"


def open_maps(query: dict | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=120)
    at.run()  # the router learns its pages on a first run
    at.query_params = dict(query or {})
    at.switch_page("app_pages/maps.py").run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def figure(at: AppTest, key: str) -> dict:
    for el in at.get("plotly_chart"):
        if key in el.proto.id:
            return json.loads(el.proto.spec)
    raise AssertionError(f"no chart {key!r}")


def test_the_default_map_compares_two_optimizers_with_the_theory_beside_them():
    at = open_maps({"map_n": "16", "map_lr_hi": "10", "map_bowl_condition": "100"})
    fig = figure(at, "map_chart")
    heat = [t for t in fig["data"] if t["type"] == "heatmap" and t["name"] != "diverged"]
    assert [t["name"] for t in heat] == ["Momentum", "Adam"]
    # one colour scale for both panels
    assert heat[0]["zmin"] == heat[1]["zmin"] and heat[0]["zmax"] == heat[1]["zmax"]
    assert len(heat[0]["x"]) == 16 and len(heat[0]["y"]) == 16
    names = {t.get("name") for t in fig["data"]}
    # the bowl is a quadratic: its stability edge and heavy ball's optimum are drawn
    assert {"torch default", "diverged", "heavy-ball optimum (lr*, β*)"} <= names
    assert f"stability edge lr = {maps.EDGE_TEXT}" in names
    # diverged cells are their own trace, never a value on the colour scale
    div = next(t for t in fig["data"] if t["name"] == "diverged" and t["type"] == "heatmap")
    values = np.array(heat[0]["z"], dtype=float)
    assert all(
        np.isnan(values[j][i]) for j, row in enumerate(div["z"]) for i, v in enumerate(row) if v
    )
    # the theory table: closed forms, and measured rates within 2 % of them
    table = next(df.value for df in at.dataframe if "predicted rate" in df.value.columns)
    t = QuadraticTheory(quadratic_hessian(optim.make_surface("bowl", condition=100)))
    assert [round(t.gd_rate, 4), round(t.heavy_ball_rate, 4)] == [0.9802, 0.8182]
    assert table["predicted rate"].tolist() == [round(t.gd_rate, 4), round(t.heavy_ball_rate, 4)]
    np.testing.assert_allclose(table["measured rate"], table["predicted rate"], rtol=0.02)


@pytest.mark.parametrize("axis", ["weight_decay", "dampening"])
def test_sgd_maps_over_other_axes_draw_their_own_stability_edge(axis):
    query = {"map_n": "12", "map_lr_hi": "10", "map_bowl_condition": "100"}
    query |= {"map_opt": "SGD", "map_sgd_y": axis}
    if axis == "dampening":
        query["map_sgd_momentum"] = "0.5"  # dampening only counts with a buffer
    at = open_maps(query)
    fig = figure(at, "map_chart")
    t = QuadraticTheory(quadratic_hessian(optim.make_surface("bowl", condition=100)))
    [edge] = [tr for tr in fig["data"] if tr.get("name") == f"stability edge lr = {maps.EDGE_TEXT}"]
    ys = np.array(edge["y"], dtype=float)
    assert len(ys) >= 3
    if axis == "weight_decay":
        expected = 2 / (t.lam_max + ys)
        [best] = [tr for tr in fig["data"] if tr.get("name") == f"best plain lr = {maps.BEST_TEXT}"]
        np.testing.assert_allclose(best["x"], 2 / (t.lam_min + t.lam_max + 2 * np.array(best["y"])))
    else:
        expected = 3 / ((1 - ys) * t.lam_max)
    np.testing.assert_allclose(edge["x"], expected, rtol=1e-9)
    # the map agrees: cells well left of the edge did not diverge, cells well right did
    heat = next(tr for tr in fig["data"] if tr["type"] == "heatmap" and tr["name"] == "SGD")
    div = next(tr for tr in fig["data"] if tr["type"] == "heatmap" and tr["name"] == "diverged")
    lrs, rows = np.array(heat["x"], dtype=float), np.array(heat["y"], dtype=float)
    for j, y in enumerate(rows):
        e = float(
            t.sgd_edge(
                0.5 if axis == "dampening" else 0.0,
                *((y, 0.0) if axis == "dampening" else (0.0, y)),
            )
        )
        for i, lr in enumerate(lrs):
            if lr < 0.7 * e:
                assert not div["z"][j][i], (y, lr)
            elif lr > 1.5 * e:
                assert div["z"][j][i], (y, lr)


def test_the_cell_link_opens_exactly_that_run_on_the_playground():
    setup = maps.Setup(("rosenbrock", (("a", 1.0), ("b", 100.0)), ""), (-1.0, 2.5), 80, None, ())
    choice = maps.Choice("adam", tuple(optim.OPTIMIZERS["adam"].defaults().items()), "betas[0]")
    res = maps.sweep_of(setup, choice, 10, (1e-4, 1.0))
    cell = res.cell(6, 3)
    query = playground_query(setup.run_spec("adam", cell))
    at = AppTest.from_file(APP, default_timeout=120)
    at.query_params = query
    at.run()
    assert not at.exception and not at.warning, [w.value for w in at.warning]
    # the Playground reads the link into its runs list: the same run, to the last bit
    table = at.dataframe[0].value
    assert table["final loss"].tolist() == [res.final_loss[6, 3]]  # bit for bit
    assert table["steps"].tolist() == [80]


def test_links_keep_every_setting(monkeypatch):
    query = {
        "map_opt": ["SGD", "RMSprop"],
        "map_surface": "Booth",
        "map_n": "8",
        "map_steps": "50",
        "map_metric": "distance to the nearest minimum",
        "map_rmsprop_y": "momentum",
        "map_sgd_momentum": "0.5",
        "map_lr_hi": "0.5",
    }
    at = open_maps(query)
    assert not at.warning, [w.value for w in at.warning]
    fig = figure(at, "map_chart")
    heat = [t for t in fig["data"] if t["type"] == "heatmap" and t["name"] != "diverged"]
    assert [t["name"] for t in heat] == ["SGD", "RMSprop"]
    assert max(heat[0]["x"]) == pytest.approx(0.5) and len(heat[0]["x"]) == 8
    axes = [fig["layout"][k]["title"]["text"] for k in ("yaxis", "yaxis2")]
    assert axes == ["momentum", "momentum"]
    assert "distance" in fig["layout"]["title"]["text"].lower()
    # SGD on a quadratic (λmax = 18): heavy ball's edge lr = (2 + 2β)/λmax over the map
    edges = [t for t in fig["data"] if t.get("name", "").startswith("stability edge")]
    assert len(edges) == 1  # RMSprop has no such theory
    np.testing.assert_allclose(edges[0]["x"], (2 + 2 * np.array(edges[0]["y"])) / 18)
    assert edges[0]["y"][0] == 0 and len(edges[0]["y"]) == 8
    at.session_state["map_share_open"] = True
    at.run()
    share = next(c.value for c in at.code)
    assert parse_qs(urlsplit(share).query)["map_opt"] == ["SGD", "RMSprop"]


def test_basins_view_shows_the_share_reaching_the_global_minimum():
    at = open_maps(
        {
            "map_view": "Basins of attraction",
            "map_surface": "Six-hump camel",
            "map_bn": "24",
            "map_opt": ["SGD"],
            "map_sgd_lr": "0.01",
            "map_steps": "200",
        }
    )
    fig = figure(at, "map_basins")
    note = fig["layout"]["annotations"][0]["text"]
    setup = maps.Setup(("camel", (), ""), (-1.5, -0.8), 200, None, ())
    b = maps.basins_of(
        setup,
        maps.Choice(
            "sgd",
            maps.hyper_of(
                {
                    "lr": 0.01,
                    "momentum": 0.0,
                    "dampening": 0.0,
                    "weight_decay": 0.0,
                    "nesterov": False,
                    "maximize": False,
                }
            ),
            "momentum",
        ),
        24,
    )
    assert f"{b.share_global:.0%} reach a global minimum" in note
    assert len(b.minima) == 6 and 0 < b.share_global < 1
    stars = next(t for t in fig["data"] if t.get("name") == "global minimum")
    assert len(stars["x"]) == 2


def test_race_shows_default_against_best_of_n_with_links():
    at = open_maps({"map_view": "Fair race", "map_race_n": "30", "map_steps": "100"})
    table = next(df.value for df in at.dataframe if "tuned loss" in df.value.columns)
    assert table["optimizer"].tolist() == ["Momentum", "Adam"]
    # the best of 30 draws beats or equals torch's defaults on the bowl
    assert (table["tuned loss"] <= table["default loss"]).all()
    best = parse_qs(urlsplit(table["open best"][1]).query)
    assert best["opt"] == ["Adam"] and "adam_lr" in best
    assert fmt_number(float(best["adam_lr"][0])) in table["winning setting"][1]


@pytest.fixture
def bars(monkeypatch):
    """What the page's progress bars show: each value, then "done" when one goes away."""
    shown = []

    class Bar:
        def progress(self, value, text=""):
            shown.append(value)

        def empty(self):
            shown.append("done")

    monkeypatch.setattr(maps.st, "progress", lambda *a, **k: Bar())
    return shown


def adam_on_rosenbrock():
    """A 1,000-step Adam sweep over lr x beta1 on Rosenbrock: (setup, choice)."""
    setup = maps.Setup(("rosenbrock", (("a", 1.0), ("b", 100.0)), ""), (-1.5, 2.0), 1000, None, ())
    choice = maps.Choice("adam", tuple(optim.OPTIMIZERS["adam"].defaults().items()), "betas[0]")
    return setup, choice


def test_long_computations_show_progress(bars):
    shown = bars
    setup, choice = adam_on_rosenbrock()
    maps.sweep_of(setup, choice, 60, (1e-3, 1.0))  # 3.6 million trajectory-steps
    assert shown[-1] == "done" and shown[-2] == 1.0 and len(shown) >= 3
    shown.clear()
    maps.sweep_of(setup, choice, 60, (1e-3, 1.0))  # cached: no bar at all
    small = maps.Setup(setup.surface, setup.start, 20, None, ())
    maps.sweep_of(small, choice, 10, (1e-3, 1.0))  # quick: no bar either
    assert shown == []


def test_the_bar_keeps_moving_while_workers_compute_the_map(monkeypatch, bars):
    sweep_module = importlib.import_module("optim.sweep")  # optim.sweep is the function
    pool = WorkerPool("optim.sweep:_work", 2, None, progress=True)
    answered = []

    class Spy:
        def call_each(self, *args):
            answered.append(pool.call_each(*args))
            return answered[-1]

    monkeypatch.setattr(sweep_module, "_pool", Spy())
    monkeypatch.setattr(sweep_module, "WORKERS", 2)
    shown = bars
    setup, choice = adam_on_rosenbrock()
    try:
        assert pool.wait_ready(every=True)
        maps.sweep_of(setup, choice, 64, (1e-3, 1.0))  # 4.1 million trajectory-steps
    finally:
        pool.close()
    assert len(answered) == 1  # the workers computed it
    values = shown[:-1]
    assert shown[-1] == "done" and values[-1] == 1.0 and values == sorted(values)
    assert len(values) >= 20 and any(0.5 < v < 1.0 for v in values)


def test_csv_holds_every_cell():
    setup = maps.Setup(
        ("bowl", (("condition", 20.0), ("angle", 0.0)), ""), (-5.0, -2.0), 30, None, ()
    )
    choice = maps.Choice("sgd", tuple(optim.OPTIMIZERS["sgd"].defaults().items()), "momentum")
    res = maps.sweep_of(setup, choice, 5, (1e-2, 1.0))
    rows = maps.sweep_csv([choice], [res]).decode().splitlines()
    assert rows[0] == "optimizer,lr,axis,value,status,final_loss,steps,distance"
    assert len(rows) == 1 + 25
    first = rows[1].split(",")
    assert float(first[1]) == res.axes["lr"][0] and first[4] == res.status[0, 0]
    assert float(first[5]) == res.final_loss[0, 0]
    diverged = [r for r in rows[1:] if ",diverged," in r]
    assert diverged and all(r.split(",")[5] == "" for r in diverged)
    _ = RunSpec  # the link's shape is tested above


def test_nesterov_gets_a_map_and_a_race_despite_refusing_momentum_zero():
    for view in ("Sensitivity map", "Fair race"):
        at = open_maps(
            {
                "map_view": view,
                "map_opt": ["Nesterov"],
                "map_n": "6",
                "map_race_n": "5",
                "map_steps": "20",
            }
        )
        assert not at.warning and not at.error, [w.value for w in at.warning]
    fig = figure(at, "map_race")
    assert fig["data"][0]["x"] == ["Nesterov"]
