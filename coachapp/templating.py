"""What every template can use: the signed-in person, demo mode, htmx settings."""

import json
import uuid
from typing import Any

from flask import Flask, current_app
from flask_babel import get_locale
from flask_login import current_user

from coachapp import clock, dates
from coachapp.models import ObservationKind, Role
from coachapp.shadowing.forms import KIND_LABELS

# htmx 2 would inject a <style> element (blocked by our CSP) and can evaluate strings; both off.
# 422 and 409 answers carry a form with its error message, so they are swapped in like a 200.
HTMX_CONFIG = json.dumps(
    {
        "includeIndicatorStyles": False,
        "allowEval": False,
        "allowScriptTags": False,
        "selfRequestsOnly": True,
        "historyCacheSize": 0,
        "responseHandling": [
            {"code": "204", "swap": False},
            {"code": "[23]..", "swap": True},
            {"code": "422", "swap": True},
            {"code": "409", "swap": True},
            {"code": "[45]..", "swap": False, "error": True},
        ],
    }
)


def demo_mode_on() -> bool:
    from coachapp.auth.demo import demo_sign_in_available

    return demo_sign_in_available()


def register(app: Flask) -> None:
    @app.context_processor
    def common() -> dict[str, Any]:
        return {
            "htmx_config": HTMX_CONFIG,
            "demo_mode": demo_mode_on(),
            "Role": Role,
            "kinds": ObservationKind,
            "locale": str(get_locale() or "en"),
            "new_uuid": uuid.uuid4,
            "current_user": current_user,
            "config": current_app.config,
        }

    dates.register(app)
    # The organisation's zone for scripts that show times (the shadowing clock), as the server does.
    app.jinja_env.globals["organisation_timezone"] = lambda: clock.zone().key
    # Lazy strings: a badge translates only the label it shows.
    app.jinja_env.globals["kind_labels"] = KIND_LABELS
