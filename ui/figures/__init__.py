"""Figure builders: pure functions, data in and ``go.Figure`` out, testable without Streamlit.

One module per job:

* :mod:`.layers`: the loss on a grid, contour levels, the banded raster and iso-lines;
* :mod:`.style`: template, fonts, title and legend placement shared by every chart;
* :mod:`.series`: a run as drawn (label, colour, valid rows, thinned paths);
* :mod:`.contour`: the animated contour;
* :mod:`.surface3d`: the 3-D view;
* :mod:`.lines`: the effective-lr and loss charts (as exported);
* :mod:`.race`: the Playground's one animated figure (contour, line charts, data view);
* :mod:`.lab`: a lab's line chart (the Labs page);
* :mod:`.plotly_fast`: figures that skip Plotly's validation (the only use of its internals).

No LaTeX anywhere in here: the page has no MathJax, so formulas go through ``st.latex``.
"""

from .contour import FRAME_MS, contour_figure, frame_schedule
from .layers import contour_levels, surface_grid
from .lines import effective_lr_figure, loss_figure
from .race import at_step, race_figure, race_parts
from .series import PALETTE, Series
from .style import TEMPLATE, relayout_header
from .surface3d import surface3d_figure

__all__ = [
    "FRAME_MS",
    "PALETTE",
    "at_step",
    "race_figure",
    "race_parts",
    "TEMPLATE",
    "Series",
    "contour_figure",
    "contour_levels",
    "effective_lr_figure",
    "frame_schedule",
    "loss_figure",
    "relayout_header",
    "surface3d_figure",
    "surface_grid",
]
