"""Access-table rows of uploading people from a CSV file (gathered by tests/test_access.py).

Only admins add people in bulk; everyone else meets a 404, and anonymous is sent to sign in."""

from flask import url_for

from tests.access import Route, only
from tests.conftest import World


def one_person(world: World) -> dict[str, str]:
    return {"csv": f"name,email,role,team,role_profile\nNia Novak,,agent,{world.team_a.name},\n"}


ROUTES: dict[str, Route] = {
    "people.csv_import.upload": Route(
        "GET", lambda ids: url_for("people.csv_import.upload"), only({"admin": 200})
    ),
    "people.csv_import.preview": Route(
        "POST", lambda ids: url_for("people.csv_import.preview"), only({"admin": 200}), one_person
    ),
    # Confirming creates the invitation and shows its link at once.
    "people.csv_import.confirm": Route(
        "POST", lambda ids: url_for("people.csv_import.confirm"), only({"admin": 200}), one_person
    ),
}
