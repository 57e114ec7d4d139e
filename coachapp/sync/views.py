"""The JSON write API the phone's outbox replays: every write addressed by the phone's UUIDs.

Sessions and entries made offline have no server id yet, so everything is found by the UUID the
phone made, always together with the signed-in author: a replay answers as the first call did and
stores nothing new. Refusals say why in words the page shows beside the waiting item.
"""

import uuid
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from flask import Blueprint, Response, current_app, g, jsonify, request, url_for
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf.csrf import CSRFError, generate_csrf
from werkzeug.exceptions import HTTPException

from coachapp import clock
from coachapp.bodies import takes_json
from coachapp.errors import DomainError, SessionEnded
from coachapp.extensions import csrf, db
from coachapp.followups import service as followups
from coachapp.followups.forms import OutcomeForm
from coachapp.models import FollowUp, Observation, ShadowSession
from coachapp.refusals import note_reason
from coachapp.roles import role_required
from coachapp.scope import (
    coachable_agent_or_404,
    coachable_followup_or_404,
    own_observation_by_uuid_or_404,
    own_session_by_uuid_or_404,
)
from coachapp.shadowing import service as shadowing
from coachapp.shadowing.forms import (
    BEHAVIOUR_NOT_OFFERED,
    EndSessionForm,
    ObservationForm,
    behaviour_ids_allowed,
    named_behaviour_id,
)
from coachapp.shadowing.service import record_observation_once
from coachapp.sync import openapi
from coachapp.sync.service import (
    Field,
    Invalid,
    as_formdata,
    first_error,
    observation_by_uuid,
    parse_uuid,
    phone_time,
    read_object,
    user_tag,
)
from coachapp.unit_of_work import commits

bp = Blueprint("sync", __name__, url_prefix="/api")
# The token is checked below, after the sign-in, so that each failure gets its own answer: the
# outbox keeps its items on both, but asks the manager to sign in only for the first.
csrf.exempt(bp)
manager_only = role_required("manager")

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
NOT_PERSONAL = frozenset({"static", "core.service_worker", "core.manifest", "core.offline"})
ID = "<int(max=2147483647):followup_id>"
#: The `g` name of the body of the batch item being applied (coachapp.sync.batch).
BATCH_ITEM = "_batch_item_body"

START = {"client_uuid": Field(str, True), "agent_id": Field(int, True), "started_at": Field(str)}
ENTRY = {
    "kind": Field(str, True),
    "behaviour_id": Field(int),
    "note": Field(str),
    "coached": Field(str),
}
NEW_ENTRY = {"client_uuid": Field(str, True), **ENTRY, "occurred_at": Field(str)}
OUTCOME = {
    "client_uuid": Field(str, True),
    "outcome": Field(str, True),
    "note": Field(str),
    "coached": Field(str),
    "occurred_at": Field(str),
}
END = {"summary_note": Field(str), "ended_at": Field(str)}


@bp.before_request
def signed_in_with_token() -> tuple[Response, int] | None:
    """401 to the signed-out and 403 without the page's token, as JSON the outbox reads."""
    if request.endpoint == "sync.openapi_document":
        return None
    if not current_user.is_authenticated:
        return problem(
            401,
            _l("Your sign-in has ended. Sign in again: what waits on this phone is kept."),
            code="signin",
        )
    # The language of any refusal, settled while the person is loaded: a refusal rolls the
    # request back, which would otherwise load them again to find it.
    get_locale()
    if request.method in SAFE_METHODS or not current_app.config.get("WTF_CSRF_ENABLED", True):
        return None
    try:
        csrf.protect()
    except CSRFError:
        note_reason("csrf")
        return problem(
            403, _l("The security token did not match. Reload the page and try again."), code="csrf"
        )
    return None


@bp.get("/openapi.json")
def openapi_document() -> Response:
    """The OpenAPI 3.1 description of this API."""
    return jsonify(openapi.document())


@bp.get("/session")
def session_info() -> Response:
    """Who is signed in (as the tag the outbox files items under) and a token for replays."""
    return jsonify(user=user_tag(current_user), csrf_token=generate_csrf())


