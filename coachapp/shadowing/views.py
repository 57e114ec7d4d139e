"""The manager's shift: Today, starting a session, logging entries, fixing them, ending."""

import uuid
from datetime import datetime

import sqlalchemy as sa
from flask import Blueprint, abort, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy.orm import make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value
from werkzeug.wrappers import Response

from coachapp import clock
from coachapp.errors import SessionEnded
from coachapp.extensions import db
from coachapp.followups.service import count_due, current_ladder, due_checks, group_by_agent
from coachapp.htmx import is_fragment_request, render
from coachapp.models import (
    Behaviour,
    Competency,
    Observation,
    ObservationKind,
    ShadowSession,
    User,
    order_for_reading,
)
from coachapp.parsing import parse_id
from coachapp.roles import role_required
from coachapp.scope import coachable_agent_or_404, own_session_or_404
from coachapp.shadowing import service
from coachapp.shadowing.forms import (
    BEHAVIOUR_OR_NOTE,
    KIND_MISSING,
    OBSTACLE_NEEDS_NOTE,
    EndSessionForm,
    ObservationForm,
    behaviour_ids_for,
    parse_phone_time,
)
from coachapp.unit_of_work import DrawnAfterCommit, commits

bp = Blueprint("shadowing", __name__)
#: What a save answers: the page's redirect at once, or the htmx answer drawn after the commit.
Answer = Response | DrawnAfterCommit[Response]
#: Follow-ups listed on Today before "Show all".
TODAY_DUE_SHOWN = 50
#: Checks shown for each agent on Today; the agent's others wait behind "Show all".
DUE_SHOWN_PER_AGENT = 3
manager_only = role_required("manager")


@bp.get("/today")
@login_required
@manager_only
@commits
def today() -> Response:
    """The manager's start page: shadowing now, start shadowing, unread replies, checks due."""
    now = _now()
    # Sessions idle for hours end here, lazily: there is no background thread to do it.
    service.end_idle_sessions(now=now, manager_id=current_user.id)
    search = (request.args.get("q") or "").strip()[:100]
    today_date = clock.today()
    # A manager of hundreds of agents gets the most overdue first, and the rest on request.
    limit = None if request.args.get("all") == "1" else TODAY_DUE_SHOWN
    due = due_checks(current_user, today_date, limit=limit)
    # Counted always, not only when the list is cut, so that Today's statements stay the same
    # whatever the number of checks.
    due_total = count_due(current_user, today_date)
    return render(
        "shadowing/today.html",
        "shadowing/today.html",
        due_groups=group_by_agent(due),
        due_total=due_total,
        due_shown=len(due),
        today=today_date,
        ladder=current_ladder(),
        agents=service.agents_to_shadow(current_user, search=search),
        search=search,
        open_sessions=service.open_sessions(current_user),
        group_shown=DUE_SHOWN_PER_AGENT,
    )


@bp.post("/agents/<int:agent_id>/sessions")
@login_required
@manager_only
def start(agent_id: int) -> Response:
    """An old "Start shadowing" button: it opens the screen and starts nothing (the first
    entry starts the session)."""
    coachable_agent_or_404(current_user, agent_id)
    return redirect(url_for("shadowing.shadow_agent", agent_id=agent_id), code=303)


@bp.get("/sessions/<int:session_id>")
@login_required
@manager_only
@commits
def session(session_id: int) -> Response:
    """The shadowing screen, or the summary once the session has ended."""
    shadow = own_session_or_404(current_user, session_id)
    ended_now = service.end_if_idle(shadow, now=_now())
    if ended_now and service.was_forgotten(shadow):
        # Idle and empty: it is gone, so the agent's screen opens afresh.
        return redirect(url_for("shadowing.shadow_agent", agent_id=shadow.agent_id))
    if not shadow.is_open:
        return render(
            "shadowing/summary.html",
            "shadowing/summary.html",
            shadow=shadow,
            ordered=order_for_reading(shadow.observations),
            counts=service.count_by_kind(shadow.observations),
        )
    form = _observation_form(shadow, formdata=None)
    if request.args.get("kind") in {kind.value for kind in ObservationKind}:
        form.kind.data = request.args["kind"]
    return _capture_page(shadow, form)


