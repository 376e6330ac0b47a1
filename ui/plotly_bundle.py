"""Which plotly.js file the race chart loads, and under what name it is served.

The race chart draws only scatter traces on cartesian axes, so it prefers plotly.js's
*cartesian* build (``plotly.js-cartesian-dist-min`` from npm, pinned in
``package.json``; ``make`` installs it into ``node_modules/``): about a third of the
full bundle once compressed, some 1 MB less for every student's first visit. It is used
only when it is the very plotly.js release the Python ``plotly`` package draws for;
otherwise, or where npm was not run, the full bundle inside the ``plotly`` package is
served, as before.

No Streamlit here: ``deploy/serve.py`` names the file the same way when it compresses it
for the balancer.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path

import plotly

ROOT = Path(__file__).resolve().parent.parent  # next to app.py
FULL = Path(plotly.__file__).resolve().parent / "package_data" / "plotly.min.js"
CARTESIAN = ROOT / "node_modules" / "plotly.js-cartesian-dist-min" / "plotly-cartesian.min.js"

_log = logging.getLogger(__name__)


def version(path: Path) -> str | None:
    """The plotly.js release a bundle states in its opening comment (``None``: no file,
    or none stated)."""
    try:
        with open(path, "rb") as f:
            head = f.read(400).decode("utf-8", "replace")
    except OSError:
        return None
    m = re.search(
        r"plotly\.js\b[^\n]*? v(\d+\.\d+\.\d+\S*)", head
    )  # "(cartesian - minified) v4.1.1"
    return m[1] if m else None


def source(cartesian: Path = CARTESIAN, full: Path = FULL) -> Path:
    """The file to serve: the cartesian build when it matches the full bundle's release."""
    wanted = version(full)
    if cartesian.exists():
        found = version(cartesian)
        if found is not None and found == wanted:
            return cartesian
        _log.warning(
            "%s is plotly.js %s, but the plotly package draws for %s: serving the full bundle "
            "(run `make` to install the pinned release)",
            cartesian,
            found,
            wanted,
        )
    return full


def name(path: Path) -> str:
    """The served name: the build and its release, so new contents get a new name and
    browsers and the balancer may keep a file forever."""
    kind = "plotly-cartesian" if path.name.startswith("plotly-cartesian") else "plotly"
    return f"{kind}-{version(path) or plotly.__version__}.min.js"
