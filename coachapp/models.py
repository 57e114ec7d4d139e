"""The typed data model: people, teams, role profiles, shadowing sessions, observations."""

import enum
import uuid
from datetime import UTC, date, datetime

import sqlalchemy as sa
import sqlalchemy.orm as so

from coachapp import scheduling
from coachapp.extensions import db


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(sa.types.TypeDecorator[datetime]):
    """A timezone-aware UTC timestamp on every backend (SQLite keeps no zone of its own)."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are not stored; pass an aware UTC datetime")
        value = value.astimezone(UTC)
        # SQLite compares timestamps as text: store them all in one zone-less form.
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Role(enum.StrEnum):
    AGENT = "agent"
    MANAGER = "manager"
    TRAINER = "trainer"
    ADMIN = "admin"


class CompetencyKind(enum.StrEnum):
    KNOWLEDGE = "knowledge"
    SKILL = "skill"
    ATTITUDE = "attitude"


class ObservationKind(enum.StrEnum):
    STRENGTH = "strength"
    CORRECTION = "correction"
    OBSTACLE = "obstacle"


#: Strengths are shown first everywhere (DESIGN principle 1), then corrections, then obstacles.
KIND_ORDER = {
    ObservationKind.STRENGTH: 0,
    ObservationKind.CORRECTION: 1,
    ObservationKind.OBSTACLE: 2,
}

NOTE_MAX_LENGTH = 4000
BEHAVIOUR_NAME_MAX_LENGTH = 160


def _enum(enum_cls: type[enum.StrEnum], name: str) -> sa.Enum:
    # Stored as plain strings with a CHECK constraint: readable in SQL, portable across backends.
    return sa.Enum(
        enum_cls,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=16,
        values_callable=lambda members: [m.value for m in members],
    )


class Organisation(db.Model):
    """The one organisation an installation serves, with its settings."""

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    name: so.Mapped[str] = so.mapped_column(sa.String(120))
    #: Set only by the demo-data command; demo sign-in needs it as well as COACHAPP_DEMO=1.
    is_demo: so.Mapped[bool] = so.mapped_column(default=False)
    #: The follow-up ladder's gaps in days, comma-separated (DESIGN section 5).
    ladder_gaps: so.Mapped[str] = so.mapped_column(sa.String(80), default="2,5,7,14,28,56")
    #: Working weekdays as date.weekday() numbers, comma-separated.
    working_days: so.Mapped[str] = so.mapped_column(sa.String(20), default="0,1,2,3,4")
    #: An IANA zone name ("Europe/Lisbon"): what "today" means for due dates and how times are
    #: shown. None falls back to COACHAPP_TIMEZONE, then UTC.
    timezone: so.Mapped[str | None] = so.mapped_column(sa.String(64))
    #: The language ("pl") of pages for a person who chose none and whose browser asks for none
    #: of the six; None is English.
    default_language: so.Mapped[str | None] = so.mapped_column(sa.String(8))
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)


manager_teams = sa.Table(
    "manager_teams",
    db.metadata,
    sa.Column("manager_id", sa.ForeignKey("user.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("team_id", sa.ForeignKey("team.id", ondelete="CASCADE"), primary_key=True),
)


class Team(db.Model):
    """A group of agents and the managers who coach them. A team with history is archived,
    never deleted, so that its records stay readable."""

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    name: so.Mapped[str] = so.mapped_column(sa.String(120), unique=True)
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)
    #: Set when an admin archives the team: it leaves every choice of team, its records stay.
    archived_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)

    agents: so.WriteOnlyMapped["User"] = so.relationship(back_populates="team")
    managers: so.Mapped[list["User"]] = so.relationship(
        secondary=manager_teams, back_populates="managed_teams"
    )


class User(db.Model):
    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    name: so.Mapped[str] = so.mapped_column(sa.String(120))
    email: so.Mapped[str | None] = so.mapped_column(sa.String(254), unique=True)
    role: so.Mapped[Role] = so.mapped_column(_enum(Role, "role"))
    #: An agent's team; other roles have none.
    team_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("team.id"), index=True)
    #: The job description an agent is coached against.
    role_profile_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("role_profile.id"))
    active: so.Mapped[bool] = so.mapped_column(default=True)
    #: The language this person chose in Account ("pl"); None follows the browser, then the
    #: organisation's default.
    language: so.Mapped[str | None] = so.mapped_column(sa.String(8))
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)
    #: The WebAuthn user handle: 32 random bytes, never the id or the e-mail (it is stored on the
    #: authenticator and sent back at every sign-in). Made at the first passkey registration.
    webauthn_handle: so.Mapped[bytes | None] = so.mapped_column(sa.LargeBinary(64), unique=True)

    team: so.Mapped[Team | None] = so.relationship(back_populates="agents")
    role_profile: so.Mapped["RoleProfile | None"] = so.relationship()
    managed_teams: so.Mapped[list[Team]] = so.relationship(
        secondary=manager_teams, back_populates="managers"
    )

    # Flask-Login's protocol, written out so that a deactivated user is refused everywhere.
    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_active(self) -> bool:
        return self.active

    @property
    def is_anonymous(self) -> bool:
        return False

    def get_id(self) -> str:
        return str(self.known_id)

    @property
    def known_id(self) -> int:
        """The id without a round trip to the database, even once a commit has expired the
        object (what is asked of the signed-in person after the request's commit)."""
        identity = sa.inspect(self).identity
        return int(identity[0]) if identity else self.id

    @property
    def first_name(self) -> str:
        return self.name.split(" ", 1)[0]

    def __repr__(self) -> str:
        return f"<User {self.id} {self.role}>"


class RoleProfile(db.Model):
    """A role's job description as observable behaviours, grouped into competencies."""

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    name: so.Mapped[str] = so.mapped_column(sa.String(120), unique=True)
    #: The role's purpose, in a sentence or two.
    description: so.Mapped[str] = so.mapped_column(sa.Text, default="")
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)

    competencies: so.Mapped[list["Competency"]] = so.relationship(
        back_populates="role_profile", order_by="Competency.position"
    )


