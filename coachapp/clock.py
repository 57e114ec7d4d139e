"""The one place the app reads the clock, so tests can freeze it and "today" has one meaning."""

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from coachapp import organisation


def now() -> datetime:
    return datetime.now(UTC)


def today() -> date:
    """Today's date in the organisation's time zone (its setting, else COACHAPP_TIMEZONE)."""
    return now().astimezone(organisation.zone()).date()


def local_date(moment: datetime) -> date:
    return moment.astimezone(organisation.zone()).date()


def zone() -> ZoneInfo:
    """The organisation's time zone, for turning local dates into moments and back."""
    return organisation.zone()
