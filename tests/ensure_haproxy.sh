#!/usr/bin/env bash
# Make sure HAProxy exists for `make serve` and the test that runs it:
#   1. one already installed (Debian: /usr/sbin/haproxy);
#   2. Debian's `haproxy` package, when we are root and apt-get is there;
# and otherwise stop with a message that says what to install.
set -u
for candidate in "$(command -v haproxy 2>/dev/null)" /usr/sbin/haproxy /usr/local/sbin/haproxy; do
  if [ -n "$candidate" ] && [ -x "$candidate" ]; then
    echo "haproxy: $candidate"
    exit 0
  fi
done

if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "haproxy: not found, installing Debian's haproxy package"
  export DEBIAN_FRONTEND=noninteractive
  if apt-get update -qq && apt-get install -y -qq haproxy >/dev/null; then
    echo "haproxy: /usr/sbin/haproxy"
    exit 0
  fi
  echo "haproxy: apt-get install haproxy failed" >&2
fi

cat >&2 <<'MSG'
HAProxy is not installed, and it could not be installed.
Install it and run the command again, for example:
  Debian/Ubuntu:  sudo apt-get install haproxy
  Fedora:         sudo dnf install haproxy
  macOS:          brew install haproxy
MSG
exit 1