class Competency(db.Model):
    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    role_profile_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("role_profile.id"), index=True)
    name: so.Mapped[str] = so.mapped_column(sa.String(120))
    kind: so.Mapped[CompetencyKind] = so.mapped_column(_enum(CompetencyKind, "competency_kind"))
    #: What the competency covers, in one short line.
    description: so.Mapped[str] = so.mapped_column(sa.Text, default="")
    position: so.Mapped[int] = so.mapped_column(default=0)

    role_profile: so.Mapped[RoleProfile] = so.relationship(back_populates="competencies")
    behaviours: so.Mapped[list["Behaviour"]] = so.relationship(
        back_populates="competency", order_by="Behaviour.position"
    )


class Behaviour(db.Model):
    """One observable behaviour, written so that anyone watching can tell whether it happened."""

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    competency_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("competency.id"), index=True)
    #: Something one can see or hear ("Greets the customer by name"); the chip's label.
    name: so.Mapped[str] = so.mapped_column(sa.String(BEHAVIOUR_NAME_MAX_LENGTH))
    description: so.Mapped[str] = so.mapped_column(sa.Text, default="")
    #: "What good looks like": shown to the agent and, on a details link, to the manager.
    example: so.Mapped[str] = so.mapped_column(sa.Text, default="")
    position: so.Mapped[int] = so.mapped_column(default=0)
    #: A behaviour with observations is never deleted: retired, it leaves the chips and stays on
    #: every past record and in the figures.
    retired_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)

    #: Loaded with the behaviour (a join, not a query of its own): wherever a behaviour is shown,
    #: its competency's kind is shown beside it.
    competency: so.Mapped[Competency] = so.relationship(
        back_populates="behaviours", lazy="joined", innerjoin=True
    )

    @property
    def is_retired(self) -> bool:
        return self.retired_at is not None


