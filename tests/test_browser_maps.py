"""The Maps page in headless Chromium: a click on a cell opens exactly that run.

Waits are Playwright's ``expect``/``wait_for_function`` conditions, never sleeps.
"""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import Page, expect

from ui.maps import Choice, map_axes
from ui.state import fmt_number

pytestmark = pytest.mark.browser
LONG = 90_000

CHART = ".st-key-map_chart .js-plotly-plot"
N = 12


def open_maps(page: Page, url: str, query: str) -> None:
    page.set_viewport_size({"width": 1400, "height": 1000})
    page.goto(f"{url}/Maps?{query}")
    expect(page.locator(CHART)).to_be_visible(timeout=LONG)
    page.wait_for_function(
        f"() => {{ const g = document.querySelector('{CHART}'); return g && g._fullLayout; }}",
        timeout=LONG,
    )
    expect(page.get_by_test_id("stStatusWidget")).to_have_count(0, timeout=LONG)


def cell_position(page: Page, panel: int, x: float, y: float) -> tuple[float, float]:
    """Screen pixels of the data point (x, y) in a panel of the map."""
    suffix = "" if panel == 0 else str(panel + 1)
    return page.evaluate(
        f"""() => {{
          const g = document.querySelector('{CHART}');
          const xa = g._fullLayout['xaxis{suffix}'], ya = g._fullLayout['yaxis{suffix}'];
          const box = g.querySelector('.nsewdrag[data-subplot="x{suffix}y{suffix}"]')
            .getBoundingClientRect();
          return [box.left + xa.l2p(xa.d2l({x})), box.top + ya.l2p(ya.d2l({y}))];
        }}"""
    )


def test_a_click_on_a_cell_opens_that_run_on_the_playground(page: Page, app_url, artifacts):
    query = f"map_opt=Momentum&map_opt=Adam&map_n={N}&map_surface=Rosenbrock&map_steps=150&map_x0=-1&map_y0=2.5"
    open_maps(page, app_url, query)
    page.screenshot(path=str(artifacts / "maps.png"), full_page=True)
    # the second panel (Adam), the cell in column 7 and row 4
    adam = Choice("adam", (), "betas[0]")
    axes = map_axes(adam, N, (1e-4, 1.0))
    lr, beta1 = axes["lr"][7], axes["betas[0]"][4]
    page.mouse.click(*cell_position(page, 1, lr, beta1))
    page.wait_for_url(lambda u: urlsplit(u).path in ("", "/"), timeout=LONG)
    expect(page.locator(".st-key-contour .js-plotly-plot")).to_be_visible(timeout=LONG)
    expect(page.get_by_test_id("stStatusWidget")).to_have_count(0, timeout=LONG)
    # the Playground took the values as they are: no notice of a corrected link value
    expect(page.get_by_test_id("stAlert")).to_have_count(0)
    # and keeps that one run in its own link (its runs list): Adam at the cell's lr
    q = parse_qs(urlsplit(page.url).query)
    runs = q.get("run", [])
    assert len(runs) == 1 and runs[0].startswith("Adam"), q
    assert f"lr={fmt_number(lr)}" in runs[0], runs
    assert q["surface"] == ["Rosenbrock"] and q["steps"] == ["150"]
    page.screenshot(path=str(artifacts / "maps_clicked_playground.png"), full_page=True)


def test_basins_and_race_views_draw(page: Page, app_url, artifacts):
    base = "map_opt=SGD&map_opt=Adam&map_surface=Himmelblau%20(four%20minima)&map_sgd_lr=0.01"
    page.set_viewport_size({"width": 1400, "height": 1000})
    page.goto(f"{app_url}/Maps?{base}&map_view=Basins%20of%20attraction&map_bn=60&map_adam_lr=0.1")
    expect(page.locator(".st-key-map_basins .js-plotly-plot")).to_be_visible(timeout=LONG)
    expect(page.get_by_test_id("stStatusWidget")).to_have_count(0, timeout=LONG)
    expect(page.get_by_text("reach a global minimum").first).to_be_visible()
    page.screenshot(path=str(artifacts / "maps_basins.png"), full_page=True)
    page.goto(f"{app_url}/Maps?{base}&map_view=Fair%20race&map_race_n=40")
    expect(page.locator(".st-key-map_race .js-plotly-plot")).to_be_visible(timeout=LONG)
    expect(page.get_by_test_id("stStatusWidget")).to_have_count(0, timeout=LONG)
    page.screenshot(path=str(artifacts / "maps_race.png"), full_page=True)
