"""Demo data to judge coachapp by: three teams, forty agents, three months of shadowing."""

import json
import random
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from importlib import resources
from typing import Any

import sqlalchemy as sa

from coachapp.dashboard import summaries
from coachapp.extensions import db
from coachapp.followups import service as followups
from coachapp.followups.service import current_ladder
from coachapp.models import (
    FollowUp,
    ObservationKind,
    Organisation,
    Role,
    User,
)
from coachapp.profiles import files
from coachapp.scheduling import Ladder, Outcome
from coachapp.setup import teams as team_service
from coachapp.shadowing import service

#: The demo's texts per language (coachapp/demo_texts/<language>.json, same keys as en.json); the
#: role profiles are the starter library's in that language, copied through the same service an
#: admin uses. People's names stay as they are.


def texts(language: str = "en") -> dict[str, Any]:
    """The demo's texts in `language`, English for any file or key the language lacks."""
    folder = resources.files("coachapp") / "demo_texts"
    english = json.loads((folder / "en.json").read_text(encoding="utf-8"))
    local = folder / f"{language}.json"
    if language == "en" or not local.is_file():
        return english
    return english | json.loads(local.read_text(encoding="utf-8"))


FIRST_NAMES = [
    "Alex",
    "Bea",
    "Chidi",
    "Dana",
    "Elif",
    "Farid",
    "Greta",
    "Hugo",
    "Ines",
    "Jonas",
    "Kemi",
    "Luca",
    "Mina",
    "Noah",
    "Olga",
    "Priya",
    "Quinn",
    "Rosa",
    "Sami",
    "Tara",
    "Umar",
    "Vera",
    "Wen",
    "Ximena",
    "Yusuf",
    "Zoe",
    "Amara",
    "Bruno",
    "Carla",
    "Dev",
    "Emil",
    "Fatou",
    "Gus",
    "Hana",
    "Ivo",
    "Jade",
    "Kofi",
    "Lena",
    "Milo",
    "Nadia",
]
LAST_NAMES = [
    "Adams",
    "Berg",
    "Costa",
    "Diallo",
    "Evans",
    "Fischer",
    "Garcia",
    "Haddad",
    "Ito",
    "Jensen",
    "Kowalski",
    "Larsen",
    "Moreau",
    "Nguyen",
    "Okafor",
    "Patel",
]


@dataclass(frozen=True)
class DemoSummary:
    agents: int
    sessions: int
    observations: int


def has_data() -> bool:
    return db.session.scalar(sa.select(sa.func.count()).select_from(User)) > 0


#: The starter profile of each team, in the order of the demo's teams.
TEAM_PROFILES = ["contact_centre_agent", "front_desk", "field_technician"]


def load(*, now: datetime | None = None, seed: int = 7, language: str = "en") -> DemoSummary:
    """Create the demo organisation through the same services a real one uses (starter profiles,
    teams, sessions, the ladder). Refuses a database that already holds people."""
    if has_data():
        raise RuntimeError("the database already holds people; demo data goes into an empty one")
    rng = random.Random(seed)
    now = now or datetime.now(UTC)
    words = texts(language)
    db.session.add(
        Organisation(name=words["organisation"], is_demo=True, default_language=language)
    )
    profiles = {
        s.key: files.copy_starter(s.key, actor=None, language=language)
        for s in files.starters(language)
    }
    teams = [
        team_service.create_team(name=words["teams"][key], actor=None) for key in TEAM_PROFILES
    ]

    names = iter(_names(rng))
    managers = [_user(next(names), Role.MANAGER) for _ in range(4)]
    # Four managers, three teams: the last manager covers two teams, as happens on late shifts.
    for manager, managed in zip(managers, [[0], [1], [2], [1, 2]], strict=True):
        manager.managed_teams = [teams[i] for i in managed]
    for _ in range(2):
        _user(next(names), Role.TRAINER)
    _user(next(names), Role.ADMIN)
    agents: list[User] = []
    for index in range(40):
        team_index = index % 3
        agent = _user(next(names), Role.AGENT)
        agent.team = teams[team_index]
        agent.role_profile = profiles[TEAM_PROFILES[team_index]]
        agents.append(agent)
    # Everything goes in at the end, in one transaction: a load that fails half-way leaves an
    # empty database that the command can fill again, not half an organisation.
    db.session.flush()

    plan = []
    for agent in agents:
        coaches = [m for m in managers if agent.team in m.managed_teams]
        plan += [(start, agent, rng.choice(coaches)) for start in _session_starts(rng, now)]
    plan.sort(key=lambda planned: planned[0])

    # Walk the three months day by day, so that checks and new corrections happen in order.
    ladder = current_ladder()
    observations = 0
    day = plan[0][0].date() if plan else now.date()
    planned: dict[int, date] = {}
    # The dashboard's summary rows of each item are computed once, from its final checks.
    with summaries.deferred():
        while day <= now.date():
            _do_due_checks(rng, words, day=day, today=now.date(), ladder=ladder, planned=planned)
            for start, agent, manager in [p for p in plan if p[0].date() == day]:
                observations += _shadow(rng, words, manager=manager, agent=agent, start=start)
            day += timedelta(days=1)
    db.session.commit()
    return DemoSummary(agents=len(agents), sessions=len(plan), observations=observations)


