"""Outside scope, every /api write answers exactly what a made-up id answers: the same 404.

Maria (team A) aims each write at a record of Mo's (team B) and at an id nobody made; the two
answers must be equal, 404, and change nothing. A new /api write route needs a row in WRITES.
"""

import uuid
from collections.abc import Callable
from dataclasses import dataclass

import pytest
import sqlalchemy as sa
from flask import Flask, url_for
from flask.testing import FlaskClient

from coachapp.extensions import db
from coachapp.followups.service import apply_correction, current_ladder
from coachapp.models import FollowUp, Observation, ObservationKind, ShadowSession
from tests.conftest import Auth, World, make_observation, make_session

MADE_UP_ID = 2_147_483_000


@dataclass
class Others:
    """Records of Mo's team B: Bo, Mo's open session with him, an entry and a pending check."""

    agent: int
    session: uuid.UUID
    observation: uuid.UUID
    followup: int


@dataclass
class Write:
    method: str
    url: Callable[[Others], str]
    body: Callable[[World, Others], dict[str, object]]


def entry(world: World, _others: Others) -> dict[str, object]:
    return {"client_uuid": str(uuid.uuid4()), "kind": "strength", "note": "Warm greeting."}


WRITES: dict[str, tuple[Write, Write]] = {
    # (aimed at Mo's record, aimed at a made-up one)
    "sync.start_session": (
        Write("POST", lambda o: url_for("sync.start_session"),
              lambda w, o: {"client_uuid": str(uuid.uuid4()), "agent_id": o.agent}),
        Write("POST", lambda o: url_for("sync.start_session"),
              lambda w, o: {"client_uuid": str(uuid.uuid4()), "agent_id": MADE_UP_ID}),
    ),
    "sync.add_observation": (
        Write("POST", lambda o: url_for("sync.add_observation", session_uuid=o.session), entry),
        Write("POST", lambda o: url_for("sync.add_observation", session_uuid=uuid.uuid4()), entry),
    ),
    "sync.change_observation": (
        Write("PUT", lambda o: url_for("sync.change_observation", observation_uuid=o.observation),
              lambda w, o: {"kind": "strength", "note": "Changed."}),
        Write("PUT", lambda o: url_for("sync.change_observation", observation_uuid=uuid.uuid4()),
              lambda w, o: {"kind": "strength", "note": "Changed."}),
    ),
    "sync.remove_observation": (
        Write("DELETE",
              lambda o: url_for("sync.remove_observation", observation_uuid=o.observation),
              lambda w, o: {}),
        Write("DELETE",
              lambda o: url_for("sync.remove_observation", observation_uuid=uuid.uuid4()),
              lambda w, o: {}),
    ),
    "sync.record_outcome": (
        Write("POST", lambda o: url_for("sync.record_outcome", followup_id=o.followup),
              lambda w, o: {"client_uuid": str(uuid.uuid4()), "outcome": "sustained"}),
        Write("POST", lambda o: url_for("sync.record_outcome", followup_id=MADE_UP_ID),
              lambda w, o: {"client_uuid": str(uuid.uuid4()), "outcome": "sustained"}),
    ),
    "sync.end_session": (
        Write("POST", lambda o: url_for("sync.end_session", session_uuid=o.session),
              lambda w, o: {"summary_note": "Done."}),
        Write("POST", lambda o: url_for("sync.end_session", session_uuid=uuid.uuid4()),
              lambda w, o: {"summary_note": "Done."}),
    ),
}  # fmt: skip


def test_every_api_write_has_a_row(app: Flask):
    writes = {
        rule.endpoint
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith("/api/") and (rule.methods or set()) - {"GET", "HEAD", "OPTIONS"}
    }
    # A batch answers each of its items through the very views below, with their own statuses.
    assert writes - {"sync.batch"} == WRITES.keys()


def snapshot() -> tuple[object, ...]:
    return (
        db.session.scalar(sa.select(sa.func.count()).select_from(Observation)),
        db.session.scalar(sa.select(sa.func.count()).select_from(ShadowSession)),
        tuple(db.session.scalars(sa.select(ShadowSession.ended_at).order_by(ShadowSession.id))),
        tuple(db.session.scalars(sa.select(FollowUp.outcome).order_by(FollowUp.id))),
        tuple(db.session.scalars(sa.select(Observation.note).order_by(Observation.id))),
    )


@pytest.mark.parametrize("endpoint", sorted(WRITES))
def test_another_managers_record_answers_as_a_made_up_one(
    endpoint: str, client: FlaskClient, auth: Auth, world: World
):
    shadow = make_session(world.manager_mo, world.agent_bo)
    observation = make_observation(shadow)
    correction = make_observation(
        shadow, kind=ObservationKind.CORRECTION, behaviour_id=world.behaviours[1].id
    )
    item = apply_correction(correction, current_ladder())
    db.session.commit()
    assert item is not None and item.pending is not None
    others = Others(world.agent_bo.id, shadow.client_uuid, observation.client_uuid, item.pending.id)
    auth.login(world.manager_maria)
    before = snapshot()
    theirs, made_up = WRITES[endpoint]
    answers = [
        client.open(write.url(others), method=write.method, json=write.body(world, others))
        for write in (theirs, made_up)
    ]
    db.session.expire_all()
    assert snapshot() == before
    assert [a.status_code for a in answers] == [404, 404]
    assert answers[0].json == answers[1].json


@pytest.mark.parametrize("method", ["GET", "POST", "PUT", "DELETE", "PATCH"])
def test_every_method_on_another_managers_entry_answers_as_on_a_made_up_one(
    method: str, client: FlaskClient, auth: Auth, world: World
):
    shadow = make_session(world.manager_mo, world.agent_bo)
    observation = make_observation(shadow)
    auth.login(world.manager_maria)
    answers = [
        client.open(f"/api/observations/{some}", method=method, json={"kind": "strength"})
        for some in (observation.client_uuid, uuid.uuid4())
    ]
    assert answers[0].status_code == answers[1].status_code
    assert answers[0].get_data() == answers[1].get_data()
    assert db.session.get(Observation, observation.id) is not None
