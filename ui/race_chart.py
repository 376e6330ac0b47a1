"""The race chart as a component of its own: one plot updated in place, not redrawn.

``st.plotly_chart`` names its element after the figure, so every new setting mounts a
new chart (a full ``Plotly.newPlot``). This component keeps one plot for the page's
life and hands each new figure to ``Plotly.react``, which redraws only what changed;
its frames and its Play/speed buttons and step slider (the figure's own updatemenus
and sliders) come along unchanged.

It draws with plotly.js's cartesian build, or the full bundle inside the Python ``plotly``
package (see :mod:`ui.plotly_bundle`), served by
Streamlit's static file serving (``server.enableStaticServing``: the app folder's
``static/`` at ``app/static/``). The file is copied there when this module is imported
and is never committed: no CDN, so the app works offline and behind the balancer.

A click on the map comes back as the event ``selection``, shaped like
``st.plotly_chart``'s selection (``{"points": [{"x": …, "y": …}]}``), so
``st.session_state[key]["selection"]`` reads the same as before.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import tempfile
from collections.abc import Callable

import plotly.graph_objects as go
import streamlit as st
from plotly.io.json import to_json_plotly

from ui import plotly_bundle
from ui.race_heads import HEADS_JS

_log = logging.getLogger(__name__)
STATIC = plotly_bundle.ROOT / "static"  # next to app.py
_SOURCE = plotly_bundle.source()  # the cartesian build, or the plotly package's full one


def bundle_name() -> str:
    """The served file's name, after the build and its plotly.js release: a new name for
    new contents, so browsers and the balancer may keep it. ``deploy/serve.py`` names it
    the same way when it compresses it for the balancer."""
    return plotly_bundle.name(_SOURCE)


def ensure_bundle() -> str | None:
    """Copy the chosen plotly.js into ``static/`` unless it is there; return its name,
    or ``None`` when the folder cannot be written (a read-only deployment that did not
    copy it in advance): the race is then drawn by ``st.plotly_chart``, as before.

    Several app processes may start at once: each writes a temporary file and renames
    it into place, so no browser ever reads half a file.
    """
    name = bundle_name()
    target = STATIC / name
    try:
        if not target.exists() or target.stat().st_size != _SOURCE.stat().st_size:
            STATIC.mkdir(exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=STATIC, suffix=".part")
            os.close(fd)
            shutil.copyfile(_SOURCE, tmp)
            # readable by all: an image copies it as root, then serves it as the app's user
            # (a temporary file is made private)
            os.chmod(tmp, 0o644)
            os.replace(tmp, target)
        if target.stat().st_mode & 0o444 != 0o444:
            os.chmod(target, 0o644)  # a private copy left by an older version
    except OSError:
        _log.warning("race chart: cannot put plotly.js into %s; using st.plotly_chart", STATIC)
        return None
    return name


BUNDLE = ensure_bundle()

# The module runs in the page itself (no iframe). ``parentElement`` stays the same node
# while the element lives, so the plot kept on it is found again on the next render.
_JS = r"""
const BUNDLE = "app/static/__BUNDLE__";

// Every animation frame, plotly.js lists each trace's array attributes afresh by
// walking the trace type's whole attribute schema: 40% of a frame of the race, and the
// answer only changes when a trace gains or loses an attribute. Our frames only put new
// arrays where arrays were (x, y, customdata), so the answer is kept per input trace
// (``_input``: the same object for the plot's life, a new one after Plotly.react) and
// its attribute names. plotly.js uses the list for the extra fields of hover and click
// events only. If a release stops calling it through PlotSchema, this does nothing.
function rememberArrayAttributes(Plotly) {
  const schema = Plotly.PlotSchema;
  const find = schema && schema.findArrayAttributes;
  if (typeof find !== "function") return Plotly;
  const memo = new WeakMap();
  schema.findArrayAttributes = function (trace) {
    const input = trace && trace._input;
    if (!input || typeof input !== "object") return find.call(this, trace);
    const names = Object.keys(input).join();
    let kept = memo.get(input);
    if (!kept || kept.names !== names) {
      kept = {names, found: find.call(this, trace)};
      memo.set(input, kept);
    }
    return kept.found.slice();
  };
  return Plotly;
}

