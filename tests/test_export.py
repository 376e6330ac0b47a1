"""PNG and CSV export: what a teacher downloads."""

from __future__ import annotations

import csv
import io
import os
import struct
import threading

import numpy as np
import plotly.graph_objects as go
import pytest

import optim
from ui import export, export_csv, figures
from ui.figures import PALETTE, Series


@pytest.fixture(scope="module")
def runs():
    s = optim.make_surface("bowl")
    out = []
    for i, (name, lr) in enumerate((("adam", 0.1), ("sgd", 1.2), ("momentum", 0.05))):
        traj = optim.run(s, optim.make_optimizer(name, lr=lr), s.start, 80)
        out.append(Series(f"{optim.OPTIMIZERS[name].label}  lr={lr}", PALETTE[i], traj))
    return s, out


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


# -- CSV -------------------------------------------------------------------------------


def read_csv(data: bytes) -> list[dict]:
    return list(csv.DictReader(io.StringIO(data.decode("utf-8"))))


def test_csv_columns_and_one_row_per_valid_step(runs):
    _, series = runs
    data = export_csv.trajectories_csv(series)
    header = data.decode("utf-8").splitlines()[0].split(",")
    assert header == [
        "optimizer",
        "step",
        "x",
        "y",
        "loss",
        "grad_x",
        "grad_y",
        "eff_lr_x",
        "eff_lr_y",
        "lr",
        "status",
    ]
    assert b"\r" not in data  # plain newlines, as every spreadsheet and pandas read them
    rows = read_csv(data)
    for ser in series:
        mine = [r for r in rows if r["optimizer"] == ser.label]
        assert len(mine) == int(ser.traj.valid_length)
        assert [int(r["step"]) for r in mine] == list(range(len(mine)))
        assert {r["status"] for r in mine} == {str(ser.traj.status)}


def test_csv_values_are_the_trajectory(runs):
    _, series = runs
    rows = read_csv(export_csv.trajectories_csv(series))
    for ser in series:
        t = ser.traj
        mine = [r for r in rows if r["optimizer"] == ser.label]
        xy = np.array([[float(r["x"]), float(r["y"])] for r in mine])
        assert np.array_equal(xy, t.params[: len(mine)])  # exact: full precision
        assert np.array_equal([float(r["loss"]) for r in mine], t.loss[: len(mine)])
        # step 0 is the start: nothing was applied yet
        assert all(mine[0][k] == "" for k in ("grad_x", "grad_y", "eff_lr_x", "eff_lr_y", "lr"))
        for r in mine[1:]:
            k = int(r["step"]) - 1
            assert float(r["grad_x"]) == t.grad[k, 0] and float(r["grad_y"]) == t.grad[k, 1]
            assert float(r["eff_lr_x"]) == t.effective_lr[k, 0]
            assert float(r["eff_lr_y"]) == t.effective_lr[k, 1]
            assert float(r["lr"]) == t.lr[k]


def test_csv_keeps_each_coordinate_and_each_steps_lr_apart():
    # Adam on an ill-conditioned bowl: the two coordinates' effective lrs differ; a
    # step schedule: the lr changes during the run
    s = optim.make_surface("bowl")
    sched = optim.make_schedule("step", step_size=10, gamma=0.5)
    traj = optim.run(s, optim.make_optimizer("adam", lr=0.1), s.start, 40, schedule=sched)
    rows = read_csv(export_csv.trajectories_csv([Series("Adam", PALETTE[0], traj)]))[1:]
    ex, ey = (np.array([float(r[c]) for r in rows]) for c in ("eff_lr_x", "eff_lr_y"))
    assert not np.allclose(ex, ey)
    np.testing.assert_array_equal(ey, traj.effective_lr[: len(rows), 1])
    lrs = np.array([float(r["lr"]) for r in rows])
    np.testing.assert_array_equal(lrs, 0.1 * sched.factors(40)[: len(rows)])
    assert sorted(set(lrs.tolist()), reverse=True) == [0.1, 0.05, 0.025, 0.0125]


def test_csv_of_a_diverged_run_stops_at_its_last_valid_row(runs):
    _, series = runs
    diverged = series[1]
    assert str(diverged.traj.status) == "diverged"
    rows = read_csv(export_csv.trajectories_csv([diverged]))
    assert len(rows) == int(diverged.traj.valid_length) < len(diverged.traj.params)
    assert all(r["x"] and r["y"] for r in rows)  # no empty coordinates


# -- browser lookup and failure ---------------------------------------------------------


def test_chromium_path_prefers_the_environment_variable(tmp_path, monkeypatch):
    fake = tmp_path / "my-chromium"
    fake.write_text("#!/bin/sh\n")
    fake.chmod(0o755)
    monkeypatch.setenv("CHROMIUM_PATH", str(fake))
    assert export.chromium_path() == str(fake)


