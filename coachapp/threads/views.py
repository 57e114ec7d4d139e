"""The thread under an observation: read it, write in it, change or take back an unread message."""

import uuid

from flask import Blueprint, abort, redirect, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from coachapp import audit, clock
from coachapp.htmx import is_fragment_request, render
from coachapp.models import Comment, Observation, Role
from coachapp.threads import service
from coachapp.threads.forms import CommentForm, EditCommentForm
from coachapp.unit_of_work import commits

bp = Blueprint("threads", __name__)
EXPIRED = _l("This form had expired. Your message is kept: send it again.")


@bp.get("/observations/<int:observation_id>/thread")
@login_required
@commits
def thread(observation_id: int) -> Response:
    """One observation and its thread, with the form to reply, ask or answer."""
    observation = service.shared_observation_or_404(current_user, observation_id)
    if current_user.id != observation.agent_id:
        audit.record("log.viewed", actor=current_user, subject=observation.agent, details="thread")
    return _thread(observation, compose=True)


@bp.post("/observations/<int:observation_id>/comments")
@login_required
@commits
def post_comment(observation_id: int) -> Response:
    """Mark as seen, reply, ask for clarification (the agent) or answer (a manager)."""
    observation = _writable_or_404(observation_id)
    form = CommentForm()
    if not form.validate():
        if form.client_uuid.errors:  # a broken or stale form: the message gets a fresh id
            form.client_uuid.data = str(uuid.uuid4())
            form.body.errors = [*form.body.errors, EXPIRED]
        return _thread(observation, form=form, compose=True, status=422)
    kind = form.chosen_kind
    assert kind is not None  # validated
    try:
        service.post(
            observation=observation,
            author=current_user,
            kind=kind,
            body=form.body.data or "",
            client_uuid=uuid.UUID(form.client_uuid.data),
            now=clock.now(),
        )
    except service.OnlyTheAgent as refused:
        form.kind.errors = [refused.message]
        return _thread(observation, form=form, compose=True, status=refused.status_code)
    return _answer(observation, sent=True)


@bp.post("/comments/<int:comment_id>")
@login_required
@commits
def edit_comment(comment_id: int) -> Response:
    """Change a message nobody on the other side has read yet."""
    comment = service.own_comment_or_404(current_user, comment_id)
    form = EditCommentForm()
    if not form.validate():
        return _thread(comment.observation, editing=(comment.id, form, None), status=422)
    try:
        service.edit(comment=comment, body=form.body.data or "", now=clock.now())
    except service.AlreadyRead as refused:
        # The typing is kept in the form, beside the reason.
        return _thread(comment.observation, editing=(comment.id, form, refused), status=409)
    return _answer(comment.observation)


@bp.post("/comments/<int:comment_id>/delete")
@login_required
@commits
def remove_comment(comment_id: int) -> Response:
    """Take back a message nobody on the other side has read yet."""
    comment = service.own_comment_or_404(current_user, comment_id)
    observation = comment.observation
    try:
        service.remove(comment=comment)
    except service.AlreadyRead as refused:
        return _thread(observation, editing=(comment.id, None, refused), status=409)
    return _answer(observation)


@bp.app_template_global()
def unread_replies() -> list[Comment]:
    """For the manager's Today: what the agents of their teams wrote that nobody has read."""
    if not current_user.is_authenticated or current_user.role != Role.MANAGER:
        return []
    return list(service.unread_replies(current_user))


def _writable_or_404(observation_id: int) -> Observation:
    observation = service.shared_observation_or_404(current_user, observation_id)
    if not service.may_write(current_user, observation):
        abort(404)
    return observation


def _answer(observation: Observation, *, sent: bool = False) -> Response:
    """After a change: the thread again for htmx, the thread's page otherwise (303)."""
    if not is_fragment_request():
        return redirect(url_for("threads.thread", observation_id=observation.id), code=303)
    return _thread(observation, sent=sent)


def _thread(
    observation: Observation,
    *,
    form: CommentForm | None = None,
    compose: bool = False,
    editing: tuple[int, EditCommentForm | None, Exception | None] | None = None,
    sent: bool = False,
    status: int = 200,
) -> Response:
    comments = service.threads_for([observation], current_user, clock.now())
    return render(
        "threads/thread.html",
        "threads/_thread.html",
        status=status,
        observation=observation,
        comments=comments.get(observation.id, []),
        thread_form=form or new_comment_form(),
        compose=compose,
        editing=editing,
        sent=sent,
        can_write=service.may_write(current_user, observation),
    )


def new_comment_form() -> CommentForm:
    form = CommentForm(formdata=None)
    form.client_uuid.data = str(uuid.uuid4())
    return form
