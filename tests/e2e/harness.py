"""The browser-test harness: the demo app on a real port, Debian's Chromium, page helpers."""

import json
import logging
import re
import socket
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from playwright.sync_api import Locator, Page
from werkzeug.serving import make_server

from coachapp import create_app, demo_data
from coachapp.cli import init_database
from coachapp.extensions import db
from tests.conftest import IN_CI, SCREENSHOTS

CHROMIUM = Path("/usr/bin/chromium")
#: axe-core, installed from tests/e2e/package.json by .ci/test.
AXE = Path(__file__).parent / "node_modules" / "axe-core" / "axe.min.js"
#: WCAG 2.1 levels A and AA, and axe's best practices.
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

#: A phone of today: what a manager holds on the floor.
PHONE = {
    "viewport": {"width": 390, "height": 844},
    "is_mobile": True,
    "has_touch": True,
    "device_scale_factor": 2,
    "locale": "en-GB",
    "service_workers": "allow",
}


def _demo_config(database_path: Path) -> dict[str, object]:
    return {
        "SECRET_KEY": "e2e-secret-key-not-for-production",
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{database_path}",
        "DEMO_MODE": True,
        "HTTPS": False,
        "TRUSTED_PROXIES": 0,
        "RATELIMIT_STORAGE_URI": "memory://",
    }


def demo_database(database_path: Path) -> Path:
    """An SQLite file as `flask demo` fills it (migrated, the demo organisation loaded), closed:
    loading takes seconds, so a run loads it once and gives each demo server a copy."""
    app = create_app(_demo_config(database_path))
    with app.app_context():
        with _logging_kept():
            init_database()
        demo_data.load()
        db.session.remove()
        db.engine.dispose()
    return database_path


def demo_app(database_path: Path, *, copy_of: Path | None = None) -> Flask:
    """The app as `flask demo` runs it, on its own SQLite file, with the demo organisation: a copy
    of `copy_of` (made by demo_database), or loaded into a new file when there is none."""
    if copy_of is None:
        demo_database(database_path)
    else:
        # SQLite's online backup: a consistent copy of the file, whatever its journal holds.
        source, target = sqlite3.connect(copy_of), sqlite3.connect(database_path)
        try:
            source.backup(target)
        finally:
            source.close()
            target.close()
    return create_app(_demo_config(database_path))


@contextmanager
def live_server(app: Flask) -> Iterator[str]:
    """Serve `app` on a free port in a daemon thread; yields http://localhost:PORT.

    The host name is localhost, not 127.0.0.1: it is a secure context where WebAuthn works.
    """
    server = make_server("127.0.0.1", _free_port(), app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="e2e-live-server", daemon=True)
    thread.start()
    try:
        yield f"http://localhost:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=5)


def screenshot(page: Page, name: str, *, full_page: bool = False) -> Path:
    """Save what the phone's screen shows (or the whole page) to tests/e2e/screenshots/NAME.png."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    if full_page:
        # The top bar is sticky: scrolled down, it would be drawn in the middle of a full page.
        page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=str(path), full_page=full_page, animations="disabled", caret="hide")
    return path


#: The rules whose result depends on the colours: enough for a second pass in the other scheme.
COLOUR_RULES = ["color-contrast", "link-in-text-block"]


def accessibility_violations(page: Page, rules: list[str] | None = None) -> list[str]:
    """Run axe-core on what the page shows now: one line per rule broken, with where.

    `rules` narrows the run to those rule ids (all of AXE_TAGS otherwise). The script goes in
    through the DevTools protocol (page.evaluate), which the page's CSP does not govern, so the
    page is checked exactly as it is served.
    """
    if not AXE.exists():
        if IN_CI:
            pytest.fail(f"CI=true: {AXE} is missing; .ci/test installs it")
        pytest.skip(f"{AXE} is missing: run `bash .ci/test`, which installs it")
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.evaluate(AXE.read_text())
    run_only = {"type": "rule", "values": rules} if rules else {"type": "tag", "values": AXE_TAGS}
    violations = page.evaluate(
        "(runOnly) => axe.run(document, {runOnly, resultTypes: ['violations']})"
        ".then((result) => result.violations.map((v) => ({id: v.id, help: v.help,"
        " targets: v.nodes.map((n) => n.target.join(' '))})))",
        run_only,
    )
    return [f"{v['id']} ({v['help']}): {json.dumps(v['targets'][:5])}" for v in violations]


def scroll_under_header(page: Page, target: Locator) -> None:
    """Scroll `target` to the top of the screen, below the top bar if that is sticky."""
    target.evaluate(
        """(el) => {
            const bar = document.querySelector('.topbar');
            const sticky = bar && getComputedStyle(bar).position === 'sticky';
            const barHeight = sticky ? bar.getBoundingClientRect().height : 0;
            window.scrollTo(0, el.getBoundingClientRect().top + window.scrollY - barHeight - 12);
        }"""
    )


def poll(page: Page, expression: str, until: Callable[[Any], bool], timeout: float = 5) -> Any:
    """Evaluate `expression` until `until(value)` holds.

    Playwright's wait_for_function evaluates a string with eval, which the app's CSP forbids;
    page.evaluate goes through the DevTools protocol and is not affected.
    """
    deadline = time.monotonic() + timeout
    while True:
        value = page.evaluate(expression)
        if until(value) or time.monotonic() > deadline:
            return value
        page.wait_for_timeout(50)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def _logging_kept() -> Iterator[None]:
    """Alembic's env.py calls logging.config.fileConfig, which disables every existing logger and
    replaces the root handlers; put them back so that later tests still see log records."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    loggers = [
        logger
        for logger in logging.Logger.manager.loggerDict.values()
        if isinstance(logger, logging.Logger)
    ]
    disabled = {logger: logger.disabled for logger in loggers}
    try:
        yield
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)
        for logger, was_disabled in disabled.items():
            logger.disabled = was_disabled


def start_shadowing_link(page: Page, agent: str | None = None, position: int = 0) -> Locator:
    """Today's "Start shadowing" link for `agent` (or the one at `position`): a link named by
    what it shows, the agent's name first, then when they were last shadowed."""
    section = page.get_by_role("region", name="Start shadowing")
    if agent is None:
        return section.locator("a[data-shadow-url]").nth(position)
    return section.get_by_role("link", name=re.compile(rf"^{re.escape(agent)} (last|not) "))


def start_shadowing_name(link: Locator) -> str:
    """The agent's name on a "Start shadowing" link."""
    return link.locator(".person-name").inner_text()
