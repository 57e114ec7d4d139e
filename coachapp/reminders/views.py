"""The manager's reminder settings: notifications on this phone and the calendar link."""

from typing import Any

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    jsonify,
    make_response,
    redirect,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from coachapp import clock
from coachapp.bodies import takes_json
from coachapp.extensions import limiter
from coachapp.htmx import is_fragment_request, render
from coachapp.reminders import calendar, push
from coachapp.roles import role_required
from coachapp.unit_of_work import commits

bp = Blueprint("reminders", __name__)
manager_only = role_required("manager")


@bp.get("/reminders")
@login_required
@manager_only
def settings() -> Response:
    """Turn notifications on or off, and make or stop the calendar link."""
    return _page(fragment="reminders/settings.html")


@bp.get("/reminders/push-key")
@login_required
@manager_only
def push_key() -> Response:
    """The app's VAPID public key, for the browser's pushManager.subscribe()."""
    return jsonify(publicKey=push.public_key())


@bp.post("/reminders/push-subscriptions")
@takes_json
@login_required
@manager_only
@commits
def subscribe() -> Response | tuple[Response, int]:
    """Keep this browser's push subscription for the signed-in manager."""
    try:
        entry = push.parse_subscription(request.get_json(silent=True), allow_local=_local_allowed())
    except push.InvalidSubscription as bad:
        return jsonify(error=str(bad.message)), bad.status_code
    push.save_subscription(current_user, entry)
    return jsonify(subscribed=True)


@bp.post("/reminders/push-subscriptions/delete")
@takes_json
@login_required
@manager_only
@commits
def unsubscribe() -> Response | tuple[Response, int]:
    """Forget this browser's push subscription."""
    data = request.get_json(silent=True)
    endpoint = data.get("endpoint") if isinstance(data, dict) else None
    if not isinstance(endpoint, str) or not endpoint:
        bad = push.InvalidSubscription()
        return jsonify(error=str(bad.message)), bad.status_code
    push.remove_subscription(current_user, endpoint)
    return jsonify(subscribed=False)


@bp.post("/reminders/calendar")
@login_required
@manager_only
@commits
def create_calendar() -> Response:
    """Make a new calendar link (the old one stops working) and show it this once."""
    token = calendar.issue_token(current_user)
    return _page(feed_url=url_for(".calendar_feed", token=token, _external=True))


@bp.post("/reminders/calendar/delete")
@login_required
@manager_only
@commits
def delete_calendar() -> Response:
    """Stop the calendar link."""
    calendar.revoke(current_user)
    if not is_fragment_request():
        flash(_("The calendar link is stopped. Calendars subscribed to it no longer update."))
        return redirect(url_for(".settings"), code=303)
    return _page()


@bp.get("/calendar/<token>.ics")
@limiter.limit("60/minute")
def calendar_feed(token: str) -> Response:
    """The manager's checks as iCalendar; the secret link is the only key (no sign-in)."""
    manager = calendar.owner_of(token)
    if manager is None:
        abort(404)
    body = calendar.ics(
        calendar.pending_checks(manager, clock.today()),
        link_for=lambda followup_id: url_for(
            "followups.check", followup_id=followup_id, _external=True
        ),
        now=clock.now(),
    )
    response = make_response(body)
    response.content_type = "text/calendar; charset=utf-8"
    response.headers["Cache-Control"] = "no-store"
    return response


def _page(feed_url: str | None = None, fragment: str = "reminders/_calendar.html") -> Response:
    """The settings page, or for htmx the calendar section it changed."""
    context: dict[str, Any] = {
        "feed": calendar.feed_of(current_user),
        "feed_url": feed_url,
        "webcal_url": "webcal://" + feed_url.split("://", 1)[1] if feed_url else None,
        "device_count": push.subscription_count(current_user),
    }
    return render("reminders/settings.html", fragment, **context)


def _local_allowed() -> bool:
    """Plain http to this machine is a push endpoint only in development and tests."""
    return bool(current_app.debug or current_app.testing)
