"""`commits` and `DrawnAfterCommit`: one commit per request, and nothing written after it."""

import pytest
import sqlalchemy as sa
from flask import Flask

from coachapp.extensions import db
from coachapp.models import Team
from coachapp.unit_of_work import DrawnAfterCommit, commits
from tests.conftest import World


def team_names() -> list[str]:
    """The teams committed, read on a connection of its own."""
    with db.engine.connect() as connection:
        return sorted(connection.scalars(sa.select(Team.name)))


def test_an_answer_drawn_after_the_commit_is_committed_once(app: Flask, world: World):
    commits_seen: list[object] = []

    def committed(session: object) -> None:
        commits_seen.append(session)

    @commits
    def view() -> object:
        db.session.add(Team(name="Night shift"))
        return DrawnAfterCommit(lambda: "drawn")

    sa.event.listen(sa.orm.Session, "after_commit", committed)
    try:
        with app.test_request_context("/", method="POST"):
            assert view() == "drawn"
    finally:
        sa.event.remove(sa.orm.Session, "after_commit", committed)
    assert len(commits_seen) == 1
    assert "Night shift" in team_names()


def test_the_answer_is_drawn_after_the_commit_from_what_was_loaded(app: Flask, world: World):
    """While it is drawn the write is committed (another connection sees it), and what the
    view loaded is still loaded: drawing it asks the database nothing."""
    statements: list[str] = []

    def count(*args: object) -> None:
        statements.append(str(args[2]))

    def draw(team: Team) -> tuple[bool, str]:
        sa.event.listen(db.engine, "before_cursor_execute", count)
        try:
            return "Night shift" in team_names(), team.name
        finally:
            sa.event.remove(db.engine, "before_cursor_execute", count)

    @commits
    def view() -> object:
        team = Team(name="Night shift")
        db.session.add(team)
        db.session.flush()
        return DrawnAfterCommit(lambda: draw(team))

    with app.test_request_context("/", method="POST"):
        committed_while_drawing, name = view()
    assert committed_while_drawing
    assert name == "Night shift"
    # The only statement while drawing is the check's own read on its own connection.
    assert len(statements) == 1 and "FROM team" in statements[0], statements


def test_a_row_changed_while_drawing_is_refused_not_lost_silently(app: Flask, world: World):
    def draw() -> str:
        db.session.add(Team(name="Weekend shift"))
        return "drawn"

    @commits
    def view() -> object:
        db.session.add(Team(name="Night shift"))
        return DrawnAfterCommit(draw)

    with (
        app.test_request_context("/", method="POST"),
        pytest.raises(RuntimeError, match="after the unit of work was committed"),
    ):
        view()
    assert "Night shift" in team_names()
    assert "Weekend shift" not in team_names()
