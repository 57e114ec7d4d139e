"""The Nu HTML checker (vnu.jar from the npm registry, on Java) over every main page of every role.

The pages are rendered with Flask's test client on the demo organisation (no browser), written to
a temporary folder and checked in one run of the checker. Every error fails the test except the
checker's refusal of htmx's own attributes (`hx-post`, `hx-target`, ...), which HTML does not know.
"""

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask

from coachapp.auth.sessions import start_login_session
from coachapp.extensions import db
from coachapp.models import User
from tests.conftest import IN_CI
from tests.main_pages import MAIN_PAGES, SIGNED_OUT, add_extras, path_values

VNU = Path(__file__).parent / "e2e" / "node_modules" / "vnu-jar" / "build" / "dist" / "vnu.jar"
#: What the checker says of an attribute htmx reads: the one kind of error allowed.
HTMX_ATTRIBUTE = re.compile(
    r"^Attribute “hx-[a-z-]+(:[a-z-]+)?” not allowed on element “[a-z0-9-]+”"
)


def _checker() -> list[str]:
    java = shutil.which("java")
    missing = [] if java else ["java (Debian's default-jre-headless)"]
    if not VNU.exists():
        missing.append(str(VNU))
    if missing:
        message = f"{' and '.join(missing)} missing: run `bash .ci/test`, which installs them"
        if IN_CI:
            pytest.fail(f"CI=true: the HTML check may not be skipped. {message}")
        pytest.skip(message)
    # The schema needs a deep stack; a one-off run is cheaper without the optimising compiler.
    options = ["-Xss8m", "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC"]
    return [str(java), *options, "-jar", str(VNU), "--errors-only", "--format", "json"]


def _render_all(app: Flask) -> dict[str, str]:
    """Each main page's HTML as its person sees it, by page id."""
    add_extras(app)
    values = path_values(app)
    rendered: dict[str, str] = {}
    clients = {}
    for main_page in MAIN_PAGES:
        client = clients.get(main_page.who)
        if client is None:
            client = clients[main_page.who] = app.test_client()
            if main_page.who != SIGNED_OUT:
                name = values.get(main_page.who, main_page.who)
                with app.test_request_context():
                    user = db.session.scalars(sa.select(User).where(User.name == name)).one()
                    token = start_login_session(user)
                    db.session.commit()
                with client.session_transaction() as session:
                    session.update(token)
        response = client.get(main_page.path.format(**values))
        assert response.status_code == 200, (main_page.id, response.status_code)
        rendered[main_page.id] = response.get_data(as_text=True)
    return rendered


def html_errors(app: Flask, folder: Path) -> list[str]:
    """The checker's errors on the main pages of `app`, one line each, htmx's attributes aside."""
    command = _checker()
    for page_id, html in _render_all(app).items():
        (folder / f"{page_id}.html").write_text(html, encoding="utf-8")
    run = subprocess.run(  # noqa: S603 (our own command line)
        [*command, *sorted(str(path) for path in folder.glob("*.html"))],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    messages = json.loads(run.stderr or run.stdout)["messages"]
    return [
        f"{Path(m.get('url', '')).stem}:{m.get('lastLine', '?')}: {m['message']}"
        + (f" [{m['extract'].strip()}]" if m.get("extract") else "")
        for m in messages
        if m.get("type") in ("error", "non-document-error")
        and not HTMX_ATTRIBUTE.match(m.get("message", ""))
    ]


#: Errors on pages whose fix is under way elsewhere, by page id and a part of the message: each
#: must still be there (strictly expected), and nothing else may be.
KNOWN: dict[tuple[str, str], str] = {}


def test_main_pages_are_valid_html(demo_site: Flask, tmp_path: Path) -> None:
    errors = html_errors(demo_site, tmp_path)

    def known(error: str) -> bool:
        return any(error.startswith(f"{page}:") and part in error for page, part in KNOWN)

    unexpected = [error for error in errors if not known(error)]
    gone = [
        reason
        for (page, part), reason in KNOWN.items()
        if not any(e.startswith(f"{page}:") and part in e for e in errors)
    ]
    assert not unexpected, "\n".join(unexpected)
    assert not gone, f"fixed, remove from KNOWN: {gone}"


def test_datetime_attribute_is_utc_to_the_second() -> None:
    """What `|datetime_attr` writes into `<time datetime>`: no microseconds (the checker allows
    three digits at most), the moment in UTC whatever the zone it was given in."""
    from datetime import UTC, date, datetime, timedelta, timezone

    from coachapp.dates import datetime_attr

    moment = datetime(2026, 12, 2, 20, 36, 5, 377957, tzinfo=timezone(timedelta(hours=1)))
    assert datetime_attr(moment) == "2026-12-02T19:36:05+00:00"
    assert datetime_attr(datetime(2026, 12, 2, 19, 36, tzinfo=UTC)) == "2026-12-02T19:36:00+00:00"
    assert datetime_attr(date(2026, 12, 2)) == "2026-12-02"
