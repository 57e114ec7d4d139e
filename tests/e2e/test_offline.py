"""Offline on a phone, in a real browser: installable, a whole shift with no signal, and the outbox
delivering it exactly once: across an expired sign-in, a refusal, and a server restart.

These tests run their own demo server (not the shared one) so that they can look into its
database and stop it. `context.set_offline(True)` also cuts the service worker's own fetches
(FIELD-NOTES), which is what a phone in a basement sees.
"""

import re
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask, has_request_context, request
from playwright.sync_api import Browser, BrowserContext, Dialog, Locator, Page, expect
from playwright.sync_api import Error as PlaywrightError
from werkzeug.serving import make_server

from coachapp.extensions import db
from coachapp.models import (
    Behaviour,
    Competency,
    FollowUp,
    LoginSession,
    Observation,
    ShadowSession,
    User,
)
from coachapp.shadowing import service
from tests.e2e.harness import (
    PHONE,
    _free_port,
    demo_app,
    poll,
    screenshot,
    start_shadowing_link,
    start_shadowing_name,
)
from tests.e2e.test_shadowing_flow import (
    MANAGER,
    choose_kind,
    open_note,
    sign_in_from_demo_list,
)

pytestmark = pytest.mark.e2e

WAITING = "Saved on this phone"
KEPT_PAGES = """async () => {
    const names = (await caches.keys()).filter((name) => name.startsWith('coachapp-pages-'));
    if (!names.length) return [];
    const cache = await caches.open(names[0]);
    return (await cache.keys()).map((request) => new URL(request.url).pathname);
}"""


# --- a server of our own, that can be stopped and started again on the same port ----------


class CrashAfterStoring:
    """Between the browser and the app: when armed, lets the app store the Nth write (the Nth
    unit of work committed, alone or as an item of a batch), then dies before answering (the
    connection is cut, the server stops), as a machine losing power would."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self.crash_at: int | None = None
        self.writes = 0
        self.on_crash = lambda: None
        self.dead: object = None
        #: (path, status) of every request that reached the server (the network, not a cache).
        self.asked: list[tuple[str, int]] = []
        #: The path of every write to the API that reached the server, from the page or its
        #: worker (Background Sync may flush the outbox before the page does).
        self.api_writes: list[str] = []
        sa.event.listen(sa.orm.Session, "after_commit", self._stored)
        sa.event.listen(sa.engine.Engine, "before_cursor_execute", self._dead)

    def arm(self, crash_at: int, on_crash) -> None:  # type: ignore[no-untyped-def]
        self.crash_at, self.writes, self.on_crash = crash_at, 0, on_crash

    def _stored(self, session: sa.orm.Session) -> None:
        # A savepoint released (a session's start holds one) fires after_commit too; only the
        # unit of work's own commit stores anything.
        if self.crash_at is None or not has_request_context() or session.in_nested_transaction():
            return
        environ = request.environ
        if not environ["PATH_INFO"].startswith("/api/") or environ["REQUEST_METHOD"] == "GET":
            return
        self.writes += 1
        if self.writes < self.crash_at:
            return
        self.crash_at = None
        environ["werkzeug.socket"].shutdown(socket.SHUT_RDWR)  # the answer never leaves
        self.dead = environ  # and nothing after this write reaches the database
        threading.Thread(target=self.on_crash, daemon=True).start()

    def _dead(self, *_args: object) -> None:
        if has_request_context() and request.environ is self.dead:
            raise ConnectionAbortedError("the server died after storing the write")

    def __call__(self, environ, start_response):  # type: ignore[no-untyped-def]
        path = environ["PATH_INFO"]
        if path.startswith("/api/") and environ["REQUEST_METHOD"] != "GET":
            self.api_writes.append(path.removeprefix("/api/"))

        def answer(status: str, *args):  # type: ignore[no-untyped-def]
            self.asked.append((path, int(status.split()[0])))
            return start_response(status, *args)

        return self.app(environ, answer)


class Server:
    """The demo app on a fixed port (a service worker belongs to its origin, port included)."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self.wsgi = CrashAfterStoring(app)
        self.port = _free_port()
        self.url = f"http://localhost:{self.port}"
        self._server = None
        self._thread: threading.Thread | None = None
        self.running = threading.Event()

    def start(self) -> None:
        self._server = make_server("127.0.0.1", self.port, self.wsgi, threaded=True)
        self.running.set()
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        if not self.running.is_set():
            return
        assert self._server is not None and self._thread is not None
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)
        self.running.clear()

    @contextmanager
    def database(self) -> Iterator[None]:
        with self.app.app_context():
            yield
            db.session.remove()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, demo_database: Path) -> Iterator[Server]:
    # A copy of the run's demo organisation, untouched by the other browser tests.
    app = demo_app(tmp_path_factory.mktemp("offline") / "coachapp.sqlite3", copy_of=demo_database)
    # Rate limits live in one store for the whole test run: these sign-ins count on their own, not
    # against the ten a minute the other browser tests share.
    app.config["SIGNIN_RATE_LIMIT"] = "600/minute"
    running = Server(app)
    running.start()
    yield running
    running.stop()