@bp.get("/agents/<int:agent_id>/shadow")
@login_required
@manager_only
@commits
def shadow_agent(agent_id: int) -> Response:
    """The shadowing screen for one agent, also before its session has reached the server.

    The phone names the session (?session=UUID) before the server has heard of it, so that the
    page works from the service worker's cache with no signal; the server creates the session at
    the first write from the outbox. Without a name the page shows the session open with the agent.
    """
    agent = coachable_agent_or_404(current_user, agent_id)
    named = _uuid_arg("session")
    found = _session_for_page(agent, named)
    if found is not None and service.end_if_idle(found, now=_now()):
        # Ended just now for being idle: a tap on the agent opens a fresh screen; the address
        # of that very session shows its summary.
        found = found if named is not None and not service.was_forgotten(found) else None
    if found is not None and not found.is_open:
        return redirect(url_for("shadowing.session", session_id=found.id))
    if found is not None:
        return _capture_page(found, _observation_form(found, formdata=None))
    form = ObservationForm(formdata=None, behaviour_ids=behaviour_ids_for(agent))
    form.client_uuid.data = str(uuid.uuid4())
    return _capture_page(None, form, agent=agent)


@bp.post("/agents/<int:agent_id>/observations")
@login_required
@manager_only
@commits
def add_first_observation(agent_id: int) -> Answer:
    """The first entry on a screen with no session yet: it starts the session and is saved in
    it (or in the one already open with the agent), in one transaction."""
    agent = coachable_agent_or_404(current_user, agent_id)
    form = ObservationForm(behaviour_ids=behaviour_ids_for(agent))
    if not form.validate():
        if form.client_uuid.errors:
            form.client_uuid.data = str(uuid.uuid4())
        return _capture_page(None, form, status=422, agent=agent)
    now = _now()
    shadow, observation, _created = service.record_observation_starting(
        manager=current_user,
        agent=agent,
        session_uuid=_uuid_arg("session") or uuid.uuid4(),
        entry=_entry_from(form),
        client_uuid=uuid.UUID(form.client_uuid.data),
        occurred_at=parse_phone_time(form.occurred_at.data) or now,
        now=now,
    )
    if not is_fragment_request():
        return redirect(url_for("shadowing.session", session_id=shadow.id), code=303)
    # The same answer as any htmx save; the next entry from this form joins the open session.
    return DrawnAfterCommit(lambda: _saved(observation, form))


@bp.post("/sessions/<int:session_id>/observations")
@login_required
@manager_only
@commits
def add_observation(session_id: int) -> Answer:
    """Save one entry; htmx gets only what changed: the new entry and the confirmation."""
    chosen = _chosen_behaviour(session_id)
    form = ObservationForm(behaviour_ids={chosen.id} if chosen else set())
    if form.validate() and not service.takes_ladder_step(entry := _entry_from(form)):
        # The session, its agent's place in the manager's teams and the behaviour are asked by
        # the insert itself; the session is loaded only when something did not hold.
        now = _now()
        stored = service.record_in_open_session(
            author=current_user,
            session_key=session_id,
            entry=entry,
            client_uuid=uuid.UUID(form.client_uuid.data),
            occurred_at=parse_phone_time(form.occurred_at.data) or now,
            now=now,
        )
        if stored is not None:
            set_committed_value(stored, "behaviour", chosen)
            return _saved_answer(session_id, stored, form)
        return _add_in_loaded_session(session_id, form, chosen, tried=True)
    return _add_in_loaded_session(session_id, form, chosen, tried=False)


