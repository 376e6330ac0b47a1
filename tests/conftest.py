"""Shared fixtures: the app served on a free loopback port, and a headless Chromium.

Browser tests use Debian's Chromium (or ``$CHROMIUM_PATH``) through Playwright's
sync API; without a Chromium they fail and say what to install (never skipped).
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_ready(url: str, proc: subprocess.Popen, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"streamlit exited with code {proc.returncode}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.2)  # polling a server that is starting, not waiting on the page
    raise TimeoutError(f"streamlit did not answer on {url} within {timeout:.0f} s")


@contextlib.contextmanager
def serve_app() -> Iterator[str]:
    """Start ``streamlit run app.py`` on a free loopback port; yield its base URL."""
    port = free_port()
    cmd = [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(ROOT / "app.py"),
        "--server.port",
        str(port),
        "--server.address",
        "127.0.0.1",
        "--server.headless",
        "true",
        "--browser.gatherUsageStats",
        "false",
        "--server.fileWatcherType",
        "none",
    ]
    # The server's log goes to a file, never to an unread pipe: once a pipe's buffer
    # fills up (Streamlit's and the PNG exporter's logging), the server blocks on its
    # next write and the page stops answering in the middle of a test.
    ARTIFACTS.mkdir(exist_ok=True)
    log = open(ARTIFACTS / f"server-{port}.log", "wb")  # noqa: SIM115 (closed below)
    proc = subprocess.Popen(
        cmd,
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_ready(url, proc)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


@pytest.fixture(scope="session")
def app_url() -> Iterator[str]:
    """One app server shared by all browser tests."""
    with serve_app() as url:
        yield url


@pytest.fixture
def fresh_app_url() -> Iterator[str]:
    """A server that has not served anything yet (deep links on a fresh start)."""
    with serve_app() as url:
        yield url


def _chromium() -> str | None:
    try:
        from pages.ui.export import chromium_path
    except ImportError:
        return os.environ.get("CHROMIUM_PATH") or (
            "/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None
        )
    return chromium_path()


@pytest.fixture(scope="session")
def chromium_executable() -> str:
    # never skip: a missing browser is a failure that says what to install
    path = _chromium()
    if not path:
        pytest.fail(
            "no Chromium found: install one (Debian: apt-get install chromium), run "
            "`.venv/bin/playwright install chromium`, or set CHROMIUM_PATH"
        )
    return path


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args, chromium_executable):
    """pytest-playwright's launch arguments: the system Chromium, headless, quiet."""
    return {
        **browser_type_launch_args,
        "executable_path": chromium_executable,
        "args": CHROMIUM_ARGS,
        "headless": True,
    }


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS
