"""Text from a link stays text: hostile values in every key the pages read, in Chromium.

A shared link is the one input every visitor's browser takes from someone else. Each page
is opened with Markdown links, images, bare addresses and HTML in every query key it reads
(on a page that really reads them: the chosen optimizers', surface's and schedule's keys
with those chosen). Nothing may render as a link or an image pointing off this machine,
and the browser may request nothing from anywhere but the app's own server. The values
must still be shown (quoted in the notices): that is what proves the keys were read.
"""

from __future__ import annotations

from urllib.parse import urlencode, urlsplit

import pytest
from playwright.sync_api import Page, expect

import optim
from ui import runlist
from ui.controls import COMPARE, GRAD_MODES, hparam_key

pytestmark = pytest.mark.browser
LONG = 90_000  # ms
EVIL = "evil.example"
PAYLOADS = [
    f"[Session expired: log in again](https://{EVIL}/login)",
    f"![x](https://{EVIL}/pixel.png)",
    f"https://{EVIL}/bare",
    f"www.{EVIL}",
    f'<img src="https://{EVIL}/h.png">',
    f'<a href="https://{EVIL}/a">x</a>',
    f"[x]: https://{EVIL}/ref\n\n[x]",
]
SHARED = [
    "x0",
    "y0",
    "steps",
    "noise",
    "seed",
    "tol",
    "patience",
    "view3d",
    "classroom",
    "lr",
    "step",
    "loss_scale",
]


def _opt_keys(names: list[str]) -> list[str]:
    return [hparam_key(n, s["key"]) for n in names for s in optim.OPTIMIZERS[n].slider_specs()]


def _runs(names: list[str], hostile: str, j: int) -> list[str]:
    """The runs list with a hostile value in every setting of every run, and as a run."""
    runs = [hostile]
    for k, n in enumerate(names):
        settings = [
            f"{runlist.hparam_suffix(s['key'])}={PAYLOADS[(k + i + j) % len(PAYLOADS)]}"
            for i, s in enumerate(optim.OPTIMIZERS[n].slider_specs())
        ]
        runs.append(" ".join([optim.OPTIMIZERS[n].label, *settings, f"batch={hostile}"]))
    return runs