def _add_in_loaded_session(
    session_id: int, form: ObservationForm, chosen: Behaviour | None, tried: bool
) -> Answer:
    """The save with its session loaded: a correction (its ladder step needs it), or an entry
    the insert above (`tried`) did not store, to find out why and answer it."""
    shadow = own_session_or_404(current_user, session_id)
    if chosen is not None:
        chosen = _known_to_the_session(chosen)
    if form.errors:
        if form.client_uuid.errors:  # a broken or stale form: give the next tap a fresh id
            form.client_uuid.data = str(uuid.uuid4())
        return _capture_page(shadow, form, status=422)
    now = _now()
    try:
        observation, _created = service.record_observation(
            session=shadow,
            author=current_user,
            entry=_entry_from(form),
            client_uuid=uuid.UUID(form.client_uuid.data),
            occurred_at=parse_phone_time(form.occurred_at.data) or now,
            now=now,
            looks_for_replay_first=tried,
        )
    except SessionEnded as refusal:
        # The form comes back with the manager's typing and the reason beside it.
        form.note.errors.append(refusal.message)
        return _capture_page(shadow, form, status=refusal.status_code)
    if chosen is not None and observation.behaviour_id == chosen.id:
        # Held by the entry, the behaviour outlives this view: the answer is drawn after it.
        set_committed_value(observation, "behaviour", chosen)
    return _saved_answer(shadow.id, observation, form)


def _saved_answer(session_id: int, observation: Observation, form: ObservationForm) -> Answer:
    if not is_fragment_request():
        # The kind stays chosen for the next entry, with or without JavaScript.
        return redirect(
            url_for("shadowing.session", session_id=session_id, kind=form.kind.data), code=303
        )
    return DrawnAfterCommit(lambda: _saved(observation, form))


@bp.get("/observations/<int:observation_id>/edit")
@login_required
@manager_only
def edit_observation(observation_id: int) -> Response:
    """The form to fix one entry in place."""
    observation = _own_observation_or_404(observation_id)
    form = _observation_form(observation.session, formdata=None, obj=observation)
    return _entry_editor(observation, form)


@bp.post("/observations/<int:observation_id>")
@login_required
@manager_only
@commits
def update_observation(observation_id: int) -> Response:
    """Save a fixed entry."""
    observation = _own_observation_or_404(observation_id)
    form = _observation_form(observation.session, keep=observation.behaviour_id)
    if not form.validate():
        return _entry_editor(observation, form, status=422)
    try:
        service.update_observation(observation=observation, entry=_entry_from(form), now=_now())
    except SessionEnded as refusal:
        form.note.errors.append(refusal.message)
        return _entry_editor(observation, form, status=refusal.status_code)
    if not is_fragment_request():
        return redirect(url_for("shadowing.session", session_id=observation.session_id), code=303)
    return render("shadowing/_entry.html", "shadowing/_entry.html", entry=observation)


@bp.get("/observations/<int:observation_id>")
@login_required
@manager_only
def show_observation(observation_id: int) -> Response:
    """One entry as it appears in the running list (used by Cancel while fixing it)."""
    observation = _own_observation_or_404(observation_id)
    if not is_fragment_request():
        return redirect(url_for("shadowing.session", session_id=observation.session_id))
    return render("shadowing/_entry.html", "shadowing/_entry.html", entry=observation)


@bp.post("/observations/<int:observation_id>/delete")
@login_required
@manager_only
@commits
def remove_observation(observation_id: int) -> Response:
    """Take an entry back while the session is open."""
    observation = _own_observation_or_404(observation_id)
    session_id = observation.session_id
    service.remove_observation(observation=observation)
    if is_fragment_request():
        return Response("", status=200)
    return redirect(url_for("shadowing.session", session_id=session_id), code=303)


