"""Admin pages: organisation settings."""

from flask import Blueprint, flash, redirect, url_for
from flask_babel import gettext as _
from flask_login import login_required
from werkzeug.wrappers import Response

from coachapp.admin.forms import LadderSettingsForm
from coachapp.extensions import db
from coachapp.followups.service import current_organisation, ladder_of
from coachapp.htmx import render
from coachapp.models import Organisation
from coachapp.roles import role_required

bp = Blueprint("admin", __name__, url_prefix="/admin")
admin_only = role_required("admin")


@bp.get("/settings")
@login_required
@admin_only
def settings() -> Response:
    """The follow-up ladder and the working days."""
    ladder = ladder_of(current_organisation())
    form = LadderSettingsForm(formdata=None)
    form.gaps.data = ", ".join(str(gap) for gap in ladder.gaps)
    form.working_days.data = [str(day) for day in sorted(ladder.working_days)]
    return render("admin/settings.html", "admin/settings.html", form=form)


@bp.post("/settings")
@login_required
@admin_only
def save_settings() -> Response:
    """Save the ladder; due dates already set stay, the next ones follow the new ladder."""
    form = LadderSettingsForm()
    if not form.validate():
        return render("admin/settings.html", "admin/settings.html", form=form, status=422)
    ladder = form.ladder()
    org = current_organisation()
    if org is None:
        org = Organisation(name=_("Our organisation"))
        db.session.add(org)
    org.ladder_gaps = ",".join(str(gap) for gap in ladder.gaps)
    org.working_days = ",".join(str(day) for day in sorted(ladder.working_days))
    db.session.commit()
    flash(
        _(
            "Settings saved. Checks already scheduled keep their dates; "
            "the next ones follow the new ladder."
        )
    )
    return redirect(url_for("admin.settings"), code=303)
