"""The dashboard: its figures from the database, scope, filters in the URL, drill-downs, and a
statement count that does not grow with the data."""

from datetime import date, timedelta

import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient
from sqlalchemy import event

from coachapp.dashboard import summaries
from coachapp.dashboard.models import TrainingCohort, WorklistMark
from coachapp.extensions import db
from coachapp.models import Behaviour, FocusItem, FollowUp, ObservationKind, User
from coachapp.scheduling import CLOSED, Outcome
from tests.conftest import Auth, FrozenClock, World, make_observation, make_session

OPENED = date(2026, 1, 5)  # a Monday, inside the default 13-week period ending 2 March 2026


def behaviours(world: World, count: int) -> list[Behaviour]:
    competency = world.profile.competencies[0]
    made = [Behaviour(name=f"Behaviour {i}", position=10 + i) for i in range(count)]
    competency.behaviours.extend(made)
    db.session.commit()
    return made


def make_item(
    agent: User,
    manager: User,
    behaviour: Behaviour,
    checks: list[tuple[date, int, date | None, Outcome | None]],
    *,
    opened: date = OPENED,
    status: str = "active",
) -> FocusItem:
    item = FocusItem(
        agent_id=agent.id,
        behaviour_id=behaviour.id,
        opened_by_id=manager.id,
        opened_on=opened,
        last_coached_on=opened,
        status=status,
    )
    for sequence, (due, gap, done, outcome) in enumerate(checks, start=1):
        item.followups.append(
            FollowUp(
                sequence=sequence, due_on=due, gap=gap, level=0, observed_on=done, outcome=outcome
            )
        )
    db.session.add(item)
    summaries.item_changed(item)  # as coachapp.followups.service does after each change
    db.session.commit()
    return item


def jan(day: int) -> date:
    return date(2026, 1, day)


@pytest.fixture
def coached(world: World, frozen_clock: FrozenClock) -> World:
    """Ten items of Alex (team A) opened on 5 January: four slipped on day 2 and wait for their
    re-check (overdue), six held on day 2 and on day 30 (late). One item of Bo (team B) slipped
    on day 2, recorded a day late."""
    for index, behaviour in enumerate(behaviours(world, 10)):
        if index < 4:
            checks = [
                (jan(7), 2, jan(7), Outcome.SLIPPED),
                (jan(9), 2, None, None),
            ]
        else:
            checks = [
                (jan(7), 2, jan(7), Outcome.SUSTAINED),
                (jan(12), 5, date(2026, 2, 4), Outcome.SUSTAINED),
                (date(2026, 3, 4), 28, None, None),
            ]
        make_item(world.agent_alex, world.manager_maria, behaviour, checks)
    make_item(
        world.agent_bo,
        world.manager_mo,
        world.behaviours[0],
        [(jan(7), 2, jan(9), Outcome.SLIPPED), (jan(13), 2, None, None)],
    )
    return world


def text(client: FlaskClient, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, response.status_code
    return response.get_data(as_text=True)


def tile(page: str, label: str) -> str:
    """The text of one headline tile, tags removed."""
    import re

    start = page.index(label)
    end = page.index("</li>", start)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page[start:end])).strip()


def test_a_trainer_sees_every_team(client: FlaskClient, auth: Auth, coached: World) -> None:
    auth.login(coached.trainer_tara)
    page = text(client, "/dashboard")
    # R28: 5 of 11 items slipped by day 28, none censored before a slip: 5/11 = 45%.
    assert tile(page, "Relapse by 4 weeks").startswith("Relapse by 4 weeks (R28) 45% n = 11")
    # On time: 22 checks counted (11 first checks, 6 late second checks, 5 overdue re-checks);
    # Alex's ten first checks were on time, Bo's a day late: 10/22 = 45%.
    assert "45% n = 22" in tile(page, "Follow-ups on time")
    # Overdue: Alex's four re-checks and Bo's one.
    assert tile(page, "Overdue backlog").startswith("Overdue backlog 5")
    assert "<svg" in page and "style=" not in page