@bp.post("/observations/<int:observation_id>/undo")
@login_required
@manager_only
@commits
def undo_observation(observation_id: int) -> Response:
    """Undo the entry just saved, from its confirmation: it leaves the list."""
    observation = _own_observation_or_404(observation_id)
    session_id = observation.session_id
    service.remove_observation(observation=observation)
    if not is_fragment_request():
        return redirect(url_for("shadowing.session", session_id=session_id), code=303)
    response = render(
        "shadowing/_undone.html", "shadowing/_undone.html", observation_id=observation_id
    )
    response.headers["HX-Reswap"] = "none"
    return response


@bp.post("/sessions/<int:session_id>/end")
@login_required
@manager_only
@commits
def end(session_id: int) -> Response:
    """End the session; the summary is stored and shown on the agent's page."""
    shadow = own_session_or_404(current_user, session_id)
    form = EndSessionForm()
    if not form.validate():
        return _capture_page(
            shadow, _observation_form(shadow, formdata=None), end_form=form, status=422
        )
    service.end_session(session=shadow, summary_note=form.summary_note.data or "", now=_now())
    if service.was_forgotten(shadow):
        flash(_("Nothing was logged, so no session was kept."))
        return redirect(url_for("shadowing.today"), code=303)
    return redirect(url_for("shadowing.session", session_id=shadow.id), code=303)


def _now() -> datetime:
    return clock.now()


def _observation_form(
    shadow: ShadowSession,
    formdata: object = "request",
    obj: Observation | None = None,
    keep: int | None = None,
    allowed: set[int] | None = None,
) -> ObservationForm:
    """The entry form; `keep` (or `obj`'s) is a behaviour the entry names, even if retired since;
    `allowed` replaces the profile's behaviours when the caller already knows which may be named."""
    behaviour_ids = (
        allowed
        if allowed is not None
        else behaviour_ids_for(shadow.agent, keep=obj.behaviour_id if obj else keep)
    )
    kwargs: dict[str, object] = {"behaviour_ids": behaviour_ids, "obj": obj}
    if formdata is None:
        kwargs["formdata"] = None
    form = ObservationForm(**kwargs)
    if formdata is None:
        form.client_uuid.data = str(uuid.uuid4())
        if obj is not None:
            form.kind.data = obj.kind.value
            form.behaviour_id.data = str(obj.behaviour_id or "")
    return form


def _chosen_behaviour(session_id: int) -> Behaviour | None:
    """The chip the save names, if it is an active behaviour of the profile of the session's
    agent: one indexed look-up instead of loading the whole profile (only a refused entry shows
    the chips again). Whose session it is, the insert (or own_session_or_404) checks before
    anything of it is shown. The entry rendered after the save finds its behaviour here."""
    chosen = parse_id(request.form.get("behaviour_id"))
    if chosen is None:
        return None
    # Its id and name only, as a row: the answer draws nothing else of it, and an ORM object
    # loaded for it was 4 % of the save.
    row = (
        db.session.connection()
        .execute(_CHOSEN_BEHAVIOUR, {"behaviour_id": chosen, "session_id": session_id})
        .first()
    )
    return None if row is None else Behaviour(id=row.id, name=row.name)


def _known_to_the_session(behaviour: Behaviour) -> Behaviour:
    """The chosen behaviour (id and name) in the ORM session, unless it has it already; the
    session's own comes back. The entry drawn in the answer then finds its behaviour without
    asking the database again."""
    key = sa.inspect(Behaviour).identity_key_from_primary_key((behaviour.id,))
    known = db.session.identity_map.get(key)
    if known is not None:
        return known  # type: ignore[no-any-return]
    make_transient_to_detached(behaviour)
    db.session.add(behaviour)
    return behaviour


