"""Access-table rows of the trainer's dashboard: trainers, admins and managers; agents meet 404."""

from datetime import date

from flask import url_for

from coachapp.dashboard.models import TrainingCohort
from coachapp.extensions import db
from coachapp.models import User
from tests.access import Ids, Route, only

DASHBOARD_VIEWERS = {"manager": 200, "other_manager": 200, "trainer": 200, "admin": 200}

COHORT_READERS = {"trainer": 200, "admin": 200}


def a_cohort(ids: Ids) -> int:
    """A training the agent took part in."""
    agent = db.session.get(User, ids.agent)
    assert agent is not None
    cohort = TrainingCohort(
        name="Induction", trained_on=date(2026, 1, 5), created_by_id=agent.id, participants=[agent]
    )
    db.session.add(cohort)
    db.session.commit()
    return cohort.id


ROUTES: dict[str, Route] = {
    "dashboard.index": Route(
        "GET", lambda ids: url_for("dashboard.index"), only(DASHBOARD_VIEWERS)
    ),
    "dashboard.items": Route(
        "GET",
        lambda ids: url_for("dashboard.items", figure="r28"),
        only(DASHBOARD_VIEWERS),
    ),
    "dashboard.worklists": Route(
        "GET", lambda ids: url_for("dashboard.worklists"), only(DASHBOARD_VIEWERS)
    ),
    # Only trainers mark worklist entries handled; managers read their notes.
    "dashboard.mark_handled": Route(
        "POST",
        lambda ids: url_for("dashboard.mark_handled"),
        only({"trainer": 303}),
        lambda world: {
            "worklist": "coverage",
            "agent_id": str(world.agent_alex.id),
            "note": "Talked to Maria",
        },
    ),
    "dashboard.cohorts": Route(
        "GET", lambda ids: url_for("dashboard.cohorts"), only(COHORT_READERS)
    ),
    "dashboard.create_cohort": Route(
        "POST",
        lambda ids: url_for("dashboard.create_cohort"),
        only({"trainer": 303}),
        lambda world: {
            "name": "Induction",
            "trained_on": "2026-01-05",
            "team_id": str(world.team_a.id),
        },
    ),
    "dashboard.cohort": Route(
        "GET",
        lambda ids: url_for("dashboard.cohort", cohort_id=a_cohort(ids)),
        only(COHORT_READERS),
    ),
    "dashboard.compare_cohorts": Route(
        "GET",
        lambda ids: url_for("dashboard.compare_cohorts", a=a_cohort(ids), b=a_cohort(ids)),
        only(COHORT_READERS),
    ),
    "dashboard.export": Route(
        "GET", lambda ids: url_for("dashboard.export", table="tiles"), only(DASHBOARD_VIEWERS)
    ),
}