def test_a_manager_sees_only_their_teams(client: FlaskClient, auth: Auth, coached: World) -> None:
    auth.login(coached.manager_maria)
    page = text(client, "/dashboard")
    # Alex's ten items only: 4 slips of 10.
    assert tile(page, "Relapse by 4 weeks").startswith("Relapse by 4 weeks (R28) 40% n = 10")
    assert "10/20" not in page and "50% n = 20" in tile(page, "Follow-ups on time")
    assert "Bo Berg" not in text(client, "/dashboard/items?figure=r28")
    # Another team's id in the URL is not a choice of hers: it is dropped, not used.
    assert tile(
        text(client, f"/dashboard?team={coached.team_b.id}"), "Relapse by 4 weeks"
    ).startswith("Relapse by 4 weeks (R28) 40% n = 10")
    assert "Mo Mensah" not in page


def test_agents_meet_404(client: FlaskClient, auth: Auth, coached: World) -> None:
    auth.login(coached.agent_alex)
    assert client.get("/dashboard").status_code == 404
    assert client.get("/dashboard/items?figure=r28").status_code == 404


def test_under_ten_items_says_not_enough_data(
    client: FlaskClient, auth: Auth, coached: World
) -> None:
    auth.login(coached.trainer_tara)
    page = text(client, f"/dashboard?behaviour={coached.behaviours[0].id}")
    assert "not enough data yet (n = 1)" in tile(page, "Relapse by 4 weeks")
    assert "45%" not in tile(page, "Relapse by 4 weeks")


def test_filters_combine_and_stay_in_the_url(
    client: FlaskClient, auth: Auth, coached: World
) -> None:
    auth.login(coached.trainer_tara)
    team, behaviour = coached.team_b.id, coached.behaviours[0].id
    page = text(client, f"/dashboard?team={team}&behaviour={behaviour}&period=182")
    assert f'<option value="{team}" selected>' in page
    assert f'<option value="{behaviour}" selected>' in page
    assert '<option value="182" selected>' in page
    assert (
        f"/dashboard/items?figure=r28&amp;team={team}&amp;behaviour={behaviour}&amp;period=182"
        in page
    )
    # Team B and that behaviour: Bo's one slipped item.
    assert "not enough data yet (n = 1)" in tile(page, "Relapse by 4 weeks")
    nothing = text(client, f"/dashboard?team={coached.team_a.id}&behaviour={behaviour}")
    assert "not enough data yet (n = 0)" in tile(nothing, "Relapse by 4 weeks")


def test_every_filter_narrows(client: FlaskClient, auth: Auth, coached: World) -> None:
    auth.login(coached.trainer_tara)
    competency = coached.profile.competencies[0].id
    other = coached.other_profile
    everything = "Relapse by 4 weeks (R28) 45% n = 11"
    for query in (f"competency={competency}", f"profile={coached.profile.id}",
                  f"manager={coached.manager_maria.id}&competency={competency}"):  # fmt: skip
        r28 = tile(text(client, f"/dashboard?{query}"), "Relapse by 4 weeks")
        assert r28.startswith(
            everything if "manager" not in query else "Relapse by 4 weeks (R28) 40%"
        )
    nothing = tile(text(client, f"/dashboard?profile={other.id}"), "Relapse by 4 weeks")
    assert "not enough data yet (n = 0)" in nothing
    page = text(client, f"/dashboard/items?figure=r28&manager={coached.manager_mo.id}")
    assert "1 in all" in page and "Bo Berg" in page


def test_the_cohort_filter_keeps_its_participants(
    client: FlaskClient, auth: Auth, coached: World
) -> None:
    bo = db.session.merge(coached.agent_bo)
    cohort = TrainingCohort(
        name="Desk refresher", trained_on=OPENED, created_by_id=coached.trainer_tara.id,
        participants=[bo],
    )  # fmt: skip
    db.session.add(cohort)
    db.session.commit()
    auth.login(coached.trainer_tara)
    page = text(client, f"/dashboard?cohort={cohort.id}")
    assert f'<option value="{cohort.id}" selected>Desk refresher</option>' in page
    assert "not enough data yet (n = 1)" in tile(page, "Relapse by 4 weeks")
    auth.login(coached.manager_maria)
    assert "Desk refresher" not in text(client, f"/dashboard?cohort={cohort.id}")


def test_nonsense_in_the_url_is_ignored(client: FlaskClient, auth: Auth, coached: World) -> None:
    auth.login(coached.trainer_tara)
    page = text(client, "/dashboard?team=abc&period=5&behaviour=99999")
    assert tile(page, "Relapse by 4 weeks").startswith("Relapse by 4 weeks (R28) 45% n = 11")
    assert client.get("/dashboard/items?figure=bogus").status_code == 404


