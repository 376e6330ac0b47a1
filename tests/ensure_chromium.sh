#!/usr/bin/env bash
# Make sure a Chromium exists for the browser tests and PNG export, in this order:
#   1. $CHROMIUM_PATH or a chromium already on the system (Debian: /usr/bin/chromium);
#   2. Debian's `chromium` package, when we are root and apt-get is there;
#   3. Playwright's own browser download, for systems without either;
# and otherwise stop with a message that says what to install.
set -u
BIN=${1:-.venv/bin}

for candidate in "${CHROMIUM_PATH:-}" /usr/bin/chromium /usr/bin/chromium-browser \
                 "$(command -v chromium 2>/dev/null)" "$(command -v chromium-browser 2>/dev/null)"; do
  if [ -n "$candidate" ] && [ -x "$candidate" ]; then
    echo "chromium: $candidate"
    exit 0
  fi
done

if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "chromium: not found, installing Debian's chromium package"
  export DEBIAN_FRONTEND=noninteractive
  if apt-get update -qq && apt-get install -y -qq chromium fonts-dejavu-core >/dev/null; then
    echo "chromium: /usr/bin/chromium"
    exit 0
  fi
  echo "chromium: apt-get install chromium failed" >&2
fi

echo "chromium: no system Chromium; trying Playwright's browser download"
if "$BIN/playwright" install chromium; then
  exit 0
fi

cat >&2 <<'MSG'
No Chromium is available, and none could be installed.
Install one and run `make test` again, for example:
  Debian/Ubuntu:  sudo apt-get install chromium
  Fedora:         sudo dnf install chromium
  macOS:          brew install --cask chromium
or point CHROMIUM_PATH at an existing Chromium or Chrome binary.
MSG
exit 1
