"""The Playground's export panel makes the race for slides: GIF, MP4 and standalone HTML."""

from __future__ import annotations

import io
import threading
import time

import numpy as np
import pytest
from PIL import Image
from streamlit.runtime.media_file_manager import MediaFileManager
from streamlit.testing.v1 import AppTest

from ui import export_slides, slides

APP = "../app.py"
QUERY = {"surface": "Rosenbrock", "steps": "30"}


@pytest.fixture
def titles(monkeypatch):
    """The title each GIF/MP4 render was given."""
    seen = []
    for name in ("race_gif", "race_mp4"):
        original = getattr(slides, name)

        def wrapped(surface, series, title, *, progress=None, _original=original):
            seen.append(title)
            return _original(surface, series, title, progress=progress)

        monkeypatch.setattr(slides, name, wrapped)
    return seen


@pytest.fixture
def made(monkeypatch):
    """What each deferred download would hand a browser: label -> (callable, mime, name)."""
    seen: dict[str, tuple] = {}
    original = MediaFileManager.add_deferred

    def add_deferred(self, data_callable, mimetype, coordinates, file_name=None, **kw):
        seen[file_name] = (data_callable, mimetype)
        return original(self, data_callable, mimetype, coordinates, file_name, **kw)

    monkeypatch.setattr(MediaFileManager, "add_deferred", add_deferred)
    return seen


def press(at: AppTest, fmt: str) -> AppTest:
    at.button(key=f"make_{fmt}").click().run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def download_labels(at: AppTest) -> list[str]:
    return [d.proto.label for d in at.get("download_button")]


def test_each_format_is_made_on_demand_and_handed_over_as_its_file_type(made, titles):
    at = AppTest.from_file(APP, default_timeout=120)
    at.query_params = QUERY
    at.run()
    assert not at.exception
    assert not [x for x in download_labels(at) if x.startswith("Race")]  # nothing made yet
    assert "race.gif" not in made
    for fmt in ("gif", "mp4", "html"):
        press(at, fmt)
    labels = download_labels(at)
    for name in ("GIF", "MP4", "interactive HTML"):
        assert any(x.startswith(f"Race ({name}), ") and x.endswith(" MB") for x in labels), labels
    gif, gif_mime = made["race.gif"][0](), made["race.gif"][1]
    mp4, mp4_mime = made["race.mp4"][0](), made["race.mp4"][1]
    page, page_mime = made["race.html"][0](), made["race.html"][1]
    assert (gif_mime, mp4_mime, page_mime) == ("image/gif", "video/mp4", "text/html")
    im = Image.open(io.BytesIO(gif))
    assert im.format == "GIF" and im.size == (1280, 720) and im.n_frames == 31
    assert mp4[4:8] == b"ftyp" and len(mp4) > 10_000
    text = page.decode("utf-8")
    assert text.lower().startswith("<!doctype html>") and "Plotly.newPlot" in text
    # the title states the setup: the surface, the runs and how they ran
    head = text[text.index("<title>") : text.index("</title>")]
    assert "Rosenbrock" in head and "SGD" in head and "Adam" in head and "30 steps" in head
    for title in titles:  # the GIF's and the MP4's
        assert title.startswith("Rosenbrock: SGD") and "Adam" in title and "30 steps" in title
    assert len(titles) == 2


def test_a_made_file_is_dropped_when_the_settings_change(made):
    at = AppTest.from_file(APP, default_timeout=120)
    at.query_params = QUERY
    at.run()
    press(at, "gif")
    assert any(x.startswith("Race (GIF)") for x in download_labels(at))
    at.number_input(key="steps").set_value(20.0).run()
    assert not any(x.startswith("Race (GIF)") for x in download_labels(at))
    assert at.button(key="make_gif")  # the button to make it again, for these settings
    assert "gif" not in at.session_state["_slides"]


def test_a_render_over_its_time_is_given_up_and_the_next_one_works(monkeypatch):
    at = AppTest.from_file(APP, default_timeout=120)
    at.query_params = QUERY
    at.run()
    assert not at.exception
    monkeypatch.setattr(export_slides, "RENDER_TIMEOUT_S", 0.0)
    at.button(key="make_gif").click().run()
    assert not at.exception
    assert any("given up" in str(w.value) for w in at.warning)
    assert at.button(key="make_gif")  # no file: the button again
    monkeypatch.setattr(export_slides, "RENDER_TIMEOUT_S", 15.0)
    at.button(key="make_gif").click().run()
    assert any(x.startswith("Race (GIF)") for x in download_labels(at))


def test_a_render_waiting_too_long_for_its_turn_is_refused(monkeypatch):
    monkeypatch.setattr(export_slides, "QUEUE_TIMEOUT_S", 0.2)
    holder = threading.Thread(target=_hold_turn, args=(1.0,))
    holder.start()
    time.sleep(0.1)
    try:
        with pytest.raises(export_slides.RenderGivenUp, match="try again"):
            export_slides.render("gif", None, [])
    finally:
        holder.join()


def _hold_turn(seconds: float) -> None:
    with export_slides._render_turn:
        time.sleep(seconds)


def test_a_page_run_rendering_lets_other_page_runs_go_on():
    from ui import nav

    got = []

    def other_page_run() -> None:
        got.append(nav._slots.acquire(timeout=2.0))
        if got[-1]:
            nav._slots.release()

    # this page run holds its slot (all of them), then renders
    with nav.run_slot(), nav.outside_slot():
        other = threading.Thread(target=other_page_run)
        other.start()
        other.join()
    assert got == [True]
    with nav.outside_slot():  # outside a page run: nothing to give, nothing breaks
        pass
    assert nav._slots.acquire(timeout=0.1)  # every slot back
    nav._slots.release()


# -- what the frames say about the setup ---------------------------------------------------------
def _small_race(names_lrs):
    import optim
    from ui.figures import Series
    from ui.figures.series import DASHES, optimizer_color

    s = optim.make_surface("bowl")
    out, seen = [], {}
    for name, lr in names_lrs:
        k = seen.get(name, 0)
        seen[name] = k + 1
        traj = optim.run(s, optim.make_optimizer(name, lr=lr), s.start, 10)
        color = optimizer_color(name, len(out))
        out.append(Series(f"{name} lr={lr}", color, traj, DASHES[k % len(DASHES)], name))
    return s, out


def _ink_rows(frame: np.ndarray, top: int, bottom: int) -> int:
    """How many pixel rows of the title band between ``top`` and ``bottom`` hold dark text."""
    band = frame[top:bottom, 24:1200]
    return int((band.max(axis=-1) < 90).any(axis=1).sum())


def test_a_long_setup_keeps_its_last_title_line_and_repeats_get_their_own_shade():
    s, series = _small_race([("adam", 0.05), ("adam", 0.3), ("sgd", 0.1)])
    colors = slides.run_colors(series)
    assert series[0].color == series[1].color and colors[0] != colors[1]
    long = "Bowl: " + "  ·  ".join(f"Run {i} lr=0.00{i}" for i in range(12)) + "<br>how it ran"
    frames = [
        np.asarray(Image.open(io.BytesIO(slides.race_gif(s, series, t))).convert("RGB"))
        for t in ("Bowl: short<br>how it ran", long)
    ]
    third_line = (78, 92)  # below two lines of the larger font, above the plot
    assert _ink_rows(frames[0], *third_line) == 0
    assert _ink_rows(frames[1], *third_line) >= 4