@pytest.fixture
def context(browser: Browser, server: Server) -> Iterator[BrowserContext]:
    context = browser.new_context(base_url=server.url, **PHONE)
    context.set_default_timeout(10_000)
    yield context
    context.close()


@pytest.fixture
def phone(context: BrowserContext) -> Page:
    """A phone with coachapp open, signed in as Maria, the worker in control and her shift kept."""
    page = context.new_page()
    sign_in_from_demo_list(page, MANAGER)
    expect(page.get_by_role("heading", name="Today", level=1)).to_be_visible()
    in_control = steady_poll(page, "navigator.serviceWorker.controller !== null", bool, 20)
    state = page.evaluate("""async () => {
        const r = await navigator.serviceWorker.getRegistration('/');
        return [location.href, r && r.installing && 'installing', r && r.waiting && 'waiting',
                r && r.active && r.active.state];
    }""")
    assert in_control, f"the service worker should control the page after its first load {state}"
    return page


# --- steps --------------------------------------------------------------------------------


def steady_poll(page: Page, expression: str, until, timeout: float):  # type: ignore[no-untyped-def]
    """harness.poll, carrying on when the page navigates under it (the outbox may open the
    session's summary once it has sent the end)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return poll(page, expression, until, timeout=max(0.1, deadline - time.monotonic()))
        except PlaywrightError:
            if time.monotonic() > deadline:
                raise
            page.wait_for_timeout(100)


def kept_pages(page: Page) -> list[str]:
    return page.evaluate(KEPT_PAGES)


def wait_until_kept(page: Page, *paths: str) -> None:
    kept = steady_poll(page, KEPT_PAGES, lambda have: set(paths) <= set(have), 20)
    assert set(paths) <= set(kept), f"pages not kept for offline use: {set(paths) - set(kept)}"


def agent_with_a_due_check(page: Page) -> tuple[str, str]:
    """The first due check on Today: (agent's name, behaviour)."""
    row = page.locator(".due-list li").first
    return row.locator(".person-name").inner_text(), row.locator(".due-row > span").nth(
        1
    ).inner_text()


def shadow_url(page: Page, agent: str) -> str:
    return start_shadowing_link(page, agent).get_attribute("data-shadow-url") or ""


def start_shadowing(page: Page, agent: str) -> str:
    """Tap "Start shadowing" for `agent`; returns the session's UUID (named by the phone)."""
    start_shadowing_link(page, agent).tap()
    expect(page.get_by_role("heading", name=agent, level=1)).to_be_visible()
    # The page's script names the session in the address (history.replaceState) once it runs.
    expect(page).to_have_url(re.compile(r"[?&]session=[0-9a-f-]{36}"))
    match = re.search(r"[?&]session=([0-9a-f-]{36})", page.url)
    assert match, page.url
    return match.group(1)


def entries(page: Page) -> Locator:
    return page.get_by_role("region", name=re.compile(r"^This session")).get_by_role("listitem")


def log(
    page: Page, kind: str, *, chip: str | None = None, note: str = "", coached: str = ""
) -> None:
    choose_kind(page, kind)
    if note or coached or not chip:
        open_note(page)
    if note:
        page.get_by_label(re.compile(r"^Note \((optional|needed for an obstacle)\)$")).fill(note)
    if coached:
        page.get_by_label("What I coached (optional)").fill(coached)
    if chip:
        chips = page.get_by_role("group", name="Behaviours: tap one to save")
        chips.get_by_role("button", name=chip, exact=True).tap()
    else:
        page.get_by_role("button", name="Save", exact=True).tap()
    expect(entries(page).first).to_contain_text(kind)


def chips_other_than(page: Page, behaviour: str) -> list[str]:
    chips = page.get_by_role("group", name="Behaviours: tap one to save").get_by_role("button")
    return [name for name in chips.all_inner_texts() if name.strip() != behaviour]


def badge(page: Page) -> Locator:
    return page.locator("[data-outbox]")


def expect_waiting(page: Page, count: int) -> None:
    expect(badge(page)).to_have_attribute("data-count", str(count))


def wait_until_drained(page: Page, timeout: float = 20) -> None:
    """Until the outbox itself is empty (the badge is drawn a moment later)."""
    left = steady_poll(
        page, "CoachappOutbox.all().then((items) => items.length)", lambda n: n == 0, timeout
    )
    assert left == 0, f"{left} items still wait on the phone"


def end_login_sessions(server: Server, name: str) -> None:
    with server.database():
        person = db.session.scalar(sa.select(User).where(User.name == name))
        assert person is not None
        db.session.execute(
            sa.update(LoginSession)
            .where(LoginSession.user_id == person.id)
            .values(ended_at=datetime.now(UTC))
        )
        db.session.commit()


def stored_session(server: Server, client_uuid: str) -> dict[str, object] | None:
    with server.database():
        shadow = db.session.scalar(
            sa.select(ShadowSession).where(ShadowSession.client_uuid == uuid.UUID(client_uuid))
        )
        if shadow is None:
            return None
        return {
            "ended": shadow.ended_at is not None,
            "summary": shadow.summary_note,
            "observations": sorted(o.note or str(o.behaviour_id) for o in shadow.observations),
            "count": len(shadow.observations),
        }


def wait_until_stored(server: Server, client_uuid: str, entries: int, timeout: float = 15) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        stored = stored_session(server, client_uuid)
        if stored is not None and stored["count"] == entries:
            return
        time.sleep(0.1)
    raise AssertionError(
        f"the server did not get {entries} entries: {stored_session(server, client_uuid)}"
    )


def outcomes_recorded_since(server: Server, moment: datetime) -> int:
    with server.database():
        return (
            db.session.scalar(
                sa.select(sa.func.count())
                .select_from(FollowUp)
                .where(FollowUp.client_uuid.is_not(None), FollowUp.recorded_at >= moment)
            )
            or 0
        )


# --- the tests ----------------------------------------------------------------------------


def test_installable_manifest_icons_and_a_worker_in_control(phone: Page, context: BrowserContext):
    manifest_url = phone.locator('link[rel="manifest"]').get_attribute("href")
    assert manifest_url == "/manifest.webmanifest"
    manifest = phone.evaluate("async (url) => (await fetch(url)).json()", manifest_url)
    assert manifest["name"] == "coachapp" and manifest["short_name"]
    assert (manifest["display"], manifest["start_url"], manifest["scope"]) == (
        "standalone",
        "/",
        "/",
    )
    assert manifest["theme_color"] and manifest["background_color"]
    sizes = {(icon["sizes"], icon.get("purpose", "any")) for icon in manifest["icons"]}
    assert {("192x192", "any"), ("512x512", "any"), ("512x512", "maskable")} <= sizes
    for icon in manifest["icons"]:
        width = phone.evaluate(
            """(src) => new Promise((resolve) => {
                const image = new Image();
                image.onload = () => resolve(image.naturalWidth + 'x' + image.naturalHeight);
                image.onerror = () => resolve('broken');
                image.src = src;
            })""",
            icon["src"],
        )
        assert width == icon["sizes"], icon["src"]
    # Chromium's own verdict: the manifest parses without errors.
    cdp = context.new_cdp_session(phone)
    parsed = cdp.send("Page.getAppManifest")
    assert parsed.get("errors") == [], parsed.get("errors")
    scope = phone.evaluate("navigator.serviceWorker.controller.scriptURL")
    assert scope.endswith("/service-worker.js")
    wait_until_kept(phone, "/today")
    screenshot(phone, "installable-today")


#: The app shell: what the worker's install keeps (styles, scripts, icons, offline page, manifest).
SHELL_FILE = re.compile(r"^/static/|^/offline$|^/manifest\.webmanifest$")


def static_path(page: Page, name: str) -> str:
    """The hashed path of a script the page loads, e.g. /static/js/outbox.0123456789ab.js."""
    stem = name.removesuffix(".js")
    path = page.evaluate(
        "(stem) => [...document.scripts].map((s) => new URL(s.src, location).pathname)"
        ".find((p) => p.startsWith(`/static/js/${stem}.`))",
        stem,
    )
    assert path, f"the page loads no {name}"
    return path


def test_the_first_visit_and_the_install_fetch_each_shell_file_once(
    context: BrowserContext, server: Server
):
    # Who asked, as the browser saw it: the page, or the worker (its install's precache).
    askers: dict[str, set[str]] = {}
    context.on(
        "request",
        lambda request: askers.setdefault(request.url.removeprefix(server.url), set()).add(
            "worker" if request.service_worker else "page"
        ),
    )
    server.wsgi.asked.clear()
    page = context.new_page()
    sign_in_from_demo_list(page, MANAGER)
    expect(page.get_by_role("heading", name="Today", level=1)).to_be_visible()
    assert steady_poll(page, "navigator.serviceWorker.controller !== null", bool, 20)
    wait_until_kept(page, "/today")

    shell = [(path, status) for path, status in server.wsgi.asked if SHELL_FILE.search(path)]
    bodies = [path for path, status in shell if status != 304]
    twice = {path: bodies.count(path) for path in set(bodies) if bodies.count(path) > 1}
    assert not twice, f"downloaded more than once: {twice} (asked by {askers})"
    # Asked again, only the worker's imported script, as a 304 without a body: Chromium checks a
    # new registration's importScripts with the server whatever the file's cache headers say.
    revalidated = [path for path, status in shell if status == 304]
    assert revalidated in ([], [static_path(page, "outbox.js")]), revalidated
    shell = [path for path, _status in shell]
    # The install kept the whole shell, each file fetched once: by the page or by the worker.
    kept = page.evaluate("""async () => {
        const name = (await caches.keys()).find((name) => name.endsWith('-shell'));
        return (await (await caches.open(name)).keys()).map((r) => new URL(r.url).pathname);
    }""")
    assert {"/offline", "/manifest.webmanifest"} <= set(kept)
    assert set(kept) <= set(shell), f"kept without being fetched: {set(kept) - set(shell)}"
    assert any(path.endswith(".css") for path in kept) and any(".js" in path for path in kept)

    server.wsgi.asked.clear()
    page.reload()
    expect(page.get_by_role("heading", name="Today", level=1)).to_be_visible()
    page.wait_for_load_state("networkidle")
    again = [path for path, _status in server.wsgi.asked if path.startswith("/static/")]
    assert not again, f"static files fetched again on a repeat visit: {again}"
    screenshot(page, "shell-fetched-once-today")


IPHONE_SAFARI = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1"
)


