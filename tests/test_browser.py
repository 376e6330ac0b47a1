"""The real app in headless Chromium: charts, animation, downloads, links, classroom mode.

On a small machine, run them with no other browser running (they wait on the page).
Waits are Playwright's ``expect``/``wait_for_function`` conditions, never sleeps.
"""

from __future__ import annotations

import struct
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import Page, expect

from ui.nav import PAGES, url_path

pytestmark = pytest.mark.browser
LONG = 90_000  # ms: a first run on a cold server compiles surfaces and starts caches

PLOT_DATA_LEN = """() => {
  const gd = document.querySelector('.st-key-contour .js-plotly-plot');
  return gd && gd.data ? gd.data.length : 0;
}"""


def open_page(page: Page, url: str) -> None:
    page.set_viewport_size({"width": 1400, "height": 1000})
    page.goto(url)
    # the contour itself (by its widget key), not whichever chart happens to draw first
    expect(page.locator(".st-key-contour .js-plotly-plot")).to_be_visible(timeout=LONG)
    page.wait_for_function(f"({PLOT_DATA_LEN})() > 0", timeout=LONG)
    expect(page.get_by_test_id("stStatusWidget")).to_have_count(0, timeout=LONG)


SIGNATURE = """() => {
  const gd = document.querySelector('.st-key-contour .js-plotly-plot');
  return JSON.stringify(gd.data.filter(t => t.name && t.showlegend !== false)
    .map(t => [t.name, t.x, t.y]));
}"""


def trajectory_signature(page: Page) -> str:
    """The coordinates of every legend-carrying trace of the main chart, as text."""
    return page.evaluate(SIGNATURE)


def share_link(page: Page) -> str:
    page.get_by_text("Share these settings").click()
    code = page.get_by_test_id("stCode").first
    expect(code).to_be_visible()
    return code.inner_text().strip()


def test_playground_loads_and_shows_the_chart(page: Page, app_url, artifacts):
    open_page(page, app_url)
    expect(page.get_by_role("heading", name="Optimizer Playground")).to_be_visible()
    expect(page.locator(".js-plotly-plot")).to_have_count(3, timeout=LONG)
    page.screenshot(path=str(artifacts / "playground.png"), full_page=True)


def test_moving_a_slider_updates_the_chart(page: Page, app_url):
    open_page(page, app_url)
    before = trajectory_signature(page)
    steps = page.get_by_role("slider", name="Steps")
    steps.focus()
    steps.press("Home")  # fewest steps: every path ends elsewhere
    page.wait_for_function(f"(before) => ({SIGNATURE})() !== before", arg=before, timeout=LONG)
    assert trajectory_signature(page) != before


def test_play_advances_the_animation(page: Page, app_url):
    open_page(page, app_url)
    moving = """() => {
      const gd = document.querySelector('.st-key-contour .js-plotly-plot');
      return JSON.stringify(gd.data.map(t => [t.x, t.y]));
    }"""
    before = page.evaluate(moving)
    page.locator(".updatemenu-button").filter(has_text="Play").first.click()
    page.wait_for_function(f"(before) => ({moving})() !== before", arg=before, timeout=LONG)
    first = page.evaluate(moving)  # and it keeps going: a later frame differs again
    page.wait_for_function(f"(first) => ({moving})() !== first", arg=first, timeout=LONG)


def test_png_download_is_a_png_of_the_promised_size(page: Page, app_url, artifacts):
    open_page(page, app_url)
    page.get_by_text("Export", exact=True).click()
    button = page.get_by_role("button", name="Loss (PNG)")
    # the browser tests run with a Chromium, so the server has one for export too
    expect(button).to_be_visible(timeout=LONG)
    with page.expect_download(timeout=LONG) as info:
        button.click()
    path = artifacts / "loss.png"
    info.value.save_as(path)
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    assert (width, height) == (1600, 1000)


