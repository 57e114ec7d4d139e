"""Role profile services: create, rename, reorder, move, retire, restore, delete, replace-import."""

import json

import pytest
import sqlalchemy as sa

from coachapp.extensions import db
from coachapp.models import AuditEvent, Behaviour, RoleProfile
from coachapp.profiles import files, service
from tests.conftest import World, make_observation, make_session


def names(competency) -> list[str]:  # type: ignore[no-untyped-def]
    return [b.name for b in service.active_behaviours(competency)]


@pytest.fixture
def desk(app) -> RoleProfile:  # type: ignore[no-untyped-def]
    """The front desk starter profile, copied."""
    profile = files.copy_starter("front_desk", actor=None)
    db.session.commit()
    return profile


def test_create_and_rename_a_profile(world: World) -> None:
    profile = service.create_profile(name="  Night   shift ", description="Calm.", actor=None)
    assert profile.name == "Night shift"
    service.update_profile(profile, name="Night desk", description="", actor=world.admin_ada)
    db.session.commit()
    assert service.profile_named("NIGHT DESK") is profile
    actions = db.session.scalars(sa.select(AuditEvent.action).order_by(AuditEvent.id)).all()
    assert actions == ["profile.created", "profile.changed"]


@pytest.mark.parametrize(
    ("name", "error"),
    [
        ("", service.ProfileNameEmpty),
        ("   ", service.ProfileNameEmpty),
        ("x" * 121, service.ProfileNameTooLong),
        ("contact-centre AGENT", service.ProfileNameTaken),
    ],
)
def test_bad_profile_names_are_refused(world: World, name: str, error: type) -> None:
    with pytest.raises(error) as raised:
        service.create_profile(name=name, actor=None)
    assert raised.value.status_code == 422 and str(raised.value.message)
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(RoleProfile)) == 2


def test_renaming_to_another_profiles_name_is_refused(world: World) -> None:
    with pytest.raises(service.ProfileNameTaken):
        service.update_profile(
            world.other_profile, name="Contact-centre agent", description="", actor=None
        )


def test_competencies_need_a_real_kind_and_a_unique_name(world: World) -> None:
    with pytest.raises(service.UnknownKind):
        service.add_competency(world.profile, name="Tools", kind="talent", actor=None)
    with pytest.raises(service.CompetencyNameTaken):
        service.add_competency(
            world.profile, name="contact-centre agent SKILLS", kind="skill", actor=None
        )
    competency = service.add_competency(
        world.profile, name="Tools", kind="Knowledge", description="The CRM.", actor=None
    )
    service.update_competency(
        competency, name="Systems", kind="knowledge", description="CRM and phone", actor=None
    )
    assert [c.name for c in world.profile.competencies][-1] == "Systems"
    assert competency.kind.value == "knowledge" and competency.position == 1


def test_behaviour_names_are_checked(world: World) -> None:
    competency = world.profile.competencies[0]
    for name, error in [
        ("", service.BehaviourNameEmpty),
        ("y" * 161, service.BehaviourNameTooLong),
        ("greets BY name", service.BehaviourNameTaken),
    ]:
        with pytest.raises(error):
            service.add_behaviour(competency, name=name, actor=None)
    behaviour = service.add_behaviour(competency, name="y" * 160, example="Like so.", actor=None)
    assert behaviour.example == "Like so." and names(competency)[-1] == "y" * 160


def test_the_editor_warns_below_three_and_refuses_the_thirteenth(world: World) -> None:
    competency = world.profile.competencies[0]
    assert [w.count for w in service.warnings(world.profile)] == [2]
    for number in range(10):
        service.add_behaviour(competency, name=f"Behaviour {number}", actor=None)
    assert service.warnings(world.profile) == []
    with pytest.raises(service.TooManyBehaviours):
        service.add_behaviour(competency, name="The thirteenth", actor=None)
    assert len(names(competency)) == 12