// A typed array comes as {dtype, bdata: base64}. plotly.js decodes it whenever it fills in
// a figure's defaults: every trace, every animation frame (the contour's iso-lines and
// click grid are thousands of points). Decoded once here, before plotly.js sees it.
// Little-endian like the sender; a 2-D array (hover data) becomes rows of one buffer, as
// plotly.js makes it; more dimensions are left to plotly.js.
const TYPED = {
  f8: Float64Array, f4: Float32Array, i4: Int32Array, u4: Uint32Array, i2: Int16Array,
  u2: Uint16Array, i1: Int8Array, u1: Uint8Array, u1c: Uint8ClampedArray,
};
function decodeTyped(node) {
  if (Array.isArray(node)) {
    for (let i = 0; i < node.length; i++) node[i] = decodeTyped(node[i]);
  } else if (node && typeof node === "object") {
    const shape = String(node.shape === undefined ? "" : node.shape).split(",").map(Number);
    if (typeof node.bdata === "string" && TYPED[node.dtype] && shape.length <= 2) {
      const bin = atob(node.bdata);
      const bytes = new Uint8Array(bin.length);
      for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
      const flat = new TYPED[node.dtype](bytes.buffer);
      if (shape.length < 2) return flat;
      const [rows, cols] = shape;
      if (!(rows * cols === flat.length)) return node;
      return Array.from({length: rows}, (_, r) => flat.subarray(r * cols, (r + 1) * cols));
    }
    for (const key in node) node[key] = decodeTyped(node[key]);
  }
  return node;
}

// The side panels' "shown step" cursors are drawn over the plot by this script, not by
// plotly.js: as traces, every animation frame filled in their defaults and drew four more
// traces (a tenth of a frame). The figure keeps them (a PNG export draws them as traces);
// here they are hidden and left out of the frames, each frame's cursor step is noted, and
// a line per panel, dashed as plotly.js would, moves on every frame shown.
const SVG = "http://www.w3.org/2000/svg";
function takeCursors(fig) {
  const race = fig.layout && fig.layout.meta && fig.layout.meta.race;
  const idx = (race && race.cursors) || [];
  if (!idx.length) return null;
  const hidden = new Set(idx);
  const panels = idx.map(i => {
    const t = fig.data[i];
    t.visible = false;  // plotly.js skips a hidden trace's defaults
    return {x: t.xaxis || "x", y: t.yaxis || "y", lo: t.y[0], hi: t.y[1], line: t.line || {}};
  });
  const steps = {};
  for (const fr of fig.frames || []) {
    if (!fr.traces) continue;
    const traces = [], data = [];
    fr.traces.forEach((t, j) => {
      if (!hidden.has(t)) {
        traces.push(t);
        data.push(fr.data[j]);
      } else if (fr.name !== undefined && fr.data[j].x) {
        steps[fr.name] = fr.data[j].x[0];
      }
    });
    fr.traces = traces;
    fr.data = data;
  }
  return {panels, steps, step: fig.data[idx[0]].x[0]};
}

function axisOf(layout, id) {
  return layout[id.replace(/^([xy])/, "$1axis")];
}

