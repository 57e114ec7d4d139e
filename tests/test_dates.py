"""Dates, times and numbers are said one way, by Babel for the page's locale (coachapp/dates.py)."""

import re
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from flask import Flask
from flask_babel import force_locale

from coachapp import dates

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
MOMENT = datetime(2026, 3, 2, 18, 36, tzinfo=UTC)  # 19:36 in Europe/Madrid, 18:36 UTC


@pytest.fixture
def at_ten(app: Flask, frozen_clock):  # type: ignore[no-untyped-def]
    """A request in UTC at the frozen clock's 2 March 2026, 10:00."""
    with app.test_request_context("/"):
        yield


@pytest.mark.parametrize(
    ("lang", "medium", "day", "moment"),
    [
        ("en", "2 Mar 2026", "2 Mar", "2 Mar 2026, 18:36"),
        ("es", "2 mar 2026", "2 mar", "2 mar 2026, 18:36"),
        ("pl", "2 mar 2026", "2 mar", "2 mar 2026, 18:36"),
        ("ru", "2 мар. 2026\u202fг.", "2 мар.", "2 мар. 2026\u202fг., 18:36"),
        ("lt", "2026-03-02", "03-02", "2026-03-02 18:36"),
        ("pt", "2 de mar. de 2026", "2 de mar.", "2 de mar. de 2026 18:36"),
    ],
)
def test_each_language_says_a_date_its_own_way(at_ten, lang, medium, day, moment) -> None:
    with force_locale(lang):
        assert dates.format_date(MOMENT.date()) == medium
        assert dates.format_date(MOMENT, "day") == day
        assert dates.format_datetime(MOMENT) == moment
        assert dates.format_time(MOMENT) == "18:36"


def test_english_is_british_day_month_and_24_hours(at_ten) -> None:
    with force_locale("en"):
        assert dates.format_date(MOMENT, "weekday_long") == "Monday 2 March"
        assert dates.format_date(MOMENT, "weekday") == "Mon 2 Mar"
        assert dates.format_date(MOMENT, "month") == "March 2026"
        assert dates.bcp47() == "en-GB"


def test_when_is_relative_where_it_helps(at_ten) -> None:
    with force_locale("en"):
        assert dates.when(MOMENT) == "today, 18:36"
        assert dates.when(MOMENT - timedelta(days=1)) == "yesterday, 18:36"
        assert dates.when(MOMENT - timedelta(days=3)) == "Fri, 18:36"
        assert dates.when(MOMENT - timedelta(days=20)) == "10 Feb, 18:36"
        assert dates.when(MOMENT - timedelta(days=100)) == "22 Nov 2025, 18:36"
        assert dates.format_date(date(2026, 3, 1), "relative") == "yesterday"
    with force_locale("pl"):
        assert dates.when(MOMENT - timedelta(days=1)) == "wczoraj, 18:36"
    with force_locale("ru"):
        assert dates.when(MOMENT) == "сегодня, 18:36"


def test_spans_and_numbers(at_ten) -> None:
    with force_locale("en"):
        assert dates.ago(timedelta(days=-3)) == "3 days ago"
        assert dates.format_number(1000) == "1,000"
        assert dates.format_percent(0.45) == "45%"
        assert dates.format_percent(None) == "–"
    with force_locale("pl"):
        assert dates.ago(timedelta(days=-3)) == "3 dni temu"
        assert dates.format_number(1000) == "1\xa0000"


def test_the_week_starts_on_the_locales_first_day(at_ten) -> None:
    assert dates.week_days("en")[0] == 0
    assert dates.week_days("pl") == [0, 1, 2, 3, 4, 5, 6]
    assert dates.week_days("pt")[0] == 6  # Sunday in Brazil
    with force_locale("pl"):
        assert dates.weekday_name(0) == "poniedziałek"


FILTER_CALL = re.compile(r"\|\s*(date|datetime|time|when|ago)\s*(\(([^)]*)\))?")


def test_templates_format_by_style_name_never_by_pattern() -> None:
    """One way: a filter takes a named style, so no page invents its own pattern."""
    styles = dates.filter_styles()
    wrong = []
    for path in TEMPLATES.rglob("*.html"):
        for match in FILTER_CALL.finditer(path.read_text()):
            name, argument = match.group(1), (match.group(3) or "").strip().strip("\"'")
            if argument and argument not in styles.get(name, set()):
                wrong.append(f"{path.relative_to(TEMPLATES)}: {match.group(0)}")
    assert wrong == []


def test_no_other_date_formatting_in_python_or_scripts() -> None:
    root = TEMPLATES.parent
    offenders = []
    for path in (root / "coachapp").rglob("*.py"):
        if path.name == "dates.py":
            continue
        text = path.read_text()
        if re.search(r"flask_babel import[^\n]*format_|\.strftime\(|babel\.dates", text):
            offenders.append(str(path.relative_to(root)))
    for path in (root / "static" / "js").glob("*.js"):
        if "toLocale" in path.read_text():
            offenders.append(str(path.relative_to(root)))
    assert offenders == []