def test_rewording_keeps_the_same_row_and_its_history(world: World) -> None:
    greets = world.behaviours[0]
    shadow = make_session(world.manager_maria, world.agent_alex)
    observation = make_observation(shadow, behaviour_id=greets.id)
    service.update_behaviour(
        greets, name="Greets the customer by name", example="Hello Ms Costa", actor=None
    )
    db.session.commit()
    assert observation.behaviour.name == "Greets the customer by name"
    assert observation.behaviour_id == greets.id


def test_reorder_behaviours_and_competencies(desk: RoleProfile) -> None:
    welcome = desk.competencies[1]
    first, second = service.active_behaviours(welcome)[:2]
    service.move_behaviour(second, up=True, actor=None)
    assert names(welcome)[:2] == [second.name, first.name]
    service.move_behaviour(second, up=True, actor=None)  # already first: nothing moves
    last = service.active_behaviours(welcome)[-1]
    service.move_behaviour(last, up=False, actor=None)
    assert names(welcome)[0] == second.name and names(welcome)[-1] == last.name
    service.move_competency(welcome, up=True, actor=None)
    db.session.commit()
    db.session.expire_all()
    assert [c.name for c in desk.competencies][:2] == ["Welcome and service", "Services and prices"]
    assert names(desk.competencies[0])[:2] == [second.name, first.name]


def test_move_a_behaviour_to_another_competency_of_the_same_profile(
    world: World, desk: RoleProfile
) -> None:
    knowledge, welcome = desk.competencies[0], desk.competencies[1]
    behaviour = service.active_behaviours(knowledge)[0]
    service.move_to_competency(behaviour, welcome, actor=None)
    db.session.commit()
    db.session.expire_all()
    assert behaviour.competency_id == welcome.id and names(welcome)[-1] == behaviour.name
    assert [b.position for b in knowledge.behaviours] == [0, 1, 2]
    with pytest.raises(service.OtherProfile):
        service.move_to_competency(behaviour, world.profile.competencies[0], actor=None)


def test_retire_a_behaviour_with_history_and_restore_it(world: World) -> None:
    greets, confirms = world.behaviours
    shadow = make_session(world.manager_maria, world.agent_alex)
    make_observation(shadow, behaviour_id=greets.id)
    assert service.has_history(greets) and not service.has_history(confirms)
    with pytest.raises(service.HasHistory):
        service.delete_behaviour(greets, actor=None)
    service.retire_behaviour(greets, actor=world.trainer_tara)
    db.session.commit()
    competency = world.profile.competencies[0]
    assert names(competency) == ["Confirms next steps"]
    assert db.session.get(Behaviour, greets.id) is not None and greets.is_retired
    with pytest.raises(service.BehaviourNameRetired):
        service.add_behaviour(competency, name="Greets by name", actor=None)
    service.restore_behaviour(greets, actor=None)
    db.session.commit()
    assert names(competency) == ["Confirms next steps", "Greets by name"]
    actions = db.session.scalars(sa.select(AuditEvent.action).order_by(AuditEvent.id)).all()
    assert actions == ["behaviour.retired", "behaviour.restored"]


def test_a_behaviour_without_history_may_be_deleted(world: World) -> None:
    confirms = world.behaviours[1]
    service.delete_behaviour(confirms, actor=None)
    db.session.commit()
    assert db.session.get(Behaviour, confirms.id) is None
    assert names(world.profile.competencies[0]) == ["Greets by name"]


def test_restore_is_refused_when_the_competency_is_full(world: World) -> None:
    competency = world.profile.competencies[0]
    greets = world.behaviours[0]
    service.retire_behaviour(greets, actor=None)
    for number in range(11):
        service.add_behaviour(competency, name=f"Behaviour {number}", actor=None)
    with pytest.raises(service.TooManyBehaviours):
        service.restore_behaviour(greets, actor=None)