@bp.post("/sessions")
@takes_json
@manager_only
@commits
def start_session() -> tuple[Response, int]:
    """Start shadowing an agent; a replay, or a start while one is open, returns that session."""
    values = read_object(payload(), START)
    client_uuid = parse_uuid(values["client_uuid"])
    agent_id = values["agent_id"]
    assert isinstance(agent_id, int)  # read_object checked the type
    agent = coachable_agent_or_404(current_user, agent_id)
    now = clock.now()
    started_at = phone_time(values.get("started_at"), now=now, field="started_at") or now
    existed = _session_by_uuid(client_uuid) is not None
    shadow = shadowing.start_session(
        manager=current_user, agent=agent, client_uuid=client_uuid, now=started_at
    )
    created = not existed and shadow.client_uuid == client_uuid
    return jsonify(session=_session_json(shadow)), 201 if created else 200


@bp.post("/sessions/<uuid:session_uuid>/observations")
@takes_json
@manager_only
@commits
def add_observation(session_uuid: uuid.UUID) -> tuple[Response, int]:
    """Add an entry to a session, dated by the phone's clock."""
    values = read_object(payload(), NEW_ENTRY)
    client_uuid = parse_uuid(values["client_uuid"])
    now = clock.now()
    # The behaviour named is taken at its word here and checked by the insert itself (no
    # statement about it before); an agent without a profile has none.
    chosen = named_behaviour_id(values.get("behaviour_id"))
    try:
        form = _checked(
            ObservationForm, values, behaviour_ids={chosen} if chosen is not None else set()
        )
        occurred_at = phone_time(values.get("occurred_at"), now=now, field="occurred_at") or now
    except DomainError:
        # Refused once the session is known to be this manager's: outside it, a 404 comes first.
        return _add_rule_by_rule(session_uuid, values, client_uuid, now, None, tried=False)
    entry = _entry(form)
    if shadowing.takes_ladder_step(entry):  # the step needs the session and agent loaded
        return _add_rule_by_rule(
            session_uuid, values, client_uuid, now, (form, occurred_at), tried=False
        )
    # The session, its agent's place in the manager's teams and the behaviour are asked by the
    # insert itself: the whole save is the sign-in, this statement and the commit.
    stored = shadowing.record_in_open_session(
        author=current_user,
        session_key=session_uuid,
        entry=entry,
        client_uuid=client_uuid,
        occurred_at=occurred_at,
        now=now,
    )
    if stored is not None:
        return jsonify(observation=_observation_json(stored, session_uuid)), 201
    return _add_rule_by_rule(
        session_uuid, values, client_uuid, now, (form, occurred_at), tried=True
    )


def _add_rule_by_rule(
    session_uuid: uuid.UUID,
    values: dict[str, object],
    client_uuid: uuid.UUID,
    now: datetime,
    checked: tuple[ObservationForm, datetime] | None,
    *,
    tried: bool,
) -> tuple[Response, int]:
    """The save with its session loaded, each rule asked on its own: a correction (its ladder
    step needs them), an entry refused before the insert (`checked` None), or one the insert
    did not store (`tried`), to answer why: 404, the session ended, its replay, or the
    behaviour refused."""
    shadow = own_session_by_uuid_or_404(current_user, session_uuid)
    chosen = named_behaviour_id(values.get("behaviour_id"))
    profile_id = shadow.agent.role_profile_id
    try:
        # Checked (again) here when it was refused before the session was known, or when it
        # took the named behaviour at its word for an agent who turns out to have no profile.
        if checked is None or (profile_id is None and chosen is not None):
            allowed = {chosen} if chosen is not None and profile_id is not None else set()
            form = _checked(ObservationForm, values, behaviour_ids=allowed)
            occurred_at = phone_time(values.get("occurred_at"), now=now, field="occurred_at") or now
        else:
            form, occurred_at = checked
        if not shadow.is_open:
            raise SessionEnded()
    except DomainError:
        # A replay answers what the first call did, even once its session has ended or its
        # behaviour has been retired since: only a refusal looks for it.
        replayed = observation_by_uuid(current_user, client_uuid)
        if replayed is None:
            raise
        return jsonify(observation=_observation_json(replayed)), 200
    if tried:
        # The insert found the session open and this manager's, and stored nothing: the entry
        # is a replay, or its behaviour is not an active one of the profile.
        observation = None
    else:
        observation = record_observation_once(
            session=shadow,
            author=current_user,
            entry=_entry(form),
            client_uuid=client_uuid,
            occurred_at=occurred_at,
            now=now,
            behaviour_of_profile=profile_id,
        )
    if observation is None:
        replayed = observation_by_uuid(current_user, client_uuid)
        if replayed is None:  # the insert found no such active behaviour in the profile
            raise Invalid(str(BEHAVIOUR_NOT_OFFERED), field="behaviour_id")
        return jsonify(observation=_observation_json(replayed)), 200
    return jsonify(observation=_observation_json(observation)), 201