class ShadowSession(db.Model):
    """A manager walking beside one agent during a shift."""

    __table_args__ = (
        sa.UniqueConstraint("manager_id", "client_uuid"),
        # One open session per manager and agent: a replayed or concurrent start joins it.
        sa.Index(
            "uq_shadow_session_open",
            "manager_id",
            "agent_id",
            unique=True,
            sqlite_where=sa.text("ended_at IS NULL"),
            postgresql_where=sa.text("ended_at IS NULL"),
        ),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    manager_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("user.id"), index=True)
    agent_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("user.id"), index=True)
    #: Made on the phone so that a replayed or double-tapped start creates one session.
    client_uuid: so.Mapped[uuid.UUID] = so.mapped_column(sa.Uuid)
    started_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)
    ended_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)
    #: The manager's overall note at the end of the session, shown to the agent.
    summary_note: so.Mapped[str] = so.mapped_column(sa.Text, default="")
    #: Ended by itself after hours without an entry, not by the manager (its summary says so).
    ended_automatically: so.Mapped[bool] = so.mapped_column(
        default=False, server_default=sa.false()
    )

    manager: so.Mapped[User] = so.relationship(foreign_keys=[manager_id])
    agent: so.Mapped[User] = so.relationship(foreign_keys=[agent_id])
    observations: so.Mapped[list["Observation"]] = so.relationship(
        back_populates="session", order_by="Observation.occurred_at.desc()"
    )

    @property
    def is_open(self) -> bool:
        return self.ended_at is None


class Observation(db.Model):
    """One thing the manager saw: a strength, a correction or an obstacle in the work."""

    __table_args__ = (sa.UniqueConstraint("author_id", "client_uuid"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    session_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("shadow_session.id"), index=True)
    author_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("user.id"))
    agent_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("user.id"), index=True)
    kind: so.Mapped[ObservationKind] = so.mapped_column(_enum(ObservationKind, "observation_kind"))
    behaviour_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("behaviour.id"))
    note: so.Mapped[str] = so.mapped_column(sa.Text, default="")
    #: For a correction: what the manager coached on the spot.
    coached: so.Mapped[str] = so.mapped_column(sa.Text, default="")
    client_uuid: so.Mapped[uuid.UUID] = so.mapped_column(sa.Uuid)
    #: When it happened, by the phone's clock (it may have been saved offline).
    occurred_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime)
    #: When the server stored it.
    recorded_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)
    updated_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)

    session: so.Mapped[ShadowSession] = so.relationship(back_populates="observations")
    author: so.Mapped[User] = so.relationship(foreign_keys=[author_id])
    agent: so.Mapped[User] = so.relationship(foreign_keys=[agent_id])
    behaviour: so.Mapped[Behaviour | None] = so.relationship()

    @property
    def sort_key(self) -> tuple[int, float]:
        """Strengths first, newest first within a kind."""
        return (KIND_ORDER[self.kind], -self.occurred_at.timestamp())


def order_for_reading(observations: list[Observation]) -> list[Observation]:
    return sorted(observations, key=lambda o: o.sort_key)


class LoginSession(db.Model):
    """A signed-in device. The cookie holds a random token; only its hash is stored here, so that
    sign-out and deactivation end the session on the server, whatever copies of the cookie exist."""

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    user_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("user.id"), index=True)
    #: SHA-256 of the cookie's token.
    token_hash: so.Mapped[str] = so.mapped_column(sa.String(64), unique=True)
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)
    ended_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)
    #: The browser's User-Agent at sign-in (cut short), to name the device on the account page.
    user_agent: so.Mapped[str] = so.mapped_column(sa.String(200), default="")
    #: The client's address at sign-in (after the trusted proxies).
    address: so.Mapped[str] = so.mapped_column(sa.String(45), default="")

    user: so.Mapped[User] = so.relationship()


