"""The trainers' inbox at size: newest first, filters, search, repeated obstacles grouped, and a
page at a time with htmx's "Load more"."""

import re
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from flask.testing import FlaskClient

from coachapp.extensions import db
from coachapp.models import (
    ObservationKind,
    Suggestion,
    SuggestionKind,
    SuggestionStatus,
    User,
)
from coachapp.voice import service
from tests.conftest import Auth, World, make_observation, make_session

START = datetime(2026, 2, 1, 9, tzinfo=UTC)


def suggestion(
    author: User,
    text: str,
    *,
    days: int,
    kind: SuggestionKind = SuggestionKind.OBSTACLE,
    status: SuggestionStatus = SuggestionStatus.NEW,
    client_uuid: uuid.UUID | None = None,
) -> Suggestion:
    made = Suggestion(
        author_id=author.id,
        kind=kind,
        text=text,
        status=status,
        client_uuid=client_uuid or uuid.uuid4(),
        created_at=START + timedelta(days=days),
    )
    db.session.add(made)
    db.session.commit()
    return made


def shown(client: FlaskClient, url: str, **headers: str) -> str:
    response = client.get(url, headers=headers)
    assert response.status_code == 200
    return response.get_data(as_text=True)


def texts(page: str) -> list[str]:
    return re.findall(r'<span class="last-note">([^<]*)</span>', page)


def test_newest_first_and_a_repeated_obstacle_reads_as_one(
    client: FlaskClient, auth: Auth, world: World
) -> None:
    suggestion(world.agent_alex, "The CRM is slow", days=1)
    suggestion(world.agent_bo, "the CRM  is slow.", days=3)
    suggestion(world.agent_alex, "A shorter script", days=2, kind=SuggestionKind.SUGGESTION)
    auth.login(world.trainer_tara)
    page = shown(client, "/inbox")
    # Two entries: the obstacle raised twice (its newest wording first), then the suggestion.
    assert texts(page)[0] == "the CRM  is slow."
    assert "raised 2 times" in page
    assert "3 found" in page and "2 entries" in page
    assert texts(shown(client, "/inbox?order=oldest"))[0] == "The CRM is slow"


def test_obstacles_of_one_behaviour_are_grouped_and_filtered(
    client: FlaskClient, auth: Auth, world: World
) -> None:
    behaviour = world.behaviours[0]
    for days, note in ((1, "No caller name on screen"), (4, "Caller name missing in CRM")):
        shadow = make_session(world.manager_maria, world.agent_alex)
        observation = make_observation(
            shadow, kind=ObservationKind.OBSTACLE, behaviour_id=behaviour.id, note=note
        )
        suggestion(world.manager_maria, note, days=days, client_uuid=observation.client_uuid)
    suggestion(world.agent_bo, "Headsets crackle", days=2)
    auth.login(world.trainer_tara)
    page = shown(client, "/inbox")
    assert "raised 2 times" in page and f"About: {behaviour.name}" in page
    only = shown(client, f"/inbox?behaviour={behaviour.id}")
    assert "Headsets crackle" not in only and "Caller name missing in CRM" in only


def test_filters_by_kind_team_status_and_text(
    client: FlaskClient, auth: Auth, world: World
) -> None:
    suggestion(world.agent_alex, "Queue board is wrong", days=1)
    suggestion(world.agent_bo, "Printer jams", days=2)
    suggestion(world.agent_bo, "Add a macro", days=3, kind=SuggestionKind.SUGGESTION)
    suggestion(world.manager_mo, "Rota clashes", days=4, status=SuggestionStatus.FIXED)
    auth.login(world.trainer_tara)
    assert texts(shown(client, "/inbox?kind=suggestion")) == ["Add a macro"]
    assert texts(shown(client, f"/inbox?team={world.team_a.id}")) == ["Queue board is wrong"]
    # Team B: Bo's two and, once every status is shown, its manager Mo's.
    assert texts(shown(client, f"/inbox?team={world.team_b.id}&status=all")) == [
        "Rota clashes",
        "Add a macro",
        "Printer jams",
    ]
    assert texts(shown(client, "/inbox?q=PRINTER")) == ["Printer jams"]
    assert texts(shown(client, "/inbox?q=100%25")) == []
    # Filters are kept in the status links.
    page = shown(client, "/inbox?kind=obstacle&q=jams")
    assert "/inbox?status=fixed&amp;kind=obstacle&amp;q=jams" in page
    # What is no choice is dropped: the open ones of both kinds, newest first.
    assert texts(shown(client, "/inbox?team=abc&kind=lost&behaviour=-1")) == [
        "Add a macro",
        "Printer jams",
        "Queue board is wrong",
    ]


@pytest.mark.parametrize("extra", [0, 5])
def test_a_page_at_a_time_with_load_more(
    client: FlaskClient, auth: Auth, world: World, extra: int
) -> None:
    count = service.PAGE_SIZE + extra
    for index in range(count):
        suggestion(world.agent_alex, f"Obstacle number {index:02d}", days=index)
    auth.login(world.trainer_tara)
    first = shown(client, "/inbox")
    assert len(texts(first)) == service.PAGE_SIZE
    assert texts(first)[0] == f"Obstacle number {count - 1:02d}"
    if not extra:
        assert "Load more" not in first
        return
    assert 'hx-get="/inbox?page=2"' in first
    more = shown(client, "/inbox?page=2", **{"HX-Request": "true"})
    assert "<html" not in more and len(texts(more)) == extra
    assert texts(more)[-1] == "Obstacle number 00" and "Load more" not in more
    # Without htmx the same link shows pages 1 and 2.
    assert len(texts(shown(client, "/inbox?page=2"))) == count
    assert len(texts(shown(client, "/inbox?page=zz"))) == service.PAGE_SIZE
