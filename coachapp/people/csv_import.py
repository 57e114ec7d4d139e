"""Reading a CSV file of people, and planning what importing it would do, before anything exists.

`read_csv` turns the bytes a spreadsheet exported into rows, each with the problems found in it
alone (`CsvRefused` when the file as a whole cannot be read). `plan` compares the rows with the
database: who is new, who is already a person or already invited, which teams will be created.
Nothing here writes to the database.

Duplicates: a row whose e-mail address belongs to a person or a pending invitation, or to an
earlier row of the file, is always skipped (an address is one person). A row whose name does is
skipped too, unless its optional `duplicate` column says `invite`: two colleagues may share a name.
"""

import csv
import enum
import io
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from coachapp.dates import format_number
from coachapp.errors import DomainError
from coachapp.extensions import db
from coachapp.models import Invitation, Role, RoleProfile, Team, User
from coachapp.setup.teams import TEAM_NAME_MAX_LENGTH

MAX_ROWS = 1000
NAME_MAX_LENGTH = 120
EMAIL_MAX_LENGTH = 254
COLUMNS = ("name", "email", "role", "team", "role_profile")
#: `duplicate`: "invite" to invite a person whose name is already taken; empty or "skip" not to.
OPTIONAL_COLUMNS = ("duplicate",)
INVITE_ANYWAY = "invite"
SEPARATORS = (",", ";", "\t")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
TEAMED_ROLES = (Role.AGENT, Role.MANAGER)


class CsvRefused(DomainError):
    """The file as a whole cannot be read; `problems` says why, one sentence each."""

    status_code = 422

    def __init__(self, problems: list[str]) -> None:
        super().__init__(problems[0])
        self.problems = problems


@dataclass
class CsvRow:
    """One person's row as written in the file, tidied, with what is wrong with it on its own."""

    #: The row's number in the spreadsheet (the header is row 1).
    number: int
    name: str = ""
    email: str = ""
    role_text: str = ""
    team: str = ""
    role_profile: str = ""
    invite_anyway: bool = False
    role: Role | None = None
    problems: list[str] = field(default_factory=list)


class Outcome(enum.StrEnum):
    INVITE = "invite"
    PERSON = "person"
    INVITED = "invited"
    REPEATED = "repeated"
    ERROR = "error"


SKIPPED = (Outcome.PERSON, Outcome.INVITED, Outcome.REPEATED)
OUTCOME_LABELS = {
    Outcome.INVITE: _l("New invitation"),
    Outcome.PERSON: _l("Already a person: skipped"),
    Outcome.INVITED: _l("Already invited: skipped"),
    Outcome.REPEATED: _l("Twice in the file: skipped"),
    Outcome.ERROR: _l("Error"),
}


@dataclass
class PlannedRow:
    """What importing will do with one row, and why."""

    row: CsvRow
    outcome: Outcome
    reasons: list[str] = field(default_factory=list)
    #: The existing team of the row (None for a team to be created, or no team).
    team: Team | None = None
    #: True when the row's team does not exist yet and will be created.
    new_team: bool = False
    profile: RoleProfile | None = None


@dataclass
class Plan:
    rows: list[PlannedRow]
    #: The teams to create, by their matching key, spelt as the file first spells them.
    new_teams: dict[str, str]

    def count(self, *outcomes: Outcome) -> int:
        return sum(1 for planned in self.rows if planned.outcome in outcomes)

    @property
    def errors(self) -> int:
        return self.count(Outcome.ERROR)

    @property
    def invitations(self) -> int:
        return self.count(Outcome.INVITE)

    @property
    def skipped(self) -> int:
        return self.count(*SKIPPED)

    @property
    def ok(self) -> bool:
        return self.errors == 0


def key(text: str | None) -> str:
    """How two names are compared: whatever the case and spacing, in any script."""
    return " ".join((text or "").split()).casefold()


def tidy(text: str) -> str:
    return " ".join(text.split())


# --- reading ------------------------------------------------------------------------------------


def read_csv(data: bytes | str) -> list[CsvRow]:
    """The people rows of an uploaded or pasted CSV file; CsvRefused when it cannot be read."""
    text = decode(data)
    if not text.strip():
        raise CsvRefused([_("The file is empty. Put the column names in the first row.")])
    separator = _separator(text)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=separator, strict=False)
    try:
        return _rows(reader, separator)
    except csv.Error:
        raise CsvRefused(
            [_("The file could not be read as CSV. Save it from your spreadsheet as CSV UTF-8.")]
        ) from None


def decode(data: bytes | str) -> str:
    """The text of the file, without a byte-order mark; CsvRefused when it is not UTF-8."""
    if isinstance(data, str):
        return data.removeprefix("\ufeff")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):  # UTF-16, from "Unicode text" exports
        raise CsvRefused([_not_utf8()])
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise CsvRefused([_not_utf8()]) from None


def _not_utf8() -> str:
    return _(
        "The file is not UTF-8 text. In your spreadsheet choose Save as, then CSV UTF-8, "
        "and upload that file."
    )