def test_share_link_restores_the_state(page: Page, app_url):
    open_page(page, app_url + "/?steps=60&surface=Rosenbrock")
    link = share_link(page)
    query = parse_qs(urlsplit(link).query)
    assert query["steps"] == ["60"], link
    before = trajectory_signature(page)
    fresh = page.context.new_page()
    open_page(fresh, app_url + "/?" + urlsplit(link).query)
    expect(fresh.get_by_role("slider", name="Steps")).to_have_value("60")
    assert trajectory_signature(fresh) == before
    fresh.close()


# per page: its heading and an element that only exists once the whole script has run
READY = {
    "Playground": ("Optimizer Playground", lambda page: page.get_by_test_id("stPlotlyChart").first),
    "Algorithms": (
        "The algorithms",
        lambda page: page.get_by_role("heading", name="Weight decay: coupled (L2) or decoupled"),
    ),
}


def open_any_page(page: Page, url: str, spec) -> None:
    page.set_viewport_size({"width": 1400, "height": 1000})
    page.goto(url)
    heading, last = READY[spec.title]
    expect(page.get_by_role("heading", name=heading)).to_be_visible(timeout=LONG)
    expect(last(page)).to_be_visible(timeout=LONG)  # the page has finished
    expect(page.get_by_test_id("stStatusWidget")).to_have_count(0, timeout=LONG)


def expect_full_menu(page: Page, base: str) -> None:
    """Every page in the sidebar menu, each link's address the page it names."""
    links = page.get_by_test_id("stSidebarNav").get_by_test_id("stSidebarNavLink")
    expect(links).to_have_count(len(PAGES))
    for spec in PAGES:
        link = links.filter(has_text=spec.title)
        expect(link).to_have_attribute("href", f"{base}/{url_path(spec)}")


def test_every_page_has_every_page_in_its_menu_linked_by_its_own_address(
    page: Page, app_url, artifacts
):
    for spec in PAGES:
        open_any_page(page, f"{app_url}/{url_path(spec)}", spec)
        expect_full_menu(page, app_url)
        # and following each link lands on the page it names
        for other in PAGES:
            page.get_by_test_id("stSidebarNavLink").filter(has_text=other.title).click()
            heading, _ = READY[other.title]
            expect(page.get_by_role("heading", name=heading)).to_be_visible(timeout=LONG)
            expect(page).to_have_title(f"{other.title} · Optimizer Playground")
            assert urlsplit(page.url).path == f"/{url_path(other)}", (spec.title, other.title)


@pytest.mark.parametrize("spec", PAGES, ids=[spec.title for spec in PAGES])
def test_deep_link_on_a_fresh_server(page: Page, fresh_app_url, spec, artifacts):
    url = f"{fresh_app_url}/{url_path(spec)}?steps=60"
    open_any_page(page, url, spec)
    expect(page).to_have_title(f"{spec.title} · Optimizer Playground")
    assert urlsplit(page.url).path == f"/{url_path(spec)}"
    assert "steps=60" in urlsplit(page.url).query  # the link's settings stay in the address
    expect_full_menu(page, fresh_app_url)
    page.screenshot(path=str(artifacts / f"page-{spec.title.lower()}.png"), full_page=True)


def test_classroom_mode_hides_the_controls(page: Page, app_url, artifacts):
    open_page(page, app_url + "/?classroom=1&steps=300")
    expect(page.get_by_test_id("stSidebar")).to_have_attribute("data-collapsed", "true")
    expect(page.get_by_role("heading", name="Optimizer Playground")).to_have_count(0)
    page.screenshot(path=str(artifacts / "classroom.png"), full_page=True)
    page.get_by_role("button", name="Leave classroom mode").click()
    expect(page.get_by_role("heading", name="Optimizer Playground")).to_be_visible(timeout=LONG)
    assert "classroom" not in page.url


def test_clicking_the_map_moves_the_start(page: Page, app_url):
    open_page(page, app_url)
    start_x = page.get_by_label("Start x")
    before = start_x.input_value()
    plot = page.locator(".st-key-contour .nsewdrag")
    box = plot.bounding_box()
    page.mouse.click(box["x"] + box["width"] * 0.75, box["y"] + box["height"] * 0.3)
    expect(start_x).not_to_have_value(before, timeout=LONG)
    x = float(start_x.input_value())
    assert x > 0  # right of the centre of the default window
