"""coachapp: on-the-job coaching for customer-service teams."""

import sqlite3
from typing import Any

from flask import Flask
from sqlalchemy import event
from sqlalchemy.engine import Engine
from werkzeug.middleware.proxy_fix import ProxyFix

from coachapp import config as settings
from coachapp import health, i18n, pool_checks, ratelimits, request_log
from coachapp.extensions import babel, csrf, db, limiter, login_manager, migrate
from coachapp.parsing import IdConverter


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """Build the app; tests pass `config` to override anything read from the environment."""
    app = Flask(
        __name__,
        instance_relative_config=True,
        template_folder="../templates",
        static_folder="../static",
    )
    app.config.from_mapping(settings.DEFAULTS)
    app.config.from_mapping(settings.from_environment(app.instance_path))
    app.config.from_mapping(config or {})
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = settings.load_secret_key(
            app.instance_path, app.config["SQLALCHEMY_DATABASE_URI"]
        )
    if app.config["TRUSTED_PROXIES"]:
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app,
            x_for=app.config["TRUSTED_PROXIES"],
            x_proto=app.config["TRUSTED_PROXIES"],
            x_host=app.config["TRUSTED_PROXIES"],
        )
    if app.config["HTTPS"]:
        app.config.update(SESSION_COOKIE_SECURE=True, SESSION_COOKIE_NAME="__Host-session")

    if app.config["STARTUP_CHECK"]:
        health.check_database_url(app.config["SQLALCHEMY_DATABASE_URI"])
    # Every <int:...> in a URL is an id: ASCII digits within the database's integer.
    app.url_map.converters["int"] = IdConverter
    pool_checks.install()
    _init_extensions(app)
    _register_blueprints(app)
    # Once every view, with its limits, is known.
    ratelimits.check_only_limited_views(app, limiter)
    if app.config["STARTUP_CHECK"]:
        health.check_database_at_start(app)

    from coachapp import bodies, cli, errors, refusals, security, session_cookie, templating

    errors.register(app)
    session_cookie.register(app)
    bodies.register(app)
    refusals.register(app)
    request_log.register(app)
    security.register(app)
    templating.register(app)
    i18n.register(app)
    cli.register(app)
    # Last: WhiteNoise wraps the app, and pages get their ETag before any other hook runs.
    from coachapp.core import assets

    assets.register(app)
    return app


def _init_extensions(app: Flask) -> None:
    from coachapp import organisation
    from coachapp.core import assets

    # First of the after_request hooks, so that it runs last: compression after the headers.
    assets.init_compression(app)
    db.init_app(app)
    migrate.init_app(app, db, directory=str(app.root_path + "/../migrations"))
    login_manager.init_app(app)
    # Times are shown in the organisation's zone; COACHAPP_TIMEZONE is only its default.
    i18n.compile_catalogues(app)
    babel.init_app(
        app, locale_selector=i18n.selected_locale, timezone_selector=organisation.zone_name
    )
    csrf.init_app(app)
    # Redis, when set, through a storage that counts in memory while Redis is down.
    app.config["RATELIMIT_STORAGE_URI"] = ratelimits.storage_uri(
        app.config["RATELIMIT_STORAGE_URI"]
    )
    limiter.init_app(app)

    from coachapp.auth.sessions import load_user

    login_manager.user_loader(load_user)
    login_manager.login_view = "auth.signin"
    # The sign-in page says "Sign in to continue" itself; Flask-Login's own flash ("Please log in
    # to access this page.") would show beside it, in English, as if it were good news.
    login_manager.login_message = None


def _register_blueprints(app: Flask) -> None:
    from coachapp.admin import bp as admin_bp
    from coachapp.auth import bp as auth_bp
    from coachapp.core import bp as core_bp
    from coachapp.dashboard.views import bp as dashboard_bp
    from coachapp.followups import bp as followups_bp
    from coachapp.log import bp as log_bp
    from coachapp.people import bp as people_bp
    from coachapp.profiles import bp as profiles_bp
    from coachapp.reminders import bp as reminders_bp
    from coachapp.selfcheck import bp as selfcheck_bp
    from coachapp.setup import bp as setup_bp
    from coachapp.shadowing import bp as shadowing_bp
    from coachapp.sync import bp as sync_bp
    from coachapp.threads import bp as threads_bp
    from coachapp.voice import bp as voice_bp

    for blueprint in (
        core_bp,
        auth_bp,
        shadowing_bp,
        followups_bp,
        log_bp,
        admin_bp,
        setup_bp,
        profiles_bp,
        reminders_bp,
        people_bp,
        threads_bp,
        selfcheck_bp,
        voice_bp,
        sync_bp,
        dashboard_bp,
    ):
        app.register_blueprint(blueprint)


@event.listens_for(Engine, "connect")
def _tune_sqlite(dbapi_connection: Any, _record: Any) -> None:
    """WAL, a busy timeout and foreign keys: what SQLite needs under several workers."""
    if not isinstance(dbapi_connection, sqlite3.Connection):
        return
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()
