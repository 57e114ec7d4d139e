"""flask commands: set up the database, load demo data, run the demo."""

import click
from flask import Flask, current_app
from flask_migrate import upgrade

from coachapp import demo_data
from coachapp.extensions import db


def init_database() -> None:
    """Bring the database schema up to date (Alembic migrations)."""
    upgrade(directory=current_app.extensions["migrate"].directory)


def register(app: Flask) -> None:
    @app.cli.command("init")
    def init_command() -> None:
        """Create or upgrade the database schema."""
        init_database()
        click.echo("Database is up to date.")

    @app.cli.command("demo-data")
    @click.option("--if-empty", is_flag=True, help="Do nothing when the database holds people.")
    def demo_data_command(if_empty: bool) -> None:
        """Load the demo organisation into an empty database."""
        init_database()
        if demo_data.has_data():
            if if_empty:
                click.echo("The database already holds people; demo data left as it is.")
                return
            raise click.ClickException("The database already holds people.")
        summary = demo_data.load()
        click.echo(
            f"Demo data loaded: {summary.agents} agents, {summary.sessions} sessions, "
            f"{summary.observations} observations."
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
        current_app.run(host="127.0.0.1", port=port, debug=False, use_reloader=False)