def _separator(text: str) -> str:
    """Comma, semicolon (what spreadsheets in much of Europe write) or tab: the header decides."""
    header = text.lstrip("\r\n").split("\n", 1)[0]
    return max(SEPARATORS, key=header.count)


def _rows(reader: Iterable[list[str]], separator: str) -> list[CsvRow]:
    records = enumerate(reader, start=1)
    for _number, header in records:
        if _blank(header):
            continue
        columns = _columns(header)
        break
    else:
        raise CsvRefused([_("The file is empty. Put the column names in the first row.")])
    rows: list[CsvRow] = []
    extra = 0
    for number, fields in records:
        if _blank(fields):
            continue
        if len(rows) >= MAX_ROWS:
            extra += 1  # counted, not read: a file far too long is refused at once
            continue
        rows.append(_row(number, fields, columns, separator))
    if extra:
        raise CsvRefused(
            [
                _(
                    "The file has %(count)s people; at most %(max)s can be added at a time. "
                    "Split it into smaller files.",
                    count=format_number(len(rows) + extra),
                    max=format_number(MAX_ROWS),
                )
            ]
        )
    if not rows:
        raise CsvRefused([_("The file has the column names but nobody under them.")])
    return rows


def _blank(fields: list[str]) -> bool:
    return not any(value.strip() for value in fields)


def _columns(header: list[str]) -> list[str]:
    """The header's column names, checked: every one known, each once, none missing."""
    names = [re.sub(r"[\s-]+", "_", value.strip().lower()) for value in header]
    problems: list[str] = []
    expected = ", ".join(COLUMNS)
    for position, name in enumerate(names, start=1):
        if not name:
            problems.append(
                _(
                    "Column %(position)d has no name in the first row: name it or remove it.",
                    position=position,
                )
            )
        elif name not in COLUMNS + OPTIONAL_COLUMNS:
            problems.append(
                _(
                    "Unknown column “%(column)s”: the columns are %(expected)s (and optionally "
                    "duplicate).",
                    column=header[position - 1].strip(),
                    expected=expected,
                )
            )
        elif names.index(name) != position - 1:
            problems.append(_("The column “%(column)s” appears twice.", column=name))
    for name in COLUMNS:
        if name not in names:
            problems.append(
                _(
                    "The column “%(column)s” is missing: the first row must name the columns "
                    "%(expected)s (a row may leave email and role_profile empty).",
                    column=name,
                    expected=expected,
                )
            )
    if problems:
        raise CsvRefused(problems)
    return names


def _row(number: int, fields: list[str], columns: list[str], separator: str) -> CsvRow:
    values = {name: tidy(value) for name, value in zip(columns, fields, strict=False)}
    row = CsvRow(
        number=number,
        name=values.get("name", ""),
        email=values.get("email", ""),
        role_text=values.get("role", ""),
        team=values.get("team", ""),
        role_profile=values.get("role_profile", ""),
    )
    if len(fields) != len(columns):
        shown = {",": ",", ";": ";", "\t": _("tab")}[separator]
        row.problems.append(
            _(
                "This row has %(found)d fields but the first row names %(expected)d columns: "
                "look for a missing or extra %(separator)s, or a quote that is not closed.",
                found=len(fields),
                expected=len(columns),
                separator=shown,
            )
        )
        return row
    _check(row, duplicate=values.get("duplicate", ""))
    return row


def _check(row: CsvRow, *, duplicate: str) -> None:
    """The problems a row has on its own, whatever is in the database."""
    problems = row.problems
    if not row.name:
        problems.append(_("Write the person's name."))
    elif len(row.name) > NAME_MAX_LENGTH:
        problems.append(
            _(
                "Keep the name within %(max)d characters (this one has %(count)d).",
                max=NAME_MAX_LENGTH,
                count=len(row.name),
            )
        )
    if row.email and (len(row.email) > EMAIL_MAX_LENGTH or not EMAIL.match(row.email)):
        problems.append(_("“%(email)s” is not an e-mail address.", email=row.email[:80]))
    try:
        row.role = Role(row.role_text.lower())
    except ValueError:
        if row.role_text:
            problems.append(
                _(
                    "Unknown role “%(role)s”: write agent, manager, trainer or admin.",
                    role=row.role_text[:40],
                )
            )
        else:
            problems.append(_("Write a role: agent, manager, trainer or admin."))
    if row.role == Role.AGENT and not row.team:
        problems.append(_("An agent works in a team: write the team's name."))
    if row.role == Role.MANAGER and not row.team:
        problems.append(_("Write the team this manager manages."))
    if row.role == Role.TRAINER and row.team:
        problems.append(_("A trainer has no team: leave the team empty."))
    if row.role == Role.ADMIN and row.team:
        problems.append(_("An admin has no team: leave the team empty."))
    if row.team and len(row.team) > TEAM_NAME_MAX_LENGTH:
        problems.append(
            _("Keep the team's name within %(max)d characters.", max=TEAM_NAME_MAX_LENGTH)
        )
    if row.role_profile and row.role not in (Role.AGENT, None):
        problems.append(
            _("Only agents are coached against a role profile: leave role_profile empty here.")
        )
    choice = duplicate.lower()
    if choice not in ("", "skip", INVITE_ANYWAY):
        problems.append(
            _(
                "In the duplicate column write invite (to invite this person even though "
                "the name is taken) or leave it empty."
            )
        )
    row.invite_anyway = choice == INVITE_ANYWAY


