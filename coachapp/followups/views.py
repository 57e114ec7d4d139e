"""Re-observations: the due list, recording an outcome, and the next date at once."""

import uuid

from flask import Blueprint, redirect, url_for
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from coachapp import clock, scheduling
from coachapp.extensions import db
from coachapp.followups import service
from coachapp.followups.forms import OUTCOME_LABELS, ChangeForm, OutcomeForm
from coachapp.htmx import is_fragment_request, render
from coachapp.models import FollowUp
from coachapp.roles import role_required
from coachapp.scheduling import Outcome
from coachapp.scope import coachable_followup_or_404
from coachapp.shadowing.forms import parse_phone_time
from coachapp.unit_of_work import commits

bp = Blueprint("followups", __name__)
manager_only = role_required("manager")


@bp.get("/followups/<int:followup_id>")
@login_required
@manager_only
def check(followup_id: int) -> Response:
    """One re-observation: the four outcomes, or its result once recorded."""
    followup = _followup_or_404(followup_id)
    return _check_card(followup, new_form())


@bp.post("/followups/<int:followup_id>")
@login_required
@manager_only
@commits
def record(followup_id: int) -> Response:
    """Record an outcome; the card shows the next due date at once."""
    followup = _followup_or_404(followup_id)
    form = OutcomeForm()
    if not form.validate():
        return _check_card(followup, form, status=422)
    outcome = form.chosen_outcome
    assert outcome is not None  # validated
    observed_at = parse_phone_time(form.occurred_at.data) or clock.now()
    entry = service.OutcomeInput(
        outcome=outcome,
        observed_on=clock.local_date(observed_at),
        note=form.note.data or "",
        coached=form.coached.data or "",
        client_uuid=uuid.UUID(form.client_uuid.data),
    )
    try:
        recorded, _created = service.record_outcome(
            followup=followup,
            author=current_user,
            entry=entry,
            ladder=service.current_ladder(),
            today=clock.today(),
            now=clock.now(),
        )
    except service.AlreadyRecorded as refused:
        db.session.expire_all()
        return _check_card(_followup_or_404(followup_id), form, status=409, refusal=refused)
    except (service.OutcomeInFuture, service.OutcomeBeforeOpening, service.ItemIsClosed) as bad:
        return _check_card(followup, form, status=bad.status_code, refusal=bad)
    if not is_fragment_request():
        return redirect(url_for("shadowing.today"), code=303)
    return _check_card(recorded, new_form(), count=True)


@bp.post("/followups/<int:followup_id>/undo")
@login_required
@manager_only
@commits
def undo(followup_id: int) -> Response:
    """Take back an outcome recorded in the last 10 minutes; the check is due again."""
    return _revise(followup_id, None)


@bp.post("/followups/<int:followup_id>/change")
@login_required
@manager_only
@commits
def change(followup_id: int) -> Response:
    """Change an outcome recorded in the last 10 minutes; the next check is scheduled anew."""
    form = ChangeForm()
    outcome = form.chosen_outcome if form.validate() else None
    if outcome is None:
        followup = _followup_or_404(followup_id)
        return _check_card(followup, new_form(), status=422, refusal=service.OutcomeMissing())
    return _revise(followup_id, outcome)


def _revise(followup_id: int, outcome: Outcome | None) -> Response:
    followup = _followup_or_404(followup_id)
    try:
        service.revise_outcome(
            followup=followup,
            author=current_user,
            outcome=outcome,
            ladder=service.current_ladder(),
            now=clock.now(),
        )
    except (service.NotYourOutcome, service.RevisionTooLate, service.RevisionNotLatest) as no:
        return _check_card(followup, new_form(), status=no.status_code, refusal=no)
    if not is_fragment_request():
        return redirect(url_for("followups.check", followup_id=followup.id), code=303)
    return _check_card(followup, new_form(), count=True)


@bp.app_context_processor
def check_helpers() -> dict[str, object]:
    """What a page that lists checks needs to render each one (Today, the shadowing screen)."""
    return {
        "outcome_labels": OUTCOME_LABELS,
        "note_of": service.last_note,
        "new_check_form": new_form,
        "window_of": window_of,
    }


def window_of(followup: FollowUp) -> tuple[object, object]:
    """The days a check counts as on time, for the words beside an outcome outside them."""
    return scheduling.on_time_window(service.current_ladder(), followup.due_on, followup.gap)


def new_form() -> OutcomeForm:
    form = OutcomeForm(formdata=None)
    form.client_uuid.data = str(uuid.uuid4())
    return form


def _followup_or_404(followup_id: int) -> FollowUp:
    return coachable_followup_or_404(current_user, followup_id)


def _check_card(
    followup: FollowUp,
    form: OutcomeForm,
    status: int = 200,
    refusal: Exception | None = None,
    count: bool = False,
) -> Response:
    # After a change of state (or a card reloaded with its result, as the outbox does), the
    # fragment carries Today's due count too, swapped in place out of band.
    fragment = is_fragment_request()
    due_count = (
        service.count_due(current_user, clock.today())
        if fragment and (count or followup.outcome is not None)
        else None
    )
    return render(
        "followups/check.html",
        "followups/_check_answer.html",
        status=status,
        due_count=due_count,
        can_revise=service.can_revise(followup, current_user, clock.now()),
        followup=followup,
        item=followup.focus_item,
        form=form,
        refusal=refusal,
        today=clock.today(),
        ladder=service.current_ladder(),
        last_note=service.last_note(followup.focus_item),
    )
