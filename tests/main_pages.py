"""The main pages of every role on the demo organisation: what the accessibility and HTML validity
checks go through (tests/e2e/test_accessibility_pages.py, tests/test_html_validity.py).

The demo has no suggestion, reply, self-assessment or training cohort, so `add_extras` writes one of
each, by an agent of the field-service team, whom the other browser tests never look at.
"""

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime

import sqlalchemy as sa
from flask import Flask

from coachapp.auth import invitations
from coachapp.dashboard import cohorts
from coachapp.dashboard.models import TrainingCohort
from coachapp.extensions import db
from coachapp.models import (
    Comment,
    CommentKind,
    FocusItem,
    FollowUp,
    Observation,
    ObservationKind,
    Role,
    RoleProfile,
    ShadowSession,
    Suggestion,
    SuggestionKind,
    Team,
    User,
)
from coachapp.threads import service as threads
from coachapp.voice import service as voice

MANAGER = "Maria Santos"
TRAINER = "Tara Lindqvist"
ADMIN = "Ada Okonkwo"
#: The field-service team's manager: the extras are her agent's, away from Maria's team.
OTHER_MANAGER = "Mei Lin"
SIGNED_OUT = ""


#: The agent of Maria's team the pages show, signed in as that agent for the agent's pages.
AGENT = "the agent"
#: The agent of Mei's team who wrote the reply and the suggestion.
OTHER_AGENT = "the other agent"


@dataclass(frozen=True)
class MainPage:
    """One page as one person sees it: `who` signs in (SIGNED_OUT: nobody), then opens `path`,
    whose {names} are the demo's ids (`path_values`)."""

    who: str
    name: str
    path: str
    #: False for a page whose template another case already shows in the browser: the HTML
    #: checker (cheap) still reads it, axe (seconds a page) does not.
    in_browser: bool = True

    @property
    def id(self) -> str:
        role = {MANAGER: "manager", TRAINER: "trainer", ADMIN: "admin", SIGNED_OUT: "signed-out"}
        return f"{role.get(self.who, 'agent')}-{self.name}"


MAIN_PAGES = [
    MainPage(SIGNED_OUT, "sign-in", "/signin"),
    MainPage(SIGNED_OUT, "invitation", "{invitation}"),
    MainPage(SIGNED_OUT, "offline", "/offline"),
    MainPage(MANAGER, "today", "/today"),
    MainPage(MANAGER, "shadowing", "/agents/{agent}/shadow"),
    MainPage(MANAGER, "summary", "/sessions/{ended_session}"),
    MainPage(MANAGER, "check", "/followups/{followup}"),
    MainPage(MANAGER, "agents", "/people"),
    MainPage(MANAGER, "agent-log", "/agents/{agent}"),
    MainPage(MANAGER, "focus-items", "/agents/{agent}/focus-items"),
    MainPage(MANAGER, "profiles", "/profiles"),
    MainPage(MANAGER, "reminders", "/reminders"),
    MainPage(MANAGER, "account", "/account", in_browser=False),
    MainPage(AGENT, "my-log", "/agents/{agent}"),
    MainPage(AGENT, "focus-items", "/agents/{agent}/focus-items"),
    MainPage(AGENT, "self-assessments", "/agents/{agent}/self-assessments"),
    MainPage(AGENT, "self-assessment", "/agents/{agent}/self-assessments/new"),
    MainPage(AGENT, "thread", "/observations/{observation}/thread", in_browser=False),
    MainPage(AGENT, "my-role", "/my-role"),
    MainPage(AGENT, "my-data", "/agents/{agent}/data"),
    MainPage(AGENT, "suggestions", "/suggestions"),
    MainPage(OTHER_AGENT, "thread-with-reply", "/observations/{replied}/thread"),
    MainPage(TRAINER, "dashboard", "/dashboard"),
    MainPage(TRAINER, "drill-down", "/dashboard/items?figure=r28"),
    MainPage(TRAINER, "worklists", "/dashboard/worklists"),
    MainPage(TRAINER, "cohorts", "/dashboard/cohorts"),
    MainPage(TRAINER, "cohort", "/dashboard/cohorts/{cohort}"),
    MainPage(TRAINER, "inbox", "/inbox"),
    MainPage(TRAINER, "suggestion", "/suggestions/{suggestion}"),
    MainPage(TRAINER, "agent-focus-items", "/agents/{other_agent}/focus-items", in_browser=False),
    MainPage(TRAINER, "profile", "/profiles/{profile}"),
    MainPage(TRAINER, "profile-editor", "/profiles/{profile}/edit"),
    MainPage(TRAINER, "new-profile", "/profiles/new", in_browser=False),
    MainPage(ADMIN, "people", "/admin/people"),
    MainPage(ADMIN, "person", "/admin/people/{agent}"),
    MainPage(ADMIN, "import", "/admin/people/import"),
    MainPage(ADMIN, "invitations", "/invitations"),
    MainPage(ADMIN, "teams", "/admin/teams"),
    MainPage(ADMIN, "team", "/admin/teams/{team}"),
    MainPage(ADMIN, "setup", "/setup"),
    MainPage(ADMIN, "settings", "/admin/settings"),
    MainPage(ADMIN, "audit", "/admin/audit"),
    MainPage(ADMIN, "account", "/account"),
]


