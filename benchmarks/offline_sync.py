"""What offline costs and how fast it catches up: bytes of the shadowing screen on a first and a
repeat visit, and the time to drain an outbox of 1,000 entries into the server.

Runs the demo app (the browser tests' harness: a fresh SQLite file, the demo organisation, a
threaded werkzeug server on 127.0.0.1) and Debian's Chromium through Playwright, on a phone-sized
page with service workers allowed:

1. **Bytes.** Signed in as a demo manager (through the sign-in form, by HTTP: nothing cached yet),
   the phone opens one agent's shadowing screen, cold: the page, its CSS and scripts, the service
   worker and everything it precaches. Then it opens the same screen again, the worker in control.
   Every answer the server sends is counted by a WSGI wrapper, as it went over the wire and
   gzip-compressed (level 6, what a TLS proxy in front would send).
2. **Drain.** With no signal, the phone's outbox is filled with --items entries for one session
   (through the same code the capture screen uses), then the signal comes back and the time until
   the outbox is empty is measured; then the rows that reached the database are counted.

    .venv/bin/python benchmarks/offline_sync.py [--items 1000]
"""

from __future__ import annotations

import argparse
import gzip
import json
import platform
import re
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import sqlalchemy as sa  # noqa: E402
from playwright.sync_api import Page, sync_playwright  # noqa: E402
from werkzeug.serving import make_server  # noqa: E402

from coachapp.extensions import db  # noqa: E402
from coachapp.models import Observation, ShadowSession, User  # noqa: E402
from tests.e2e.harness import CHROMIUM, CHROMIUM_ARGS, PHONE, _free_port, demo_app  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"
MANAGER = "Maria Santos"