@pytest.mark.parametrize(
    "url",
    [
        "/dashboard?team=%C2%B2",  # a superscript two: str.isdigit() says yes, int() says no
        "/dashboard?period=" + "9" * 20,
        "/dashboard?behaviour=" + "9" * 5000,
        "/dashboard/items?figure=on_time&team=%C2%B2",
        "/dashboard/export/items.csv?manager=%C2%B2",
        "/dashboard/cohorts/compare?a=%C2%B2&b=1",
        "/dashboard/cohorts/compare?a=" + "9" * 20 + "&b=1",
    ],
)
def test_hostile_filters_never_give_a_server_error(
    client: FlaskClient, auth: Auth, coached: World, url: str
) -> None:
    auth.login(coached.trainer_tara)
    assert client.get(url).status_code in (200, 404)


def test_a_tampered_worklist_entry_is_refused_not_a_server_error(
    client: FlaskClient, auth: Auth, coached: World
) -> None:
    auth.login(coached.trainer_tara)
    before = db.session.scalar(sa.select(sa.func.count()).select_from(WorklistMark))
    for agent_id in ["999999999999", "\u00b2", "12\u2028"]:
        answer = client.post(
            "/dashboard/worklists/handled",
            data={"worklist": "coverage", "agent_id": agent_id, "note": "Checked the rota."},
        )
        assert answer.status_code == 422
    assert db.session.scalar(sa.select(sa.func.count()).select_from(WorklistMark)) == before


def test_drill_down_lists_the_items_then_the_agents_focus_items(
    client: FlaskClient, auth: Auth, coached: World
) -> None:
    auth.login(coached.trainer_tara)
    page = text(client, "/dashboard/items?figure=r28")
    assert "11 in all" in page
    assert page.count("slipped by day 28") == 5
    assert page.count("holding on day 28") == 6
    assert f'href="/agents/{coached.agent_alex.id}/focus-items#item-' in page
    backlog = text(client, "/dashboard/items?figure=backlog")
    assert backlog.count("days overdue") == 5
    # Alex's re-checks were due on 9 January: 52 days before 2 March.
    assert "52 days overdue" in backlog


def test_managers_are_compared_on_follow_up_completion_only(
    client: FlaskClient, auth: Auth, coached: World
) -> None:
    auth.login(coached.trainer_tara)
    page = text(client, "/dashboard")
    section = page[page.index("Follow-ups on time, by manager") : page.index("by team")]
    assert "Maria Santos" in section and "Mo Mensah" in section
    # Maria: 10 of 20 on time; Mo: 0 of 2, under ten so no number.
    assert "50%" in section and "not enough data yet (n = 2)" in section
    # No agent appears on the dashboard itself: only in drill-downs.
    assert "Alex Adams" not in page and "Bo Berg" not in page


def count_statements(client: FlaskClient, url: str) -> int:
    counted: list[str] = []

    def count(*args: object) -> None:
        counted.append(str(args[2]))

    # A real request starts with an empty session; the test's own objects would be refreshed.
    db.session.expunge_all()
    event.listen(db.engine, "before_cursor_execute", count)
    try:
        assert client.get(url).status_code == 200
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    return len(counted)


def test_the_statement_count_does_not_grow_with_the_data(
    client: FlaskClient, auth: Auth, coached: World
) -> None:
    auth.login(coached.trainer_tara)
    bo, mo, team_b = coached.agent_bo.id, coached.manager_mo.id, coached.team_b.id
    competency = coached.profile.competencies[0].id
    client.get("/dashboard")  # the first request of a process loads the organisation once more
    small = count_statements(client, "/dashboard")
    agent, manager = db.session.get(User, bo), db.session.get(User, mo)
    assert agent is not None and manager is not None
    for index in range(15):
        behaviour = Behaviour(name=f"More {index}", position=30 + index, competency_id=competency)
        db.session.add(behaviour)
        db.session.flush()
        make_item(
            agent, manager, behaviour,
            [(jan(7), 2, jan(7), Outcome.SUSTAINED), (jan(12), 5, None, None)],
        )  # fmt: skip
    make_item(
        agent, manager, behaviour,
        [(jan(7), 2, jan(7), Outcome.SUSTAINED)],
        status=CLOSED,
        opened=OPENED - timedelta(days=400),
    )  # fmt: skip
    large = count_statements(client, "/dashboard")
    filtered = count_statements(client, f"/dashboard?team={team_b}&period=364")
    drill = count_statements(client, "/dashboard/items?figure=on_time")
    assert (small, large, filtered) == (STATEMENTS,) * 3
    assert drill == DRILL_STATEMENTS