@pytest.mark.parametrize(("user_agent", "shown"), [(IPHONE_SAFARI, True), (None, False)])
def test_only_safari_on_an_iphone_is_asked_to_add_coachapp_to_the_home_screen(
    browser: Browser, server: Server, user_agent: str | None, shown: bool
):
    options = {**PHONE, **({"user_agent": user_agent} if user_agent else {})}
    context = browser.new_context(base_url=server.url, **options)
    page = context.new_page()
    page.goto("/signin")
    hint = page.get_by_text("Add coachapp to your home screen so nothing you save offline is lost")
    if not shown:
        expect(hint).to_be_hidden()
    else:
        expect(hint).to_be_visible()
        screenshot(page, "iphone-hint")
        page.get_by_role("button", name="Got it").tap()
        expect(hint).to_be_hidden()
        page.reload()
        expect(hint).to_be_hidden()
    context.close()


def test_a_whole_shift_with_no_signal_arrives_exactly_once(
    phone: Page, context: BrowserContext, server: Server
):
    began = datetime.now(UTC)
    agent, due_behaviour = agent_with_a_due_check(phone)
    page_of_agent = shadow_url(phone, agent)
    wait_until_kept(phone, "/today", page_of_agent)
    screenshot(phone, "manifest-today")  # static/screenshots/today.png is a copy of it

    # No signal from the start of the shift: Today still opens.
    context.set_offline(True)
    phone.goto("/today")
    expect(phone.get_by_role("heading", name="Today", level=1)).to_be_visible()
    session = start_shadowing(phone, agent)

    chips = chips_other_than(phone, due_behaviour)
    log(phone, "Strength", chip=chips[0])
    log(phone, "Strength", chip=chips[1])
    log(
        phone,
        "Correction",
        chip=chips[2],
        note="Rushed the close.",
        coached="Slowed down together.",
    )
    log(phone, "Obstacle", note="The CRM froze twice during the call.")
    log(phone, "Strength", note="Calm with an upset caller.")
    expect(entries(phone)).to_have_count(5)
    for index in range(5):
        expect(entries(phone).nth(index)).to_contain_text(WAITING)
    expect(entries(phone).first).to_contain_text("Calm with an upset caller.")
    screenshot(phone, "manifest-shadowing")  # static/screenshots/shadowing.png is a copy of it

    # The re-observation due for this agent, on the same screen.
    phone.locator(".due-strip > summary").tap()  # the checks due fold into one line
    check = phone.locator("article.check").filter(has_text=due_behaviour).first
    check.get_by_role("button", name="Sustained", exact=True).tap()
    expect(check.get_by_role("status").filter(has_text="Recorded: Sustained")).to_be_visible()
    expect(check).to_contain_text(WAITING)

    phone.get_by_label("Overall note (optional)").fill("Good shift in the basement.")
    phone.get_by_role("button", name="End session").tap()
    expect(phone.get_by_role("heading", name="Session ended on this phone")).to_be_visible()
    expect_waiting(phone, 8)  # the start, five entries, the outcome, the end
    expect(badge(phone)).to_contain_text("8 entries wait on this phone")
    screenshot(phone, "offline-shift")

    # Still no signal: the page opens again from the phone, with everything still waiting.
    phone.reload()
    expect(phone.get_by_role("heading", name=agent, level=1)).to_be_visible()
    expect(entries(phone)).to_have_count(5)
    for index in range(5):
        expect(entries(phone).nth(index)).to_contain_text(WAITING)
    expect(phone.get_by_role("heading", name="Session ended on this phone")).to_be_visible()
    expect(phone.locator("article.check").filter(has_text=due_behaviour).first).to_contain_text(
        "Recorded: Sustained"
    )
    assert stored_session(server, session) is None, "nothing may reach the server while offline"

    # Signal again: everything goes, once, and the badge empties.
    context.set_offline(False)
    wait_until_drained(phone)
    expect(badge(phone)).to_be_hidden()
    stored = stored_session(server, session)
    assert stored is not None
    assert stored["ended"] and stored["summary"] == "Good shift in the basement."
    assert stored["count"] == 5
    assert outcomes_recorded_since(server, began) == 1
    expect(phone.get_by_role("heading", name=f"Session with {agent}", level=1)).to_be_visible()


