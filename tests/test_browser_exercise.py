"""An exercise link and the slides export in headless Chromium (with screenshots to look at)."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest
from playwright.sync_api import Page, expect

from ui.runlist import RunSpec, format_run

pytestmark = pytest.mark.browser
LONG = 90_000  # ms

RUNS = [format_run(RunSpec.make(n, lr=lr)) for n, lr in (("sgd", 0.1), ("sgd", 0.5), ("adam", 0.1))]
TASK = (
    "Two of these runs use plain SGD at different learning rates.\n"
    "Which one never settles, and why? Step through the first ten steps."
)


def ready(page: Page) -> None:
    expect(page.locator(".st-key-contour .js-plotly-plot")).to_be_visible(timeout=LONG)
    expect(page.get_by_test_id("stStatusWidget")).to_have_count(0, timeout=LONG)


def test_an_exercise_link_shows_its_task_on_top_and_not_the_hidden_controls(
    page: Page, app_url, artifacts
):
    query = {
        "surface": "Ill-conditioned bowl",
        "compare": "Each optimizer its own learning rate",
        "run": RUNS,
        "steps": "60",
        "task": TASK,
        **{f"{n}_hide": "true" for n in ("surface", "runs", "steps", "eff_lr", "export")},
    }
    page.set_viewport_size({"width": 1400, "height": 1000})
    page.goto(f"{app_url}/?{urlencode(query, doseq=True)}")
    ready(page)
    task = page.locator(".st-key-exercise_task")
    expect(task).to_contain_text("Which one never settles, and why?")
    title = page.get_by_role("heading", name="Optimizer Playground")
    assert task.bounding_box()["y"] < title.bounding_box()["y"]  # the task comes first
    sidebar = page.get_by_test_id("stSidebar")
    for key in ("surface", "steps", "race_pick", "race_add", "compare"):
        expect(sidebar.locator(f".st-key-{key}")).to_have_count(0)
    expect(sidebar.locator(".st-key-seed")).to_be_visible()  # not hidden: still there
    expect(page.get_by_text("Export", exact=True)).to_have_count(0)
    expect(page.get_by_text("Make an exercise")).to_have_count(0)
    # the link's race all the same: three runs, sixty steps
    expect(page.get_by_test_id("stDataFrame").first).to_be_visible()
    expect(page.get_by_text("SGD  lr=0.5").first).to_be_visible()
    page.screenshot(path=str(artifacts / "exercise-link.png"), full_page=True)
    page.screenshot(path=str(artifacts / "exercise-link-top.png"))


def test_the_export_panel_makes_a_gif_and_hands_it_over(page: Page, app_url, artifacts):
    query = {"compare": "Each optimizer its own learning rate", "run": RUNS, "steps": "60"}
    page.set_viewport_size({"width": 1400, "height": 1000})
    page.goto(f"{app_url}/?{urlencode(query, doseq=True)}")
    ready(page)
    page.get_by_text("Export", exact=True).click()
    page.get_by_role("button", name="Make Race (GIF)").click()
    download = page.get_by_role("button", name="Race (GIF),")
    expect(download).to_be_visible(timeout=LONG)
    download.scroll_into_view_if_needed()
    page.screenshot(path=str(artifacts / "export-panel.png"), full_page=True)
    with page.expect_download(timeout=LONG) as info:
        download.click()
    path = info.value.path()
    with open(path, "rb") as f:
        data = f.read()
    assert data[:6] == b"GIF89a" and len(data) > 100_000
    assert info.value.suggested_filename == "race.gif"