#: The sign-in check with the person and the organisation, three for the filter choices (teams and
#: managers, profiles down to behaviours, training cohorts), then the figures aggregated in SQL:
#: checks per team with the backlog per due date, items opened in the two periods, escalated
#: items, self-check agreement, obstacles.
STATEMENTS = 9
#: A drill-down loads the records: the same four, then items, checks, obstacles.
DRILL_STATEMENTS = 7


# --- worklists -------------------------------------------------------------------------------


@pytest.fixture
def escalated(coached: World) -> FocusItem:
    """Alex slipped three times on "Greets by name"; an obstacle was logged for it."""
    item = make_item(
        coached.agent_alex,
        coached.manager_maria,
        coached.behaviours[0],
        [
            (jan(7), 2, jan(7), Outcome.SLIPPED),
            (jan(9), 2, jan(9), Outcome.SLIPPED),
            (jan(13), 2, jan(13), Outcome.SLIPPED),
            (date(2026, 3, 3), 2, None, None),
        ],
    )
    item.escalated, item.lapses = True, 3
    shadow = make_session(coached.manager_maria, coached.agent_alex)
    make_observation(
        shadow,
        kind=ObservationKind.OBSTACLE,
        behaviour_id=coached.behaviours[0].id,
        note="The CRM shows no caller name",
    )
    return item


def test_worklists_show_escalations_with_their_obstacles(
    client: FlaskClient, auth: Auth, coached: World, escalated: FocusItem
) -> None:
    auth.login(coached.trainer_tara)
    page = text(client, "/dashboard/worklists")
    section = page[page.index('id="escalated"') : page.index('id="overdue"')]
    assert "Alex Adams" in section and "Greets by name" in section and "3 slips" in section
    assert "The CRM shows no caller name" in section
    overdue = page[page.index('id="overdue"') : page.index('id="coverage"')]
    # Alex's four re-checks under Maria, Bo's under Mo.
    assert overdue.count("days ago") == 5 and "Maria Santos" in overdue and "Mo Mensah" in overdue
    coverage = page[page.index('id="coverage"') :]
    # Nobody had a session in the last 30 days but Alex (the obstacle's session, today).
    assert "Bo Berg" in coverage and "never shadowed" in coverage
    assert "Alex Adams" in coverage  # his re-checks of 9 January: far past two gaps
    auth.login(coached.manager_mo)
    assert "Alex Adams" not in text(client, "/dashboard/worklists")


def test_an_agent_in_both_coverage_lists_has_forms_with_ids_of_their_own(
    client: FlaskClient, auth: Auth, coached: World
) -> None:
    import re

    auth.login(coached.trainer_tara)
    page = text(client, "/dashboard/worklists")
    coverage = page[page.index('id="coverage"') :]
    # Bo was never shadowed, and his re-check of 13 January is far past two gaps.
    not_shadowed, no_checks = coverage.split("Open items, but no check for two ladder gaps")
    assert "Bo Berg" in not_shadowed and "Bo Berg" in no_checks
    ids = re.findall(r'\bid="([^"]+)"', page)
    assert len(ids) == len(set(ids)), sorted(i for i in ids if ids.count(i) > 1)


def test_a_trainer_marks_an_entry_handled_and_the_manager_reads_it(
    client: FlaskClient, auth: Auth, coached: World, escalated: FocusItem
) -> None:
    auth.login(coached.trainer_tara)
    response = client.post(
        "/dashboard/worklists/handled",
        data={
            "worklist": "escalated",
            "agent_id": str(coached.agent_alex.id),
            "focus_item_id": str(escalated.id),
            "note": "Asked IT to show the caller's name",
        },
    )
    assert response.status_code == 303
    assert db.session.scalar(sa.select(sa.func.count()).select_from(WorklistMark)) == 1
    auth.login(coached.manager_maria)
    page = text(client, "/dashboard/worklists")
    assert "Handled by Tara Lindqvist" in page and "Asked IT to show the caller&#39;s name" in page
    assert "Mark handled" not in page
    assert (
        client.post(
            "/dashboard/worklists/handled",
            data={"worklist": "coverage", "agent_id": str(coached.agent_alex.id)},
        ).status_code
        == 404
    )


