"""Access-table rows of the trainer's dashboard: trainers, admins and managers; agents meet 404."""

from flask import url_for

from tests.access import Route, only

DASHBOARD_VIEWERS = {"manager": 200, "other_manager": 200, "trainer": 200, "admin": 200}

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
}
