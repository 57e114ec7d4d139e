"""The typed data model: people, teams, role profiles, shadowing sessions, observations."""

import enum
import uuid
from datetime import UTC, datetime

import sqlalchemy as sa
import sqlalchemy.orm as so

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
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)


manager_teams = sa.Table(
    "manager_teams",
    db.metadata,
    sa.Column("manager_id", sa.ForeignKey("user.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("team_id", sa.ForeignKey("team.id", ondelete="CASCADE"), primary_key=True),
)


class Team(db.Model):
    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    name: so.Mapped[str] = so.mapped_column(sa.String(120), unique=True)

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
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)

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
        return str(self.id)

    @property
    def first_name(self) -> str:
        return self.name.split(" ", 1)[0]

    def __repr__(self) -> str:
        return f"<User {self.id} {self.role}>"


class RoleProfile(db.Model):
    """A role's job description as observable behaviours, grouped into competencies."""

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    name: so.Mapped[str] = so.mapped_column(sa.String(120), unique=True)
    description: so.Mapped[str] = so.mapped_column(sa.Text, default="")

    competencies: so.Mapped[list["Competency"]] = so.relationship(
        back_populates="role_profile", order_by="Competency.position"
    )


class Competency(db.Model):
    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    role_profile_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("role_profile.id"), index=True)
    name: so.Mapped[str] = so.mapped_column(sa.String(120))
    kind: so.Mapped[CompetencyKind] = so.mapped_column(_enum(CompetencyKind, "competency_kind"))
    position: so.Mapped[int] = so.mapped_column(default=0)

    role_profile: so.Mapped[RoleProfile] = so.relationship(back_populates="competencies")
    behaviours: so.Mapped[list["Behaviour"]] = so.relationship(
        back_populates="competency", order_by="Behaviour.position"
    )


class Behaviour(db.Model):
    """One observable behaviour, written so that anyone watching can tell whether it happened."""

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    competency_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("competency.id"), index=True)
    #: The short label on the shadowing screen's chip.
    name: so.Mapped[str] = so.mapped_column(sa.String(80))
    description: so.Mapped[str] = so.mapped_column(sa.Text, default="")
    position: so.Mapped[int] = so.mapped_column(default=0)

    competency: so.Mapped[Competency] = so.relationship(back_populates="behaviours")


class ShadowSession(db.Model):
    """A manager walking beside one agent during a shift."""

    __table_args__ = (sa.UniqueConstraint("manager_id", "client_uuid"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    manager_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("user.id"), index=True)
    agent_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("user.id"), index=True)
    #: Made on the phone so that a replayed or double-tapped start creates one session.
    client_uuid: so.Mapped[uuid.UUID] = so.mapped_column(sa.Uuid)
    started_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)
    ended_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)
    #: The manager's overall note at the end of the session, shown to the agent.
    summary_note: so.Mapped[str] = so.mapped_column(sa.Text, default="")

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

    user: so.Mapped[User] = so.relationship()
