"""Organisation settings: the ladder and working days, validated, affecting future dates only."""

from datetime import date

import pytest

from coachapp.extensions import db
from coachapp.followups.service import current_ladder
from coachapp.models import FocusItem
from tests.test_followups import correct, outcome_form

WEEKDAYS = ["0", "1", "2", "3", "4"]
#: The organisation's part of the settings form, posted with every ladder change.
ORG = {"name": "Northwind", "timezone": "UTC"}


def test_the_admin_sees_the_default_ladder(client, auth, world):
    auth.login(world.admin_ada)
    page = client.get("/admin/settings").get_data(as_text=True)
    assert 'value="2, 5, 7, 14, 28, 56"' in page


def test_saving_a_new_ladder(client, auth, world):
    auth.login(world.admin_ada)
    response = client.post(
        "/admin/settings",
        data={**ORG, "gaps": "1, 3, 7", "working_days": ["0", "1", "2", "3", "4", "5"]},
    )
    assert response.status_code == 303
    ladder = current_ladder()
    assert ladder.gaps == (1, 3, 7)
    assert ladder.working_days == frozenset({0, 1, 2, 3, 4, 5})


@pytest.mark.parametrize(
    ("gaps", "days", "message"),
    [
        ("2, 1", WEEKDAYS, "at least as long as the one before"),
        ("0, 2", WEEKDAYS, "at least one day"),
        ("two, five", WEEKDAYS, "whole numbers"),
        ("-2, 5", WEEKDAYS, "whole numbers"),
        ("", WEEKDAYS, "at least one gap"),
        ("2, 5", [], "at least one working day"),
        ("2, 5", ["9"], "not a valid choice"),
        ("2, 400", WEEKDAYS, "within a year"),
    ],
)
def test_settings_that_make_no_sense_are_refused(client, auth, world, gaps, days, message):
    auth.login(world.admin_ada)
    response = client.post("/admin/settings", data={**ORG, "gaps": gaps, "working_days": days})
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert current_ladder().gaps == (2, 5, 7, 14, 28, 56)


def test_a_new_ladder_changes_future_due_dates_only(client, auth, world, frozen_clock):
    item = correct(world, frozen_clock)  # Monday 2 March, due Wednesday 4 March
    auth.login(world.admin_ada)
    client.post("/admin/settings", data={**ORG, "gaps": "3, 10", "working_days": WEEKDAYS})
    db.session.expire_all()
    item = db.session.get(FocusItem, item.id)
    assert item.pending.due_on == date(2026, 3, 4)  # already scheduled: unchanged

    frozen_clock.advance(days=2)
    auth.login(world.manager_maria)
    response = client.post(f"/followups/{item.pending.id}", data=outcome_form("sustained"))
    assert response.status_code == 303, response.get_data(as_text=True)[-600:]
    db.session.expire_all()
    item = db.session.get(FocusItem, item.id)
    assert item.pending.due_on == date(2026, 3, 16)  # 4 March + 10 days, from the new ladder
