"""The home redirect, the health check and the service worker."""

from pathlib import Path

from flask import Blueprint, current_app, redirect, send_file, url_for
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


@bp.get("/service-worker.js")
def service_worker() -> Response:
    """The service worker, served from the root so that its scope is the whole app."""
    worker = Path(current_app.root_path).parent / "service-worker.js"
    response = send_file(worker, mimetype="application/javascript", max_age=0)
    response.headers["Service-Worker-Allowed"] = "/"
    # Browsers check for a new worker on every visit; no cache may hand them an old one.
    response.headers["Cache-Control"] = "no-cache"
    return response
