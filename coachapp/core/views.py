"""The home redirect and the health check."""

from flask import Blueprint, redirect, url_for
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from coachapp.models import Role

bp = Blueprint("core", __name__)


@bp.get("/")
@login_required
def home() -> Response:
    """Send each person to the page they start from."""
    match current_user.role:
        case Role.MANAGER:
            return redirect(url_for("shadowing.today"))
        case Role.AGENT:
            return redirect(url_for("log.agent", agent_id=current_user.id))
        case Role.ADMIN:
            return redirect(url_for("admin.settings"))
        case _:
            return redirect(url_for("log.people"))


@bp.get("/healthz")
def healthz() -> dict[str, str]:
    """A trivial answer for load balancers and the benchmark's baseline."""
    return {"status": "ok"}