def _one(query: sa.Select) -> int:
    value = db.session.scalar(query.limit(1))
    assert value is not None, f"the demo data has no row for {query}"
    return int(value)


def _user(name: str) -> User:
    return db.session.scalars(sa.select(User).where(User.name == name)).one()


def _first_agent_of(manager: User) -> User:
    team_ids = [team.id for team in manager.managed_teams]
    return db.session.scalars(
        sa.select(User)
        .where(User.role == Role.AGENT, User.team_id.in_(team_ids))
        .join(FocusItem, FocusItem.agent_id == User.id)
        .order_by(User.id)
        .limit(1)
    ).one()


def add_extras(app: Flask) -> None:
    """A suggestion, a reply, a training cohort and an invitation, once (the demo has none)."""
    with app.app_context():
        other = _user(OTHER_MANAGER)
        agent = _first_agent_of(other)
        if db.session.scalar(sa.select(Suggestion.id).where(Suggestion.author_id == agent.id)):
            return
        now = datetime.now(UTC)
        voice.raise_suggestion(
            author=agent,
            kind=SuggestionKind.SUGGESTION,
            text="A short checklist for the first visit of the day.",
            client_uuid=uuid.uuid4(),
            now=now,
        )
        observation = db.session.scalars(
            sa.select(Observation)
            .join(ShadowSession)
            .where(ShadowSession.agent_id == agent.id)
            .order_by(Observation.id)
            .limit(1)
        ).one()
        threads.post(
            observation=observation,
            author=agent,
            kind=CommentKind.REPLY,
            body="Thanks, I will try it on the next visit.",
            client_uuid=uuid.uuid4(),
            now=now,
        )
        cohorts.create(
            name="Field service induction",
            trained_on=date.today(),
            team_id=agent.team_id,
            agent_ids=[],
            by=_user(TRAINER),
        )
        db.session.commit()


def invitation_path(app: Flask) -> str:
    """The link of a fresh invitation (the token is never stored, so each call makes one)."""
    with app.app_context():
        team = db.session.scalars(sa.select(Team).order_by(Team.id).limit(1)).one()
        _invitation, token = invitations.create_invitation(
            created_by=_user(ADMIN),
            name="Nell Newcomer",
            role=Role.AGENT,
            now=datetime.now(UTC),
            team=team,
        )
        db.session.commit()
        return f"/invite/{token}"


def path_values(app: Flask) -> dict[str, str]:
    """The demo's ids the paths of MAIN_PAGES name, and the names of AGENT and OTHER_AGENT
    (call `add_extras` first)."""
    with app.app_context():
        agent = _first_agent_of(_user(MANAGER))
        other_agent = _first_agent_of(_user(OTHER_MANAGER))
        values = {
            AGENT: agent.name,
            OTHER_AGENT: other_agent.name,
            "agent": agent.id,
            "other_agent": other_agent.id,
            "ended_session": _one(
                sa.select(ShadowSession.id)
                .where(ShadowSession.agent_id == agent.id, ShadowSession.ended_at.is_not(None))
                .order_by(ShadowSession.id.desc())
            ),
            "observation": _one(
                sa.select(Observation.id)
                .join(ShadowSession)
                .where(
                    ShadowSession.agent_id == agent.id,
                    Observation.kind == ObservationKind.STRENGTH,
                )
                .order_by(Observation.id.desc())
            ),
            "replied": _one(
                sa.select(Comment.observation_id)
                .where(Comment.author_id == other_agent.id)
                .order_by(Comment.id)
            ),
            "followup": _one(
                sa.select(FollowUp.id)
                .join(FocusItem)
                .where(FocusItem.agent_id == agent.id, FollowUp.outcome.is_(None))
                .order_by(FollowUp.due_on)
            ),
            "profile": _one(sa.select(RoleProfile.id).order_by(RoleProfile.id)),
            "team": _one(sa.select(Team.id).order_by(Team.id)),
            "suggestion": _one(sa.select(Suggestion.id).order_by(Suggestion.id)),
            "cohort": _one(sa.select(TrainingCohort.id).order_by(TrainingCohort.id)),
        }
    values["invitation"] = invitation_path(app)
    return {key: str(value) for key, value in values.items()}