# --- planning -----------------------------------------------------------------------------------


@dataclass
class _Known:
    """Names and e-mail addresses already in use: by people, and by pending invitations."""

    person_names: set[str]
    person_emails: set[str]
    invited_names: set[str]
    invited_emails: set[str]


def _known(now: datetime) -> _Known:
    people = db.session.execute(sa.select(User.name, User.email)).all()
    pending = db.session.execute(
        sa.select(Invitation.name, Invitation.email).where(
            Invitation.user_id.is_(None),
            Invitation.used_at.is_(None),
            Invitation.revoked_at.is_(None),
            Invitation.expires_at > now,
        )
    ).all()
    return _Known(
        person_names={key(name) for name, _email in people},
        person_emails={key(email) for _name, email in people if email},
        invited_names={key(name) for name, _email in pending},
        invited_emails={key(email) for _name, email in pending if email},
    )


def plan(rows: list[CsvRow], *, now: datetime) -> Plan:
    """What importing `rows` would do, row by row. Reads the database, writes nothing."""
    # Loaded once and compared in Python: case-insensitive in every script, on every database.
    teams = {key(team.name): team for team in db.session.scalars(sa.select(Team))}
    profiles = {key(p.name): p for p in db.session.scalars(sa.select(RoleProfile))}
    known = _known(now)
    new_teams: dict[str, str] = {}
    names_seen: dict[str, int] = {}
    emails_seen: dict[str, int] = {}
    planned: list[PlannedRow] = []
    for row in rows:
        if row.problems:
            planned.append(PlannedRow(row, Outcome.ERROR, list(row.problems)))
            continue
        entry = PlannedRow(row, Outcome.INVITE)
        _resolve(entry, teams=teams, profiles=profiles)
        if entry.reasons:
            entry.outcome = Outcome.ERROR
        else:
            _mark_duplicate(entry, known=known, names_seen=names_seen, emails_seen=emails_seen)
            if entry.new_team:
                new_teams.setdefault(key(row.team), row.team)
        planned.append(entry)
    return Plan(planned, new_teams)


def _resolve(
    entry: PlannedRow, *, teams: dict[str, Team], profiles: dict[str, RoleProfile]
) -> None:
    row = entry.row
    if row.role in TEAMED_ROLES:
        team = teams.get(key(row.team))
        if team is None:
            entry.new_team = True
        elif team.archived_at is not None:
            entry.reasons.append(
                _(
                    "The team “%(team)s” is archived: choose another team, or bring it back "
                    "under Teams first.",
                    team=team.name,
                )
            )
        else:
            entry.team = team
    if row.role_profile:
        entry.profile = profiles.get(key(row.role_profile))
        if entry.profile is None:
            entry.reasons.append(
                _("There is no role profile called “%(profile)s”.", profile=row.role_profile[:120])
            )


def _mark_duplicate(
    entry: PlannedRow,
    *,
    known: _Known,
    names_seen: dict[str, int],
    emails_seen: dict[str, int],
) -> None:
    row = entry.row
    email, name = key(row.email), key(row.name)
    if email and email in known.person_emails:
        entry.outcome = Outcome.PERSON
        entry.reasons.append(_("Someone already has this e-mail address."))
    elif email and email in known.invited_emails:
        entry.outcome = Outcome.INVITED
        entry.reasons.append(_("An invitation to this e-mail address is waiting to be used."))
    elif email and email in emails_seen:
        entry.outcome = Outcome.REPEATED
        entry.reasons.append(_("Row %(row)d has the same e-mail address.", row=emails_seen[email]))
    elif not row.invite_anyway and name in known.person_names:
        entry.outcome = Outcome.PERSON
        entry.reasons.append(
            _(
                "Someone of this name is already here. To invite a second person "
                "of the same name, write invite in the duplicate column."
            )
        )
    elif not row.invite_anyway and name in known.invited_names:
        entry.outcome = Outcome.INVITED
        entry.reasons.append(_("An invitation for this name is waiting to be used."))
    elif not row.invite_anyway and name in names_seen:
        entry.outcome = Outcome.REPEATED
        entry.reasons.append(_("Row %(row)d has the same name.", row=names_seen[name]))
    taken = name in known.person_names or name in known.invited_names or name in names_seen
    if entry.outcome == Outcome.INVITE and row.invite_anyway and taken:
        entry.reasons.append(_("Invited although the name is taken, as the duplicate column asks."))
    if entry.outcome == Outcome.INVITE:
        names_seen.setdefault(name, row.number)
        if email:
            emails_seen.setdefault(email, row.number)
