"""The Maps page's figures: one colour scale, diverged cells apart, clicks snapped to cells."""

from __future__ import annotations

import numpy as np

from ui.figures.maps import DECADES, Panel, cell_of_click, map_figure


def panel(title: str, z: np.ndarray, diverged: np.ndarray) -> Panel:
    return Panel(
        title, np.geomspace(1e-3, 1, z.shape[1]), np.linspace(0, 0.9, z.shape[0]), z, diverged
    )


def test_panels_share_one_scale_and_diverged_cells_have_their_own_colour():
    a = np.array([[1.0, 1e-3], [1e-2, np.nan]])
    b = np.array([[1e-30, 10.0], [1.0, 1.0]])
    div = np.array([[False, False], [False, True]])
    fig = map_figure(
        [panel("A", a, div), panel("B", b, np.zeros((2, 2), bool))], metric="loss", title="t"
    )
    heat = [t for t in fig.data if t.type == "heatmap"]
    assert [h.name for h in heat] == ["A", "diverged", "B"]
    assert heat[0].zmax == heat[2].zmax == 1.0  # log10 of the largest loss, 10
    assert heat[0].zmin == heat[2].zmin == 1.0 - DECADES  # 1e-30 would flatten the rest
    assert heat[1].z[1][1] == 1.0 and heat[1].z[0][0] is None
    assert heat[0].z[1][1] is None  # the diverged cell holds no value on the loss scale
    assert "diverged" in [t.name for t in fig.data if t.type == "scatter" and t.showlegend]


def test_a_click_is_snapped_to_its_cell_and_other_clicks_are_ignored():
    z = np.ones((3, 4))
    fig = map_figure([panel("A", z, z == 0), panel("B", z, z == 0)], metric="loss", title="t")
    meta = fig.layout.meta
    target = meta["panels"][1]["curve"]
    xs = np.geomspace(1e-3, 1, 4)
    assert cell_of_click(meta, {"curve_number": target, "x": xs[2] * 1.1, "y": 0.44}) == (1, 1, 2)
    assert cell_of_click(meta, {"curve_number": 0, "x": 0.1, "y": 0.4}) is None  # the heatmap
    assert cell_of_click(meta, {"curve_number": target, "x": "a", "y": 0}) is None
    assert cell_of_click(meta, {"x": 0.1}) is None