class FocusItem(db.Model):
    """One behaviour one agent is working on, opened by a correction and re-observed on a ladder.

    The state columns mirror scheduling.ItemState; the item's follow-ups hold every outcome, so
    the state can always be rebuilt by replaying them (scheduling.replay).
    """

    __table_args__ = (
        # One open item per agent and behaviour: a second correction is a slip of the first.
        sa.Index(
            "uq_focus_item_open",
            "agent_id",
            "behaviour_id",
            unique=True,
            sqlite_where=sa.text("status != 'closed'"),
            postgresql_where=sa.text("status != 'closed'"),
        ),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    agent_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("user.id"), index=True)
    behaviour_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("behaviour.id"))
    #: The correction that opened the item.
    opening_observation_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("observation.id", ondelete="SET NULL")
    )
    opened_by_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("user.id"))
    opened_on: so.Mapped[date]
    level: so.Mapped[int] = so.mapped_column(default=0)
    resume_level: so.Mapped[int | None]
    streak: so.Mapped[int] = so.mapped_column(default=0)
    lapses: so.Mapped[int] = so.mapped_column(default=0)
    last_coached_on: so.Mapped[date]
    status: so.Mapped[str] = so.mapped_column(sa.String(16), default=scheduling.ACTIVE, index=True)
    #: Three lapses: the trainer looks for causes in the work itself.
    escalated: so.Mapped[bool] = so.mapped_column(default=False)
    due_on: so.Mapped[date | None] = so.mapped_column(index=True)
    #: The gap in days that produced due_on (for the on-time window).
    due_gap: so.Mapped[int | None]

    agent: so.Mapped[User] = so.relationship(foreign_keys=[agent_id])
    opened_by: so.Mapped[User] = so.relationship(foreign_keys=[opened_by_id])
    behaviour: so.Mapped[Behaviour] = so.relationship()
    opening_observation: so.Mapped[Observation | None] = so.relationship()
    followups: so.Mapped[list["FollowUp"]] = so.relationship(
        back_populates="focus_item", order_by="FollowUp.sequence", cascade="all, delete-orphan"
    )

    @property
    def state(self) -> scheduling.ItemState:
        return scheduling.ItemState(
            level=self.level,
            resume_level=self.resume_level,
            streak=self.streak,
            lapses=self.lapses,
            last_coached_on=self.last_coached_on,
            opened_on=self.opened_on,
            status=self.status,
            escalated=self.escalated,
            due_on=self.due_on,
            due_gap=self.due_gap,
        )

    @state.setter
    def state(self, state: scheduling.ItemState) -> None:
        self.level = state.level
        self.resume_level = state.resume_level
        self.streak = state.streak
        self.lapses = state.lapses
        self.last_coached_on = state.last_coached_on
        self.status = state.status
        self.escalated = state.escalated
        self.due_on = state.due_on
        self.due_gap = state.due_gap

    @property
    def pending(self) -> "FollowUp | None":
        """The check waiting to be done, if the item is not closed."""
        return next((f for f in reversed(self.followups) if f.outcome is None), None)

    @property
    def recorded(self) -> list["FollowUp"]:
        return [f for f in self.followups if f.outcome is not None]


#: A check not done, as the dashboard counts it: no outcome, or no date for it.
PENDING_CHECK = "outcome IS NULL OR observed_on IS NULL"