def test_chromium_path_finds_playwrights_own_download_last(tmp_path, monkeypatch):
    # systems without a packaged Chromium get Playwright's download from `make test`
    monkeypatch.delenv("CHROMIUM_PATH", raising=False)
    monkeypatch.setattr(export, "_CANDIDATES", ())
    monkeypatch.setattr(export, "_NAMES", ())
    monkeypatch.setenv("HOME", str(tmp_path))
    assert export.chromium_path() is None
    fake = tmp_path / ".cache/ms-playwright/chromium-1234/chrome-linux64/chrome"
    fake.parent.mkdir(parents=True)
    fake.write_text("#!/bin/sh\n")
    fake.chmod(0o755)
    assert export.chromium_path() == str(fake)


def test_no_chromium_means_a_plain_export_unavailable(runs, monkeypatch):
    monkeypatch.setattr(export, "chromium_path", lambda: None)
    monkeypatch.setattr(export, "_renderer", None)
    assert not export.export_available()
    with pytest.raises(export.ExportUnavailable, match="Chromium"):
        export.png_bytes(figures.loss_figure(runs[1]))


def test_classroom_copy_enlarges_fonts_and_leaves_the_figure_alone(runs):
    s, series = runs
    fig = figures.contour_figure(s, series, grid=figures.surface_grid(s, n=40))
    before = fig.to_json()
    spec = export.classroom_copy(fig)
    assert fig.to_json() == before
    lay = spec["layout"]
    assert lay["font"]["size"] >= 18 and lay["title"]["font"]["size"] >= 24
    assert lay["legend"]["font"]["size"] >= 18 and lay["showlegend"]
    assert lay["xaxis"]["tickfont"]["size"] >= 18
    assert "frames" not in spec and "sliders" not in lay and "updatemenus" not in lay


# -- real PNGs (one Chromium, serialized with the other browser users) ------------------


@pytest.fixture
def needs_chromium(chromium_executable):
    """PNG tests need a Chromium: without one they fail and say what to install, never skip."""
    return chromium_executable


@pytest.mark.browser
@pytest.mark.usefixtures("needs_chromium")
def test_png_has_the_promised_size(runs):
    s, series = runs
    fig = figures.contour_figure(
        s, series, grid=figures.surface_grid(s, n=60), upto_step=40, animate=False
    )
    assert png_size(export.png_bytes(fig)) == (1600, 1000)
    assert png_size(export.png_bytes(figures.loss_figure(series), width=1700, height=900)) == (
        1700,
        900,
    )


