"""flask sessions ...: shadowing sessions on the command line (for cron)."""

import click
from flask.cli import AppGroup

from coachapp import clock
from coachapp.extensions import db
from coachapp.shadowing import service

sessions_cli = AppGroup("sessions", help="Shadowing sessions.")


@sessions_cli.command("end-idle")
def end_idle_command() -> None:
    """End every session without an entry for 4 hours; empty ones are deleted.

    Pages end such sessions too when they load them; this is for cron, safe to run on several
    machines at once.
    """
    ended = service.end_idle_sessions(now=clock.now())
    db.session.commit()
    click.echo(f"Idle sessions ended: {ended}.")
