"""A manager's follow-ups as an iCalendar feed at a secret, revocable URL.

The feed leaves the app for a calendar provider: it carries due dates and links back into the
app, never an agent's name, a behaviour or a note.
"""

import hashlib
import secrets
from collections.abc import Callable, Iterable
from datetime import date, datetime, timedelta

import sqlalchemy as sa
from flask_babel import gettext
from icalendar import Calendar, Event, vDuration

from coachapp import clock, scheduling
from coachapp.extensions import db
from coachapp.models import CalendarFeed, FocusItem, FollowUp, Role, User
from coachapp.reminders.sql import upsert
from coachapp.scope import visible_agents

DAYS_BACK = 30
DAYS_AHEAD = 120
#: token_urlsafe(32) is 43 characters; anything much longer is not ours and is not hashed.
TOKEN_MAX_LENGTH = 64


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def issue_token(manager: User) -> str:
    """A new secret for the manager's feed; only its hash is kept, and the old one stops working."""
    token = secrets.token_urlsafe(32)
    table = CalendarFeed.__table__
    statement = upsert(table).values(  # type: ignore[arg-type]
        user_id=manager.id, token_hash=_digest(token), created_at=clock.now()
    )
    statement = statement.on_conflict_do_update(
        index_elements=[table.c.user_id],
        set_={
            "token_hash": statement.excluded.token_hash,
            "created_at": statement.excluded.created_at,
        },
    )
    db.session.execute(statement)
    return token


def revoke(manager: User) -> None:
    db.session.execute(sa.delete(CalendarFeed).where(CalendarFeed.user_id == manager.id))


def feed_of(manager: User) -> CalendarFeed | None:
    return db.session.scalar(sa.select(CalendarFeed).where(CalendarFeed.user_id == manager.id))


def owner_of(token: str) -> User | None:
    """The active manager whose feed this token opens, if any."""
    if not token or len(token) > TOKEN_MAX_LENGTH:
        return None
    return db.session.scalar(
        sa.select(User)
        .join(CalendarFeed, CalendarFeed.user_id == User.id)
        .where(
            CalendarFeed.token_hash == _digest(token),
            User.active.is_(True),
            User.role == Role.MANAGER,
        )
    )


def pending_checks(manager: User, today: date) -> list[tuple[int, date]]:
    """(follow-up id, due date) of every pending check of the manager's active agents in the
    window from DAYS_BACK ago to DAYS_AHEAD ahead."""
    agents = visible_agents(manager).where(User.active.is_(True)).with_only_columns(User.id)
    query = (
        sa.select(FollowUp.id, FollowUp.due_on)
        .join(FollowUp.focus_item)
        .where(
            FollowUp.outcome.is_(None),
            FollowUp.due_on.between(
                today - timedelta(days=DAYS_BACK), today + timedelta(days=DAYS_AHEAD)
            ),
            FocusItem.status != scheduling.CLOSED,
            FocusItem.agent_id.in_(agents),
        )
        .order_by(FollowUp.due_on, FollowUp.id)
    )
    return [(followup_id, due_on) for followup_id, due_on in db.session.execute(query)]


def ics(
    checks: Iterable[tuple[int, date]], *, link_for: Callable[[int], str], now: datetime
) -> bytes:
    """One all-day event per check, with a UID that stays the same for the same follow-up."""
    calendar = Calendar()
    calendar.add("prodid", "-//coachapp//follow-ups//EN")
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", gettext("coachapp follow-ups"))
    # A hint to calendar apps: look again every hour.
    calendar.add(
        "refresh-interval", vDuration(timedelta(hours=1)), parameters={"VALUE": "DURATION"}
    )
    calendar.add("x-published-ttl", "PT1H")
    for followup_id, due_on in checks:
        link = link_for(followup_id)
        event = Event()
        event.add("uid", f"followup-{followup_id}@coachapp")
        event.add("dtstamp", now)
        event.add("dtstart", due_on)
        event.add("dtend", due_on + timedelta(days=1))
        event.add("summary", gettext("Follow-up check"))
        event.add("description", gettext("Open the check in coachapp: %(url)s", url=link))
        event.add("url", link)
        event.add("transp", "TRANSPARENT")
        calendar.add_component(event)
    return calendar.to_ical()