class FollowUp(db.Model):
    """One scheduled re-observation of a focus item: its due date, and once done its outcome."""

    __table_args__ = (
        sa.UniqueConstraint("focus_item_id", "sequence"),
        sa.UniqueConstraint("author_id", "client_uuid"),
        # The checks not done (few): the dashboard reads these from here, the done ones from
        # its summary rows (coachapp.dashboard.summaries). Covering what it reads of them, so
        # the scan never visits the table's rows (300,000 at two years' size, notes and all).
        sa.Index(
            "ix_followup_not_done",
            "focus_item_id",
            "due_on",
            "gap",
            "observed_on",
            "outcome",
            sqlite_where=sa.text(PENDING_CHECK),
            postgresql_where=sa.text(PENDING_CHECK),
        ),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    focus_item_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("focus_item.id", ondelete="CASCADE"), index=True
    )
    #: 1 for the first check of the item, 2 for the next, ...
    sequence: so.Mapped[int]
    due_on: so.Mapped[date] = so.mapped_column(index=True)
    gap: so.Mapped[int]
    #: The ladder level the check was scheduled at ("check level + 1 of len(gaps)").
    level: so.Mapped[int]
    outcome: so.Mapped[scheduling.Outcome | None] = so.mapped_column(
        _enum(scheduling.Outcome, "followup_outcome")
    )
    observed_on: so.Mapped[date | None]
    on_time: so.Mapped[bool | None]
    note: so.Mapped[str] = so.mapped_column(sa.Text, default="")
    coached: so.Mapped[str] = so.mapped_column(sa.Text, default="")
    author_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("user.id"))
    client_uuid: so.Mapped[uuid.UUID | None] = so.mapped_column(sa.Uuid)
    #: Set when a correction during shadowing recorded this check as a slip.
    observation_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("observation.id", ondelete="SET NULL")
    )
    recorded_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)

    focus_item: so.Mapped[FocusItem] = so.relationship(back_populates="followups")
    author: so.Mapped[User | None] = so.relationship()


#: The newest note of a recorded check, computed in SQL so a list of items loads it without
#: fetching every item's history (Today stays one query whatever its length).
FocusItem.latest_check_note = so.column_property(
    sa.select(FollowUp.note)
    .where(
        FollowUp.focus_item_id == FocusItem.id,
        FollowUp.outcome.is_not(None),
        FollowUp.note != "",
    )
    .order_by(FollowUp.sequence.desc())
    .limit(1)
    .correlate_except(FollowUp)
    .scalar_subquery(),
    deferred=True,
)


class PushSubscription(db.Model):
    """A browser's Web Push endpoint for one person's reminders."""

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    user_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("user.id"), index=True)
    endpoint: so.Mapped[str] = so.mapped_column(sa.String(1000), unique=True)
    p256dh: so.Mapped[str] = so.mapped_column(sa.String(200))
    auth: so.Mapped[str] = so.mapped_column(sa.String(100))
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)


class ReminderSent(db.Model):
    """Claims one day's reminder for one person before it is sent, so that runs on several
    machines at once send it once."""

    __table_args__ = (sa.UniqueConstraint("user_id", "sent_on"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    user_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("user.id"))
    sent_on: so.Mapped[date]
    due_count: so.Mapped[int]
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)


class CalendarFeed(db.Model):
    """A manager's secret calendar URL; only its token's hash is kept; a new token revokes it."""

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    user_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("user.id"), unique=True)
    token_hash: so.Mapped[str] = so.mapped_column(sa.String(64), unique=True)
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)


class AppKey(db.Model):
    """Keys the app makes for itself on first use (the VAPID pair), shared by every process."""

    name: so.Mapped[str] = so.mapped_column(sa.String(40), primary_key=True)
    value: so.Mapped[str] = so.mapped_column(sa.Text)
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)


class AuditEvent(db.Model):
    """Who did what to whom, and when: sign-ins, invitations, role changes, exports, log views.

    Never observation text: `details` holds short codes and ids only.
    """

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow, index=True)
    #: A dotted code, e.g. "signin.success", "log.viewed", "invitation.created".
    action: so.Mapped[str] = so.mapped_column(sa.String(40), index=True)
    actor_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("user.id"), index=True)
    #: The person the event is about (the agent whose log was opened, the invitee, ...).
    subject_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("user.id"), index=True)
    details: so.Mapped[str] = so.mapped_column(sa.String(200), default="")
    #: The client's address (after the trusted proxies) and browser, when a request caused it.
    address: so.Mapped[str] = so.mapped_column(sa.String(45), default="")
    user_agent: so.Mapped[str] = so.mapped_column(sa.String(200), default="")

    actor: so.Mapped[User | None] = so.relationship(foreign_keys=[actor_id])
    subject: so.Mapped[User | None] = so.relationship(foreign_keys=[subject_id])