function drawCursors(gd) {
  const cursors = gd.__cursors, layout = gd._fullLayout;
  let svg = gd.querySelector("svg.race-cursors");
  const paper = layout && layout._paper && layout._paper.node();
  if (!cursors || !paper) {
    if (svg) svg.remove();
    return;
  }
  if (!svg || svg.previousSibling !== paper) {  // above the plots, under the hover labels
    if (svg) svg.remove();
    svg = document.createElementNS(SVG, "svg");
    svg.setAttribute("class", "race-cursors");
    svg.style.cssText = "position:absolute;left:0;top:0;overflow:visible;pointer-events:none";
    paper.parentNode.insertBefore(svg, paper.nextSibling);
  }
  svg.setAttribute("width", layout.width);
  svg.setAttribute("height", layout.height);
  while (svg.childNodes.length < cursors.panels.length) svg.appendChild(document.createElementNS(SVG, "line"));
  while (svg.childNodes.length > cursors.panels.length) svg.lastChild.remove();
  cursors.panels.forEach((p, k) => {
    const line = svg.childNodes[k], xa = axisOf(layout, p.x), ya = axisOf(layout, p.y);
    line.setAttribute("class", "race-cursor");
    line.dataset.step = cursors.step;
    const x = xa ? xa._offset + xa.c2p(cursors.step) : NaN;
    if (!ya || !(x >= xa._offset - 0.5 && x <= xa._offset + xa._length + 0.5)) {
      line.setAttribute("visibility", "hidden");
      return;
    }
    // its data range, within the panel (a log axis cannot place a zero)
    const top = ya._offset, bottom = ya._offset + ya._length;
    const clamp = (v, dflt) => (Number.isFinite(v) ? Math.min(bottom, Math.max(top, v)) : dflt);
    const y0 = clamp(ya._offset + ya.c2p(p.hi), top), y1 = clamp(ya._offset + ya.c2p(p.lo), bottom);
    const width = p.line.width === undefined ? 2 : p.line.width;
    const dash = Math.max(width, 3);  // plotly.js's dash lengths
    const dashes = {dot: `${dash}px,${dash}px`, dash: `${3 * dash}px,${3 * dash}px`};
    line.setAttribute("visibility", "visible");
    line.setAttribute("x1", x);
    line.setAttribute("x2", x);
    line.setAttribute("y1", y1);  // drawn from its low end up, as the trace was
    line.setAttribute("y2", y0);
    line.setAttribute("stroke", p.line.color || "#444");
    line.setAttribute("stroke-width", width);
    line.setAttribute("stroke-dasharray", dashes[p.line.dash] || "");
  });
}

// The scrubber's "step N (1× plays …)" readout is drawn by this script too. plotly.js
// writes and styles it once for every step of the scrubber whenever the figure is
// redrawn (to size the box it keeps for it: a tenth of a new setting's redraw), and
// again on every animation frame. Here plotly.js keeps the same box (the scrubber's top
// padding grows by its height) and one text element in it changes with the step shown.
// The figure itself keeps plotly.js's own readout (a PNG export draws it).
const LINE_SPACING = 1.3;  // plotly.js's line height, in font sizes
const TEXT_HEIGHTS = new Map();
function takeReadout(fig) {
  const layout = fig.layout || {};
  const slider = (layout.sliders || [])[0];
  const cv = slider && slider.currentvalue;
  if (!cv || cv.visible === false || (cv.xanchor && cv.xanchor !== "left")) return null;
  const font = Object.assign({}, layout.font || {}, slider.font || {}, cv.font || {});
  const family = font.family || '"Open Sans", verdana, arial, sans-serif';
  const size = font.size || 12;
  const labels = (slider.steps || []).map(step => String(step.label === undefined ? "" : step.label));
  const text = label => (cv.prefix || "") + label + (cv.suffix || "");
  // the height plotly.js would keep: its text's, measured as plotly.js does (one line:
  // the font's line box, the same for every step; measured once per font and size)
  const fontKey = family + "|" + size;
  let height = TEXT_HEIGHTS.get(fontKey);
  if (height === undefined) {
    const probe = document.createElementNS(SVG, "svg");
    probe.style.cssText = "position:absolute;left:-10000px;top:-10000px;width:0;height:0";
    const t = document.createElementNS(SVG, "text");
    t.style.fontFamily = family;
    t.style.fontSize = size + "px";
    t.style.whiteSpace = "pre";  // spaces kept, as plotly.js keeps them
    t.textContent = text(labels[labels.length - 1] || "");
    probe.appendChild(t);
    document.body.appendChild(probe);
    height = Math.ceil(t.getBoundingClientRect().height);
    probe.remove();
    TEXT_HEIGHTS.set(fontKey, height);
  }
  const reserved = height + (cv.offset === undefined ? 10 : cv.offset);
  cv.visible = false;
  slider.pad = Object.assign({}, slider.pad || {}, {t: ((slider.pad || {}).t || 0) + reserved});
  return {text, labels, reserved, family, size, color: font.color || "#444",
          label: labels[slider.active === undefined ? 0 : slider.active]};
}

