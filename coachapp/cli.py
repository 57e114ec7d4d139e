"""flask commands: set up the database, load demo data, run the demo, send reminders."""

import click
from flask import Flask, current_app
from flask_migrate import upgrade
from werkzeug.serving import run_simple

from coachapp import backup, clock, demo_data, i18n
from coachapp.extensions import db


def init_database() -> None:
    """Bring the database schema up to date (Alembic migrations)."""
    upgrade(directory=current_app.extensions["migrate"].directory)


def register(app: Flask) -> None:
    from coachapp.people.commands import people_cli
    from coachapp.profiles.commands import profiles_cli
    from coachapp.shadowing.commands import sessions_cli

    app.cli.add_command(people_cli)
    app.cli.add_command(profiles_cli)
    app.cli.add_command(sessions_cli)
    backup.register(app)

    @app.cli.command("init")
    def init_command() -> None:
        """Create or upgrade the database schema."""
        init_database()
        click.echo("Database is up to date.")

    @app.cli.command("demo-data")
    @click.option("--if-empty", is_flag=True, help="Do nothing when the database holds people.")
    @click.option(
        "--language",
        type=click.Choice(i18n.LANGUAGES),
        default="en",
        show_default=True,
        help="The language of the demo's texts, profiles and the organisation's default.",
    )
    def demo_data_command(if_empty: bool, language: str) -> None:
        """Load the demo organisation into an empty database."""
        init_database()
        if demo_data.has_data():
            if if_empty:
                click.echo("The database already holds people; demo data left as it is.")
                return
            raise click.ClickException("The database already holds people.")
        summary = demo_data.load(language=language)
        click.echo(
            f"Demo data loaded: {summary.agents} agents, {summary.sessions} sessions, "
            f"{summary.observations} observations."
        )

    @app.cli.command("create-admin")
    @click.option("--name", required=True, help="The admin's name, as colleagues know it.")
    @click.option("--email", default=None, help="Their e-mail address (optional).")
    @click.option(
        "--base-url",
        default=None,
        help="Where people open coachapp, e.g. https://coach.example.org "
        "(default: COACHAPP_WEBAUTHN_ORIGIN, else http://localhost:5000).",
    )
    def create_admin_command(name: str, email: str | None, base_url: str | None) -> None:
        """Print a one-time invitation link for an admin: how the first person gets in."""
        from coachapp.auth import invitations
        from coachapp.models import Role

        name = name.strip()
        if not name or len(name) > 120:
            raise click.BadParameter("give a name of 1 to 120 characters", param_hint="--name")
        base = base_url or current_app.config.get("WEBAUTHN_ORIGIN") or "http://localhost:5000"
        if not base.startswith(("http://", "https://")):
            raise click.BadParameter(
                "start it with https:// (or http://localhost)", param_hint="--base-url"
            )
        invitation, token = invitations.create_invitation(
            created_by=None, name=name, email=email, role=Role.ADMIN, now=clock.now()
        )
        db.session.commit()
        with current_app.test_request_context():
            link = invitations.link_for(token, origin=base)
        until = f"{invitation.expires_at:%Y-%m-%d %H:%M} UTC"
        click.echo(f"Invitation for {name} (admin), usable once until {until}:")
        click.echo(link)
        click.echo("Open it on the device that will hold the passkey. It is not shown again.")

    @app.cli.command("send-reminders")
    def send_reminders_command() -> None:
        """Push each manager the number of follow-ups due today, at most once a day.

        Meant for cron; safe to run again, and on several machines at once.
        """
        from coachapp.reminders import daily

        try:
            summary = daily.send_reminders(clock.today())
        except ValueError as error:
            raise click.ClickException(str(error)) from None
        click.echo(
            f"Reminders: managers notified {summary.notified}, "
            f"subscriptions removed {summary.removed}, failures {summary.failures}."
        )

    @app.cli.command("demo")
    @click.option("--port", default=5000, show_default=True)
    def demo_command(port: int) -> None:
        """Set up the database, load demo data once, and serve on http://localhost:PORT."""
        if not current_app.config["DEMO_MODE"]:
            raise click.ClickException("Run it with COACHAPP_DEMO=1 to switch demo sign-in on.")
        init_database()
        if not demo_data.has_data():
            demo_data.load()
        db.session.remove()
        click.echo(f"coachapp demo: open http://localhost:{port} (sign in as any demo person)")
        # Flask ignores app.run() inside its own CLI; serve with Werkzeug directly, loopback only.
        run_simple("127.0.0.1", port, current_app._get_current_object(), threaded=True)
