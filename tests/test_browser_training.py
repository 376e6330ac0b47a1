"""The Training page in headless Chromium: its charts draw, and Play animates the fitted curves.

Run with no other browser running; waits are Playwright conditions, never sleeps.
"""

from __future__ import annotations

import json

import pytest
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.browser
LONG = 120_000  # ms: the first run trains the race and evaluates the landscape

FITTED = ".st-key-tr_fitted .js-plotly-plot"
# the curves (traces 1..k) and the loss chart's cursor (the last trace), as the browser has them
MOVING = """() => {
  const gd = document.querySelector('.st-key-tr_fitted .js-plotly-plot');
  const n = gd.data.length;
  return JSON.stringify([gd.data.slice(1, 5).map(t => JSON.stringify(t.y)),
                         JSON.stringify(gd.data[n - 1].x)]);
}"""


def test_training_page_draws_and_play_animates_the_fitted_curves(page: Page, app_url, artifacts):
    page.set_viewport_size({"width": 1400, "height": 1000})
    page.goto(f"{app_url}/Training")
    expect(page.get_by_role("heading", name="Training a network")).to_be_visible(timeout=LONG)
    expect(page.locator(FITTED)).to_be_visible(timeout=LONG)
    expect(page.locator(".st-key-tr_landscape .js-plotly-plot")).to_be_visible(timeout=LONG)
    expect(page.get_by_test_id("stStatusWidget")).to_have_count(0, timeout=LONG)
    expect(page.locator(".js-plotly-plot")).to_have_count(4)
    page.screenshot(path=str(artifacts / "training.png"), full_page=True)
    for key in ("tr_loss", "tr_layers", "tr_landscape"):
        chart = page.locator(f".st-key-{key}")
        chart.scroll_into_view_if_needed()
        chart.screenshot(path=str(artifacts / f"training_{key[3:]}.png"))

    # the chart opens on the last frame; Play runs the training from its first frame
    fitted = page.locator(".st-key-tr_fitted")
    fitted.scroll_into_view_if_needed()
    at_start = page.evaluate(MOVING)
    fitted.locator(".updatemenu-button").filter(has_text="Play").first.click()
    page.wait_for_function(f"(before) => ({MOVING})() !== before", arg=at_start, timeout=LONG)
    first = page.evaluate(MOVING)
    # it keeps going: a later frame differs again, and the cursor has moved with the curves
    page.wait_for_function(f"(before) => ({MOVING})() !== before", arg=first, timeout=LONG)
    later = page.evaluate(MOVING)
    assert json.loads(later)[1] != json.loads(at_start)[1]  # the loss chart's cursor
    assert json.loads(later)[0] != json.loads(at_start)[0]  # the fitted curves
    fitted.screenshot(path=str(artifacts / "training_fitted_playing.png"))


def test_every_training_chart_exports_a_png_with_the_setup_in_its_title(
    chromium_executable, artifacts
):
    from ui import export, training
    from ui.training_panels import PNG_CHARTS
    from ui.training_runs import POST_FOUR

    runs = tuple(training.RunSpec(n, tuple(h.items())) for n, h in POST_FOUR)
    view = training.View(training.Setup(runs=runs, epochs=3))
    for _, kind, name in PNG_CHARTS:
        fig = training.chart(view, kind)
        spec = export.classroom_copy(fig)
        assert "1-20-1 relu net on y = x²" in spec["layout"]["title"]["subtitle"]["text"], kind
        assert "frames" not in spec
        png = export.png_bytes(fig)
        assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 20_000, kind
        (artifacts / f"training_export_{name}.png").write_bytes(png)