def test_replace_import_keeps_history_and_retires_what_is_gone(
    world: World, desk: RoleProfile
) -> None:
    welcome = desk.competencies[1]
    greets, eye_contact = service.active_behaviours(welcome)[:2]
    world.agent_alex.role_profile = desk
    shadow = make_session(world.manager_maria, world.agent_alex)
    observation = make_observation(shadow, behaviour_id=eye_contact.id)
    document = files.export(desk)
    behaviours = document["competencies"][1]["behaviours"]
    behaviours[0]["name"] = "Greets every guest within 10 seconds"  # a new one (old one gone)
    behaviours[0], behaviours[2] = behaviours[2], behaviours[0]
    del behaviours[1]  # eye contact goes: it has history, so it is retired
    behaviours.append({"name": "Smiles when greeting", "example": "A real smile."})
    document["competencies"][0]["behaviours"][0]["example"] = "Names them straight away."
    files.import_profile(files.parse(json.dumps(document)), actor=None, replace=True)
    db.session.commit()
    db.session.expire_all()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(RoleProfile)) == 3
    assert names(welcome) == [
        "Uses the guest's name once it is known",
        "Greets every guest within 10 seconds",
        "Repeats the booking back before confirming",
        "Closes with what happens next",
        "Smiles when greeting",
    ]
    assert eye_contact.is_retired and greets.is_retired
    assert observation.behaviour_id == eye_contact.id
    assert desk.competencies[0].behaviours[0].example == "Names them straight away."
    assert "profile.imported" in db.session.scalars(sa.select(AuditEvent.action)).all()


def test_an_import_of_a_taken_name_without_replace_creates_nothing(desk: RoleProfile) -> None:
    data = files.parse(files.export_json(desk))
    with pytest.raises(service.ProfileNameTaken):
        files.import_profile(data, actor=None)
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(RoleProfile)) == 1


def test_copy_from_the_starter_library_under_another_name(desk: RoleProfile) -> None:
    with pytest.raises(service.ProfileNameTaken):
        files.copy_starter("front_desk", actor=None)
    db.session.rollback()
    copy = files.copy_starter("front_desk", actor=None, name="Front desk, weekends")
    db.session.commit()
    assert copy.id != desk.id
    assert [names(c) for c in copy.competencies] == [names(c) for c in desk.competencies]


# --- agents' profiles ----------------------------------------------------------------------------


def test_a_new_agent_gets_the_teams_most_common_profile_else_the_only_one(world: World) -> None:
    from coachapp.auth.invitations import default_profile
    from coachapp.models import Team

    assert default_profile(team=world.team_a) is world.profile
    empty = Team(name="Chat")
    db.session.add(empty)
    db.session.flush()
    assert default_profile(team=empty) is None  # two profiles: no guess
    db.session.delete(world.other_profile.competencies[0].behaviours[0])
    db.session.delete(world.other_profile.competencies[0])
    db.session.delete(world.other_profile)
    db.session.flush()
    assert default_profile(team=empty) is world.profile


def test_changing_an_agents_profile_is_audited_and_keeps_observations(world: World) -> None:
    from coachapp.models import Role
    from coachapp.people import service as people

    greets = world.behaviours[0]
    observation = make_observation(
        make_session(world.manager_maria, world.agent_alex), behaviour_id=greets.id
    )
    people.change_role(
        person=world.agent_alex,
        actor=world.admin_ada,
        role=Role.AGENT,
        team=world.team_a,
        managed_teams=[],
        role_profile=world.other_profile,
    )
    db.session.commit()
    event = db.session.scalar(
        sa.select(AuditEvent).where(AuditEvent.action == "user.profile_changed")
    )
    assert event is not None and event.subject_id == world.agent_alex.id
    assert event.details == f"profile {world.profile.id}→{world.other_profile.id}"
    assert observation.behaviour_id == greets.id
    from coachapp.people.audit_log import label

    assert label("user.profile_changed") == "Role profile changed"
