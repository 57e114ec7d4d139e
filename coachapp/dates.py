"""The one way dates, times and numbers are shown: Babel, for the page's locale, in the
organisation's zone. Templates use the filters registered by `register`; Python code calls the
same functions. Styles are names, never CLDR patterns, so that every page says a date alike.

| filter | style | en (British) | pl |
|---|---|---|---|
| `date` | `medium` (default) | 1 Dec 2026 | 1 gru 2026 |
| `date` | `day` | 1 Dec | 1 gru |
| `date` | `weekday` | Tue 1 Dec | wt., 1 gru |
| `date` | `weekday_long` | Tuesday 1 December | wt., 1 grudnia |
| `date` | `month` | December 2026 | grudzień 2026 |
| `date` | `relative` | today / yesterday / Tue 1 Dec | dzisiaj / wczoraj / wt., 1 gru |
| `time` | | 19:36 | 19:36 |
| `datetime` | `medium` (default) | 1 Dec 2026, 19:36 | 1 gru 2026, 19:36 |
| `datetime` | `day` | 1 Dec, 19:36 | 1 gru, 19:36 |
| `datetime` | `weekday_long` | Tuesday 1 December, 19:36 | wt., 1 grudnia, 19:36 |
| `when` | | today, 19:36 / yesterday, 14:05 / Mon, 14:05 / 1 Dec, 19:36 / 1 Dec 2025, 19:36 |
| `ago` | | 3 days ago / in 2 hours | 3 dni temu |
| `number`, `percent` | | 1,000 / 45% | 1000 / 45% |
"""

from __future__ import annotations

import functools
from datetime import UTC, date, datetime, timedelta
from typing import Any

from babel import Locale, dates, numbers
from flask import Flask, has_request_context
from flask_babel import get_timezone

#: How each language formats dates and numbers. The interface's English is British English
#: ("organisation"), so dates are too (24-hour clock, day before month); the others take CLDR's
#: likely region.
FORMAT_LOCALES = {
    "en": "en_GB",
    "es": "es_ES",
    "pt": "pt_BR",
    "pl": "pl_PL",
    "lt": "lt_LT",
    "ru": "ru_RU",
}

#: Date styles as CLDR skeletons (each locale orders and spells the parts its own way).
DATE_SKELETONS = {
    "medium": "yMMMd",
    "day": "MMMd",
    "weekday": "MMMEd",
    "weekday_long": "MMMMEEEEd",
    "month": "yMMMM",
    "weekday_short": "E",
}


def language() -> str:
    """The page's language code ("pl"), "en" outside a request."""
    from coachapp.i18n import current_language

    return current_language()


def format_locale(lang: str | None = None) -> Locale:
    """The Babel locale dates and numbers are formatted with (British for English)."""
    return _locale(FORMAT_LOCALES.get(lang or language(), "en_GB"))


@functools.cache
def _locale(identifier: str) -> Locale:
    # Parsed once per identifier: a page formats hundreds of numbers (the dashboard's tables).
    return Locale.parse(identifier)


def bcp47(lang: str | None = None) -> str:
    """The same locale as a BCP 47 tag for Intl in scripts ("en-GB")."""
    return FORMAT_LOCALES.get(lang or language(), "en_GB").replace("_", "-")


def first_week_day(lang: str | None = None) -> int:
    """The locale's first day of the week as date.weekday() (0 = Monday)."""
    return format_locale(lang).first_week_day


def week_days(lang: str | None = None) -> list[int]:
    """The seven weekday numbers in the locale's order, its first day first."""
    first = first_week_day(lang)
    return [(first + i) % 7 for i in range(7)]


def weekday_name(weekday: int, width: str = "wide") -> str:
    """A weekday's name ("Monday", "poniedziałek") for date.weekday() number `weekday`."""
    return format_locale().days["stand-alone"][width][weekday]


def _zone():
    return get_timezone() if has_request_context() else None


def _local(value: datetime) -> datetime:
    """`value` in the organisation's zone (naive values are taken as UTC)."""
    zone = _zone()
    if value.tzinfo is None:
        from datetime import UTC

        value = value.replace(tzinfo=UTC)
    return value.astimezone(zone) if zone is not None else value


