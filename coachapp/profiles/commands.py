"""flask profiles ...: role profiles as files, on the command line."""

import click
from flask.cli import AppGroup

profiles_cli = AppGroup("profiles", help="Export and import role profiles as JSON files.")


@profiles_cli.command("list")
def list_command() -> None:
    """List the role profiles by name."""
    import sqlalchemy as sa

    from coachapp.extensions import db
    from coachapp.models import RoleProfile

    for name in db.session.scalars(sa.select(RoleProfile.name).order_by(RoleProfile.name)):
        click.echo(name)
