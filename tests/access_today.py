"""Access rows of issue 13 (Today, sessions, outcomes): the first entry, undo and change."""

import uuid

from flask import url_for

from coachapp import clock
from coachapp.extensions import db
from coachapp.followups import service
from coachapp.models import FollowUp, User
from coachapp.scheduling import Outcome
from tests.access import Ids, Route, only


def recorded_by_maria(ids: Ids) -> int:
    """The pending check, recorded just now by the manager of Alex's team."""
    followup = db.session.get(FollowUp, ids.followup)
    assert followup is not None
    author = db.session.get(User, followup.focus_item.opened_by_id)
    service.record_outcome(
        followup=followup,
        author=author,
        entry=service.OutcomeInput(
            outcome=Outcome.PARTLY,
            observed_on=clock.today(),
            note="",
            coached="",
            client_uuid=uuid.uuid4(),
        ),
        ladder=service.current_ladder(),
        today=clock.today(),
        now=clock.now(),
    )
    db.session.commit()
    return followup.id


ROUTES: dict[str, Route] = {
    "shadowing.add_first_observation": Route(
        "POST",
        lambda ids: url_for("shadowing.add_first_observation", agent_id=ids.agent),
        only({"manager": 303}),
        lambda world: {
            "kind": "strength",
            "behaviour_id": str(world.behaviours[0].id),
            "client_uuid": str(uuid.uuid4()),
        },
    ),
    "followups.undo": Route(
        "POST",
        lambda ids: url_for("followups.undo", followup_id=recorded_by_maria(ids)),
        only({"manager": 303}),
    ),
    "followups.change": Route(
        "POST",
        lambda ids: url_for("followups.change", followup_id=recorded_by_maria(ids)),
        only({"manager": 303}),
        lambda world: {"change_to": "sustained"},
    ),
}