def test_an_expired_sign_in_keeps_the_queue_until_signed_in_again(
    phone: Page, context: BrowserContext, server: Server
):
    name = start_shadowing_name(start_shadowing_link(phone, position=1))
    wait_until_kept(phone, "/today", shadow_url(phone, name))
    context.set_offline(True)
    session = start_shadowing(phone, name)
    log(phone, "Strength", note="Warm welcome, offline.")
    log(phone, "Obstacle", note="No headset in stock, offline.")
    expect_waiting(phone, 3)
    # Back on Today with no signal: the session is there to continue, and starting it again
    # continues it rather than opening a second one.
    phone.goto("/today")
    expect(phone.get_by_role("link", name=f"Continue with {name}")).to_be_visible()
    start_again = start_shadowing(phone, name)
    assert start_again == session
    expect(entries(phone)).to_have_count(2)

    # Her sign-in ends on the server while the phone is in the basement.
    end_login_sessions(server, MANAGER)
    context.set_offline(False)
    signin = phone.get_by_role("alert").filter(has_text="Your sign-in has ended")
    expect(signin).to_be_visible(timeout=15_000)
    expect_waiting(phone, 3)
    assert stored_session(server, session) is None

    signin.get_by_role("link", name="Sign in again").tap()
    expect(phone.get_by_role("heading", name="Sign in", level=1)).to_be_visible()
    expect(badge(phone)).to_contain_text("3 entries wait on this phone")
    phone.get_by_role("button", name=MANAGER).tap()
    expect(phone.get_by_role("heading", name="Today", level=1)).to_be_visible()
    wait_until_drained(phone)
    stored = stored_session(server, session)
    assert stored is not None and stored["count"] == 2 and not stored["ended"]


