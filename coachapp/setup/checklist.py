"""The first-run checklist: each step ticked from what the database holds, never from a flag."""

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from flask import current_app, url_for
from flask_babel import LazyString
from flask_babel import lazy_gettext as _l

from coachapp.extensions import db
from coachapp.models import Invitation, Organisation, Role, RoleProfile, Team, User


@dataclass(frozen=True)
class Step:
    key: str
    title: LazyString
    purpose: LazyString
    done: bool
    links: list[tuple[str, LazyString]]


@dataclass(frozen=True)
class Progress:
    organisation: bool
    teams: bool
    profiles: bool
    people: bool

    @property
    def done_count(self) -> int:
        return sum((self.organisation, self.teams, self.profiles, self.people))

    @property
    def finished(self) -> bool:
        return self.done_count == 4


def progress(now: datetime) -> Progress:
    """All four ticks in one statement (the admin's home asks on every visit)."""
    named = sa.select(Organisation.id).where(sa.func.length(sa.func.trim(Organisation.name)) > 0)
    teams = sa.select(Team.id).where(Team.archived_at.is_(None))
    profiles = sa.select(RoleProfile.id)
    people = sa.select(User.id).where(User.role != Role.ADMIN)
    invited = sa.select(Invitation.id).where(
        Invitation.user_id.is_(None),
        Invitation.role != Role.ADMIN,
        Invitation.used_at.is_(None),
        Invitation.revoked_at.is_(None),
        Invitation.expires_at > now,
    )
    row = db.session.execute(
        sa.select(
            named.exists(),
            teams.exists(),
            profiles.exists(),
            sa.or_(people.exists(), invited.exists()),
        )
    ).one()
    return Progress(*(bool(value) for value in row))


def steps(found: Progress) -> list[Step]:
    return [
        Step(
            "organisation",
            _l("Your organisation"),
            _l("Its name, time zone and working days decide what “today” and every due date mean."),
            found.organisation,
            [(url_for("admin.settings"), _l("Organisation settings"))],
        ),
        Step(
            "teams",
            _l("Teams"),
            _l("Agents work in a team; its managers coach them and see their records."),
            found.teams,
            [(url_for("setup.teams_page"), _l("Teams"))],
        ),
        Step(
            "profiles",
            _l("Role profiles"),
            _l("The job description as observable behaviours: what managers observe and coach."),
            found.profiles,
            [
                _link_if(("profiles.index",), _l("Role profiles"))
                or (url_for("people.index"), _l("People"))
            ],
        ),
        Step(
            "people",
            _l("People"),
            _l("Invite managers, agents and trainers, one by one or from a spreadsheet."),
            found.people,
            [(url_for("people.invitations_page"), _l("Invite someone"))]
            + [
                link
                for link in [
                    _link_if(
                        ("people.import_upload", "people.csv_import.upload"), _l("Upload a CSV")
                    )
                ]
                if link
            ],
        ),
    ]


def _link_if(endpoints: tuple[str, ...], label: LazyString) -> tuple[str, LazyString] | None:
    """A link to a page another area provides, once that page exists (the first name found)."""
    for endpoint in endpoints:
        if endpoint in current_app.view_functions:
            return url_for(endpoint), label
    return None