@pytest.mark.browser
@pytest.mark.usefixtures("needs_chromium")
def test_concurrent_exports_each_get_their_own_image(runs):
    _, series = runs
    sizes = [(1600, 1000), (1650, 900), (1700, 1100)]
    got: dict[int, tuple[int, int]] = {}

    def work(i: int) -> None:
        w, h = sizes[i]
        got[i] = png_size(export.png_bytes(figures.effective_lr_figure(series), width=w, height=h))

    threads = [threading.Thread(target=work, args=(i,)) for i in range(len(sizes))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert got == dict(enumerate(sizes))


@pytest.mark.browser
@pytest.mark.usefixtures("needs_chromium")
def test_a_broken_browser_path_is_reported_not_hung(runs, tmp_path, monkeypatch):
    fake = tmp_path / "not-a-browser"
    fake.write_text("#!/bin/sh\nexit 1\n")
    fake.chmod(0o755)
    export.shutdown()
    monkeypatch.setattr(export, "chromium_path", lambda: os.fspath(fake))
    with pytest.raises(export.ExportUnavailable):
        export.png_bytes(figures.loss_figure(runs[1]))
    monkeypatch.undo()
    export.shutdown()


@pytest.mark.browser
@pytest.mark.usefixtures("needs_chromium")
def test_a_hung_render_is_given_up_and_the_next_export_works(runs):
    """A render that never finishes frees the queue within RENDER_TIMEOUT_S (<= 15 s):
    the export waiting behind it gets its picture, and so does the next one."""
    import asyncio
    import time

    assert export.RENDER_TIMEOUT_S <= 15
    fig = figures.loss_figure(runs[1])
    export.png_bytes(fig)  # a running renderer
    renderer = export._get_renderer()

    async def hang(*args, **kwargs):
        await asyncio.sleep(3600)

    renderer._kaleido.calc_fig = hang  # this browser's next render never ends
    outcome: dict[str, object] = {}

    def hung() -> None:
        t0 = time.monotonic()
        try:
            export.png_bytes(fig)
        except export.ExportUnavailable as err:
            outcome["hung"] = (str(err), time.monotonic() - t0)

    def behind() -> None:
        t0 = time.monotonic()
        outcome["behind"] = (export.png_bytes(fig), time.monotonic() - t0)

    first = threading.Thread(target=hung)
    first.start()
    while not export._lock.locked():  # the hung render holds the queue
        time.sleep(0.01)
    second = threading.Thread(target=behind)
    second.start()
    first.join(timeout=60)
    second.join(timeout=60)
    message, seconds = outcome["hung"]
    assert "given up" in message
    assert seconds < export.RENDER_TIMEOUT_S + 3
    png, waited = outcome["behind"]
    assert png_size(png) == (1600, 1000), "the export queued behind it"
    assert waited < export.RENDER_TIMEOUT_S + 30
    assert png_size(export.png_bytes(fig)) == (1600, 1000), "and the next one"


def test_every_exported_picture_states_the_setup_in_its_title():
    # a PNG travels alone (into slides): surface, runs and settings must be on it
    from ui import runs as page_runs
    from ui.controls import OptimizerChoice, RunSettings

    run = RunSettings(30, None, 0.0, 0, "constant", (), 1e-5, 3)
    choices = (
        OptimizerChoice("sgd", (("lr", 0.01),)),
        OptimizerChoice("adam", (("lr", 0.1), ("betas", (0.9, 0.99)))),
    )
    key = ("bowl", (), "")
    view = page_runs.View(key, choices, (-5.0, -2.0), run, False, "30 steps · early stop")
    for kind in ("contour_still", "eff_lr", "loss"):
        fig = page_runs.chart(view, kind, 10)
        title = fig.layout.title.text
        assert "Ill-conditioned bowl" in title, (kind, title)
        assert "SGD" in title and "Adam" in title and "lr=0.01" in title, (kind, title)
        assert fig.layout.title.subtitle.text == "30 steps · early stop", kind


@pytest.mark.browser
@pytest.mark.usefixtures("needs_chromium")
@pytest.mark.parametrize("lines", [1, 2, 4])
def test_a_title_of_any_length_starts_at_the_top_uncut(lines):
    from PIL import Image

    from ui.figures.style import relayout_header

    text = "<br>".join(f"Title line {i + 1} of the setup" for i in range(lines))
    layout = {
        "title": {"text": text, "x": 0.0, "font": {"size": 22}},
        "meta": {"header": {"title": text, "subtitle": "", "legend_items": []}},
        "paper_bgcolor": "white",
        "plot_bgcolor": "white",
    }
    relayout_header(layout, 22, 14, 500)
    fig = go.Figure(layout=layout)
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    img = np.asarray(Image.open(io.BytesIO(export.png_bytes(fig, width=800, height=500))))
    scale = img.shape[0] / 500
    dark = np.flatnonzero((img[..., :3].min(axis=-1) < 128).any(axis=1)) / scale
    assert not (dark < 2).any(), "the title is cut at the top"
    assert 4 <= dark.min() <= 20, dark.min()  # no empty band above it


def test_starting_the_browser_does_not_eat_the_pictures_time(runs, monkeypatch):
    """The first export after a start waits for its browser to come up, then gets the
    full render time (on a loaded machine a start took most of it, and the first
    picture failed as 'took longer than 15 s')."""
    import time

    class SlowStart:
        def __init__(self, browser: str) -> None:
            time.sleep(0.6)  # more than the whole render time below

        def render(self, fig, width, height, timeout):
            assert timeout > 0.4
            return b"picture"

    monkeypatch.setattr(export, "chromium_path", lambda: "chromium")
    monkeypatch.setattr(export, "_Renderer", SlowStart)
    monkeypatch.setattr(export, "_renderer", None)
    monkeypatch.setattr(export, "RENDER_TIMEOUT_S", 0.5)
    assert export.png_bytes(figures.loss_figure(runs[1])) == b"picture"


class _Broken:
    """A renderer whose browser says something only a developer can read."""

    words = "BrowserFailedError: `choreo_get_chrome` at /opt/x, code -11"

    def __init__(self, browser: str, start: bool = True) -> None:
        if start:
            raise RuntimeError(self.words)

    def render(self, fig, width, height, timeout):
        raise RuntimeError(self.words)

    def close(self) -> None:
        pass


@pytest.mark.parametrize("where", ["start", "render"])
def test_a_failing_browser_is_told_in_plain_words_and_logged_in_its_own(
    runs, monkeypatch, caplog, where
):
    """What a student reads says what happened and what to do; the browser's own message
    goes to the server's log."""
    monkeypatch.setattr(export, "chromium_path", lambda: "chromium")
    monkeypatch.setattr(export, "_renderer", None)
    monkeypatch.setattr(
        export, "_Renderer", _Broken if where == "start" else lambda b: _Broken(b, start=False)
    )
    with pytest.raises(export.ExportUnavailable) as info:
        export.png_bytes(figures.loss_figure(runs[1]))
    said = str(info.value)
    assert "try again" in said and "camera icon" in said
    assert "choreo" not in said and "Error" not in said and "/opt" not in said
    assert _Broken.words in caplog.text
