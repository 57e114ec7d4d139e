"""Role profile pages: the editor with and without htmx, uploads, downloads, and My role."""

import io
import json

import sqlalchemy as sa
from flask.testing import FlaskClient

from coachapp.extensions import db
from coachapp.models import Behaviour, Observation, RoleProfile
from coachapp.profiles import service
from tests.conftest import Auth, World, make_observation, make_session

HX = {"HX-Request": "true"}


def edit_url(world: World) -> str:
    return f"/profiles/{world.profile.id}/edit"


def test_the_editor_adds_a_behaviour_as_a_fragment(
    client: FlaskClient, auth: Auth, world: World
) -> None:
    auth.login(world.trainer_tara)
    competency = world.profile.competencies[0]
    response = client.post(
        f"/profiles/competencies/{competency.id}/behaviours",
        data={"name": "Smiles while talking", "example": "You can hear it."},
        headers=HX,
    )
    body = response.get_data(as_text=True)
    assert response.status_code == 200 and "HX-Request" in response.headers["Vary"]
    assert body.lstrip().startswith("{#") is False and 'hx-target="this"' in body
    assert "<html" not in body and "Smiles while talking" in body and "You can hear it." in body


def test_a_bad_behaviour_is_refused_next_to_its_field_keeping_what_was_typed(
    client: FlaskClient, auth: Auth, world: World
) -> None:
    auth.login(world.admin_ada)
    competency = world.profile.competencies[0]
    response = client.post(
        f"/profiles/competencies/{competency.id}/behaviours",
        data={"name": "x" * 161, "example": "Typed example stays"},
        headers=HX,
    )
    body = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Keep the behaviour to 160 characters." in body and "Typed example stays" in body
    assert f'id="new-behaviour-{competency.id}-name-error"' in body
    assert len(competency.behaviours) == 2


def test_without_javascript_a_move_posts_and_redirects(
    client: FlaskClient, auth: Auth, world: World
) -> None:
    auth.login(world.admin_ada)
    greets, confirms = world.behaviours
    response = client.post(f"/profiles/behaviours/{confirms.id}/move", data={"direction": "up"})
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/edit#behaviour-{confirms.id}")
    db.session.expire_all()
    assert [b.name for b in service.active_behaviours(world.profile.competencies[0])] == [
        "Confirms next steps",
        "Greets by name",
    ]
    page = client.get(edit_url(world)).get_data(as_text=True)
    assert "a change of meaning" not in page and "If the meaning changes" in page
    assert "works best with 3 to 12" in page  # only two behaviours: warned, not blocked


def test_the_editor_offers_retire_for_a_behaviour_with_history_and_delete_otherwise(
    client: FlaskClient, auth: Auth, world: World
) -> None:
    greets, confirms = world.behaviours
    make_observation(make_session(world.manager_maria, world.agent_alex), behaviour_id=greets.id)
    auth.login(world.trainer_tara)
    page = client.get(edit_url(world)).get_data(as_text=True)
    assert f"/profiles/behaviours/{greets.id}/retire" in page
    assert f"/profiles/behaviours/{greets.id}/delete" not in page
    assert f"/profiles/behaviours/{confirms.id}/delete" in page
    refused = client.post(f"/profiles/behaviours/{greets.id}/delete", headers=HX)
    assert refused.status_code == 422 and "retire it instead" in refused.get_data(as_text=True)
    assert client.post(f"/profiles/behaviours/{greets.id}/retire").status_code == 303
    assert db.session.get(Behaviour, greets.id) is not None


def test_an_uploaded_file_with_problems_lists_them_and_creates_nothing(
    client: FlaskClient, auth: Auth, world: World
) -> None:
    auth.login(world.admin_ada)
    document = {"name": "", "competencies": [{"name": "Care", "kind": "feelings"}]}
    response = client.post(
        "/profiles/import",
        data={"file": (io.BytesIO(json.dumps(document).encode()), "bad.json")},
        content_type="multipart/form-data",
    )
    body = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "The profile: the name is empty." in body
    assert "Competency 1: the kind must be knowledge, skill or attitude" in body
    assert 'aria-describedby="import-problems"' in body and "feelings" in body  # kept
    assert db.session.scalar(sa.select(sa.func.count()).select_from(RoleProfile)) == 2


