"""Teams: created, renamed, archived or deleted, their managers, and agents moved between them
with their history following them."""

from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from flask import url_for
from flask.testing import FlaskClient

from coachapp.extensions import db
from coachapp.models import AuditEvent, Role, Team, User
from coachapp.setup import teams
from tests.conftest import Auth, World, make_observation, make_session
from tests.test_followups import correct


def events(action: str) -> list[AuditEvent]:
    return list(
        db.session.scalars(
            sa.select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)
        )
    )


def team_count() -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(Team)) or 0


@pytest.fixture
def admin(client: FlaskClient, auth: Auth, world: World) -> FlaskClient:
    auth.login(world.admin_ada)
    return client


# --- names ---------------------------------------------------------------------------------------


def test_an_admin_creates_a_team_with_a_tidied_name(admin, world):
    response = admin.post("/admin/teams", data={"name": "  Chat   and  e-mail "})
    assert response.status_code == 303
    team = teams.team_named("chat and E-MAIL")
    assert team is not None and team.name == "Chat and e-mail"
    assert response.headers["Location"] == f"/admin/teams/{team.id}"
    (created,) = events("team.created")
    assert (created.actor_id, created.details) == (world.admin_ada.id, f"team {team.id}")


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("", "Give the team a name."),
        ("   ", "Give the team a name."),
        ("phones", "There is already a team of that name."),
        (" PHONES ", "There is already a team of that name."),
        ("x" * 121, "Keep the team&#39;s name within 120 characters."),
    ],
)
def test_a_bad_team_name_is_refused_next_to_the_field(admin, world, name, message):
    before = team_count()
    response = admin.post("/admin/teams", data={"name": name})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert f'<p class="field-error" id="name-error" role="alert">{message}</p>' in page
    assert 'aria-invalid="true"' in page
    if name.strip():
        assert f'value="{name}"' in page  # what was typed stays in the field
    assert team_count() == before
    assert events("team.created") == []


def test_a_name_of_exactly_120_characters_is_fine(admin, world):
    assert admin.post("/admin/teams", data={"name": "y" * 120}).status_code == 303


def test_rename_keeps_the_rules_and_allows_a_change_of_case(admin, world):
    url = f"/admin/teams/{world.team_a.id}/name"
    refused = admin.post(url, data={"name": "desk"})
    assert refused.status_code == 422
    assert "There is already a team of that name." in refused.get_data(as_text=True)
    assert 'value="desk"' in refused.get_data(as_text=True)
    assert admin.post(url, data={"name": "PHONES"}).status_code == 303
    assert admin.post(url, data={"name": "Phones and chat"}).status_code == 303
    db.session.expire_all()
    assert db.session.get(Team, world.team_a.id).name == "Phones and chat"
    assert len(events("team.renamed")) == 2


# --- the list ------------------------------------------------------------------------------------


def test_the_list_puts_active_teams_first_and_counts_agents_and_managers(admin, world):
    world.manager_maria.managed_teams.append(world.team_b)
    db.session.add(Team(name="Archive room", archived_at=datetime.now(UTC)))
    db.session.add(User(name="Cy Chen", role=Role.AGENT, team=world.team_b))
    db.session.commit()
    page = admin.get("/admin/teams").get_data(as_text=True)
    active, archived = page.split('id="archived-teams"')
    assert active.index("Desk") < active.index("Phones")
    assert "Archive room" not in active and "Archive room" in archived
    desk = active[active.index("Desk") :]
    assert "2 agents" in desk[:300] and "2 managers" in desk[:300]
    phones = active[active.index("Phones") :]
    assert "1 agent" in phones[:300] and "1 manager" in phones[:300]


# --- archive, restore, delete --------------------------------------------------------------------


