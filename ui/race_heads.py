"""The script a page showing the race runs beside plotly.js (the app's race chart, the
exported HTML slides) so that the runs' heads follow the legend.

The heads are one trace of their own (see :mod:`ui.figures.race`), in no run's legend
group: this script hides a hidden run's head point by point.
"""

# A page calls ``watchHeads(Plotly, gd)`` once, after its first plot, and
# ``syncHeads(Plotly, gd)`` after every later one (a new figure, the legend kept).
HEADS_JS = r"""
// The runs' heads are one trace of their own, drawn over every path (its points move
// with the frames, and no frame redraws a marker for each point of a newest stretch), so
// they are in no run's legend group: a run hidden from the legend (a click, or a double
// click isolating another) has its head hidden by syncHeads, point by point. Frames
// carry only the heads' x, y and hover data, so the opacity set here stays while the
// race plays.
function headOpacity(gd) {
  const race = gd._fullLayout && gd._fullLayout.meta && gd._fullLayout.meta.race;
  const idx = race && race.heads, groups = race && race.head_groups;
  if (typeof idx !== "number" || !Array.isArray(groups) || !gd._fullData[idx]) return null;
  const shown = new Set();
  for (const t of gd._fullData) if (t.visible === true && t.legendgroup) shown.add(t.legendgroup);
  return {idx, opacity: groups.map(g => (shown.has(g) ? 1 : 0))};
}

function syncHeads(Plotly, gd) {
  const want = headOpacity(gd);
  if (!want) return;
  const now = (gd.data[want.idx].marker || {}).opacity;
  const same = Array.isArray(now)
    ? now.length === want.opacity.length && now.every((v, i) => v === want.opacity[i])
    : want.opacity.every(v => v === (now === undefined ? 1 : now));
  // a restyle fires plotly_restyle again: it then finds nothing to change
  if (!same) Plotly.restyle(gd, {"marker.opacity": [want.opacity]}, [want.idx]);
}

// A hidden run's head is still there, unseen: hovered, it says nothing (its label is
// drawn before plotly_hover fires, and taken away before the browser paints it).
function hidesHiddenHeads(Plotly, gd, ev) {
  const race = gd._fullLayout.meta && gd._fullLayout.meta.race;
  const heads = race && gd.data[race.heads];
  const opacity = heads && heads.marker && heads.marker.opacity;
  if (!Array.isArray(opacity) || !ev.points || !ev.points.length) return;
  if (ev.points.every(p => p.curveNumber === race.heads && opacity[p.pointNumber] === 0)) {
    Plotly.Fx.unhover(gd);
  }
}

// once per plot, after its first drawing
function watchHeads(Plotly, gd) {
  gd.on("plotly_restyle", () => syncHeads(Plotly, gd));  // a legend click among them
  gd.on("plotly_hover", ev => hidesHiddenHeads(Plotly, gd, ev));
  syncHeads(Plotly, gd);
}
"""
