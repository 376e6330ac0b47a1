"""A chart's PNG is made when asked for, on the Playground, the Training page and the Maps
page: a failed export says why and changes nothing; a made picture is handed over as it
was made, and only while the chart it shows stays as it is."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest
from streamlit.runtime.media_file_manager import MediaFileManager
from streamlit.testing.v1 import AppTest

from ui import export
from ui.state import escape_markdown

APP = "../app.py"
PNG = b"\x89PNG\r\n\x1a\n" + bytes(150_000)  # what the fake renderer hands back
GIVEN_UP = "The picture took longer than 15 s and was given up; try again."


def open_page(page: str, query: dict) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=180)
    at.run()  # the router learns its pages on a first run
    at.query_params = query
    if page:
        at.switch_page(f"app_pages/{page}.py")
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


@dataclass(frozen=True)
class Page:
    name: str  # its file in app_pages/ ("" for the Playground, the landing page)
    query: dict
    key: str  # the picture's widget keys: "<key>_make", "<key>_dl"
    label: str
    change: tuple[str, str, float]  # a setting the picture depends on: kind, key, new value

    def open(self) -> AppTest:
        return open_page(self.name, self.query)

    def change_setting(self, at: AppTest) -> AppTest:
        kind, key, value = self.change
        return getattr(at, kind)(key=key).set_value(value).run()


PAGES = [
    Page("", {"steps": "20"}, "png_loss", "Loss (PNG)", ("number_input", "steps", 10.0)),
    Page(
        "training", {"tr_epochs": "2"}, "tr_png_losses", "Losses (PNG)", ("slider", "tr_epochs", 1)
    ),
    Page(
        "maps",
        {"map_n": "8", "map_steps": "20"},
        "map_png_map",
        "Picture (PNG)",
        ("slider", "map_n", 6),
    ),
]


@pytest.fixture
def rendered(monkeypatch) -> list:
    """A renderer that works: every figure it is given, and PNG bytes back."""
    seen = []

    def png_bytes(fig, **_):
        seen.append(fig)
        return PNG

    monkeypatch.setattr(export, "export_available", lambda: True)
    monkeypatch.setattr(export, "png_bytes", png_bytes)
    return seen


@pytest.fixture
def failing(monkeypatch) -> None:
    def png_bytes(fig, **_):
        raise export.ExportUnavailable(GIVEN_UP)

    monkeypatch.setattr(export, "export_available", lambda: True)
    monkeypatch.setattr(export, "png_bytes", png_bytes)


@pytest.fixture
def handed(monkeypatch) -> dict:
    """What each deferred download would hand a browser: file name -> bytes."""
    seen: dict[str, Callable[[], bytes]] = {}
    original = MediaFileManager.add_deferred

    def add_deferred(self, data_callable, mimetype, coordinates, file_name=None, **kw):
        seen[file_name] = data_callable
        return original(self, data_callable, mimetype, coordinates, file_name, **kw)

    monkeypatch.setattr(MediaFileManager, "add_deferred", add_deferred)
    return seen


def settings(at: AppTest) -> dict:
    """Every setting a user sees on the page, by its widget key."""
    kinds = ("number_input", "slider", "select_slider", "selectbox", "checkbox", "radio", "toggle")
    return {w.key: w.value for kind in kinds for w in at.get(kind) if w.key}


def downloads(at: AppTest) -> dict[str, str]:
    return {d.key: d.proto.label for d in at.get("download_button")}


def buttons(at: AppTest) -> set[str]:
    return {b.key for b in at.button}


def press(at: AppTest, key: str) -> AppTest:
    at.button(key=key).click().run()
    assert not at.exception, [e.value for e in at.exception]
    return at


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name or "playground")
def test_a_failed_export_says_why_and_changes_nothing(page, failing):
    at = page.open()
    before = settings(at)
    press(at, f"{page.key}_make")
    said = [str(w.value) for w in (*at.warning, *at.error)]
    # the reason as written (escaped: Markdown shows it as is)
    assert any(page.label in s and escape_markdown(GIVEN_UP) in s for s in said), said
    assert settings(at) == before
    assert f"{page.key}_dl" not in downloads(at)
    assert f"{page.key}_make" in buttons(at), "it can be tried again"


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name or "playground")
def test_a_made_picture_is_offered_until_its_chart_changes(page, rendered, handed):
    at = page.open()
    assert not rendered, "nothing is rendered before it is asked for"
    assert f"{page.key}_dl" not in downloads(at)
    press(at, f"{page.key}_make")
    assert len(rendered) == 1
    assert downloads(at)[f"{page.key}_dl"] == f"{page.label}, 0.2 MB"
    assert f"{page.key}_make" not in buttons(at)
    assert not at.warning
    assert [f() for f in handed.values() if f() == PNG], "the made bytes are handed over"
    at.run()  # any other rerun: still offered, not made again
    assert f"{page.key}_dl" in downloads(at) and len(rendered) == 1
    page.change_setting(at)
    assert not at.exception, [e.value for e in at.exception]
    assert f"{page.key}_dl" not in downloads(at), "a picture of the old settings"
    assert f"{page.key}_make" in buttons(at)
    assert page.key not in at.session_state["_pngs"], "and not kept either"


def test_the_contour_picture_is_of_the_chosen_step(rendered):
    at = open_page("", {"steps": "20"})
    for key in ("png_contour", "png_loss"):
        press(at, f"{key}_make")
    assert {"png_contour_dl", "png_loss_dl"} <= set(downloads(at))
    at.slider(key="png_step").set_value(5).run()
    # another step: another contour picture; the loss chart has no step
    assert "png_contour_dl" not in downloads(at) and "png_loss_dl" in downloads(at)
    press(at, "png_contour_make")
    at_end, at_five = rendered[0].to_json(), rendered[-1].to_json()
    assert at_five != at_end, "the picture of step 5 is not the one of the last step"


def test_a_chart_an_exercise_hides_gets_no_picture(rendered):
    at = open_page("", {"steps": "20", "loss_hide": "true"})
    assert "png_loss_make" not in buttons(at)
    assert {"png_contour_make", "png_effective_lr_make"} <= buttons(at)
