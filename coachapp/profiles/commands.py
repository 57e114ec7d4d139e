"""flask profiles ...: role profiles as files, on the command line."""

import sys
from pathlib import Path

import click
from flask.cli import AppGroup

from coachapp.extensions import db
from coachapp.profiles import files, service

profiles_cli = AppGroup("profiles", help="Export and import role profiles as JSON files.")


@profiles_cli.command("list")
def list_command() -> None:
    """List the role profiles by name."""
    for profile in service.all_profiles():
        click.echo(profile.name)


@profiles_cli.command("export")
@click.argument("name")
def export_command(name: str) -> None:
    """Write the profile NAME as JSON to standard output."""
    profile = service.profile_named(name)
    if profile is None:
        click.echo(f"No role profile is named {name!r}.", err=True)
        sys.exit(1)
    click.echo(files.export_json(profile), nl=False)


@profiles_cli.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--replace", is_flag=True, help="Update the profile of the same name in place.")
def import_command(path: Path, replace: bool) -> None:
    """Create a role profile from a JSON file; nothing is created if the file has a problem."""
    try:
        data = files.parse(path.read_bytes()[: files.MAX_FILE_BYTES + 1])
        profile = files.import_profile(data, actor=None, replace=replace)
    except files.InvalidProfileFile as error:
        db.session.rollback()
        for problem in error.problems:
            click.echo(problem, err=True)
        sys.exit(1)
    except service.ProfileError as error:
        db.session.rollback()
        click.echo(str(error.message), err=True)
        sys.exit(1)
    db.session.commit()
    count = sum(len(service.active_behaviours(c)) for c in profile.competencies)
    verb = "Updated" if replace else "Imported"
    competencies = len(profile.competencies)
    click.echo(f"{verb} {profile.name}: {competencies} competencies, {count} behaviours.")