@bp.put("/observations/<uuid:observation_uuid>")
@takes_json
@manager_only
@commits
def change_observation(observation_uuid: uuid.UUID) -> tuple[Response, int]:
    """Replace an entry's kind, behaviour and words while its session is open."""
    observation = own_observation_by_uuid_or_404(current_user, observation_uuid)
    values = read_object(payload(), ENTRY)
    form = _checked(
        ObservationForm,
        {**values, "client_uuid": str(observation.client_uuid)},
        behaviour_ids=behaviour_ids_allowed(
            observation.agent, values.get("behaviour_id"), keep=observation.behaviour_id
        ),
    )
    entry = _entry(form)
    # A replay of a change that arrived before the session ended is not an error.
    if observation.session.is_open or not _holds(observation, entry):
        shadowing.update_observation(observation=observation, entry=entry, now=clock.now())
    return jsonify(observation=_observation_json(observation)), 200


@bp.delete("/observations/<uuid:observation_uuid>")
@takes_json
@manager_only
@commits
def remove_observation(observation_uuid: uuid.UUID) -> tuple[Response, int]:
    """Take an entry back. One that is gone answers the 404 of one never made or not yours:
    the outbox counts a replayed removal's 404 as done."""
    observation = own_observation_by_uuid_or_404(current_user, observation_uuid)
    shadowing.remove_observation(observation=observation)
    return jsonify(removed=True, client_uuid=str(observation_uuid)), 200


@bp.post(f"/followups/{ID}/outcome")
@takes_json
@manager_only
@commits
def record_outcome(followup_id: int) -> tuple[Response, int]:
    """Record a re-observation; checks of one behaviour apply in the order they happened."""
    values = read_object(payload(), OUTCOME)
    client_uuid = parse_uuid(values["client_uuid"])
    followup = coachable_followup_or_404(current_user, followup_id)
    if followups.is_replay(followup, current_user, client_uuid):
        return jsonify(followup=_followup_json(followup)), 200
    form = _checked(OutcomeForm, values)
    now = clock.now()
    observed_at = phone_time(values.get("occurred_at"), now=now, field="occurred_at") or now
    outcome = form.chosen_outcome
    assert outcome is not None  # validated
    recorded = followups.record_outcome(
        followup=followup,
        author=current_user,
        entry=followups.OutcomeInput(
            outcome=outcome,
            observed_on=clock.local_date(observed_at),
            note=form.note.data or "",
            coached=form.coached.data or "",
            client_uuid=client_uuid,
        ),
        ladder=followups.current_ladder(),
        today=clock.today(),
        now=now,
    )
    # A replay: sent twice at once, or the tap that recorded another check sent to this one.
    return jsonify(followup=_followup_json(recorded.followup)), 201 if recorded.created else 200


@bp.post("/sessions/<uuid:session_uuid>/end")
@takes_json
@manager_only
@commits
def end_session(session_uuid: uuid.UUID) -> tuple[Response, int]:
    """End a session at the phone's time; ending it again keeps the first end."""
    values = read_object(payload(), END)
    shadow = own_session_by_uuid_or_404(current_user, session_uuid)
    form = _checked(EndSessionForm, values)
    now = clock.now()
    ended_at = phone_time(values.get("ended_at"), now=now, field="ended_at") or now
    ended_at = max(ended_at, shadow.started_at)
    shadowing.end_session(session=shadow, summary_note=form.summary_note.data or "", now=ended_at)
    body = _session_json(shadow)
    if shadowing.was_forgotten(shadow):
        # Nothing was logged, so nothing was kept: the phone goes back to Today.
        body.update(ended_at=_iso(ended_at), url=url_for("shadowing.today"))
    return jsonify(session=body), 200


# --- what every page carries for the offline code ----------------------------------------


@bp.after_app_request
def tag_personal_answers(response: Response) -> Response:
    """Name the signed-in person on every answer, so that the service worker caches a page only
    for the person it was made for (and drops another person's pages when someone else signs in)."""
    if request.endpoint not in NOT_PERSONAL and current_user.is_authenticated:
        response.headers["X-Coachapp-User"] = user_tag(current_user)
    return response


