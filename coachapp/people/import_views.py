"""Adding many people at once (admins): upload a CSV, see the preview, confirm, print the links.

A blueprint nested in `people` (endpoints people.csv_import.*), so that its upload-limit handler
answers for these pages only. The uploaded text travels in the forms' bodies (never in a URL);
the links exist only in the one response that shows them.
"""

import base64
from datetime import datetime

from flask import Blueprint, current_app, g, request
from flask_babel import gettext as _
from flask_login import current_user, login_required
from werkzeug.exceptions import NotFound, RequestEntityTooLarge
from werkzeug.wrappers import Response

from coachapp import clock
from coachapp.auth import invitations
from coachapp.dates import format_number
from coachapp.extensions import db
from coachapp.htmx import render
from coachapp.models import Role
from coachapp.people import csv_import, import_service
from coachapp.people.csv_import import CsvRefused, Plan
from coachapp.roles import role_required

bp = Blueprint("csv_import", __name__, url_prefix="/admin/people/import")
admin_only = role_required("admin")


@bp.get("")
@login_required
@admin_only
def upload() -> Response:
    """The upload form: a CSV file, or its rows pasted in."""
    return _upload_page()


@bp.post("/preview")
@login_required
@admin_only
def preview() -> Response:
    """What importing the file would do, row by row; nothing is created yet."""
    plan = _plan_of(_submitted())
    return _preview_page(plan, status=200 if plan.ok else 422)


@bp.post("")
@login_required
@admin_only
def confirm() -> Response:
    """Create the previewed file's teams and invitations, and show the links this once."""
    plan = _plan_of(request.form.get("csv", ""))
    if not plan.ok:  # something changed since the preview: show it again, create nothing
        return _preview_page(plan, status=422)
    now = clock.now()
    result = import_service.apply(
        plan, actor=current_user, now=now, origin=current_app.config.get("WEBAUTHN_ORIGIN")
    )
    db.session.commit()
    return _links_page(result, now=now)


@bp.errorhandler(CsvRefused)
def refused(error: CsvRefused) -> Response:
    """A file that cannot be read: say why, keep its text in the form to correct it."""
    return _upload_page(problems=error.problems, text=g.get("csv_text", ""), status=422)


@bp.errorhandler(RequestEntityTooLarge)
def too_large(_error: RequestEntityTooLarge) -> Response:
    """Over the upload limit (read before any view, even by the CSRF check): a clear message."""
    if not current_user.is_authenticated:
        return current_app.login_manager.unauthorized()  # type: ignore[attr-defined, no-any-return]
    if current_user.role != Role.ADMIN:
        return current_app.handle_http_exception(NotFound())  # type: ignore[return-value]
    limit = current_app.config["MAX_CONTENT_LENGTH"] // 1024
    problem = _(
        "The file is larger than %(limit)s KiB, the most that can be sent at once. "
        "Split it into smaller files of at most %(rows)s people.",
        limit=format_number(limit),
        rows=format_number(csv_import.MAX_ROWS),
    )
    return _upload_page(problems=[problem], status=413)


# --- helpers -----------------------------------------------------------------------------------


def _submitted() -> bytes | str:
    """The chosen file's bytes, else the pasted text."""
    upload = request.files.get("file")
    if upload is not None and upload.filename:
        return upload.read()
    return request.form.get("csv", "")


def _plan_of(data: bytes | str) -> Plan:
    text = csv_import.decode(data)
    g.csv_text = text  # for the refusal's page
    return csv_import.plan(csv_import.read_csv(text), now=clock.now())


def _upload_page(problems: list[str] | None = None, text: str = "", status: int = 200) -> Response:
    return render(
        "people/import_upload.html",
        "people/import_upload.html",
        status=status,
        problems=problems or [],
        text=text,
        max_rows=format_number(csv_import.MAX_ROWS),
    )


def _preview_page(plan: Plan, status: int) -> Response:
    return render(
        "people/import_preview.html",
        "people/import_preview.html",
        status=status,
        plan=plan,
        outcome_labels=csv_import.OUTCOME_LABELS,
        text=g.get("csv_text", ""),
        max_rows=format_number(csv_import.MAX_ROWS),
    )


def _links_page(result: import_service.ImportResult, *, now: datetime) -> Response:
    sheets = [
        (team, [(person, invitations.qr_data_uri(person.link)) for person in people])
        for team, people in import_service.by_team(result.issued)
    ]
    table = ("\ufeff" + import_service.links_csv(result.issued)).encode("utf-8")
    return render(
        "people/import_links.html",
        "people/import_links.html",
        result=result,
        sheets=sheets,
        expires=now + invitations.INVITATION_TTL,
        csv_uri="data:text/csv;charset=utf-8;base64," + base64.b64encode(table).decode("ascii"),
        csv_name=f"invitations-{now:%Y-%m-%d}.csv",
    )
