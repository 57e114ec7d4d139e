"""`commits` and `commit_before_drawing`: one commit per request, and nothing written after it."""

import pytest
import sqlalchemy as sa
from flask import Flask

from coachapp.extensions import db
from coachapp.models import Team
from coachapp.unit_of_work import commit_before_drawing, commits
from tests.conftest import World


def team_names() -> list[str]:
    with db.engine.connect() as connection:
        return sorted(connection.scalars(sa.select(Team.name)))


def test_a_view_that_commits_before_drawing_is_not_committed_again(app: Flask, world: World):
    commits_seen: list[object] = []

    def committed(session: object) -> None:
        commits_seen.append(session)

    @commits
    def view() -> str:
        db.session.add(Team(name="Night shift"))
        commit_before_drawing()
        return "drawn"

    sa.event.listen(sa.orm.Session, "after_commit", committed)
    try:
        with app.test_request_context("/", method="POST"):
            assert view() == "drawn"
    finally:
        sa.event.remove(sa.orm.Session, "after_commit", committed)
    assert len(commits_seen) == 1
    assert "Night shift" in team_names()


def test_a_row_changed_after_the_commit_is_refused_not_lost_silently(app: Flask, world: World):
    @commits
    def view() -> str:
        db.session.add(Team(name="Night shift"))
        commit_before_drawing()
        db.session.add(Team(name="Weekend shift"))
        return "drawn"

    with (
        app.test_request_context("/", method="POST"),
        pytest.raises(RuntimeError, match="after committing"),
    ):
        view()
    assert "Night shift" in team_names()
    assert "Weekend shift" not in team_names()


def test_the_next_request_commits_as_usual(app: Flask, world: World):
    """The mark of an early commit is the request's own: a later view commits its writes."""

    @commits
    def early() -> str:
        commit_before_drawing()
        return "drawn"

    @commits
    def usual() -> str:
        db.session.add(Team(name="Early shift"))
        return "saved"

    with app.test_request_context("/", method="POST"):
        early()
    with app.test_request_context("/", method="POST"):
        usual()
    assert "Early shift" in team_names()