def test_a_refused_entry_stays_as_needs_attention_until_discarded(
    phone: Page, context: BrowserContext, server: Server
):
    name = start_shadowing_name(start_shadowing_link(phone, position=2))
    session = start_shadowing(phone, name)
    log(phone, "Strength", note="Online, straight to the server.")
    wait_until_stored(server, session, 1)
    wait_until_drained(phone)

    context.set_offline(True)
    log(phone, "Strength", note="Saved in the lift, no signal.")
    expect(entries(phone).first).to_contain_text(WAITING)
    # Meanwhile the session was ended from the manager's laptop.
    with server.database():
        shadow = db.session.scalar(
            sa.select(ShadowSession).where(ShadowSession.client_uuid == uuid.UUID(session))
        )
        assert shadow is not None
        service.end_session(
            session=shadow, summary_note="Ended on the laptop", now=datetime.now(UTC)
        )
        db.session.commit()  # the service flushes; its caller commits

    context.set_offline(False)
    refused = entries(phone).filter(has_text="Saved in the lift")
    expect(refused).to_contain_text(
        "Needs attention: This shadowing session has already ended.", timeout=15_000
    )
    expect(badge(phone).locator("[data-outbox-attention]")).to_have_text("1 needs attention")
    refused.scroll_into_view_if_needed()
    screenshot(phone, "needs-attention")

    # It stays after a reload (the ended session now opens as its summary).
    phone.reload()
    expect(badge(phone).locator("[data-outbox-attention]")).to_have_text("1 needs attention")

    # Signing out with it still waiting asks first; saying no keeps her signed in.
    phone.goto("/account")
    warnings: list[str] = []

    def say_no(dialog: Dialog) -> None:
        warnings.append(dialog.message)
        dialog.dismiss()

    phone.once("dialog", say_no)
    phone.get_by_role("button", name="Sign out", exact=True).tap()
    steady_poll(phone, "1", lambda _: bool(warnings), 5)
    assert warnings and warnings[0].startswith("1 entry still waits on this phone.")
    expect(phone).to_have_url(re.compile(r"/account$"))
    phone.go_back()
    badge(phone).get_by_text("What waits", exact=True).tap()
    item = badge(phone).get_by_role("listitem").filter(has_text="already ended")
    expect(item).to_be_visible()
    phone.once("dialog", lambda dialog: dialog.accept())
    item.get_by_role("button", name="Discard").tap()
    expect(badge(phone)).to_be_hidden()

    # Nothing waits now: signing out asks nothing, and forgets the pages kept for her.
    assert kept_pages(phone)
    phone.goto("/account")
    phone.get_by_role("button", name="Sign out", exact=True).tap()
    expect(phone.get_by_role("heading", name="Sign in", level=1)).to_be_visible()
    assert kept_pages(phone) == []
    with server.database():
        count = db.session.scalar(
            sa.select(sa.func.count())
            .select_from(Observation)
            .join(ShadowSession)
            .where(ShadowSession.client_uuid == uuid.UUID(session))
        )
    assert count == 1