function drawReadout(gd) {
  const readout = gd.__readout;
  const group = gd.querySelector(".slider-group");
  let node = gd.querySelector("text.race-step-readout");
  if (!readout || !group) {
    if (node) node.remove();
    return;
  }
  if (!node || node.parentNode !== group) {
    if (node) node.remove();
    node = document.createElementNS(SVG, "text");
    node.setAttribute("class", "race-step-readout");
    node.setAttribute("text-anchor", "start");
    group.insertBefore(node, group.firstChild);  // under the grip, as plotly.js's was
  }
  node.style.fontFamily = readout.family;
  node.style.fontSize = readout.size + "px";
  node.style.fill = readout.color;
  node.style.whiteSpace = "pre";
  node.setAttribute("x", 0);
  node.setAttribute("y", readout.size * LINE_SPACING - readout.reserved);
  node.textContent = readout.text(readout.label);
}

__HEADS_JS__
function loadPlotly() {
  // once per page: every chart and every render share one script tag
  if (!window.__raceChartPlotly) {
    window.__raceChartPlotly = new Promise((resolve, reject) => {
      const s = document.createElement("script");
      s.src = new URL(BUNDLE, document.baseURI).href;
      s.onload = () => resolve(rememberArrayAttributes(window.Plotly));
      s.onerror = () => {
        window.__raceChartPlotly = null;  // a later render tries again
        reject(new Error("could not load " + s.src));
      };
      document.head.appendChild(s);
    });
  }
  return window.__raceChartPlotly;
}

// the coordinates of a clicked point, as st.plotly_chart's selection gives them
function selection(ev) {
  const points = (ev.points || [])
    .filter(p => typeof p.x === "number" && typeof p.y === "number")
    .map(p => ({x: p.x, y: p.y, curve_number: p.curveNumber, point_index: p.pointIndex}));
  return {points};
}

