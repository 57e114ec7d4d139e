"""What the write API accepts: JSON objects checked field by field, and times from the phone."""

import functools
import hashlib
import hmac
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

import sqlalchemy as sa
from flask import current_app
from flask_babel import lazy_gettext as _l
from werkzeug.datastructures import MultiDict

from coachapp.bodies import storable
from coachapp.errors import DomainError
from coachapp.extensions import db
from coachapp.models import Observation, User
from coachapp.shadowing.forms import FUTURE_TOLERANCE, parse_phone_time

#: Before this, a phone's date is a wrong clock, not an entry.
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
#: Ids in a body must fit the database's integer on every backend.
LARGEST_ID = 2**31 - 1


class Invalid(DomainError):
    """A payload the API refuses as it is: the phone keeps it as "needs attention"."""

    status_code = 422
    message = _l("That could not be saved as it was sent.")

    def __init__(self, message: str | None = None, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class Field:
    kind: type
    required: bool = False


def user_tag(user: User) -> str:
    """A stable, opaque name for the signed-in person: the phone files its cached pages and its
    outbox under it, so that one person's data is never sent or shown as another's."""
    return _tag(str(current_app.config["SECRET_KEY"]), user.known_id)


@functools.lru_cache(maxsize=4096)
def _tag(secret_key: str, user_id: int) -> str:
    # Every answer to a signed-in person carries it: computed once per person and key.
    return hmac.new(
        secret_key.encode(), f"offline-user:{user_id}".encode(), hashlib.sha256
    ).hexdigest()[:24]


def read_object(payload: object, spec: dict[str, Field]) -> dict[str, object]:
    """The fields of `spec` from a JSON object, each of the right type; anything else is ignored
    (an `author_id` in the body changes nothing: the author is whoever is signed in)."""
    if not isinstance(payload, dict):
        raise Invalid(_l("Send the entry as a JSON object."))
    values: dict[str, object] = {}
    for name, field in spec.items():
        value = payload.get(name)
        if value is None:
            if field.required:
                raise Invalid(_l("%(field)s is missing.", field=name), field=name)
            continue
        # JSON true is a Python int: a flag is never an id.
        if isinstance(value, bool) or not isinstance(value, field.kind):
            raise Invalid(_l("%(field)s has the wrong type.", field=name), field=name)
        if isinstance(value, int) and not 0 < value <= LARGEST_ID:
            raise Invalid(_l("%(field)s is not a known id.", field=name), field=name)
        if isinstance(value, str) and not _storable(value):
            raise Invalid(
                _l("%(field)s holds a character that cannot be stored.", field=name), field=name
            )
        values[name] = value
    return values


def as_formdata(values: dict[str, object]) -> MultiDict[str, str]:
    """JSON values as the strings a form would have posted, for the forms' own validation."""
    return MultiDict({name: str(value) for name, value in values.items() if value is not None})


def parse_uuid(raw: object, field: str = "client_uuid") -> uuid.UUID:
    try:
        return uuid.UUID(str(raw))
    except ValueError:
        raise Invalid(_l("%(field)s is not a UUID.", field=field), field=field) from None


def phone_time(raw: object, *, now: datetime, field: str) -> datetime | None:
    """A time from the phone's clock, or None when none was sent; refused when far off."""
    if raw is None:
        return None
    when = parse_phone_time(str(raw))
    if when is None or when < EARLIEST:
        raise Invalid(
            _l("The time of this entry was not understood; check the phone's clock."), field=field
        )
    if when > now + FUTURE_TOLERANCE:
        raise Invalid(
            _l("This is dated in the future (%(when)s); check the phone's clock.", when=raw),
            field=field,
        )
    return when


def first_error(errors: dict[str, list[str]]) -> Invalid:
    name, messages = next(iter(errors.items()))
    return Invalid(str(messages[0]), field=name)


def _storable(text: str) -> bool:
    # PostgreSQL refuses NUL in text, and no database stores a lone surrogate.
    return storable(text)


def observation_by_uuid(author: User, client_uuid: uuid.UUID) -> Observation | None:
    return db.session.scalar(
        sa.select(Observation).where(
            Observation.author_id == author.id, Observation.client_uuid == client_uuid
        )
    )