def test_a_server_dying_in_the_middle_of_a_flush_loses_and_doubles_nothing(
    phone: Page, context: BrowserContext, server: Server
):
    name = start_shadowing_name(start_shadowing_link(phone, position=3))
    wait_until_kept(phone, "/today", shadow_url(phone, name))
    context.set_offline(True)
    session = start_shadowing(phone, name)
    notes = [f"Entry {number} of a long shift." for number in range(1, 7)]
    for note in notes:
        log(phone, "Strength", note=note)
    expect_waiting(phone, 7)

    # The fourth write (the third entry) is stored, and the server dies before it can say so:
    # in the middle of the batch that carries all seven.
    server.wsgi.arm(crash_at=4, on_crash=server.stop)
    context.set_offline(False)
    deadline = time.monotonic() + 15
    while server.running.is_set() and time.monotonic() < deadline:
        phone.wait_for_timeout(100)
    assert not server.running.is_set(), "the flush should have reached the fourth write"
    # The start and the first three entries were stored before it died, not the rest.
    stored = stored_session(server, session)
    assert stored is not None and stored["count"] == 3
    # The phone never heard back about any item of that batch: it keeps them all.
    expect_waiting(phone, 7)

    server.start()
    phone.get_by_role("button", name="Sync now").tap()
    wait_until_drained(phone)
    stored = stored_session(server, session)
    assert stored is not None
    assert stored["count"] == 6, "every entry once: the replayed third one was not stored again"
    assert stored["observations"] == sorted(notes)