export default function (component) {
  const {data, parentElement, setTriggerValue} = component;
  if (!data) return;
  let gd = parentElement.querySelector(".race-chart");
  if (!gd) {
    gd = document.createElement("div");
    gd.className = "race-chart";
    parentElement.appendChild(gd);
  }
  // bytes: "<digest> <clickable 0|1>\n<figure JSON>"; a rerun that sends the same
  // figure again is seen on the first line and leaves the plot alone
  const text = new TextDecoder().decode(data);
  const newline = text.indexOf("\n");
  const [digest, clickable] = text.slice(0, newline).split(" ");
  gd.__clickable = clickable === "1";
  if (digest === gd.__digest) return;
  gd.__digest = digest;  // renders may overtake one another while plotly.js loads
  loadPlotly().then(Plotly => {
    if (gd.__digest !== digest) return;
    const fig = JSON.parse(text.slice(newline + 1));
    decodeTyped(fig.data);
    decodeTyped(fig.frames || []);
    gd.__cursors = takeCursors(fig);
    gd.__readout = takeReadout(fig);
    fig.config = {displaylogo: false, responsive: true};
    const first = !gd._fullLayout;
    if (first) gd.textContent = "";  // a message left by a failed load
    return (first ? Plotly.newPlot(gd, fig) : Plotly.react(gd, fig)).then(() => {
      if (first) {
        gd.on("plotly_click", ev => {
          if (gd.__clickable) setTriggerValue("selection", selection(ev));
        });
        gd.on("plotly_animatingframe", ev => {
          const step = gd.__cursors && gd.__cursors.steps[ev.name];
          if (step === undefined) return;
          gd.__cursors.step = step;
          drawCursors(gd);
        });
        // the scrubber moves on every frame shown, and when dragged or clicked
        gd.on("plotly_sliderchange", ev => {
          if (!gd.__readout || !ev || !ev.step) return;
          gd.__readout.label = gd.__readout.labels[ev.step._index];
          drawReadout(gd);
        });
        gd.on("plotly_afterplot", () => {  // resized, zoomed, redrawn
          drawCursors(gd);
          drawReadout(gd);
        });
        watchHeads(Plotly, gd);
      } else {
        syncHeads(Plotly, gd);  // a new figure keeps the runs hidden from the legend
      }
      drawCursors(gd);
      drawReadout(gd);
    });
  }).catch(err => {
    gd.__digest = null;  // the next render tries again
    console.error("race chart:", err);
    if (!gd._fullLayout) {
      gd.textContent = "The race chart could not be drawn (its drawing library did not " +
        "load). Reload the page to try again.";
    }
  });
}
""".replace("__BUNDLE__", BUNDLE or "").replace("__HEADS_JS__", HEADS_JS)

# While the race plays, Chromium re-layers and repaints the whole page on every frame, the
# sidebar's many widgets included (about 2-3 ms of a 33 ms frame at 2x). As a compositing
# layer of its own, the unchanged sidebar is reused instead. Only where the race chart is.
_CSS = """
.race-chart { width: 100%; }
[data-testid="stSidebarContent"] { will-change: transform; contain: layout paint; }
"""

_component = st.components.v2.component("race_chart", js=_JS, css=_CSS, isolate_styles=False)


def _sent(figure: go.Figure, clickable: bool) -> bytes:
    """``"<digest> <clickable 0|1>\\n<figure JSON>"``, the bytes the chart's script reads.

    Kept on the figure object: the page's figures are cached (ui.runs), so a rerun that
    shows the same one reuses its bytes instead of encoding ~0.3 MB of JSON again (plotly
    figures take underscored attributes only; two threads at once would store equal bytes).
    """
    kept = getattr(figure, "_race_chart_sent", None)
    if kept is None:
        spec = to_json_plotly(figure.to_dict()).encode()
        digest = hashlib.blake2b(spec, digest_size=12).hexdigest()
        kept = {flag: f"{digest} {int(flag)}\n".encode() + spec for flag in (False, True)}
        figure._race_chart_sent = kept
    return kept[clickable]


def race_chart(
    figure: go.Figure, *, key: str, on_select: Callable[[], None] | None = None
) -> dict | None:
    """Draw ``figure`` (data, layout, frames; a cached figure object is encoded once)
    under ``key``.

    ``on_select``: called after a click on the map (then ``st.session_state[key]``
    holds ``{"selection": {"points": [...]}}``); ``None``: clicks do nothing. Returns
    the last click's selection, or ``None``.
    """
    if BUNDLE is None:
        st.plotly_chart(
            figure,
            key=key,
            width="stretch",
            theme=None,  # the figure's own template, so the screen matches the exported PNG
            on_select=on_select or "ignore",
            selection_mode="points",
        )
        return None
    data = _sent(figure, on_select is not None)
    result = _component(key=key, data=data, on_selection_change=on_select or (lambda: None))
    return result.selection


def sent_figure(data: bytes) -> dict:
    """The figure inside what :func:`race_chart` sends (for tests that read the page)."""
    return json.loads(data.split(b"\n", 1)[1])


def sent_clickable(data: bytes) -> bool:
    """Whether what :func:`race_chart` sends lets a click on the map come back."""
    return data.split(b"\n", 1)[0].split()[1] == b"1"