@bp.app_context_processor
def offline_context() -> dict[str, object]:
    """The signed-in person's tag for the page's outbox ("" when nobody is signed in)."""
    return {"offline_user": user_tag(current_user) if current_user.is_authenticated else ""}


# --- errors as JSON ---------------------------------------------------------------------


def problem(
    status: int, message: Any, *, code: str | None = None, field: str | None = None
) -> tuple[Response, int]:
    body: dict[str, object] = {"error": str(message)}
    if code:
        body["code"] = code
    if field:
        body["field"] = field
    return jsonify(body), status


@bp.errorhandler(DomainError)
def refused(error: DomainError) -> tuple[Response, int]:
    return problem(error.status_code, error.message, field=getattr(error, "field", None))


@bp.errorhandler(HTTPException)
def http_error(error: HTTPException) -> tuple[Response, int]:
    messages = {
        404: _l("There is nothing here, or it is not yours to change."),
        413: _l("That was too much to send at once. Shorten the text."),
    }
    status = error.code or 500
    return problem(status, messages.get(status, error.name))


@bp.errorhandler(Exception)
def unexpected(error: Exception) -> tuple[Response, int]:
    # No request body in the log: observation text never goes there.
    current_app.logger.exception("unhandled API error %s", type(error).__name__)
    db.session.rollback()
    return problem(500, _l("Something went wrong. Nothing on the phone is lost; it tries again."))


# --- helpers ------------------------------------------------------------------------------


def payload() -> object:
    """The JSON body of this write: the request's, or the batch item's being applied."""
    item = g.get(BATCH_ITEM)  # (body,): an item's body may itself be null
    return item[0] if item is not None else request.get_json(silent=True)


def _checked(form_class: type, values: dict[str, object], **kwargs: Any) -> Any:
    """Validate with the same form (and words) as the page, fed the JSON values as strings."""
    form = form_class(formdata=as_formdata(values), **kwargs)
    if not form.validate():
        raise first_error(form.errors)
    return form


def _entry(form: ObservationForm) -> shadowing.ObservationInput:
    kind = form.chosen_kind
    assert kind is not None  # validated
    return shadowing.ObservationInput(
        kind=kind,
        behaviour_id=form.chosen_behaviour_id,
        note=form.note.data or "",
        coached=form.coached.data or "",
    )


def _holds(observation: Observation, entry: shadowing.ObservationInput) -> bool:
    held = (observation.kind, observation.behaviour_id, observation.note, observation.coached)
    return held == (entry.kind, entry.behaviour_id, entry.note, shadowing.kept_coached(entry))


def _session_by_uuid(client_uuid: uuid.UUID) -> ShadowSession | None:
    return db.session.scalar(
        sa.select(ShadowSession).where(
            ShadowSession.manager_id == current_user.id, ShadowSession.client_uuid == client_uuid
        )
    )


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def _session_json(shadow: ShadowSession) -> dict[str, object]:
    return {
        "id": shadow.id,
        "client_uuid": str(shadow.client_uuid),
        "agent_id": shadow.agent_id,
        "started_at": _iso(shadow.started_at),
        "ended_at": _iso(shadow.ended_at),
        "url": url_for("shadowing.session", session_id=shadow.id),
    }


def _observation_json(
    observation: Observation, session_uuid: uuid.UUID | None = None
) -> dict[str, object]:
    """`session_uuid` for an entry stored without its session loaded."""
    return {
        "id": observation.id,
        "client_uuid": str(observation.client_uuid),
        "session_uuid": str(session_uuid or observation.session.client_uuid),
        "kind": observation.kind.value,
        "behaviour_id": observation.behaviour_id,
        "note": observation.note,
        "coached": observation.coached,
        "occurred_at": _iso(observation.occurred_at),
        "recorded_at": _iso(observation.recorded_at),
        "updated_at": _iso(observation.updated_at),
    }


def _followup_json(followup: FollowUp) -> dict[str, object]:
    item = followup.focus_item
    pending = item.pending
    return {
        "id": followup.id,
        "client_uuid": str(followup.client_uuid) if followup.client_uuid else None,
        "outcome": followup.outcome.value if followup.outcome else None,
        "observed_on": followup.observed_on.isoformat() if followup.observed_on else None,
        "on_time": followup.on_time,
        "next_due_on": pending.due_on.isoformat() if pending else None,
        "url": url_for("followups.check", followup_id=followup.id),
    }
