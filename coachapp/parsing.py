"""One parser for every id, number, date and enum read from a URL, a form or a JSON body.

Python's `int()` and `str.isdigit()` accept more than a person types ("²", " 1", Arabic-Indic
digits, 5,000 nines) and the databases hold less than Python does: each parser here accepts
ASCII digits within the column's range and dates within the years the app supports, and answers
None (never an exception) for anything else, so that the caller can say which field was wrong.
"""

import re
from datetime import UTC, date, datetime, timedelta, tzinfo
from enum import Enum
from typing import TypeVar

from werkzeug.routing import IntegerConverter

#: The largest value of an INTEGER column on every backend (ids, counts, page numbers).
MAX_ID = 2**31 - 1
#: The dates the app stores and shows: a day outside is a mistyped year or a wrong clock.
EARLIEST_DATE = date(2000, 1, 1)
LATEST_DATE = date(2100, 12, 31)
EARLIEST_TIME = datetime(2000, 1, 1, tzinfo=UTC)
LATEST_TIME = datetime(2101, 1, 1, tzinfo=UTC) - timedelta(microseconds=1)

# ASCII only: `\d` also matches other scripts' digits; ten digits cover 2**31 - 1.
_DIGITS = re.compile(r"[0-9]{1,10}")
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")

E = TypeVar("E", bound=Enum)


def parse_int(raw: object, *, low: int = 1, high: int = MAX_ID) -> int | None:
    """A whole number written in ASCII digits within [low, high]; None otherwise."""
    if isinstance(raw, bool):
        return None
    if isinstance(raw, int):
        return raw if low <= raw <= high else None
    if not isinstance(raw, str) or not _DIGITS.fullmatch(raw):
        return None
    value = int(raw)
    return value if low <= value <= high else None


def parse_id(raw: object) -> int | None:
    """A database id (1 to 2**31 - 1) from a form, a query string or a JSON value."""
    return parse_int(raw, low=1, high=MAX_ID)


def parse_ids(raws: list[str] | None) -> list[int] | None:
    """Several ids (a multiple choice); None when any one of them is not an id."""
    ids = [parse_id(raw) for raw in raws or []]
    return None if any(value is None for value in ids) else ids  # type: ignore[return-value]


def parse_enum(enum: type[E], raw: object) -> E | None:
    """An enum member by its value (the word the form posts), never by its name."""
    if not isinstance(raw, str):
        return None
    try:
        return enum(raw)
    except ValueError:
        return None


def date_in_range(day: date | None) -> bool:
    return day is not None and EARLIEST_DATE <= day <= LATEST_DATE


def parse_date(raw: object) -> date | None:
    """A calendar day written YYYY-MM-DD within the supported years."""
    if not isinstance(raw, str) or not _ISO_DATE.fullmatch(raw):
        return None
    try:
        day = date.fromisoformat(raw)
    except ValueError:
        return None
    return day if date_in_range(day) else None


def parse_moment(raw: object) -> datetime | None:
    """An ISO 8601 time with its offset, as aware UTC within the supported years.

    The range is checked after the shift to UTC and again in the widest zones either side, so
    that a time accepted here can be shown in any organisation's zone without an overflow.
    """
    if not isinstance(raw, str) or not raw or not raw.isascii() or len(raw) > 40:
        return None
    try:
        when = datetime.fromisoformat(raw.replace("Z", "+00:00"))
        if when.tzinfo is None:
            return None
        when = when.astimezone(UTC)
    except (ValueError, OverflowError):
        return None
    return when if moment_in_range(when) else None


def moment_in_range(when: datetime) -> bool:
    return EARLIEST_TIME <= when <= LATEST_TIME


def local_midnight_in_range(day: date, zone: tzinfo) -> datetime | None:
    """The start of `day` in `zone` as UTC, or None for a day outside the supported years."""
    if not date_in_range(day):
        return None
    return datetime.combine(day, datetime.min.time(), tzinfo=zone).astimezone(UTC)


class IdConverter(IntegerConverter):
    """`<int:...>` in a URL: ASCII digits within an INTEGER column, so that a path with a
    20-digit id answers the same 404 as any other id that does not exist."""

    regex = r"[0-9]{1,10}"

    def __init__(self, map, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
        kwargs.setdefault("max", MAX_ID)
        super().__init__(map, *args, **kwargs)