def _do_due_checks(
    rng: random.Random,
    words: dict[str, Any],
    *,
    day: date,
    today: date,
    ladder: Ladder,
    planned: dict[int, date],
) -> None:
    """Managers do most checks on time; a few slip by, so Today has some overdue ones.

    Each check gets its day when it falls due, and is recorded on that day of the walk, so that
    checks and new corrections reach the ladder in the order they happened.
    """
    newly_due = db.session.scalars(
        sa.select(FollowUp)
        .where(FollowUp.outcome.is_(None), FollowUp.due_on == day)
        .order_by(FollowUp.id)
    ).all()
    for followup in newly_due:
        # Older checks all got done, a day or three late at worst; of the last two weeks' checks a
        # few are still waiting, which is what a real Today looks like.
        recent = (today - day).days <= 14
        planned[followup.id] = day + timedelta(
            days=rng.choice([0, 0, 0, 0, 1, 2, 3] + ([99] if recent else []))
        )
    for followup_id in sorted(i for i, done_on in planned.items() if done_on == day):
        del planned[followup_id]
        followup = db.session.get(FollowUp, followup_id)
        if followup is None or followup.outcome is not None or day >= today:
            continue  # a correction while shadowing recorded it as a slip in the meantime
        outcome = rng.choices(list(Outcome), weights=[65, 15, 10, 10])[0]
        followups.record_outcome(
            followup=followup,
            author=followup.focus_item.opened_by,
            entry=followups.OutcomeInput(
                outcome=outcome,
                observed_on=day,
                note=rng.choice(words["check_notes"][outcome.value]),
                coached=rng.choice(words["coached_notes"]) if outcome == Outcome.SLIPPED else "",
                client_uuid=uuid.uuid4(),
            ),
            ladder=ladder,
            today=today,
            now=datetime.combine(day, time(12), tzinfo=UTC),
        )


def _names(rng: random.Random) -> list[str]:
    pairs = [f"{first} {rng.choice(LAST_NAMES)}" for first in FIRST_NAMES]
    pairs += [
        f"{first} {last}"
        for first, last in zip(
            ["Maria", "Marco", "Mei", "Moses"], ["Santos", "Rossi", "Lin", "Mensah"], strict=True
        )
    ]
    pairs += ["Tara Lindqvist", "Theo Baptiste", "Ada Okonkwo"]
    # Managers first, then trainers, the admin, then agents: easy to find in the demo list.
    return pairs[40:] + pairs[:40]


def _user(name: str, role: Role) -> User:
    email = name.lower().replace(" ", ".") + "@example.org"
    user = User(name=name, email=email, role=role)
    db.session.add(user)
    return user


def _session_starts(rng: random.Random, now: datetime) -> list[datetime]:
    """Three months back, every one to three weeks, on weekdays during opening hours."""
    starts = []
    day = (now - timedelta(days=90)).date() + timedelta(days=rng.randint(0, 10))
    while day < now.date():
        if day.weekday() < 5:
            hour = rng.choice([9, 10, 11, 14, 15, 16])
            starts.append(datetime.combine(day, time(hour, rng.randint(0, 59)), tzinfo=UTC))
        day += timedelta(days=rng.randint(7, 21))
    return starts


def _shadow(
    rng: random.Random, words: dict[str, Any], *, manager: User, agent: User, start: datetime
) -> int:
    session = service.start_session(
        manager=manager, agent=agent, client_uuid=uuid.uuid4(), now=start
    )
    behaviours = [b for c in agent.role_profile.competencies for b in c.behaviours]  # type: ignore[union-attr]
    count = rng.randint(2, 7)
    at = start
    for _ in range(count):
        at += timedelta(minutes=rng.randint(3, 12))
        kind = rng.choices(list(ObservationKind), weights=[5, 3, 1])[0]
        if kind == ObservationKind.OBSTACLE:
            entry = service.ObservationInput(kind, None, rng.choice(words["obstacle_notes"]), "")
        elif kind == ObservationKind.CORRECTION:
            entry = service.ObservationInput(
                kind,
                rng.choice(behaviours).id,
                rng.choice(words["correction_notes"]),
                rng.choice(words["coached_notes"]),
            )
        else:
            entry = service.ObservationInput(
                kind, rng.choice(behaviours).id, rng.choice(words["strength_notes"]), ""
            )
        service.record_observation(
            session=session,
            author=manager,
            entry=entry,
            client_uuid=uuid.uuid4(),
            occurred_at=at,
            now=at,
        )
    summary = rng.choice(["Good shift overall.", "Busy queue, kept calm throughout.", ""])
    service.end_session(session=session, summary_note=summary, now=at + timedelta(minutes=5))
    return count