class Passkey(db.Model):
    """A WebAuthn credential: the public key of a passkey on someone's phone or computer."""

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    user_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("user.id"), index=True)
    #: The authenticator's id for the credential: how a sign-in finds its passkey.
    credential_id: so.Mapped[bytes] = so.mapped_column(sa.LargeBinary(1023), unique=True)
    #: The COSE public key, as the authenticator gave it.
    public_key: so.Mapped[bytes] = so.mapped_column(sa.LargeBinary)
    #: The authenticator's signature counter (up to 2**32 - 1); it must grow unless it stays 0.
    sign_count: so.Mapped[int] = so.mapped_column(sa.BigInteger, default=0)
    #: Comma-separated transport hints ("internal,hybrid") for later excludeCredentials lists.
    transports: so.Mapped[str] = so.mapped_column(sa.String(200), default="")
    #: Synced to the person's cloud account (iCloud Keychain, Google Password Manager).
    backed_up: so.Mapped[bool] = so.mapped_column(default=False)
    #: What the person calls it ("iPhone", "Work laptop").
    name: so.Mapped[str] = so.mapped_column(sa.String(60))
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)
    last_used_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)

    user: so.Mapped[User] = so.relationship()


class Invitation(db.Model):
    """A single-use link that lets a new person create their first passkey, or (with `user_id`)
    lets an existing person add one after losing their phone."""

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    #: SHA-256 of the link's token; the token itself is shown once and never stored.
    token_hash: so.Mapped[str] = so.mapped_column(sa.String(64), unique=True)
    role: so.Mapped[Role] = so.mapped_column(_enum(Role, "invitation_role"))
    #: An agent's team, or the team a new manager manages.
    team_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("team.id"))
    role_profile_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("role_profile.id"))
    name: so.Mapped[str] = so.mapped_column(sa.String(120))
    email: so.Mapped[str | None] = so.mapped_column(sa.String(254))
    #: None for the first admin's invitation, made by `flask create-admin`.
    created_by_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("user.id"))
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)
    expires_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime)
    used_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)
    revoked_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)
    #: Set for a passkey reset: the existing person who may add a passkey, and nothing else.
    user_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("user.id"), index=True)
    #: Who redeemed it: the person it created, or the person of a reset.
    used_by_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("user.id"))

    team: so.Mapped[Team | None] = so.relationship()
    role_profile: so.Mapped[RoleProfile | None] = so.relationship()
    created_by: so.Mapped[User | None] = so.relationship(foreign_keys=[created_by_id])
    user: so.Mapped[User | None] = so.relationship(foreign_keys=[user_id])

    @property
    def is_reset(self) -> bool:
        return self.user_id is not None


class WebAuthnChallenge(db.Model):
    """A challenge handed to the browser, kept here (its id in the Flask session) so that it is
    bound to one ceremony, used once (deleted before verification) and refused once stale."""

    __tablename__ = "webauthn_challenge"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    #: "register" or "authenticate".
    purpose: so.Mapped[str] = so.mapped_column(sa.String(16))
    challenge: so.Mapped[bytes] = so.mapped_column(sa.LargeBinary(64))
    #: A registration for a signed-in person adding a passkey.
    user_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("user.id", ondelete="CASCADE"), index=True
    )
    #: A registration from an invitation.
    invitation_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("invitation.id", ondelete="CASCADE"), index=True
    )
    #: For a registration: the user handle the options carried (a new person has no row yet).
    user_handle: so.Mapped[bytes | None] = so.mapped_column(sa.LargeBinary(64))
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, index=True)


# --- the agent's side: threads, self-checks, self-assessments, obstacles and suggestions --------


