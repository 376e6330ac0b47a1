"""Shared fixtures: the app served on a free loopback port, and a headless Chromium.

Browser tests use Debian's Chromium (or ``$CHROMIUM_PATH``) through Playwright's
sync API; without a Chromium they fail and say what to install (never skipped).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.appserver import ARTIFACTS, CHROMIUM_ARGS, serve_app
from ui.export import chromium_path


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


@pytest.fixture(scope="session")
def chromium_executable() -> str:
    # never skip: a missing browser is a failure that says what to install
    path = chromium_path()
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