def test_a_queue_drains_in_one_batch_and_a_refusal_marks_only_its_entry(
    phone: Page, context: BrowserContext, server: Server
):
    name = start_shadowing_name(start_shadowing_link(phone, position=4))
    wait_until_kept(phone, "/today", shadow_url(phone, name))
    context.set_offline(True)
    session = start_shadowing(phone, name)
    chips = chips_other_than(phone, "")[:3]
    for chip in chips:
        log(phone, "Strength", chip=chip)
    expect_waiting(phone, 4)  # the start and three entries

    # While the phone has no signal, a trainer retires the second behaviour from the profile.
    with server.database():
        person = db.session.scalar(sa.select(User).where(User.name == name))
        assert person is not None
        retired = db.session.scalar(
            sa.select(Behaviour)
            .join(Competency)
            .where(Competency.role_profile_id == person.role_profile_id, Behaviour.name == chips[1])
        )
        assert retired is not None
        retired_id = retired.id
        retired.retired_at = datetime.now(UTC)
        db.session.commit()

    server.wsgi.api_writes.clear()
    try:
        context.set_offline(False)
        refused = entries(phone).filter(has_text=chips[1])
        expect(refused).to_contain_text(
            "Needs attention: Choose one of this agent's behaviours.", timeout=15_000
        )
        wait_until_stored(server, session, 2)
        expect_waiting(phone, 1)
        expect(badge(phone).locator("[data-outbox-attention]")).to_have_text("1 needs attention")
        refused.scroll_into_view_if_needed()
        screenshot(phone, "batch-one-refused")
        # One round trip for all four: the refusal stopped nothing after it.
        assert server.wsgi.api_writes == ["batch"], server.wsgi.api_writes
        stored = stored_session(server, session)
        assert stored is not None and stored["count"] == 2
    finally:
        with server.database():
            db.session.execute(
                sa.update(Behaviour).where(Behaviour.id == retired_id).values(retired_at=None)
            )
            db.session.commit()