def test_a_team_with_agents_is_not_archived_until_they_are_moved(admin, world):
    url = f"/admin/teams/{world.team_a.id}/archive"
    refused = admin.post(url)
    assert refused.status_code == 422
    assert "Move this team&#39;s agents" in refused.get_data(as_text=True)
    assert db.session.get(Team, world.team_a.id).archived_at is None

    move = {"agent_ids": [str(world.agent_alex.id)], "target_id": str(world.team_b.id)}
    assert admin.post(f"/admin/teams/{world.team_a.id}/move", data=move).status_code == 303
    assert admin.post(url).status_code == 303
    db.session.expire_all()
    team = db.session.get(Team, world.team_a.id)
    assert team is not None and team.archived_at is not None
    assert [e.details for e in events("team.archived")] == [f"team {team.id}"]
    # It has history (Maria managed it, Alex worked in it): archived, never deleted.
    assert not teams.can_be_deleted(team)
    refused = admin.post(f"/admin/teams/{team.id}/delete")
    assert refused.status_code == 422
    assert "archive it instead" in refused.get_data(as_text=True)
    assert db.session.get(Team, team.id) is not None


def test_a_team_whose_agents_all_moved_away_still_has_history(app, world):
    teams.move_agents(
        agents=[world.agent_alex], source=world.team_a, target=world.team_b, actor=world.admin_ada
    )
    world.team_a.managers = []
    db.session.commit()
    assert not teams.can_be_deleted(world.team_a)


def test_a_team_made_by_mistake_is_deleted(admin, world):
    team = teams.create_team(name="Typo", actor=world.admin_ada)
    db.session.commit()
    page = admin.get(f"/admin/teams/{team.id}").get_data(as_text=True)
    assert "Delete team" in page
    assert admin.post(f"/admin/teams/{team.id}/delete").status_code == 303
    db.session.expire_all()
    assert teams.team_named("Typo") is None
    assert [e.details for e in events("team.deleted")] == [f"team {team.id}"]


def test_an_archived_team_is_restored(admin, world):
    team = teams.create_team(name="Night shift", actor=None)
    db.session.commit()
    assert admin.post(f"/admin/teams/{team.id}/archive").status_code == 303
    assert team.id not in [t.id for t in teams.active_teams()]
    assert admin.post(f"/admin/teams/{team.id}/restore").status_code == 303
    db.session.expire_all()
    assert db.session.get(Team, team.id).archived_at is None
    assert len(events("team.restored")) == 1


# --- managers ------------------------------------------------------------------------------------


def test_a_manager_may_manage_several_teams(admin, world):
    data = {"manager_ids": [str(world.manager_maria.id), str(world.manager_mo.id)]}
    assert admin.post(f"/admin/teams/{world.team_b.id}/managers", data=data).status_code == 303
    db.session.expire_all()
    maria = db.session.get(User, world.manager_maria.id)
    assert sorted(t.name for t in maria.managed_teams) == ["Desk", "Phones"]
    (changed,) = events("team.managers_changed")
    low, high = sorted([world.manager_maria.id, world.manager_mo.id])
    assert changed.details == f"team {world.team_b.id} managers {world.manager_mo.id}→{low},{high}"

    assert admin.post(f"/admin/teams/{world.team_b.id}/managers", data={}).status_code == 303
    db.session.expire_all()
    assert db.session.get(Team, world.team_b.id).managers == []
    assert [t.name for t in db.session.get(User, world.manager_maria.id).managed_teams] == [
        "Phones"
    ]


def test_only_managers_can_be_made_managers(admin, world):
    data = {"manager_ids": [str(world.agent_alex.id)]}
    response = admin.post(f"/admin/teams/{world.team_b.id}/managers", data=data)
    assert response.status_code == 422
    assert "Choose from the managers listed." in response.get_data(as_text=True)
    assert events("team.managers_changed") == []


# --- moving agents -------------------------------------------------------------------------------


