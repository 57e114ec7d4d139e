"""The one place the app reads the clock, so tests can freeze it and "today" has one meaning."""

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from flask import current_app


def now() -> datetime:
    return datetime.now(UTC)


def today() -> date:
    """Today's date in the organisation's time zone (COACHAPP_TIMEZONE)."""
    zone = ZoneInfo(current_app.config.get("BABEL_DEFAULT_TIMEZONE") or "UTC")
    return now().astimezone(zone).date()


def local_date(moment: datetime) -> date:
    zone = ZoneInfo(current_app.config.get("BABEL_DEFAULT_TIMEZONE") or "UTC")
    return moment.astimezone(zone).date()
