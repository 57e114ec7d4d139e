"""The daily reminder: count each manager's due checks, claim the day, push the count.

Safe to run from cron on several machines at once: the day is claimed in the database before
anything is sent, and only the run whose insert won sends.
"""

from dataclasses import dataclass
from datetime import date

import requests
import sqlalchemy as sa
import sqlalchemy.orm as so
from flask import current_app
from flask_babel import force_locale, ngettext

from coachapp import clock, i18n, scheduling
from coachapp.extensions import db
from coachapp.models import (
    FocusItem,
    FollowUp,
    PushSubscription,
    ReminderSent,
    Role,
    User,
    manager_teams,
)
from coachapp.reminders import push
from coachapp.reminders.sql import upsert


@dataclass
class RunSummary:
    """What one run did, in numbers only (it is printed and may be mailed by cron)."""

    notified: int = 0
    removed: int = 0
    failures: int = 0


def due_counts(today: date) -> dict[int, int]:
    """Checks due today or overdue, per manager who has at least one push subscription.

    The same checks as the manager's Today page (followups.service.due_checks), in one grouped
    query for every manager.
    """
    agent = so.aliased(User)
    manager = so.aliased(User)
    subscribed = sa.select(PushSubscription.user_id)
    query = (
        sa.select(manager_teams.c.manager_id, sa.func.count(sa.distinct(FollowUp.id)))
        .select_from(FollowUp)
        .join(FocusItem, FocusItem.id == FollowUp.focus_item_id)
        .join(agent, agent.id == FocusItem.agent_id)
        .join(manager_teams, manager_teams.c.team_id == agent.team_id)
        .join(manager, manager.id == manager_teams.c.manager_id)
        .where(
            FollowUp.outcome.is_(None),
            FollowUp.due_on <= today,
            FocusItem.status != scheduling.CLOSED,
            agent.role == Role.AGENT,
            agent.active.is_(True),
            manager.role == Role.MANAGER,
            manager.active.is_(True),
            manager.id.in_(subscribed),
        )
        .group_by(manager_teams.c.manager_id)
    )
    return {manager_id: count for manager_id, count in db.session.execute(query)}


def claim_day(counts: dict[int, int], today: date) -> set[int]:
    """Record today's reminder for each manager not yet reminded; return those this run won.

    Committed before anything is sent: a second run, here or on another machine, finds the rows
    and sends nothing. A send that fails later keeps its claim (at most one a day is the promise).
    """
    if not counts:
        return set()
    table = ReminderSent.__table__
    now = clock.now()
    rows = [
        {"user_id": manager_id, "sent_on": today, "due_count": count, "created_at": now}
        for manager_id, count in counts.items()
    ]
    statement = (
        upsert(table)  # type: ignore[arg-type]
        .values(rows)
        .on_conflict_do_nothing(index_elements=[table.c.user_id, table.c.sent_on])
        .returning(table.c.user_id)
    )
    claimed = set(db.session.scalars(statement))
    db.session.commit()
    return claimed


def payload(count: int, language: str | None = None) -> dict[str, str]:
    """The notification: a number, never a name, a behaviour or a note; in the manager's
    language (their choice, else the organisation's)."""
    with force_locale(language or i18n.SOURCE_LANGUAGE):
        body = ngettext("%(num)d follow-up due today", "%(num)d follow-ups due today", count)
    return {"title": "coachapp", "body": body, "url": _today_path()}


def _today_path() -> str:
    adapter = current_app.url_map.bind("", script_name=current_app.config["APPLICATION_ROOT"])
    return adapter.build("shadowing.today")


def send_reminders(today: date) -> RunSummary:
    """Push each subscribed manager with checks due one notification with the count, once a day."""
    signer = push.vapid_signer()
    subject = current_app.config["VAPID_SUBJECT"]
    push.check_subject(signer, subject)
    counts = due_counts(today)
    # End the read before the claim: a SQLite transaction that read and then writes cannot wait
    # for another writer; one whose first statement writes can.
    db.session.commit()
    claimed = claim_day(counts, today)
    targets, languages = _targets(claimed)
    fallback = i18n.organisation_language()
    summary = RunSummary()
    gone: list[int] = []
    delivered: set[int] = set()
    with requests.Session() as session:
        for target in targets:
            result = push.deliver(
                target,
                payload(counts[target.user_id], languages.get(target.user_id) or fallback),
                signer=signer,
                subject=subject,
                session=session,
            )
            if result is push.Delivery.SENT:
                delivered.add(target.user_id)
            elif result is push.Delivery.GONE:
                gone.append(target.id)
            else:
                summary.failures += 1
    if gone:
        db.session.execute(sa.delete(PushSubscription).where(PushSubscription.id.in_(gone)))
        db.session.commit()
    summary.notified = len(delivered)
    summary.removed = len(gone)
    return summary


def _targets(manager_ids: set[int]) -> tuple[list[push.Target], dict[int, str | None]]:
    """Every subscription of the claimed managers and each manager's language, in one query,
    read before the network calls."""
    if not manager_ids:
        return [], {}
    rows = db.session.execute(
        sa.select(PushSubscription, User.language)
        .join(User, User.id == PushSubscription.user_id)
        .where(PushSubscription.user_id.in_(manager_ids))
        .order_by(PushSubscription.user_id, PushSubscription.id)
    ).all()
    targets = [
        push.Target(id=s.id, user_id=s.user_id, endpoint=s.endpoint, p256dh=s.p256dh, auth=s.auth)
        for s, _language in rows
    ]
    languages = {s.user_id: language for s, language in rows}
    # No transaction stays open while push services answer.
    db.session.commit()
    return targets, languages
