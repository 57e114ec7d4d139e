"""Admin pages: organisation settings (name, time zone, working days, the follow-up ladder)."""

from flask import Blueprint, flash, redirect, url_for
from flask_babel import gettext as _
from flask_babel import refresh
from flask_login import login_required
from werkzeug.wrappers import Response

from coachapp import organisation
from coachapp.admin.forms import SettingsForm
from coachapp.dashboard import summaries
from coachapp.extensions import db
from coachapp.followups.service import ladder_of
from coachapp.htmx import render
from coachapp.models import Organisation
from coachapp.roles import role_required

bp = Blueprint("admin", __name__, url_prefix="/admin")
admin_only = role_required("admin")


@bp.get("/settings")
@login_required
@admin_only
def settings() -> Response:
    """The organisation's name and time zone, its working days and the follow-up ladder."""
    org = organisation.current()
    ladder = ladder_of(org)
    form = SettingsForm(formdata=None)
    form.offer_zones()
    form.offer_languages_and_days()
    form.language.data = (org.default_language if org is not None else None) or "en"
    form.name.data = org.name if org is not None else ""
    form.timezone.data = organisation.zone_name()
    form.gaps.data = ", ".join(str(gap) for gap in ladder.gaps)
    form.working_days.data = [str(day) for day in sorted(ladder.working_days)]
    return _page(form)


@bp.post("/settings")
@login_required
@admin_only
def save_settings() -> Response:
    """Save the settings (the first save creates the organisation); due dates already set stay,
    the next ones follow the new ladder and zone."""
    form = SettingsForm()
    form.offer_zones()
    form.offer_languages_and_days()
    if not form.validate():
        return _page(form, status=422)
    ladder = form.ladder()
    org = organisation.current()
    if org is None:
        org = Organisation()
        db.session.add(org)
    org.name = form.name.data or ""
    org.timezone = form.timezone.data
    if form.language.data:
        org.default_language = form.language.data
    org.ladder_gaps = ",".join(str(gap) for gap in ladder.gaps)
    working_days = ",".join(str(day) for day in sorted(ladder.working_days))
    changed_days = working_days != org.working_days
    org.working_days = working_days
    organisation.remember(org)
    if changed_days:
        # The on-time windows follow the working days: the dashboard's counts are redone.
        db.session.flush()
        summaries.rebuild()
    db.session.commit()
    refresh()  # the flash below and anything after it use the new zone
    flash(
        _(
            "Settings saved. Checks already scheduled keep their dates; "
            "the next ones follow the new ladder."
        )
    )
    return redirect(url_for("admin.settings"), code=303)


def _page(form: SettingsForm, status: int = 200) -> Response:
    return render("admin/settings.html", "admin/settings.html", form=form, status=status)