def hostile_queries() -> list[dict]:
    """Queries that together put a hostile value in every key the Playground reads: the
    runs list (``run``) on even loads, an older link's keys (``opt``, ``<opt>_<hparam>``,
    ``grad``, ``batch``) on odd ones."""
    names = list(optim.OPTIMIZERS)
    chunks = [names[i : i + 6] for i in range(0, len(names), 6)]
    surfaces = [n for n in optim.SURFACES if optim.make_surface(n).param_specs] + ["custom"]
    schedules = [n for n in optim.SCHEDULES if optim.make_schedule(n).params]
    loads = max(2 * len(chunks), len(surfaces), len(schedules))
    queries = []
    for j in range(loads):
        surface, schedule = surfaces[j % len(surfaces)], schedules[j % len(schedules)]
        opts = chunks[(j // 2) % len(chunks)]
        legacy = j % 2 == 1
        keys = SHARED + [f"{schedule}_{p['key']}" for p in optim.make_schedule(schedule).params]
        if legacy:
            keys += _opt_keys(opts) + ["grad", "batch"]
        if surface == "custom":
            keys.append("formula")
        else:
            keys += [f"{surface}_{p['key']}" for p in optim.make_surface(surface).param_specs]
        query: dict = {k: PAYLOADS[(i + j) % len(PAYLOADS)] for i, k in enumerate(keys)}
        hostile = PAYLOADS[j % len(PAYLOADS)]
        if legacy:
            query["opt"] = [hostile] + [optim.OPTIMIZERS[n].label for n in opts]
            query["grad"] = GRAD_MODES["minibatch"] if j != 3 else hostile
        else:
            query["run"] = _runs(opts, hostile, j)
        # the choosers get a valid value on most pages (so their keys are read) and a
        # hostile one on some
        query["surface"] = surface if j else hostile
        query["schedule"] = schedule if j != 1 else hostile
        query["compare"] = COMPARE["own"] if j % 4 < 2 else hostile
        queries.append(query)
    return queries


def _watch(page: Page) -> list[str]:
    seen: list[str] = []
    page.on("request", lambda r: seen.append(r.url))
    return seen


def _off_machine(urls: list[str]) -> list[str]:
    out = []
    for u in urls:
        parts = urlsplit(u)
        if parts.scheme in ("data", "blob", "about"):
            continue
        if parts.hostname not in ("127.0.0.1", "localhost", "::1"):
            out.append(u)
    return out


OUTSIDE_REFS = f"""() => Array.from(document.querySelectorAll('[href], [src], [srcset]'))
  .map(e => e.getAttribute('href') || e.getAttribute('src') || e.getAttribute('srcset'))
  .filter(v => v && v.includes('{EVIL}'))"""


def _check(page: Page, requests: list[str]) -> None:
    assert page.evaluate(OUTSIDE_REFS) == [], "a link value rendered as a link or an image"
    assert _off_machine(requests) == [], _off_machine(requests)
    # the values were read and quoted back as text, so the check above saw real notices
    expect(page.get_by_test_id("stAlert").filter(has_text=EVIL).first).to_be_visible()


@pytest.mark.parametrize(
    "query", hostile_queries(), ids=lambda q: ("opt-" if "opt" in q else "run-") + q["surface"][:12]
)
def test_playground_link_values_stay_text(page: Page, app_url, query):
    requests = _watch(page)
    page.set_viewport_size({"width": 1400, "height": 1000})
    page.goto(f"{app_url}/?{urlencode(query, doseq=True)}")
    expect(page.locator(".st-key-contour .js-plotly-plot")).to_be_visible(timeout=LONG)
    expect(page.get_by_test_id("stStatusWidget")).to_have_count(0, timeout=LONG)
    _check(page, requests)


def test_algorithms_link_values_stay_text(page: Page, app_url):
    requests = _watch(page)
    query = {"classroom": PAYLOADS[0], "opt": PAYLOADS[1], "steps": PAYLOADS[2]}
    page.goto(f"{app_url}/Algorithms?{urlencode(query)}")
    heading = page.get_by_role("heading", name="Weight decay: coupled (L2) or decoupled")
    expect(heading).to_be_visible(timeout=LONG)
    expect(page.get_by_test_id("stStatusWidget")).to_have_count(0, timeout=LONG)
    _check(page, requests)


TASK_PAGES = {  # page address -> something the page draws once its run is done
    "": ".st-key-contour .js-plotly-plot",
    "Training": ".st-key-tr_fitted .js-plotly-plot",
    "Algorithms": "h2",
}


@pytest.mark.parametrize("path", list(TASK_PAGES), ids=lambda p: p or "Playground")
def test_an_exercise_task_is_plain_text_on_every_page(page: Page, app_url, path):
    """``task=`` with Markdown and HTML is shown as typed; hide keys named with markup only
    get a quoted notice."""
    requests = _watch(page)
    task = "\n".join(PAYLOADS[:6])
    query = {"task": task, "steps_hide": PAYLOADS[1], f"{PAYLOADS[0]}_hide": "true"}
    page.set_viewport_size({"width": 1400, "height": 1000})
    page.goto(f"{app_url}/{path}?{urlencode(query)}")
    expect(page.locator(TASK_PAGES[path]).first).to_be_visible(timeout=LONG)
    expect(page.get_by_test_id("stStatusWidget")).to_have_count(0, timeout=LONG)
    shown = page.locator(".st-key-exercise_task")
    expect(shown).to_contain_text("Session expired")
    assert page.locator(".st-key-exercise_task a, .st-key-exercise_task img").count() == 0
    # every payload is on the page, character for character: nothing was interpreted
    text = shown.inner_text()
    for payload in PAYLOADS[:6]:
        assert payload in text, payload
    _check(page, requests)