@dataclass
class Counter:
    """Every answer of the server: path, bytes as sent, bytes gzip-compressed."""

    answers: list[tuple[str, int, int]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def wrap(self, app):  # type: ignore[no-untyped-def]
        def counted(environ, start_response):  # type: ignore[no-untyped-def]
            body = b"".join(app(environ, start_response))
            with self.lock:
                self.answers.append(
                    (environ["PATH_INFO"], len(body), len(gzip.compress(body, 6)) if body else 0)
                )
            return [body]

        return counted

    def take(self) -> list[tuple[str, int, int]]:
        with self.lock:
            taken, self.answers = self.answers, []
        return taken


def totals(answers: Iterable[tuple[str, int, int]]) -> dict[str, Any]:
    answers = list(answers)
    return {
        "requests": len(answers),
        "bytes": sum(raw for _, raw, _ in answers),
        "gzip_bytes": sum(packed for _, _, packed in answers),
        "by_path": sorted({(path, raw, packed) for path, raw, packed in answers}),
    }


def settle(page: Page, seconds: float = 3.0) -> None:
    """Let the worker finish installing, precaching and warming before counting stops."""
    page.wait_for_load_state("networkidle")
    page.wait_for_timeout(int(seconds * 1000))


def signed_in_context(browser, url: str):  # type: ignore[no-untyped-def]
    context = browser.new_context(base_url=url, **PHONE)
    signin = context.request.get("/signin").text()
    token = re.search(r'name="csrf_token" value="([^"]+)"', signin)
    person = re.search(
        r'name="user_id" value="(\d+)">\s*<span class="person-name">' + re.escape(MANAGER),
        signin,
    )
    assert token and person, "the demo sign-in page lists the manager"
    answer = context.request.post(
        "/signin/demo", form={"csrf_token": token.group(1), "user_id": person.group(1)}
    )
    assert answer.ok, answer.status
    return context


def measure_bytes(browser, url: str, counter: Counter, agent_id: int) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    context = signed_in_context(browser, url)
    page = context.new_page()
    screen = f"/agents/{agent_id}/shadow"
    counter.take()
    page.goto(screen)
    settle(page)
    first = totals(counter.take())
    page.goto(screen)
    settle(page)
    repeat = totals(counter.take())
    context.close()
    return {"first_visit": first, "repeat_visit": repeat}


def measure_drain(browser, url: str, app, agent_id: int, items: int) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    context = signed_in_context(browser, url)
    page = context.new_page()
    page.goto(f"/agents/{agent_id}/shadow")
    page.wait_for_function("() => !!navigator.serviceWorker.controller", timeout=20_000)
    context.set_offline(True)
    session = page.evaluate("document.getElementById('shadowing').dataset.sessionUuid")
    queueing = time.perf_counter()
    page.evaluate(
        """async ([count, session, agentId]) => {
            // A session starts with its first entry: with none open on the server, the phone
            // queues its start first, as the capture screen does.
            if (!document.getElementById('shadowing').dataset.sessionUrl) {
                await CoachappOffline.enqueue({
                    type: 'start', method: 'POST', url: CoachappOffline.apiUrl('apiStart'),
                    body: {client_uuid: session, agent_id: agentId,
                           started_at: new Date().toISOString()},
                    session, target: session, label: 'Start',
                });
            }
            const url = CoachappOffline.apiUrl('apiObservations', session);
            // All at once: IndexedDB runs the writes in the order they were asked for, and the
            // badge's redraw (a read of the whole outbox and a line per item, every 150 ms)
            // waits behind them; one by one, each redraw ran between two writes, and 10,000
            // entries took over six minutes to queue.
            const entries = [];
            for (let n = 0; n < count; n += 1) {
                entries.push(CoachappOffline.enqueue({
                    type: 'observe', method: 'POST', url, session,
                    body: {client_uuid: CoachappOutbox.newUuid(), kind: 'strength',
                           note: `Entry ${n}`, occurred_at: new Date().toISOString()},
                    target: `bench-${n}`, label: `Entry ${n}`,
                }));
            }
            await Promise.all(entries);
        }""",
        [items, session, agent_id],
    )
    queued = time.perf_counter() - queueing
    waiting = page.evaluate("async () => (await CoachappOutbox.all()).length")
    started = time.perf_counter()
    context.set_offline(False)
    page.evaluate("window.dispatchEvent(new Event('online'))")
    while page.evaluate("async () => (await CoachappOutbox.all()).length") > 0:
        if time.perf_counter() - started > 600:
            break
        time.sleep(0.2)
    seconds = time.perf_counter() - started
    left = page.evaluate("async () => (await CoachappOutbox.all()).length")
    context.close()
    with app.app_context():
        shadow = db.session.scalar(
            sa.select(ShadowSession).where(ShadowSession.client_uuid == uuid.UUID(session))
        )
        rows = (
            db.session.scalar(
                sa.select(sa.func.count())
                .select_from(Observation)
                .where(Observation.session_id == (shadow.id if shadow else -1))
            )
            or 0
        )
        db.session.remove()
    return {
        "items_waiting": waiting,
        "seconds_to_queue": round(queued, 2),
        "seconds": round(seconds, 2),
        "items_per_second": round(waiting / seconds, 1) if seconds else None,
        "left_on_phone": left,
        "rows_in_database": rows,
        "sessions_started": 1 if shadow else 0,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--items", type=int, default=1000)
    args = parser.parse_args()

    app = demo_app(Path(tempfile.mkdtemp(prefix="coachapp-offline-")) / "coachapp.sqlite3")
    app.config["SIGNIN_RATE_LIMIT"] = "1000/minute"
    with app.app_context():
        maria = db.session.scalar(sa.select(User).where(User.name == MANAGER))
        assert maria is not None
        agent_id = maria.managed_teams[0].agents.select().limit(1)
        agent = db.session.scalar(agent_id)
        assert agent is not None
        agent_id = agent.id
        db.session.remove()
    counter = Counter()
    port = _free_port()
    server = make_server("127.0.0.1", port, counter.wrap(app), threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    url = f"http://localhost:{port}"
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
            )
            visits = measure_bytes(browser, url, counter, agent_id)
            drain = measure_drain(browser, url, app, agent_id, args.items)
            browser.close()
    finally:
        server.shutdown()
        thread.join(timeout=5)

    result = {
        "at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {"python": platform.python_version(), "platform": platform.platform()},
        "visits": visits,
        "drain": drain,
    }
    RESULTS.mkdir(exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    (RESULTS / f"offline_sync-{stamp}.json").write_text(json.dumps(result, indent=2))

    print("| shadowing screen | requests | bytes | gzip bytes |")
    print("|---|---:|---:|---:|")
    for name, visit in visits.items():
        label = name.replace("_", " ")
        print(f"| {label} | {visit['requests']} | {visit['bytes']:,} | {visit['gzip_bytes']:,} |")
    print()
    print(
        f"Queued {drain['items_waiting']} items in {drain['seconds_to_queue']} s. "
        f"Drained {drain['items_waiting']} items in {drain['seconds']} s "
        f"({drain['items_per_second']} items/s); rows in the database: "
        f"{drain['rows_in_database']}; left on the phone: {drain['left_on_phone']}."
    )


if __name__ == "__main__":
    main()