class CommentKind(enum.StrEnum):
    #: The agent marks an observation as seen.
    SEEN = "seen"
    REPLY = "reply"
    #: The agent asks what the observation means or what to do differently.
    QUESTION = "question"


class Comment(db.Model):
    """One message in the thread under an observation: the agent's "seen", replies, questions and
    the manager's answers. Threads are part of the record: once the other side has read a
    message it can be neither changed nor removed."""

    __table_args__ = (sa.UniqueConstraint("author_id", "client_uuid"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    observation_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("observation.id", ondelete="CASCADE"), index=True
    )
    author_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("user.id"), index=True)
    kind: so.Mapped[CommentKind] = so.mapped_column(_enum(CommentKind, "comment_kind"))
    body: so.Mapped[str] = so.mapped_column(sa.Text, default="")
    #: Made in the browser so that a double tap or a replayed form posts the message once.
    client_uuid: so.Mapped[uuid.UUID] = so.mapped_column(sa.Uuid)
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)
    updated_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)
    #: When the other side (the agent, or a manager of the agent's team) first had it on screen.
    read_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime, index=True)
    read_by_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("user.id"))

    observation: so.Mapped[Observation] = so.relationship()
    author: so.Mapped[User] = so.relationship(foreign_keys=[author_id])
    read_by: so.Mapped[User | None] = so.relationship(foreign_keys=[read_by_id])

    @property
    def by_agent(self) -> bool:
        return self.author_id == self.observation.agent_id


class SelfRating(enum.StrEnum):
    """How the agent thinks a focus item went; the values match scheduling.Outcome's."""

    SUSTAINED = "sustained"
    PARTLY = "partly"
    SLIPPED = "slipped"


class SelfCheck(db.Model):
    """The agent's own rating of a focus item before its next re-observation, and, once the
    manager has recorded that check, how the two compare."""

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    #: The re-observation it was made before: one self-check per check.
    followup_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("follow_up.id", ondelete="CASCADE"), unique=True
    )
    focus_item_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("focus_item.id", ondelete="CASCADE"), index=True
    )
    agent_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("user.id"), index=True)
    rating: so.Mapped[SelfRating] = so.mapped_column(_enum(SelfRating, "self_rating"))
    note: so.Mapped[str] = so.mapped_column(sa.Text, default="")
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)
    updated_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)
    #: The outcome the manager recorded for that check (copied when it was recorded).
    observed_outcome: so.Mapped[scheduling.Outcome | None] = so.mapped_column(
        _enum(scheduling.Outcome, "self_check_observed")
    )
    #: Self-view minus observation on slipped 0 < partly 1 < sustained 2: above 0 the agent saw
    #: it better than the manager did, below 0 worse; None when not comparable (no chance).
    difference: so.Mapped[int | None]

    followup: so.Mapped[FollowUp] = so.relationship(back_populates="self_check")
    focus_item: so.Mapped[FocusItem] = so.relationship()
    agent: so.Mapped[User] = so.relationship()

    def compare_with(self, outcome: scheduling.Outcome | None) -> None:
        """Keep the outcome the manager recorded and how far the self-view was from it
        (None forgets a withdrawn outcome)."""
        self.observed_outcome = outcome
        observed = SELF_RATING_RANK.get(outcome.value) if outcome is not None else None
        self.difference = None if observed is None else SELF_RATING_RANK[self.rating] - observed


#: Slipped < partly < sustained; "no chance" has no place on it.
SELF_RATING_RANK = {SelfRating.SLIPPED: 0, SelfRating.PARTLY: 1, SelfRating.SUSTAINED: 2}

#: The agent's self-check made before this re-observation, if any.
FollowUp.self_check = so.relationship(
    SelfCheck, uselist=False, back_populates="followup", passive_deletes=True
)


#: The four steps of the self-assessment scale, lowest first.
SELF_ASSESSMENT_LEVELS = (1, 2, 3, 4)


