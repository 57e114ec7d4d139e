"""Which language a page speaks: the person's choice, the browser's, the organisation's."""

import json
import re

import pytest
import sqlalchemy as sa
from babel import Locale
from flask import Flask, g, render_template_string
from flask_babel import force_locale, get_translations, refresh

from coachapp import cli, demo_data, i18n
from coachapp.extensions import db
from coachapp.models import Organisation, RoleProfile, Team
from coachapp.profiles import files

POLISH_BROWSER = {"Accept-Language": "pl-PL,pl;q=0.9,en;q=0.5"}


def lang_of(page: str) -> str:
    return re.search(r'<html lang="([^"]+)"', page).group(1)


def test_a_page_without_a_person_speaks_the_browsers_language(client, world) -> None:
    page = client.get("/signin", headers=POLISH_BROWSER).get_data(as_text=True)
    assert lang_of(page) == "pl" and 'data-locale="pl-PL"' in page
    assert "Zaloguj się" in page
    english = client.get("/signin", headers={"Accept-Language": "de-DE,en-GB;q=0.8"})
    assert lang_of(english.get_data(as_text=True)) == "en"


def test_no_language_of_ours_in_the_browser_falls_back_to_the_organisations(client, world) -> None:
    world.org.default_language = "lt"
    db.session.commit()
    page = client.get("/signin", headers={"Accept-Language": "de-DE"}).get_data(as_text=True)
    assert lang_of(page) == "lt"
    # The browser's language, when it is one of ours, comes before the organisation's.
    page = client.get("/signin", headers={"Accept-Language": "es"}).get_data(as_text=True)
    assert lang_of(page) == "es"


def test_a_persons_choice_comes_first_and_is_two_taps_away(client, auth, world) -> None:
    auth.login(world.agent_alex)
    page = client.get("/", headers=POLISH_BROWSER, follow_redirects=True).get_data(as_text=True)
    assert lang_of(page) == "pl"
    # One tap: the footer's language link opens Account at its language form ...
    assert 'href="/account#language"' in page
    # ... the second: the language's own button.
    chosen = client.post("/account/language", data={"language": "ru"}, headers=POLISH_BROWSER)
    assert chosen.status_code == 303 and chosen.location.endswith("/account#language")
    assert world.agent_alex.language == "ru"
    account = client.get("/account", headers=POLISH_BROWSER).get_data(as_text=True)
    assert lang_of(account) == "ru"
    assert re.search(
        r'value="ru" lang="ru" class="button small selected" aria-pressed="true"', account
    )
    # "Automatic" follows the browser again.
    client.post("/account/language", data={"language": ""})
    assert world.agent_alex.language is None
    page = client.get("/account", headers=POLISH_BROWSER).get_data(as_text=True)
    assert lang_of(page) == "pl"


def test_an_unknown_language_is_refused(client, auth, world) -> None:
    auth.login(world.agent_alex)
    assert client.post("/account/language", data={"language": "xx"}).status_code == 400
    assert world.agent_alex.language is None


def test_the_admin_sets_the_organisations_language_and_weekdays_start_on_its_first_day(
    client, auth, world
) -> None:
    auth.login(world.admin_ada)
    form = {"name": "Northwind", "timezone": "UTC", "gaps": "2, 5", "language": "pt"}
    form["working_days"] = ["0", "1", "2", "3", "4"]
    assert client.post("/admin/settings", data=form).status_code == 303
    assert world.org.default_language == "pt"
    page = client.get("/admin/settings", headers={"Accept-Language": "pt"}).get_data(as_text=True)
    assert '<option selected value="pt">Português</option>' in page
    # Brazil's week starts on Sunday: the working days list starts there too.
    days = re.findall(r'name="working_days" type="checkbox" value="(\d)"', page)
    assert days[0] == "6", days
    page = client.get("/admin/settings", headers=POLISH_BROWSER).get_data(as_text=True)
    assert re.findall(r'name="working_days" type="checkbox" value="(\d)"', page)[0] == "0"
    bad = client.post("/admin/settings", data={**form, "language": "klingon"})
    assert bad.status_code == 422


def test_starter_profiles_come_in_the_pages_language_falling_back_to_english(app) -> None:
    english = {s.key: s.data.name for s in files.starters("en")}
    assert set(english) == {"contact_centre_agent", "front_desk", "field_technician"}
    for language in i18n.LANGUAGES:
        local = {s.key: s for s in files.starters(language)}
        assert set(local) == set(english), language
    # A language without files is English.
    assert {s.key: s.data.name for s in files.starters("xx")} == english


def test_demo_texts_fall_back_to_english_key_by_key(app) -> None:
    english = demo_data.texts("en")
    assert english["teams"]["front_desk"] == "Reception"
    assert demo_data.texts("xx") == english
    for language in i18n.LANGUAGES:
        assert set(demo_data.texts(language)) == set(english)


def test_demo_data_in_a_language(app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(demo_data, "_session_starts", lambda rng, now: [])  # people only
    monkeypatch.setattr(cli, "init_database", lambda: None)  # the schema is the models'
    result = app.test_cli_runner().invoke(args=["demo-data", "--language", "es"])
    assert result.exit_code == 0, result.output
    org = db.session.scalar(sa.select(Organisation))
    assert org.default_language == "es"
    teams = set(db.session.scalars(sa.select(Team.name)))
    assert teams == set(demo_data.texts("es")["teams"].values())
    profiles = set(db.session.scalars(sa.select(RoleProfile.name)))
    assert profiles == {s.data.name for s in files.starters("es")}
    refused = app.test_cli_runner().invoke(args=["demo-data", "--language", "de"])
    assert refused.exit_code != 0


def test_every_demo_texts_file_has_the_english_keys_and_shape(app) -> None:
    from importlib import resources

    folder = resources.files("coachapp") / "demo_texts"
    english = json.loads((folder / "en.json").read_text(encoding="utf-8"))
    for entry in folder.iterdir():
        if not entry.name.endswith(".json"):
            continue
        local = json.loads(entry.read_text(encoding="utf-8"))
        assert set(local) == set(english), entry.name
        for key, value in english.items():
            assert type(local[key]) is type(value), (entry.name, key)
            if isinstance(value, dict):
                assert set(local[key]) == set(value), (entry.name, key)


def test_a_push_reminder_speaks_the_managers_language(app) -> None:
    from coachapp.reminders import daily

    with app.test_request_context("/"):
        assert daily.payload(3)["body"] == "3 follow-ups due today"
        polish = daily.payload(5, "pl")["body"]
        assert "5" in polish and polish == daily.payload(5, "pl")["body"]
        with force_locale("pl"):
            from flask_babel import ngettext

            expected = ngettext("%(num)d follow-up due today", "%(num)d follow-ups due today", 5)
        assert polish == expected


def test_templates_follow_a_change_of_language_within_the_request(app) -> None:
    """Templates look the catalogue up once per locale (i18n.page_translations): a forced
    locale, and a refresh after a person changes language, are followed at once."""
    say_today = "{{ _('Today') }}"
    with app.test_request_context(headers={"Accept-Language": "es"}):
        assert render_template_string(say_today) == "Hoy"
        with force_locale("pl"):
            assert render_template_string(say_today) == "Dziś"
        assert render_template_string(say_today) == "Hoy"
        g._flask_babel.forced_babel_locale = Locale.parse("pl")  # as a saved choice would
        refresh()
        assert render_template_string(say_today) == "Dziś"
        assert i18n.page_translations() is get_translations()