#: Built once: every save that names a behaviour runs it.
_CHOSEN_BEHAVIOUR = (
    sa.select(Behaviour.id, Behaviour.name)
    .join(Competency, Behaviour.competency_id == Competency.id)
    .join(User, User.role_profile_id == Competency.role_profile_id)
    .join(ShadowSession, ShadowSession.agent_id == User.id)
    .where(
        Behaviour.id == sa.bindparam("behaviour_id"),
        ShadowSession.id == sa.bindparam("session_id"),
        Behaviour.retired_at.is_(None),
    )
)


def _saved(observation: Observation, form: ObservationForm) -> Response:
    """The htmx save's answer: the new entry, its confirmation, a fresh id, emptied notes.

    The notes are drawn from the saved entry's own form, emptied: the kind it names stays
    chosen on the screen, so an obstacle's note stays marked as required for the next one."""
    form.note.data = form.coached.data = ""
    response = render(
        "shadowing/_saved.html",
        "shadowing/_saved.html",
        just_saved=observation,
        form=form,
        next_uuid=str(uuid.uuid4()),
    )
    # Nothing replaces the form itself: the kind stays chosen, the chips stay where they are.
    response.headers["HX-Reswap"] = "none"
    return response


def _entry_from(form: ObservationForm) -> service.ObservationInput:
    kind = form.chosen_kind
    assert kind is not None  # validated
    return service.ObservationInput(
        kind=kind,
        behaviour_id=form.chosen_behaviour_id,
        note=form.note.data or "",
        coached=form.coached.data or "",
    )


def _uuid_arg(name: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(request.args.get(name, ""))
    except ValueError:
        return None


def _session_for_page(agent: User, client_uuid: uuid.UUID | None) -> ShadowSession | None:
    """The session the phone named, else the one open with this agent (of this manager).

    A name the server does not know (a phone that did not know the session was open, or a start
    still on its way) still shows the open session with its entries: a start would be answered
    with that very session anyway.
    """
    query = sa.select(ShadowSession).where(
        ShadowSession.manager_id == current_user.id, ShadowSession.agent_id == agent.id
    )
    if client_uuid is not None:
        named = db.session.scalar(query.where(ShadowSession.client_uuid == client_uuid))
        if named is not None:
            return named
    return db.session.scalar(
        query.where(ShadowSession.ended_at.is_(None))
        .order_by(ShadowSession.started_at.desc())
        .limit(1)
    )


def _own_observation_or_404(observation_id: int) -> Observation:
    observation = db.session.get(Observation, observation_id)
    if observation is None or observation.author_id != current_user.id:
        abort(404)
    own_session_or_404(current_user, observation.session_id)
    return observation


def _capture_page(
    shadow: ShadowSession | None,
    form: ObservationForm,
    status: int = 200,
    just_saved: Observation | None = None,
    end_form: EndSessionForm | None = None,
    agent: User | None = None,
) -> Response:
    agent = agent or (shadow.agent if shadow else None)
    assert agent is not None
    # The due checks sit above the capture area: only the whole page needs them, not every save.
    page_only = (
        {}
        if is_fragment_request()
        else {
            "due": due_checks(current_user, clock.today(), agent_id=agent.id),
            "today": clock.today(),
            "ladder": current_ladder(),
        }
    )
    return render(
        "shadowing/session.html",
        "shadowing/_capture_form.html",
        status=status,
        shadow=shadow,
        agent=agent,
        form=form,
        end_form=end_form or EndSessionForm(formdata=None),
        just_saved=just_saved,
        kinds=list(ObservationKind),
        # What the page itself says when an entry is refused before it leaves the phone.
        kind_missing=KIND_MISSING,
        obstacle_needs_note=OBSTACLE_NEEDS_NOTE,
        behaviour_or_note=BEHAVIOUR_OR_NOTE,
        **page_only,
    )


def _entry_editor(observation: Observation, form: ObservationForm, status: int = 200) -> Response:
    return render(
        "shadowing/edit_entry.html",
        "shadowing/_entry_form.html",
        status=status,
        entry=observation,
        form=form,
        shadow=observation.session,
    )
