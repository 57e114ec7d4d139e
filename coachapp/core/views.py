"""The home redirect, the health and readiness checks, and what makes the app installable: the
service worker, the web app manifest and the offline page."""

import hashlib
import json
import re
import struct
from pathlib import Path

from flask import (
    Blueprint,
    current_app,
    jsonify,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from coachapp import clock, health
from coachapp.core.assets import static_url
from coachapp.i18n import LANGUAGES
from coachapp.models import Role
from coachapp.setup import checklist

#: The colours of static/css/app.css: the top bar (theme) and the page behind it (background).
THEME_COLOUR = "#0f5c4d"
BACKGROUND_COLOUR = "#f5f7f6"
ICONS = [
    ("icons/icon-192.png", "any"),
    ("icons/icon-512.png", "any"),
    ("icons/icon-maskable-512.png", "maskable"),
]
#: Shots of the phone screens, shown by the browser's install dialog.
SCREENSHOTS = ["screenshots/today.png", "screenshots/shadowing.png"]

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
            # The set-up checklist is the admin's start page until every step is done.
            if not checklist.progress(clock.now()).finished:
                return redirect(url_for("setup.checklist_page"))
            return redirect(url_for("people.index"))
        case _:
            return redirect(url_for("log.people"))


@bp.get("/healthz")
def healthz() -> dict[str, str]:
    """A trivial answer for load balancers and the benchmark's baseline."""
    return {"status": "ok"}


@bp.get("/readyz")
def readyz() -> tuple[dict[str, object], int]:
    """Ready to serve: the database can be read and written, and Redis (when set) answers."""
    problems = health.readiness()
    if problems:
        return {"status": "unavailable", "reasons": problems}, 503
    return {"status": "ready"}, 200


#: A static file named in the worker's source, e.g. "/static/js/outbox.js".
STATIC_IN_WORKER = re.compile(r'"/static/([^"]+)"')
CACHE_VERSION = re.compile(r'^(const CACHE_VERSION = ")([^"]+)(";)$', re.M)
#: The worker's last words when not even the offline page is kept on the phone.
NO_SIGNAL_IN_WORKER = '"No signal"'


def no_signal_in_every_language() -> str:
    """One worker serves everyone whatever their language, so its last-resort answer says "No
    signal" in each of them (from the catalogues), as a JavaScript string."""
    words = []
    for code in LANGUAGES:
        with force_locale(code):
            words.append(_("No signal"))
    return json.dumps(" · ".join(dict.fromkeys(words)), ensure_ascii=False)


def worker_source() -> str:
    """service-worker.js as the browser gets it: every static file under its hashed URL, and a
    shell cache named after them, so that a changed file makes a new worker that precaches it."""
    source = (Path(current_app.root_path).parent / "service-worker.js").read_text()
    source = STATIC_IN_WORKER.sub(lambda m: f'"{static_url(m.group(1))}"', source)
    source = source.replace(NO_SIGNAL_IN_WORKER, no_signal_in_every_language())
    version = hashlib.sha256(source.encode()).hexdigest()[:8]
    return CACHE_VERSION.sub(lambda m: f"{m.group(1)}{m.group(2)}-{version}{m.group(3)}", source)


@bp.get("/service-worker.js")
def service_worker() -> Response:
    """The service worker, served from the root so that its scope is the whole app."""
    response = make_response(worker_source())
    response.mimetype = "application/javascript"
    response.headers["Service-Worker-Allowed"] = "/"
    # Browsers check for a new worker on every visit; no cache may hand them an old one, but an
    # unchanged worker costs a 304.
    response.headers["Cache-Control"] = "no-cache"
    response.add_etag()
    return response.make_conditional(request)


@bp.get("/manifest.webmanifest")
def manifest() -> Response:
    """The web app manifest: what the phone needs to install coachapp on its home screen."""
    response = jsonify(
        {
            "id": "/",
            "name": "coachapp",
            "short_name": "coachapp",
            "description": _(
                "Coaching on the job: log what you see while shadowing, with or without signal."
            ),
            "lang": current_app.config["BABEL_DEFAULT_LOCALE"],
            "start_url": "/",
            "scope": "/",
            "display": "standalone",
            "orientation": "portrait",
            "theme_color": THEME_COLOUR,
            "background_color": BACKGROUND_COLOUR,
            "categories": ["business", "productivity"],
            "icons": [_image(path, purpose=purpose) for path, purpose in ICONS],
            "screenshots": [
                {**_image(path), "form_factor": "narrow", "label": label}
                for path, label in zip(
                    SCREENSHOTS,
                    [_("Today: follow-ups due and agents"), _("Shadowing an agent")],
                    strict=True,
                )
                if _static_file(path).exists()
            ],
        }
    )
    response.mimetype = "application/manifest+json"
    response.headers["Cache-Control"] = "no-cache"
    return response


@bp.get("/offline")
def offline() -> str:
    """What the phone shows for a page it has not kept, when there is no signal."""
    return render_template("core/offline.html")


def _static_file(path: str) -> Path:
    return Path(current_app.static_folder or "static") / path


def _image(path: str, purpose: str | None = None) -> dict[str, str]:
    width, height = png_size(_static_file(path))
    image = {
        "src": url_for("static", filename=path),
        "sizes": f"{width}x{height}",
        "type": "image/png",
    }
    if purpose:
        image["purpose"] = purpose
    return image


def png_size(path: Path) -> tuple[int, int]:
    """Width and height from a PNG's header (the IHDR chunk comes first)."""
    with path.open("rb") as png:
        header = png.read(24)
    if header[:8] != b"\x89PNG\r\n\x1a\n" or header[12:16] != b"IHDR":
        raise ValueError(f"{path} is not a PNG")
    width, height = struct.unpack(">II", header[16:24])
    return width, height
