"""Sign-in and sign-out pages."""

import sqlalchemy as sa
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from coachapp.auth.demo import demo_sign_in_available
from coachapp.auth.sessions import sign_in, sign_out
from coachapp.extensions import db
from coachapp.models import Role, User
from coachapp.parsing import parse_id
from coachapp.unit_of_work import commits

bp = Blueprint("auth", __name__)

ROLE_ORDER = [Role.MANAGER, Role.AGENT, Role.TRAINER, Role.ADMIN]


@bp.get("/signin")
def signin() -> str | Response:
    """The sign-in page; in demo mode it lists the demo people."""
    if current_user.is_authenticated:
        return redirect(url_for("core.home"))
    people: dict[Role, list[User]] = {}
    if demo_sign_in_available():
        users = db.session.scalars(
            sa.select(User).where(User.active.is_(True)).order_by(User.name)
        ).all()
        for role in ROLE_ORDER:
            people[role] = [u for u in users if u.role == role]
    return render_template("auth/signin.html", people=people)


@bp.post("/signin/demo")
@commits
def demo_signin() -> Response:
    """Sign in as a demo person (demo mode only)."""
    if not demo_sign_in_available():
        abort(404)
    user = db.session.get(User, parse_id(request.form.get("user_id")) or 0)
    if user is None or not user.active:
        abort(404)
    sign_in(user)
    return redirect(url_for("core.home"), code=303)


@bp.post("/signout")
@login_required
@commits
def signout() -> Response:
    """Sign out of this device."""
    sign_out()
    flash(_("You are signed out."))
    return redirect(url_for("auth.signin"), code=303)