def test_moving_an_agent_is_audited_and_their_history_follows_them(
    admin, auth, world, frozen_clock
):
    ended = make_session(world.manager_maria, world.agent_alex, ended_at=frozen_clock.now())
    make_observation(ended, note="Warm, clear opening.", behaviour_id=world.behaviours[0].id)
    correct(world, frozen_clock, behaviour_index=1)
    alex = world.agent_alex.id
    log, focus = url_for("log.agent", agent_id=alex), url_for("log.focus_items", agent_id=alex)

    move = {"agent_ids": [str(alex)], "target_id": str(world.team_b.id)}
    response = admin.post(f"/admin/teams/{world.team_a.id}/move", data=move)
    assert response.status_code == 303
    (moved,) = events("user.team_changed")
    assert (moved.subject_id, moved.details) == (alex, f"team {world.team_a.id}→{world.team_b.id}")
    db.session.expire_all()
    assert db.session.get(User, alex).team_id == world.team_b.id

    auth.login(world.manager_mo)  # the new team's manager
    assert "Warm, clear opening." in admin.get(log).get_data(as_text=True)
    assert "Confirms next steps" in admin.get(focus).get_data(as_text=True)
    auth.login(world.manager_maria)  # the old team's manager no longer sees them
    assert admin.get(log).status_code == 404
    assert admin.get(focus).status_code == 404
    auth.login(world.agent_alex)  # and the agent still has all of it
    assert "Warm, clear opening." in admin.get(log).get_data(as_text=True)
    assert "Confirms next steps" in admin.get(focus).get_data(as_text=True)


@pytest.mark.parametrize(
    ("choose", "message"),
    [
        (lambda w: {"target_id": str(w.team_b.id)}, "Choose at least one agent to move."),
        (lambda w: {"agent_ids": [str(w.agent_alex.id)]}, "Choose another active team"),
        (
            lambda w: {"agent_ids": [str(w.agent_alex.id)], "target_id": str(w.team_a.id)},
            "Choose another active team",
        ),
        (  # Bo works in team B, not in this one
            lambda w: {"agent_ids": [str(w.agent_bo.id)], "target_id": str(w.team_b.id)},
            "Choose at least one agent to move.",
        ),
        (
            lambda w: {"agent_ids": ["not-a-number"], "target_id": "nine"},
            "Choose another active team",
        ),
    ],
)
def test_a_move_that_makes_no_sense_is_refused(admin, world, choose, message):
    response = admin.post(f"/admin/teams/{world.team_a.id}/move", data=choose(world))
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(User, world.agent_alex.id).team_id == world.team_a.id
    assert events("user.team_changed") == []


def test_no_move_into_an_archived_team(admin, world):
    spare = Team(name="Closed", archived_at=datetime.now(UTC))
    db.session.add(spare)
    db.session.commit()
    move = {"agent_ids": [str(world.agent_alex.id)], "target_id": str(spare.id)}
    assert admin.post(f"/admin/teams/{world.team_a.id}/move", data=move).status_code == 422
    page = admin.get(f"/admin/teams/{world.team_a.id}").get_data(as_text=True)
    assert "Closed" not in page


# --- archived teams leave every choice of team ---------------------------------------------------


def test_archived_teams_are_not_offered_in_the_invitation_and_person_forms(admin, world):
    spare = Team(name="Closed desk", archived_at=datetime.now(UTC))
    db.session.add(spare)
    db.session.commit()
    invitations = admin.get("/invitations").get_data(as_text=True)
    person = admin.get(f"/admin/people/{world.agent_bo.id}").get_data(as_text=True)
    for page in (invitations, person):
        assert "Phones" in page
        assert "Closed desk" not in page
    refused = admin.post(
        "/invitations", data={"name": "Nia Novak", "role": "agent", "team_id": str(spare.id)}
    )
    assert refused.status_code == 422


def test_a_manager_does_not_invite_into_an_archived_team(client, auth, world):
    spare = Team(name="Closed desk", archived_at=datetime.now(UTC))
    db.session.add(spare)
    world.manager_maria.managed_teams.append(spare)
    db.session.commit()
    auth.login(world.manager_maria)
    page = client.get("/invitations").get_data(as_text=True)
    assert "Phones" in page and "Closed desk" not in page
    refused = client.post(
        "/invitations", data={"name": "Nia Novak", "role": "agent", "team_id": str(spare.id)}
    )
    assert refused.status_code == 422
