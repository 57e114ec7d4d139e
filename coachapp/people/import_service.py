"""Carrying out a planned CSV import: teams, invitations and one audit event, in the caller's
transaction (added and flushed here; the view or command commits once)."""

import csv
import io
from dataclasses import dataclass
from datetime import datetime

from flask_babel import lazy_gettext as _l

from coachapp import audit
from coachapp.auth import invitations
from coachapp.errors import DomainError
from coachapp.models import Role, RoleProfile, Team, User
from coachapp.people.csv_import import Outcome, Plan, key
from coachapp.setup.teams import create_team

#: The links sheet's header row, in the reader's language.
LINK_HEADERS = (_l("Name"), _l("E-mail"), _l("Team"), _l("Link"))


class ImportHasErrors(DomainError):
    status_code = 422
    message = _l("Some rows have errors, so nothing was created. Fix them and try again.")


@dataclass(frozen=True)
class Issued:
    """One new invitation, with its link: shown once, never stored."""

    name: str
    email: str
    role: Role
    team: str
    link: str


@dataclass(frozen=True)
class ImportResult:
    issued: list[Issued]
    teams_created: list[str]
    skipped: int


def apply(plan: Plan, *, actor: User | None, now: datetime, origin: str | None) -> ImportResult:
    """Create the plan's teams and invitations; ImportHasErrors (nothing created) on any error.

    `origin` is where the links point (see invitations.link_for); needs a request context."""
    if not plan.ok:
        raise ImportHasErrors()
    created: dict[str, Team] = {
        team_key: create_team(name=name, actor=actor) for team_key, name in plan.new_teams.items()
    }
    defaults: dict[int, RoleProfile | None] = {}
    issued: list[Issued] = []
    for planned in plan.rows:
        if planned.outcome != Outcome.INVITE:
            continue
        row = planned.row
        assert row.role is not None  # a row without a valid role is an error, refused above
        team = planned.team or created.get(key(row.team))
        profile = planned.profile
        if profile is None and row.role == Role.AGENT and team is not None:
            # The team's usual profile, looked up once a team rather than once a person.
            if team.id not in defaults:
                defaults[team.id] = invitations.default_profile(team=team)
            profile = defaults[team.id]
        _invitation, token = invitations.create_invitation(
            created_by=actor,
            name=row.name,
            email=row.email or None,
            role=row.role,
            team=team,
            role_profile=profile,
            now=now,
        )
        issued.append(
            Issued(
                name=row.name,
                email=row.email,
                role=row.role,
                team=team.name if team is not None else "",
                link=invitations.link_for(token, origin=origin),
            )
        )
    audit.record(
        "people.imported",
        actor=actor,
        details=f"invited {len(issued)}, skipped {plan.skipped}, teams created {len(created)}",
    )
    return ImportResult(
        issued=issued, teams_created=list(plan.new_teams.values()), skipped=plan.skipped
    )


def by_team(issued: list[Issued]) -> list[tuple[str, list[Issued]]]:
    """The new invitations grouped by team (in the file's order), those with no team last: one
    printed page a team, for its briefing."""
    groups: dict[str, list[Issued]] = {}
    for person in issued:
        groups.setdefault(person.team, []).append(person)
    return sorted(groups.items(), key=lambda group: group[0] == "")


def links_csv(issued: list[Issued]) -> str:
    """name, email, team, link of each new invitation, as CSV text for a spreadsheet."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([str(label) for label in LINK_HEADERS])
    for person in issued:
        writer.writerow([_cell(person.name), _cell(person.email), _cell(person.team), person.link])
    return buffer.getvalue()


def _cell(value: str) -> str:
    # A cell starting like a formula would be run by the spreadsheet that opens the file.
    return "'" + value if value[:1] in ("=", "+", "-", "@") else value