def test_marking_handled_refuses_bad_input_and_other_scopes(
    client: FlaskClient, auth: Auth, coached: World, escalated: FocusItem
) -> None:
    auth.login(coached.trainer_tara)
    long_note = "x" * 4001
    response = client.post(
        "/dashboard/worklists/handled",
        data={"worklist": "coverage", "agent_id": str(coached.agent_alex.id), "note": long_note},
    )
    assert response.status_code == 422
    assert "Keep this under 4000 characters." in response.get_data(as_text=True)
    assert long_note in response.get_data(as_text=True)
    # An item that is not the agent's, an unknown agent, an unknown worklist.
    for data in (
        {"worklist": "escalated", "agent_id": str(coached.agent_bo.id),
         "focus_item_id": str(escalated.id)},
        {"worklist": "coverage", "agent_id": "99999"},
        {"worklist": "coverage", "agent_id": str(coached.trainer_tara.id)},
    ):  # fmt: skip
        assert client.post("/dashboard/worklists/handled", data=data).status_code == 404
    bad = client.post("/dashboard/worklists/handled", data={"worklist": "nope", "agent_id": "1"})
    assert bad.status_code == 422
    assert db.session.scalar(sa.select(sa.func.count()).select_from(WorklistMark)) == 0


# --- training cohorts ------------------------------------------------------------------------


def test_a_cohort_counts_days_since_the_training(
    client: FlaskClient, auth: Auth, coached: World
) -> None:
    auth.login(coached.trainer_tara)
    response = client.post(
        "/dashboard/cohorts",
        data={
            "name": "January induction",
            "trained_on": "2026-01-02",
            "team_id": coached.team_a.id,
        },
    )
    assert response.status_code == 303
    cohort = db.session.scalar(sa.select(TrainingCohort))
    assert cohort is not None and [p.name for p in cohort.participants] == ["Alex Adams"]
    page = text(client, response.headers["Location"])
    # Alex's ten items, days from 2 January: four slips on day 5, six still observed on day 33.
    assert "40%" in page
    assert "4 slipped, 0 censored, 6 still holding at day 28; not re-observed: 0" in page
    other = client.post(
        "/dashboard/cohorts",
        data={"name": "Desk refresher", "trained_on": "2026-01-02",
              "agent_ids": [coached.agent_bo.id]},
    )  # fmt: skip
    assert other.status_code == 303
    ids = db.session.scalars(sa.select(TrainingCohort.id).order_by(TrainingCohort.id)).all()
    both = text(client, f"/dashboard/cohorts/compare?a={ids[0]}&b={ids[1]}")
    assert "January induction · Desk refresher" in both
    assert "Desk refresher: not enough data yet (n = 1)" in both
    assert client.get("/dashboard/cohorts/compare?a=x&b=1").status_code == 404


def test_recording_a_cohort_refuses_what_cannot_be(
    client: FlaskClient, auth: Auth, coached: World
) -> None:
    auth.login(coached.trainer_tara)
    for data, message in (
        ({"name": "", "trained_on": "2026-01-02", "team_id": coached.team_a.id},
         "Give the training a name."),
        ({"name": "Later", "trained_on": "2026-03-09", "team_id": coached.team_a.id},
         "A training date cannot be in the future."),
        ({"name": "Nobody", "trained_on": "2026-01-02"},
         "Choose a team or at least one person who took part."),
        ({"name": "Bad date", "trained_on": "yesterday"}, "Give the date of the training."),
    ):  # fmt: skip
        response = client.post("/dashboard/cohorts", data=data)
        assert response.status_code == 422, data
        assert message in response.get_data(as_text=True)
        assert str(data["name"]) in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(TrainingCohort)) == 0
    auth.login(coached.manager_maria)
    assert client.get("/dashboard/cohorts").status_code == 404


# --- CSV -------------------------------------------------------------------------------------


