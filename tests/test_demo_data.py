"""`flask demo-data`: the demo organisation on an empty database, and never on a full one."""

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
import sqlalchemy.orm as so
from click.testing import Result
from flask import Flask

from coachapp import cli
from coachapp.dashboard import summaries
from coachapp.extensions import db
from coachapp.models import (
    Behaviour,
    Competency,
    CompetencyKind,
    Observation,
    Organisation,
    Role,
    RoleProfile,
    ShadowSession,
    Team,
    User,
    manager_teams,
)
from tests.conftest import World


@pytest.fixture(autouse=True)
def schema_already_there(monkeypatch: pytest.MonkeyPatch) -> None:
    """The test database is built from the models, not by Alembic, so the command's own
    migration step is skipped here (test_migrations covers `flask init`)."""
    monkeypatch.setattr(cli, "init_database", lambda: None)


def demo_data(app: Flask, *args: str) -> Result:
    result = app.test_cli_runner().invoke(args=["demo-data", *args])
    db.session.expire_all()
    return result


def rows(model: type) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model)) or 0


def people(role: Role) -> list[User]:
    return list(db.session.scalars(sa.select(User).where(User.role == role)))


def table_counts() -> dict[str, int]:
    return {model.__name__: rows(model) for model in (User, ShadowSession, Observation, Team)}


def test_demo_data_fills_an_empty_database_and_only_once(app: Flask):
    before = datetime.now(UTC)
    loaded = demo_data(app)
    assert loaded.exit_code == 0, loaded.output
    assert "Demo data loaded: 40 agents" in loaded.output

    organisations = db.session.scalars(sa.select(Organisation)).all()
    assert [org.is_demo for org in organisations] == [True]
    assert rows(Team) == 3

    managers = people(Role.MANAGER)
    assert sorted(len(m.managed_teams) for m in managers) == [1, 1, 1, 2]
    assert len(people(Role.TRAINER)) == 2
    assert len(people(Role.ADMIN)) == 1
    agents = people(Role.AGENT)
    assert len(agents) == 40
    assert all(a.team is not None and a.role_profile is not None for a in agents)
    assert len({a.team_id for a in agents}) == 3

    profiles = db.session.scalars(sa.select(RoleProfile)).all()
    assert len(profiles) == 3
    for profile in profiles:
        assert {c.kind for c in profile.competencies} == set(CompetencyKind), profile.name
        # The starter library's profiles: 3 to 12 behaviours a competency, each with an example.
        assert all(3 <= len(c.behaviours) <= 12 for c in profile.competencies), profile.name
        assert all(b.example for c in profile.competencies for b in c.behaviours)

    sessions = db.session.scalars(sa.select(ShadowSession)).all()
    starts = sorted(s.started_at for s in sessions)
    assert before - timedelta(days=91) <= starts[0] <= before - timedelta(days=75)
    assert starts[-1] >= before - timedelta(days=21)
    assert all(s.ended_at is not None for s in sessions)
    assert {s.agent_id for s in sessions} == {a.id for a in agents}
    # Every session is by a manager of the agent's team, about the agent's own behaviours.
    agent = so.aliased(User)
    outside_teams = (
        sa.select(sa.func.count())
        .select_from(ShadowSession)
        .join(agent, agent.id == ShadowSession.agent_id)
        .where(
            ~sa.exists().where(
                manager_teams.c.manager_id == ShadowSession.manager_id,
                manager_teams.c.team_id == agent.team_id,
            )
        )
    )
    assert db.session.scalar(outside_teams) == 0
    foreign_behaviours = (
        sa.select(sa.func.count())
        .select_from(Observation)
        .join(agent, agent.id == Observation.agent_id)
        .join(Behaviour, Behaviour.id == Observation.behaviour_id)
        .join(Competency, Competency.id == Behaviour.competency_id)
        .where(Competency.role_profile_id != agent.role_profile_id)
    )
    assert db.session.scalar(foreign_behaviours) == 0
    assert rows(Observation) > len(sessions)
    # The dashboard's summary rows, computed once per item at the end, are what a rebuild gives.
    kept = summaries.stored()
    assert kept["counted_check"] and kept == summaries.expected()

    counts = table_counts()
    again = demo_data(app)
    assert again.exit_code != 0
    assert "already holds people" in again.output
    assert table_counts() == counts

    tolerated = demo_data(app, "--if-empty")
    assert tolerated.exit_code == 0, tolerated.output
    assert "left as it is" in tolerated.output
    assert table_counts() == counts


def test_demo_data_never_goes_into_a_real_organisation(app: Flask, world: World):
    counts = table_counts()

    refused = demo_data(app)
    tolerated = demo_data(app, "--if-empty")

    assert refused.exit_code != 0
    assert tolerated.exit_code == 0
    assert table_counts() == counts
    assert rows(Behaviour) == 3
    assert db.session.scalars(sa.select(Organisation.is_demo)).all() == [False]
