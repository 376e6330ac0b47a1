"""How fast is the slides export? The race as GIF and MP4 against one contour PNG export.

A 200-step, 6-run race on Rosenbrock (one run diverges, as in a real class), rendered
by ``ui.slides.race_gif`` and ``ui.slides.race_mp4``. Reference, timed in the same
run: ``ui.export.png_bytes`` of the same race's ``contour_figure`` (a warm renderer:
the browser's start-up is paid before timing). Target: each export under 3x the PNG.
The standalone HTML is timed too (no target: it is one Plotly serialization).

Usage: ``python benchmarks/bench_slides.py``. A measurement, not a test.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import optim  # noqa: E402
from ui import export, figures, slides  # noqa: E402
from ui.figures import PALETTE, Series  # noqa: E402

REPEATS = 3
RUNS = (
    ("adam", 0.05),
    ("sgd", 0.002),
    ("momentum", 0.001),
    ("rmsprop", 0.01),
    ("adagrad", 0.5),
    ("sgd", 0.02),
)


def best_of(fn, repeats: int = REPEATS) -> float:
    fn()  # warm-up
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def main() -> None:
    s = optim.make_surface("rosenbrock")
    series = []
    for i, (name, lr) in enumerate(RUNS):
        traj = optim.run(s, optim.make_optimizer(name, lr=lr), s.start, 200)
        series.append(Series(f"{optim.OPTIMIZERS[name].label} lr={lr}", PALETTE[i], traj))
    title = f"{s.label}: 6 optimizers, 200 steps from (-1.5, 2)"
    fig = figures.contour_figure(s, series, grid=figures.surface_grid(s), title=title)
    if not export.export_available():
        print("no Chromium: the PNG reference cannot be measured")
        return
    png = best_of(lambda: export.png_bytes(fig))
    gif = best_of(lambda: slides.race_gif(s, series, title))
    mp4 = best_of(lambda: slides.race_mp4(s, series, title))
    page = best_of(lambda: slides.race_html(fig))
    n = len(slides.frame_steps(series))
    sizes = [len(f(s, series, title)) / 1e6 for f in (slides.race_gif, slides.race_mp4)]
    print(f"race: 6 runs x 200 steps, {n} frames at 1280x720 (+{slides.HOLD_FRAMES} held in MP4)")
    print(f"contour PNG export (reference) {png * 1000:8.0f} ms")
    print(
        f"GIF  {gif * 1000:8.0f} ms  = {gif / png:4.2f}x the PNG   ({sizes[0]:.1f} MB)  target < 3x"
    )
    print(
        f"MP4  {mp4 * 1000:8.0f} ms  = {mp4 / png:4.2f}x the PNG   ({sizes[1]:.2f} MB)  target < 3x"
    )
    print(f"HTML {page * 1000:8.0f} ms  (standalone, plotly.js inlined)")
    export.shutdown()


if __name__ == "__main__":
    main()