def csv_rows(client: FlaskClient, url: str) -> list[list[str]]:
    import csv
    import io

    response = client.get(url)
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"].startswith("attachment; filename=")
    return list(csv.reader(io.StringIO(response.get_data(as_text=True).removeprefix("\ufeff"))))


def test_every_table_downloads_as_csv_and_is_audited(
    client: FlaskClient, auth: Auth, coached: World
) -> None:
    from coachapp.dashboard.export import TABLES
    from coachapp.models import AuditEvent

    auth.login(coached.trainer_tara)
    for table in TABLES:
        assert len(csv_rows(client, f"/dashboard/export/{table}.csv?period=182")) >= 1
    events = db.session.scalars(
        sa.select(AuditEvent).where(AuditEvent.action == "dashboard.exported")
    ).all()
    assert [e.details for e in events] == [f"{t} period=182" for t in TABLES]
    assert all(e.actor_id == coached.trainer_tara.id for e in events)
    assert client.get("/dashboard/export/users.csv").status_code == 404


def test_the_raw_checks_carry_due_window_done_outcome_and_self_check(
    client: FlaskClient, auth: Auth, coached: World
) -> None:
    auth.login(coached.trainer_tara)
    rows = csv_rows(client, f"/dashboard/export/checks.csv?team={coached.team_b.id}")
    assert rows[0] == ["Follow-up", "Focus item", "Agent", "Due on", "Gap (days)",
                       "Window from", "Window to", "Done on", "Outcome", "On time",
                       "Self-check", "Day"]  # fmt: skip
    # Bo's slip: due Wednesday 7 January, gap 2, window to Thursday 8, done on Friday 9.
    assert [r[3:] for r in rows[1:]] == [
        ["2026-01-07", "2", "2026-01-07", "2026-01-08", "2026-01-09", "slipped", "false", "", "4"],
        ["2026-01-13", "2", "2026-01-13", "2026-01-14", "", "", "", "", ""],
    ]
    tiles = csv_rows(client, "/dashboard/export/tiles.csv")
    assert tiles[3][:3] == ["r28", "0.454545", "11"]


def test_a_managers_export_holds_their_teams_only_and_formulas_stay_text(
    client: FlaskClient, auth: Auth, coached: World
) -> None:
    coached.agent_alex.name = "=HYPERLINK(1)"
    db.session.commit()
    auth.login(coached.manager_maria)
    rows = csv_rows(client, "/dashboard/export/items.csv")
    assert {r[2] for r in rows[1:]} == {"'=HYPERLINK(1)"}
    assert len(rows) == 11


def test_an_old_open_item_counts_with_its_earlier_slips(
    client: FlaskClient, auth: Auth, coached: World
) -> None:
    """Opened in June 2025, long before the periods shown: its three slips are not loaded, the
    item's lapse count stands for them; its re-check of August waits still."""
    june = lambda day: date(2025, 6, day)  # noqa: E731
    item = make_item(
        coached.agent_alex,
        coached.manager_maria,
        coached.behaviours[1],
        [
            (june(4), 2, june(4), Outcome.SLIPPED),
            (june(6), 2, june(6), Outcome.SLIPPED),
            (june(10), 2, june(10), Outcome.SLIPPED),
            (date(2025, 8, 1), 2, None, None),
        ],
        opened=june(2),
    )
    item.lapses, item.escalated = 3, True
    db.session.commit()
    auth.login(coached.trainer_tara)
    page = text(client, "/dashboard")
    assert tile(page, "Escalations open") == (
        "Escalations open 1 At the end of the period before: 1"
    )
    assert tile(page, "Overdue backlog").startswith("Overdue backlog 6")
    assert "Alex Adams" in text(client, "/dashboard/items?figure=escalated")


def test_an_export_is_headed_in_the_readers_language(
    client: FlaskClient, auth: Auth, coached: World
) -> None:
    auth.login(coached.trainer_tara)
    response = client.get("/dashboard/export/tiles.csv", headers={"Accept-Language": "pl"})
    header = response.get_data(as_text=True).lstrip("\ufeff").splitlines()[0].split(",")
    polish = ["Wskaźnik", "Wartość", "Liczba", "Poprzednia wartość", "Poprzednia liczba"]
    assert header[:5] == polish
    english = client.get("/dashboard/export/tiles.csv").get_data(as_text=True)
    assert english.lstrip("\ufeff").startswith("Figure,Value,Count,Previous value,Previous count")
