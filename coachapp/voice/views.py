"""Obstacles and suggestions: mine and the form to raise one; the trainers' inbox."""

import uuid

from flask import Blueprint, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from coachapp import clock
from coachapp.htmx import is_fragment_request, render
from coachapp.models import Suggestion, SuggestionKind, SuggestionStatus
from coachapp.parsing import parse_id
from coachapp.roles import role_required
from coachapp.unit_of_work import commits
from coachapp.voice import service
from coachapp.voice.forms import (
    STATUS_LABELS,
    SUGGESTION_KIND_LABELS,
    StatusForm,
    SuggestionForm,
)

bp = Blueprint("voice", __name__)
authors_only = role_required(*service.AUTHORS)
trainers_only = role_required("trainer")


@bp.app_context_processor
def voice_labels() -> dict[str, object]:
    return {"status_labels": STATUS_LABELS, "suggestion_kind_labels": SUGGESTION_KIND_LABELS}


@bp.get("/suggestions")
@login_required
@authors_only
def index() -> Response:
    """The obstacles and suggestions I raised, with their status, and the form to raise one."""
    return _index(new_form())


@bp.post("/suggestions")
@login_required
@authors_only
@commits
def raise_suggestion() -> Response:
    """Send an obstacle or a suggestion to the trainers' inbox."""
    form = SuggestionForm()
    if not form.validate():
        return _index(form, status=422)
    service.raise_suggestion(
        author=current_user,
        kind=SuggestionKind(form.kind.data),
        text=form.text.data or "",
        client_uuid=uuid.UUID(form.client_uuid.data),
        now=clock.now(),
    )
    flash(_("Sent to the trainers. Its status shows here as it moves."))
    return redirect(url_for("voice.index"), code=303)


@bp.get("/suggestions/<int:suggestion_id>")
@login_required
def suggestion(suggestion_id: int) -> Response:
    """One obstacle or suggestion with its history; trainers change its status here."""
    found = service.readable_or_404(current_user, suggestion_id)
    return _status(found, StatusForm(formdata=None, status=found.status.value))


@bp.post("/suggestions/<int:suggestion_id>/status")
@login_required
@trainers_only
@commits
def change_status(suggestion_id: int) -> Response:
    """Acknowledge, start fixing, mark fixed, or won't fix with a reason."""
    found = service.readable_or_404(current_user, suggestion_id)
    form = StatusForm()
    if not form.validate():
        return _status(found, form, status=422)
    try:
        service.change_status(
            suggestion=found,
            by=current_user,
            status=SuggestionStatus(form.status.data),
            note=form.note.data or "",
            now=clock.now(),
        )
    except (service.ReasonNeeded, service.NothingChanged) as refused:
        form.note.errors = [refused.message]
        return _status(found, form, status=refused.status_code)
    if not is_fragment_request():
        return redirect(url_for("voice.suggestion", suggestion_id=found.id), code=303)
    return _status(found, StatusForm(formdata=None, status=found.status.value), saved=True)


@bp.get("/inbox")
@login_required
@trainers_only
def inbox() -> Response:
    """The trainers' inbox: newest first, filtered and searched, a repeated obstacle as one entry
    with its count; htmx's "Load more" gets the next page alone."""
    teams, behaviours = service.filter_choices()
    inbox_filter = service.InboxFilter.from_args(
        request.args, teams={t for t, _ in teams}, behaviours={b for b, _ in behaviours}
    )
    page = min(parse_id(request.args.get("page")) or 1, 10_000)
    more = is_fragment_request()
    # Without htmx, page N shows pages 1 to N, so "Load more" works as a plain link too.
    found = service.inbox_page(inbox_filter, page=page if more else 1, pages=1 if more else page)
    return render(
        "voice/inbox.html",
        "voice/_inbox_page.html",
        found=found,
        inbox_filter=inbox_filter,
        teams=teams,
        behaviours=behaviours,
        counts=service.counts_by_status(),
        chosen=inbox_filter.status,
    )


def new_form() -> SuggestionForm:
    form = SuggestionForm(formdata=None)
    form.client_uuid.data = str(uuid.uuid4())
    return form


def _index(form: SuggestionForm, status: int = 200) -> Response:
    return render(
        "voice/index.html",
        "voice/index.html",
        status=status,
        form=form,
        suggestions=service.mine(current_user),
    )


def _status(
    suggestion: Suggestion, form: StatusForm, status: int = 200, saved: bool = False
) -> Response:
    return render(
        "voice/suggestion.html",
        "voice/_status.html",
        status=status,
        suggestion=suggestion,
        form=form,
        saved=saved,
    )