class SelfAssessment(db.Model):
    """An agent's periodic view of themselves against their role profile: one per period."""

    __table_args__ = (sa.UniqueConstraint("agent_id", "period"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    agent_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("user.id"), index=True)
    #: The calendar month it is for, "YYYY-MM".
    period: so.Mapped[str] = so.mapped_column(sa.String(7))
    #: The profile it was made against (the agent's profile may change later).
    role_profile_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("role_profile.id"))
    proud_of: so.Mapped[str] = so.mapped_column(sa.Text, default="")
    want_to_improve: so.Mapped[str] = so.mapped_column(sa.Text, default="")
    goal: so.Mapped[str] = so.mapped_column(sa.Text, default="")
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)

    agent: so.Mapped[User] = so.relationship()
    role_profile: so.Mapped[RoleProfile | None] = so.relationship()
    ratings: so.Mapped[list["SelfAssessmentRating"]] = so.relationship(
        back_populates="self_assessment", cascade="all, delete-orphan"
    )


class SelfAssessmentRating(db.Model):
    """One behaviour of a self-assessment, on the four-step scale."""

    __table_args__ = (
        sa.UniqueConstraint("self_assessment_id", "behaviour_id"),
        sa.CheckConstraint("level BETWEEN 1 AND 4", name="ck_self_assessment_rating_level"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    self_assessment_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("self_assessment.id", ondelete="CASCADE"), index=True
    )
    behaviour_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("behaviour.id"))
    #: 1 "I need support" ... 4 "I can teach others".
    level: so.Mapped[int]

    self_assessment: so.Mapped[SelfAssessment] = so.relationship(back_populates="ratings")
    behaviour: so.Mapped[Behaviour] = so.relationship()


class SuggestionKind(enum.StrEnum):
    #: Something in the work (a tool, a script, a rule, a queue) that gets in the way.
    OBSTACLE = "obstacle"
    SUGGESTION = "suggestion"


class SuggestionStatus(enum.StrEnum):
    NEW = "new"
    ACKNOWLEDGED = "acknowledged"
    BEING_FIXED = "being_fixed"
    FIXED = "fixed"
    WONT_FIX = "wont_fix"


class Suggestion(db.Model):
    """An obstacle or a suggestion raised by an agent or a manager, in the trainers' inbox.

    About the work, never about a person (DESIGN principle 3)."""

    __table_args__ = (sa.UniqueConstraint("author_id", "client_uuid"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    author_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("user.id"), index=True)
    kind: so.Mapped[SuggestionKind] = so.mapped_column(_enum(SuggestionKind, "suggestion_kind"))
    text: so.Mapped[str] = so.mapped_column(sa.Text)
    status: so.Mapped[SuggestionStatus] = so.mapped_column(
        _enum(SuggestionStatus, "suggestion_status"), default=SuggestionStatus.NEW, index=True
    )
    client_uuid: so.Mapped[uuid.UUID] = so.mapped_column(sa.Uuid)
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)
    #: When the status last changed (the author sees it move).
    status_changed_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)

    author: so.Mapped[User] = so.relationship()
    updates: so.Mapped[list["SuggestionUpdate"]] = so.relationship(
        back_populates="suggestion",
        order_by="SuggestionUpdate.id",
        cascade="all, delete-orphan",
    )


class SuggestionUpdate(db.Model):
    """One status change of a suggestion by a trainer, with its reason (required for won't fix)."""

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    suggestion_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("suggestion.id", ondelete="CASCADE"), index=True
    )
    status: so.Mapped[SuggestionStatus] = so.mapped_column(
        _enum(SuggestionStatus, "suggestion_update_status")
    )
    note: so.Mapped[str] = so.mapped_column(sa.Text, default="")
    by_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("user.id"))
    at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)

    suggestion: so.Mapped[Suggestion] = so.relationship(back_populates="updates")
    by: so.Mapped[User] = so.relationship()
