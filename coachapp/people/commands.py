"""flask people ...: people on the command line."""

from pathlib import Path
from typing import TextIO

import click
from flask import current_app
from flask.cli import AppGroup

from coachapp import clock
from coachapp.extensions import db
from coachapp.people import csv_import, import_service
from coachapp.people.csv_import import CsvRefused, Plan, PlannedRow

people_cli = AppGroup("people", help="Add people in bulk from a CSV file.")


@people_cli.command("import")
@click.argument("csv_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--base-url",
    default=None,
    help="Where people open coachapp, e.g. https://coach.example.org "
    "(default: COACHAPP_WEBAUTHN_ORIGIN, else http://localhost:5000).",
)
@click.option("--dry-run", is_flag=True, help="Print the preview and create nothing.")
@click.option(
    "--links-out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write name,email,team,link to this new file (default: print them).",
)
def import_command(
    csv_file: Path, base_url: str | None, dry_run: bool, links_out: Path | None
) -> None:
    """Invite the people of CSV_FILE (columns name, email, role, team, role_profile).

    Prints what will happen to each row; creates nothing when any row has an error."""
    base = base_url or current_app.config.get("WEBAUTHN_ORIGIN") or "http://localhost:5000"
    if not base.startswith(("http://", "https://")):
        raise click.BadParameter(
            "start it with https:// (or http://localhost)", param_hint="--base-url"
        )
    try:
        rows = csv_import.read_csv(csv_file.read_bytes())
    except CsvRefused as refused:
        for problem in refused.problems:
            click.echo(problem, err=True)
        raise click.ClickException("the file could not be used: nothing was created") from None
    now = clock.now()
    plan = csv_import.plan(rows, now=now)
    for planned in plan.rows:
        click.echo(preview_line(planned))
    click.echo(summary(plan))
    if not plan.ok:
        raise click.ClickException(f"{plan.errors} row(s) with errors: nothing was created")
    if dry_run:
        click.echo("Dry run: nothing was created.")
        return
    # Opened before anything is created: links that cannot be written would be lost for good.
    out = _open_new(links_out) if links_out is not None else None
    try:
        with current_app.test_request_context():
            result = import_service.apply(plan, actor=None, now=now, origin=base)
        db.session.commit()
    except BaseException:
        if out is not None and links_out is not None:
            out.close()
            links_out.unlink()
        raise
    table = import_service.links_csv(result.issued)
    if out is not None:
        with out:
            out.write(table)
        click.echo(f"{len(result.issued)} invitation link(s) written to {links_out}.")
        click.echo(
            "Each works once, for 72 hours. Keep the file safe: anyone with a link can use it."
        )
    else:
        click.echo("Invitation links (shown only now; each works once, for 72 hours):")
        click.echo(table, nl=False)


def preview_line(planned: PlannedRow) -> str:
    """One row of the preview: its number, outcome, who, and why."""
    row = planned.row
    details = [row.role.value if row.role else row.role_text]
    if row.team:
        team = planned.team.name if planned.team else row.team
        details.append(f"{team} (team to be created)" if planned.new_team else team)
    if row.email:
        details.append(row.email)
    if planned.profile is not None:
        details.append(planned.profile.name)
    label = str(csv_import.OUTCOME_LABELS[planned.outcome])
    line = (
        f"row {row.number}: {label}: {row.name or '(no name)'} ({', '.join(filter(None, details))})"
    )
    return line + "".join(f"\n    {reason}" for reason in planned.reasons)


def summary(plan: Plan) -> str:
    teams = ", ".join(plan.new_teams.values()) or "none"
    return (
        f"{plan.invitations} new invitation(s), {plan.skipped} skipped, {plan.errors} error(s); "
        f"teams to be created: {teams}."
    )


def _open_new(path: Path) -> TextIO:
    try:
        # utf-8-sig: the byte-order mark makes spreadsheets read the names in any script.
        return path.open("x", encoding="utf-8-sig", newline="")
    except FileExistsError:
        raise click.BadParameter(
            f"{path} exists: give a new file name (links are never overwritten)",
            param_hint="--links-out",
        ) from None
    except OSError as error:
        raise click.BadParameter(
            f"cannot write {path}: {error.strerror}", param_hint="--links-out"
        ) from None
