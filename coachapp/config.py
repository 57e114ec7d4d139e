"""Settings read from the environment, with defaults that are safe to run as they are."""

import os
import secrets
from pathlib import Path
from typing import Any

TRUE_WORDS = {"1", "true", "yes", "on"}


def env_flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in TRUE_WORDS


class MissingSecretKey(RuntimeError):
    """Started on a shared database without a shared key; the message says how to set one."""

    def __init__(self) -> None:
        super().__init__(
            "COACHAPP_SECRET_KEY is not set. On PostgreSQL several app servers share one "
            "database, and each would make a key of its own in its instance folder: a session or "
            "form started on one would be refused by the next. Set the same value on every "
            "server, e.g. export COACHAPP_SECRET_KEY=$(python3 -c 'import secrets; "
            "print(secrets.token_hex(32))') once, kept with your other secrets."
        )


def load_secret_key(instance_path: str, database_url: str = "") -> str:
    """COACHAPP_SECRET_KEY, else (one machine, SQLite) a key generated once into the instance
    folder. On PostgreSQL the key must be given: a per-machine file would differ per server."""
    given = os.environ.get("COACHAPP_SECRET_KEY")
    if given:
        return given
    if database_url.startswith("postgresql"):
        raise MissingSecretKey
    path = Path(instance_path) / "secret_key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        # Created with owner-only permissions before anything is written to it.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_hex(32))
    return path.read_text().strip()


def from_environment(instance_path: str) -> dict[str, Any]:
    default_db = "sqlite:///" + str(Path(instance_path) / "coachapp.sqlite3")
    database_url = os.environ.get("COACHAPP_DATABASE_URL", default_db)
    # Hosting platforms hand out postgres:// URLs; SQLAlchemy wants the driver named.
    if database_url.startswith(("postgres://", "postgresql://")):
        database_url = "postgresql+psycopg://" + database_url.split("://", 1)[1]
    return {
        "SQLALCHEMY_DATABASE_URI": database_url,
        "DEMO_MODE": env_flag("COACHAPP_DEMO"),
        "RATELIMIT_STORAGE_URI": os.environ.get("COACHAPP_REDIS_URL", "memory://"),
        # Sign-in ceremonies and invitation links, per client address.
        "SIGNIN_RATE_LIMIT": os.environ.get("COACHAPP_SIGNIN_LIMIT", "10/minute"),
        # Behind a TLS proxy set COACHAPP_HTTPS=1: cookies become Secure and HSTS is sent.
        "HTTPS": env_flag("COACHAPP_HTTPS"),
        "TRUSTED_PROXIES": int(os.environ.get("COACHAPP_TRUSTED_PROXIES", "0")),
        # Dates and times are shown, and "today" is counted, in the organisation's zone.
        "BABEL_DEFAULT_TIMEZONE": os.environ.get("COACHAPP_TIMEZONE", "UTC"),
        # Passkeys are bound to a domain (the RP id) and an origin. Unset, both come from the
        # request (host without port; scheme://host:port): fine behind a proxy that sets Host,
        # but production should name them, e.g. coach.example.org / https://coach.example.org.
        "WEBAUTHN_RP_ID": os.environ.get("COACHAPP_WEBAUTHN_RP_ID") or None,
        "WEBAUTHN_ORIGIN": os.environ.get("COACHAPP_WEBAUTHN_ORIGIN") or None,
        # Who push services may contact about our notifications (the VAPID `sub` claim).
        "VAPID_SUBJECT": os.environ.get("COACHAPP_VAPID_SUBJECT", "mailto:admin@localhost"),
        # One line per request on stderr: json (default under gunicorn), text, or off.
        "LOG_FORMAT": os.environ.get("COACHAPP_LOG_FORMAT") or None,
    }


DEFAULTS: dict[str, Any] = {
    # No pool_pre_ping: coachapp.pool_checks tests a pooled connection before use without a
    # round trip to the server while it is in steady use.
    "SQLALCHEMY_ENGINE_OPTIONS": {},
    # A CSRF token lives as long as the session, not an hour: an outbox replayed after a long time
    # offline must still be accepted.
    "WTF_CSRF_TIME_LIMIT": None,
    "WTF_CSRF_HEADERS": ["X-CSRFToken"],
    "BABEL_DEFAULT_LOCALE": "en",
    "LANGUAGES": ["en"],
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SAMESITE": "Lax",
    # The cookie outlives a browser restart (a PWA is closed and reopened all day); the server
    # decides when the session really ends (coachapp.auth.sessions).
    "PERMANENT_SESSION_LIFETIME": 7 * 24 * 3600,
    # The cookie is signed and sent again when the session changes and when the server notes
    # "last seen" (every few minutes, coachapp.auth.sessions), not on every answer: that kept
    # its expiry sliding at the cost of a signature and 200 bytes per request.
    "SESSION_REFRESH_EACH_REQUEST": False,
    "MAX_CONTENT_LENGTH": 256 * 1024,
    "RATELIMIT_HEADERS_ENABLED": True,
    # Open the database before serving (coachapp.health): a start that cannot work fails loudly.
    "STARTUP_CHECK": True,
}