def test_a_file_over_the_upload_limit_gets_a_friendly_page(
    client: FlaskClient, auth: Auth, world: World
) -> None:
    auth.login(world.trainer_tara)
    response = client.post(
        "/profiles/import",
        data={"file": (io.BytesIO(b" " * (300 * 1024)), "huge.json")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 413
    assert "larger than 256 KiB" in response.get_data(as_text=True)


def test_export_is_a_download(client: FlaskClient, auth: Auth, world: World) -> None:
    auth.login(world.admin_ada)
    response = client.get(f"/profiles/{world.profile.id}/export")
    assert response.headers["Content-Disposition"] == (
        'attachment; filename="contact-centre-agent.json"'
    )
    assert json.loads(response.get_data(as_text=True))["name"] == "Contact-centre agent"


def test_copy_a_starter_under_a_taken_name_says_so_on_the_form(
    client: FlaskClient, auth: Auth, world: World
) -> None:
    auth.login(world.admin_ada)
    response = client.post(
        "/profiles/copy", data={"starter": "contact_centre_agent", "name": "Contact-centre agent"}
    )
    assert response.status_code == 422
    assert "There is already a profile named Contact-centre agent" in response.get_data(
        as_text=True
    )
    ok = client.post("/profiles/copy", data={"starter": "contact_centre_agent", "name": "Phones"})
    assert ok.status_code == 303


def test_my_role_lists_the_profile_and_a_retired_behaviour_stays_on_past_entries(
    client: FlaskClient, auth: Auth, world: World
) -> None:
    greets, confirms = world.behaviours
    service.update_behaviour(confirms, name=confirms.name, example="By Thursday", actor=None)
    ended = make_session(world.manager_maria, world.agent_alex, ended_at=db.func.now())
    make_observation(ended, behaviour_id=greets.id)
    service.retire_behaviour(greets, actor=None)
    db.session.commit()

    auth.login(world.agent_alex)
    my_role = client.get("/my-role").get_data(as_text=True)
    assert "Contact-centre agent" in my_role and "Confirms next steps" in my_role
    assert "By Thursday" in my_role and "Greets by name" not in my_role
    assert '<span class="visually-hidden"> (Skill)</span>' in my_role
    log = client.get(f"/agents/{world.agent_alex.id}").get_data(as_text=True)
    assert "Greets by name" in log  # the past entry keeps its behaviour

    auth.login(world.manager_maria)
    shadow = make_session(world.manager_maria, world.agent_alex)
    capture = client.get(f"/sessions/{shadow.id}").get_data(as_text=True)
    chips = capture[capture.index("Behaviours: tap one to save") :]
    assert "Confirms next steps" in chips and "Greets by name" not in chips
    assert "What good looks like" in chips and "By Thursday" in chips


def test_a_retired_behaviour_takes_no_new_entries_but_an_old_entry_can_still_be_fixed(
    client: FlaskClient, auth: Auth, world: World
) -> None:
    import uuid

    greets = world.behaviours[0]
    shadow = make_session(world.manager_maria, world.agent_alex)
    saved = make_observation(shadow, behaviour_id=greets.id, note="Warm")
    service.retire_behaviour(greets, actor=None)
    db.session.commit()
    auth.login(world.manager_maria)
    new = client.post(
        f"/sessions/{shadow.id}/observations",
        data={"kind": "strength", "behaviour_id": greets.id, "client_uuid": str(uuid.uuid4())},
        headers=HX,
    )
    assert new.status_code == 422
    fixed = client.post(
        f"/observations/{saved.id}",
        data={
            "kind": "strength",
            "behaviour_id": greets.id,
            "note": "Warm and clear",
            "client_uuid": str(saved.client_uuid),
        },
        headers=HX,
    )
    assert fixed.status_code == 200, fixed.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Observation, saved.id).note == "Warm and clear"  # type: ignore[union-attr]


def test_a_pasted_file_with_replace_updates_the_profile_in_place(
    client: FlaskClient, auth: Auth, world: World
) -> None:
    from coachapp.profiles import files

    auth.login(world.trainer_tara)
    document = files.export(world.profile)
    behaviours = document["competencies"][0]["behaviours"]
    behaviours[1] = {"name": "Asks before holding"}
    behaviours.append({"name": "Thanks the customer"})
    response = client.post("/profiles/import", data={"json": json.dumps(document), "replace": "on"})
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/profiles/{world.profile.id}/edit")
    db.session.expire_all()
    competency = world.profile.competencies[0]
    assert [b.name for b in service.active_behaviours(competency)] == [
        "Greets by name",
        "Asks before holding",
        "Thanks the customer",
    ]
    assert world.behaviours[1].is_retired


def test_over_the_limit_with_csrf_on_still_gets_the_form(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from coachapp.models import Role, User
    from tests.conftest import Auth as SignIn
    from tests.conftest import make_app

    app = make_app("sqlite:///" + str(tmp_path / "csrf.sqlite3"), WTF_CSRF_ENABLED=True)
    with app.app_context():
        db.create_all()
        tara = User(name="Tara Lindqvist", role=Role.TRAINER, email="tara@example.org")
        db.session.add(tara)
        db.session.commit()
        client = app.test_client()
        SignIn(client).login(tara)
        response = client.post(
            "/profiles/import",
            data={"file": (io.BytesIO(b" " * (300 * 1024)), "huge.json")},
            content_type="multipart/form-data",
        )
        assert response.status_code == 413
        assert "larger than 256 KiB" in response.get_data(as_text=True)
        db.session.remove()
