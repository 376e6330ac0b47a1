#!/usr/bin/env bash
# Install the race chart's plotly.js build (package.json: plotly.js-cartesian-dist-min)
# into node_modules/ with `npm ci`. Without npm the app still works: it serves the full
# plotly.js inside the Python plotly package, about 1 MB more for each first visit.
#   --install: when npm is missing and we are root with apt-get, install Debian's npm first
#              (make test and make serve; make run only uses an npm that is there).
# Always exits 0: a missing npm is a note, not a failure.
set -u
cd "$(dirname "$0")/.."
STAMP=node_modules/.stamp

if ! command -v npm >/dev/null 2>&1 && [ "${1:-}" = "--install" ] \
   && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "plotly.js: npm not found, installing Debian's npm package"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq && apt-get install -y -qq npm >/dev/null \
    || echo "plotly.js: apt-get install npm failed" >&2
fi

if ! command -v npm >/dev/null 2>&1; then
  echo "plotly.js: npm not found; the race chart serves the plotly package's full bundle" \
       "(install Node.js and npm, then run make again, for a first visit 1 MB lighter)" >&2
  exit 0
fi

if npm ci --no-audit --no-fund --ignore-scripts --loglevel=error; then
  touch "$STAMP"
  echo "plotly.js: $(ls node_modules/plotly.js-cartesian-dist-min/*.min.js)"
else
  echo "plotly.js: npm ci failed; the race chart serves the plotly package's full bundle" >&2
fi
exit 0
