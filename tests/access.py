"""The access table's vocabulary: personas, the ids a row's URL may use, and expected answers.

Each area keeps its rows in a module of its own (tests/access_<area>.py, a dict named ROUTES);
tests/test_access.py gathers them all into one table.
"""

from collections.abc import Callable
from dataclasses import dataclass, field

from tests.conftest import World

PERSONAS = ["anonymous", "agent", "manager", "other_manager", "trainer", "admin"]
SIGN_IN = 302  # Flask-Login sends anonymous people to the sign-in page


@dataclass
class Ids:
    agent: int
    session: int
    observation: int
    followup: int


@dataclass
class Route:
    method: str
    url: Callable[[Ids], str]
    expected: dict[str, int]
    data: Callable[[World], dict[str, str]] = field(default=lambda world: {})


def everyone(status: int, **exceptions: int) -> dict[str, int]:
    return {persona: exceptions.get(persona, status) for persona in PERSONAS}


def only(persona_status: dict[str, int], anonymous: int = SIGN_IN) -> dict[str, int]:
    answers = everyone(404, anonymous=anonymous)
    answers.update(persona_status)
    return answers