def _today() -> date:
    from coachapp import clock

    try:
        return clock.today()
    except Exception:  # noqa: BLE001 - outside a request the zone may be unknown
        return date.today()


def format_date(value: date | datetime | None, style: str = "medium") -> str:
    """A date in one of the named styles (see the module's table); "" for None."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = _local(value).date()
    locale = format_locale()
    if style == "relative":
        offset = (value - _today()).days
        if offset in (-1, 0, 1):
            return _relative_day(offset, locale)
        style = "weekday"
    skeleton = DATE_SKELETONS.get(style, DATE_SKELETONS["medium"])
    return dates.format_skeleton(skeleton, value, locale=locale)


def format_time(value: datetime | None) -> str:
    """A time of day, hours and minutes ("19:36"), in the organisation's zone."""
    if value is None:
        return ""
    return dates.format_time(_local(value), "short", locale=format_locale())


def format_datetime(value: datetime | None, style: str = "medium") -> str:
    """A date and its time: the date in `style`, joined the locale's way ("1 Dec 2026, 19:36")."""
    if value is None:
        return ""
    local = _local(value)
    return _join(format_date(local.date(), style), format_time(local))


def when(value: datetime | None) -> str:
    """A moment, relative where it helps: "today, 19:36", "yesterday, 14:05", "Mon, 09:10"
    within the week, "1 Dec, 19:36" this year, else with its year."""
    if value is None:
        return ""
    local = _local(value)
    day = local.date()
    offset = (day - _today()).days
    locale = format_locale()
    if offset in (-1, 0, 1):
        label = _relative_day(offset, locale)
    elif -6 <= offset < 0:
        label = dates.format_skeleton("E", day, locale=locale)
    elif day.year == _today().year:
        label = dates.format_skeleton(DATE_SKELETONS["day"], day, locale=locale)
    else:
        label = dates.format_skeleton(DATE_SKELETONS["medium"], day, locale=locale)
    return _join(label, format_time(local))


def ago(value: timedelta | datetime | None, threshold: float = 0.85) -> str:
    """A span relative to now: "3 days ago", "in 2 hours" (a datetime is taken against now)."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        from coachapp import clock

        value = value - clock.now()
    return dates.format_timedelta(
        value, add_direction=True, threshold=threshold, locale=format_locale()
    )


def format_number(value: int | float | None) -> str:
    return "" if value is None else numbers.format_decimal(value, locale=format_locale())


def format_percent(value: float | None, pattern: str = "#,##0%") -> str:
    """A share (0.45) as a percentage ("45%"); "–" for None (no figure yet)."""
    if value is None:
        return "–"
    # numbers.format_percent with its defaults, the pattern parsed once: parsing it cost more
    # than formatting (the dashboard formats a few hundred shares a page).
    return _number_pattern(pattern).apply(value, format_locale())


@functools.cache
def _number_pattern(pattern: str) -> numbers.NumberPattern:
    return numbers.parse_pattern(pattern)


def _relative_day(offset: int, locale: Locale) -> str:
    return locale._data["date_fields"]["day"]["relative"][offset]


def _join(day: str, time: str) -> str:
    pattern = format_locale().datetime_formats["medium"]
    pattern = getattr(pattern, "pattern", pattern)
    return pattern.replace("{1}", day).replace("{0}", time)


def datetime_attr(value: datetime | date) -> str:
    """The machine-readable value of `<time datetime="...">`: ISO 8601, a moment in UTC to the
    second (HTML allows at most three digits of a second's fraction; Python writes six)."""
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(UTC)
        return value.isoformat(timespec="seconds")
    return value.isoformat()


def register(app: Flask) -> None:
    """The one set of filters every template formats with."""
    app.jinja_env.filters.update(
        date=format_date,
        time=format_time,
        datetime=format_datetime,
        when=when,
        ago=ago,
        number=format_number,
        percent=format_percent,
        datetime_attr=datetime_attr,
    )
    app.jinja_env.globals.update(
        format_locale_tag=bcp47, week_days=week_days, weekday_name=weekday_name
    )


def filter_styles() -> dict[str, Any]:
    """The style names each filter accepts (for the test that templates use no pattern)."""
    return {
        "date": set(DATE_SKELETONS) | {"relative"},
        "datetime": set(DATE_SKELETONS),
    }
