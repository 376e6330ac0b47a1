"""How the Playground feels in a real browser: slider-to-chart latency and animation frame rate.

Starts the app on a free loopback port, drives it with Playwright in headless
Chromium and prints a table:

* **slider latency**: focus a slider, press ArrowRight, stop the clock when the
  contour chart holds the new trajectories and the browser has painted them
  (median and worst of ``--presses`` presses; target <= 0.5 s);
* **animation**: press the chart's Play button and count the frames Plotly shows
  (``plotly_animatingframe`` events) and the frames in which the first run's head
  really changed position on screen (sampled every ``requestAnimationFrame``);
  target >= 25 frames per second.

Run it alone, with no other browser or test run on the machine (its timings are
the browser's own)::

    .venv/bin/python benchmarks/bench_browser.py

This is a measurement, not a test: it never fails on a slow result.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.appserver import CHROMIUM_ARGS, serve_app  # noqa: E402
from ui.export import chromium_path  # noqa: E402

LATENCY_TARGET_S = 0.5
FPS_TARGET = 25.0
TIMEOUT_MS = 90_000

# The contour chart is the Playground's first Plotly chart.
CHART = "document.querySelector('.st-key-contour .js-plotly-plot')"

# What the user sees of the runs: length and end of each series' traces (from the
# decoded ``_fullData``: ``data`` may still hold the base64 form of the arrays).
SIGNATURE = f"""() => {{
  const gd = {CHART};
  if (!gd || !gd._fullData) return '';
  return JSON.stringify(gd._fullData
    .filter(t => String(t.legendgroup || '').startsWith('series'))
    .map(t => [t.x.length, t.x[t.x.length - 1], t.y[t.y.length - 1]]));
}}"""

NEXT_PAINT = "() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame("
NEXT_PAINT += "() => r(performance.now()))))"


def wait_idle(page) -> None:
    """Until the chart has data and Streamlit's 'running' indicator is gone."""
    page.wait_for_function(
        f"() => {{ const gd = {CHART}; return gd && gd.data && gd.data.length > 0; }}",
        timeout=TIMEOUT_MS,
    )
    page.get_by_test_id("stStatusWidget").wait_for(state="detached", timeout=TIMEOUT_MS)


def slider_latency(page, name: str, presses: int) -> list[float]:
    """Seconds from ArrowRight on the slider to the repainted contour chart."""
    slider = page.get_by_role("slider", name=name).first
    out = []
    for _ in range(presses + 1):  # the first press warms caches and is not counted
        wait_idle(page)
        before = page.evaluate(SIGNATURE)
        slider.focus()
        t0 = page.evaluate("() => performance.now()")
        slider.press("ArrowRight")
        page.wait_for_function(
            f"(before) => ({SIGNATURE})() !== before", arg=before, timeout=TIMEOUT_MS
        )
        t1 = page.evaluate(NEXT_PAINT)
        out.append((t1 - t0) / 1000)
    return out[1:]


def animation_rate(page) -> dict:
    """Frames per second while the contour animation plays from the start."""
    wait_idle(page)
    page.evaluate(
        f"""() => {{
      const gd = {CHART};
      window.__events = []; window.__painted = []; window.__done = false;
      // the first run's head: the first point of the heads trace
      const head = gd._fullLayout.meta.race.heads;
      gd.on('plotly_animatingframe', () => window.__events.push(performance.now()));
      gd.on('plotly_animated', () => {{ window.__done = true; }});
      let last = null;
      const sample = () => {{
        // d3 keeps each trace's calcdata on its <g>; it names the trace index
        const trace = Array.from(gd.querySelectorAll('.scatterlayer .trace')).find(
          g => g.__data__ && g.__data__[0] && g.__data__[0].trace.index === head);
        const point = trace ? trace.querySelector('.point') : null;
        const pos = point ? point.getAttribute('transform') : null;
        if (pos !== null && pos !== last) {{ window.__painted.push(performance.now()); last = pos; }}
        if (!window.__done) requestAnimationFrame(sample);
      }};
      requestAnimationFrame(sample);
    }}"""
    )
    # the fastest speed (2x: 30 frames a second), arrows and cursors on
    page.locator(".updatemenu-button").filter(has_text="2×").first.click()
    page.wait_for_function("() => window.__done", timeout=TIMEOUT_MS)
    events = page.evaluate("() => window.__events")
    painted = page.evaluate("() => window.__painted")

    def rate(times: list[float]) -> float:
        if len(times) < 2:
            return float("nan")
        return (len(times) - 1) / ((times[-1] - times[0]) / 1000)

    return {
        "frames": len(events),
        "plotly_fps": rate(events),
        "painted": len(painted),
        "painted_fps": rate(painted),
        "seconds": (events[-1] - events[0]) / 1000 if len(events) > 1 else float("nan"),
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    # the noise slider has ten notches: nine presses (the first one warms up) fit on it
    ap.add_argument("--presses", type=int, default=8)
    ap.add_argument(
        "--slider", default="Gradient noise (std)", help="accessible name of the slider to press"
    )
    args = ap.parse_args()

    browser_path = chromium_path()
    if browser_path is None:
        print("No Chromium found (set CHROMIUM_PATH); nothing measured.")
        return 1
    from playwright.sync_api import sync_playwright

    with serve_app() as url, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=browser_path, args=CHROMIUM_ARGS, headless=True)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        t = time.perf_counter()
        page.goto(url)
        wait_idle(page)
        first_load = time.perf_counter() - t
        lat = slider_latency(page, args.slider, args.presses)
        anim = animation_rate(page)
        browser.close()

    med = statistics.median(lat)
    rows = [
        ("first load, chart drawn", f"{first_load:.2f} s", "", ""),
        (
            f"slider '{args.slider}' -> chart (median of {len(lat)})",
            f"{med:.3f} s",
            f"<= {LATENCY_TARGET_S} s",
            "ok" if med <= LATENCY_TARGET_S else "SLOW",
        ),
        ("  slowest press", f"{max(lat):.3f} s", "", ""),
        (
            f"animation: Plotly frames ({anim['frames']} in {anim['seconds']:.2f} s)",
            f"{anim['plotly_fps']:.1f} fps",
            f">= {FPS_TARGET:.0f} fps",
            "ok" if anim["plotly_fps"] >= FPS_TARGET else "SLOW",
        ),
        (
            f"animation: head moves painted ({anim['painted']})",
            f"{anim['painted_fps']:.1f} fps",
            f">= {FPS_TARGET:.0f} fps",
            "ok" if anim["painted_fps"] >= FPS_TARGET else "SLOW",
        ),
    ]
    width = max(len(r[0]) for r in rows)
    print(f"{'measure':<{width}}  {'result':>10}  {'target':>10}  verdict")
    for name, value, target, verdict in rows:
        print(f"{name:<{width}}  {value:>10}  {target:>10}  {verdict}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
