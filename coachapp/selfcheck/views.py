"""Self-checks on focus items and the monthly self-assessment beside what was observed."""

from flask import Blueprint, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from coachapp import audit, clock, dates
from coachapp.followups.service import current_ladder
from coachapp.htmx import is_fragment_request, render
from coachapp.log.access import myself_or_404
from coachapp.models import FocusItem, SelfAssessment, User
from coachapp.scope import agent_or_404
from coachapp.selfcheck import service
from coachapp.selfcheck.forms import (
    LEVEL_LABELS,
    SELF_RATING_LABELS,
    SelfAssessmentForm,
    SelfCheckForm,
)
from coachapp.unit_of_work import commits

bp = Blueprint("selfcheck", __name__)


@bp.app_context_processor
def self_view_labels() -> dict[str, object]:
    """What every page showing a self-check or a self-assessment needs."""
    return {
        "self_rating_labels": SELF_RATING_LABELS,
        "level_labels": LEVEL_LABELS,
        "new_self_check_form": new_self_check_form,
        "period_label": lambda period: dates.format_date(service.period_start(period), "month"),
    }


# --- self-check ----------------------------------------------------------------------------


@bp.post("/focus-items/<int:item_id>/self-check")
@login_required
@commits
def save_self_check(item_id: int) -> Response:
    """Rate myself on a focus item before its next check: Sustained, Partly or Slipped."""
    item = service.own_item_or_404(current_user, item_id)
    form = SelfCheckForm()
    if not form.validate():
        return _self_check(item, form, status=422)
    rating = form.chosen_rating
    assert rating is not None  # validated
    try:
        service.save_self_check(
            item=item,
            agent=current_user,
            for_followup_id=form.chosen_followup_id,
            rating=rating,
            note=form.note.data or "",
            now=clock.now(),
        )
    except (service.NoCheckAhead, service.CheckJustRecorded) as refused:
        return _self_check(item, form, status=refused.status_code, refusal=refused)
    if not is_fragment_request():
        url = url_for("log.focus_items", agent_id=item.agent_id, _anchor=f"item-{item.id}")
        return redirect(url, code=303)
    return _self_check(item, new_self_check_form(item), saved=True)


def new_self_check_form(item: FocusItem) -> SelfCheckForm:
    """The form for the item's next check, holding the note of a self-check already made."""
    form = SelfCheckForm(formdata=None)
    pending = item.pending
    form.followup_id.data = str(pending.id) if pending else ""
    current = pending.self_check if pending else None
    form.note.data = current.note if current else ""
    return form


def _self_check(
    item: FocusItem,
    form: SelfCheckForm,
    *,
    status: int = 200,
    refusal: Exception | None = None,
    saved: bool = False,
) -> Response:
    return render(
        "selfcheck/self_check.html",
        "selfcheck/_self_check.html",
        status=status,
        item=item,
        self_check_form=form,
        refusal=refusal,
        saved=saved,
        ladder=current_ladder(),
        today=clock.today(),
    )


# --- self-assessment -------------------------------------------------------------------------


@bp.get("/agents/<int:agent_id>/self-assessments")
@login_required
@commits
def assessments(agent_id: int) -> Response:
    """An agent's self-assessments, newest first, and (for the agent) this month's to fill in."""
    person = agent_or_404(current_user, agent_id)
    _audit_other(person, "self-assessments")
    period = service.period_of(clock.today())
    return render(
        "selfcheck/assessments.html",
        "selfcheck/assessments.html",
        person=person,
        assessments=service.assessments_of(person),
        period=period,
        period_start=service.period_start(period),
        done=service.assessment_for(person, period),
    )


@bp.get("/agents/<int:agent_id>/self-assessments/new")
@login_required
def new_assessment(agent_id: int) -> Response:
    """This month's self-assessment form (the agent only)."""
    agent = myself_or_404(current_user, agent_id)
    existing = service.assessment_for(agent, service.period_of(clock.today()))
    if existing is not None:
        flash(_("You have already filled in this month's self-assessment. Here it is."))
        return redirect(_assessment_url(existing))
    form = SelfAssessmentForm(None, behaviours=service.profile_behaviours(agent))
    return _assessment_form(agent, form)


@bp.post("/agents/<int:agent_id>/self-assessments")
@login_required
@commits
def submit_assessment(agent_id: int) -> Response:
    """Send this month's self-assessment; a second one this month is refused, typing kept."""
    agent = myself_or_404(current_user, agent_id)
    form = SelfAssessmentForm(request.form, behaviours=service.profile_behaviours(agent))
    if not form.validate():
        return _assessment_form(agent, form, status=422)
    entry = service.AssessmentInput(
        ratings=form.levels,
        proud_of=form.proud_of.data or "",
        want_to_improve=form.want_to_improve.data or "",
        goal=form.goal.data or "",
    )
    try:
        assessment = service.submit_assessment(
            agent=agent, period=service.period_of(clock.today()), entry=entry, now=clock.now()
        )
    except service.AlreadyAssessed as refused:
        return _assessment_form(agent, form, status=409, refusal=refused, existing=refused.existing)
    except service.NoRoleProfile as refused:
        return _assessment_form(agent, form, status=409, refusal=refused)
    flash(_("Saved. Your manager sees it beside what was observed."))
    return redirect(_assessment_url(assessment), code=303)


@bp.get("/agents/<int:agent_id>/self-assessments/<int:assessment_id>")
@login_required
@commits
def assessment(agent_id: int, assessment_id: int) -> Response:
    """One self-assessment side by side with what was observed, per competency and behaviour."""
    person = agent_or_404(current_user, agent_id)
    found = service.assessment_or_404(person, assessment_id)
    _audit_other(person, "self-assessment")
    zone = clock.zone()
    return render(
        "selfcheck/assessment.html",
        "selfcheck/assessment.html",
        person=person,
        assessment=found,
        compared=service.side_by_side(found, zone),
        today=clock.today(),
    )


def _assessment_url(assessment: SelfAssessment) -> str:
    return url_for(
        "selfcheck.assessment", agent_id=assessment.agent_id, assessment_id=assessment.id
    )


def _assessment_form(
    agent: User,
    form: SelfAssessmentForm,
    *,
    status: int = 200,
    refusal: Exception | None = None,
    existing: SelfAssessment | None = None,
) -> Response:
    period = service.period_of(clock.today())
    return render(
        "selfcheck/assessment_form.html",
        "selfcheck/assessment_form.html",
        status=status,
        person=agent,
        form=form,
        profile=agent.role_profile,
        period_start=service.period_start(period),
        refusal=refusal,
        existing=existing,
    )


def _audit_other(person: User, part: str) -> None:
    if person.id != current_user.id:
        audit.record("log.viewed", actor=current_user, subject=person, details=part)
