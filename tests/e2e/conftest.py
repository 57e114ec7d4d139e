"""Fixtures of the browser tests: one live demo server and one Chromium for the whole run, a fresh
phone-sized page per test.

They run once, on SQLite, whatever the database backends of the rest of the suite: they never use
the `app` fixture. Without /usr/bin/chromium they are skipped on a developer's machine (.ci/test
installs it) and fail under CI.
"""

from collections.abc import Iterator

import pytest
from flask import Flask
from playwright.sync_api import Browser, Page, sync_playwright

from tests.conftest import IN_CI
from tests.e2e.harness import CHROMIUM, CHROMIUM_ARGS, PHONE, live_server

NO_CHROMIUM = f"{CHROMIUM} is missing: run `bash .ci/test`, which installs Debian's chromium"


@pytest.fixture(scope="session")
def live_url(demo_site: Flask) -> Iterator[str]:
    """http://localhost:PORT of the demo app (demo sign-in on, the demo organisation loaded)."""
    with live_server(demo_site) as url:
        yield url


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """Debian's headless Chromium, driven by Playwright (its own browser builds are not used)."""
    if not CHROMIUM.exists():
        if IN_CI:
            pytest.fail(f"CI=true: the browser tests may not be skipped. {NO_CHROMIUM}")
        pytest.skip(NO_CHROMIUM)
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Browser, live_url: str) -> Iterator[Page]:
    """A new phone-sized page in a fresh context (no cookies), relative URLs based on the server."""
    context = browser.new_context(base_url=live_url, **PHONE)
    context.set_default_timeout(10_000)
    page = context.new_page()
    yield page
    context.close()
