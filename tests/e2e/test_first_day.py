"""A real organisation's first day, from an empty database, on phones in a real browser.

`flask create-admin` prints a link; the admin creates a passkey (Chromium's virtual
authenticator), works through the set-up checklist (the organisation, a team, a role profile
copied from the starter library with one behaviour edited and one added, ten people from a CSV
file, previewed first), and gets the invitation links. An agent and a manager from the file accept
theirs; the manager logs a strength on the new behaviour in two taps; the agent reads it on their
log and finds the behaviour on "My role". No demo data anywhere: this is what a customer has.
"""

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from playwright.sync_api import Browser, Page, expect

from coachapp import create_app
from coachapp.cli import init_database
from coachapp.extensions import db
from tests.e2e.harness import (
    PHONE,
    _logging_kept,
    accessibility_violations,
    live_server,
    screenshot,
    scroll_under_header,
    start_shadowing_link,
)
from tests.e2e.test_passkeys import add_virtual_authenticator, watch_for_errors
from tests.e2e.test_shadowing_flow import choose_kind, entry_for, tap_behaviour

pytestmark = pytest.mark.e2e

ADMIN = "Rūta Vaitkienė"
ORGANISATION = "Baltic Care Line"
TEAM = "Vilnius phones"
STARTER = "Contact-centre agent"
PROFILE = "Vilnius contact-centre agent"
EDITED_FROM = "Greets the customer by name"
EDITED_TO = "Greets the customer by name and says their own"
NEW_BEHAVIOUR = "Offers the customer a reference number"
MANAGER = "Łukasz Żółkiewski"
AGENT = "Анна Кузнецова"

#: Ten people, as a spreadsheet saves them: semicolons, a byte-order mark, Windows line endings,
#: a quoted field, names in four scripts. The first agent's row names the team only; the team's
#: usual profile is the one given on the other rows.
PEOPLE_CSV = (
    "\ufeff"
    + "\r\n".join(
        [
            "name;email;role;team;role_profile",
            f"{MANAGER};lukasz@example.org;manager;{TEAM};",
            f"{AGENT};anna@example.org;agent;{TEAM};{PROFILE}",
            f"João Gonçalves;joao@example.org;agent;{TEAM};{PROFILE}",
            f"Žydrūnė Šimkutė;zydrune@example.org;agent;{TEAM};{PROFILE}",
            f'"Kowalska, Ewa";ewa@example.org;agent;{TEAM};{PROFILE}',
            f"Mateus Ribeiro;;agent;{TEAM};{PROFILE}",
            f"Ignas Petrauskas;ignas@example.org;agent;{TEAM};{PROFILE}",
            f"Olga Smirnova;olga@example.org;agent;{TEAM};{PROFILE}",
            f"Marta Nowak;marta@example.org;agent;{TEAM};{PROFILE}",
            "Tomas Jankauskas;tomas@example.org;trainer;;",
        ]
    )
    + "\r\n"
)


@pytest.fixture(scope="module")
def empty_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Flask, str]]:
    """The app as a customer installs it: migrations run, nothing else, demo sign-in off."""
    database = tmp_path_factory.mktemp("first-day") / "coachapp.sqlite3"
    app = create_app(
        {
            "SECRET_KEY": "e2e-first-day-secret-key-not-for-production",
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{database}",
            "DEMO_MODE": False,
            "HTTPS": False,
            "TRUSTED_PROXIES": 0,
            "RATELIMIT_STORAGE_URI": "memory://",
        }
    )
    with app.app_context():
        with _logging_kept():
            init_database()
        db.session.remove()
    with live_server(app) as url:
        yield app, url


def phone(browser: Browser, url: str) -> Page:
    context = browser.new_context(base_url=url, **PHONE)
    context.set_default_timeout(10_000)
    return context.new_page()


def assert_accessible(page: Page) -> None:
    assert accessibility_violations(page) == []


def create_admin_link(app: Flask, url: str) -> str:
    """What the person installing coachapp runs on the server."""
    result = app.test_cli_runner().invoke(args=["create-admin", "--name", ADMIN, "--base-url", url])
    assert result.exit_code == 0, result.output
    [link] = re.findall(r"http://localhost:\d+/invite/\S+", result.output)
    return link


def accept_invitation(page: Page, link: str, name: str) -> None:
    """Open the link on one's own phone and create a passkey there."""
    add_virtual_authenticator(page)
    page.goto(link)
    expect(page.get_by_role("heading", name=f"Welcome, {name}")).to_be_visible()
    page.get_by_role("button", name="Create a passkey").tap()
    expect(page).not_to_have_url(re.compile(r"/invite/"))


def checklist_step(page: Page, title: str):  # type: ignore[no-untyped-def]
    return page.get_by_role("listitem").filter(
        has=page.get_by_role("heading", name=re.compile(re.escape(title)))
    )


def set_up_the_organisation(page: Page) -> None:
    checklist_step(page, "Your organisation").get_by_role(
        "link", name="Organisation settings"
    ).tap()
    expect(page.get_by_role("heading", name="Organisation settings", level=1)).to_be_visible()
    page.get_by_label("Organisation name").fill(ORGANISATION)
    page.get_by_label("Time zone").select_option("Europe/Vilnius")
    page.get_by_role("button", name="Save settings").tap()
    expect(page.get_by_role("status").filter(has_text="Settings saved")).to_be_visible()
    assert page.get_by_label("Time zone").input_value() == "Europe/Vilnius"


def create_a_team(page: Page) -> None:
    checklist_step(page, "Teams").get_by_role("link", name="Teams").tap()
    expect(page.get_by_role("heading", name="Teams", level=1)).to_be_visible()
    page.get_by_label("Team name").fill(TEAM)
    page.get_by_role("button", name="Create team").tap()
    expect(page.get_by_role("status").filter(has_text=f"Team {TEAM} created")).to_be_visible()


def editor_behaviour(page: Page, name: str):  # type: ignore[no-untyped-def]
    """A behaviour's name as the editor lists it."""
    return page.locator(".editor-behaviours strong").filter(
        has_text=re.compile(f"^{re.escape(name)}$")
    )


def copy_and_adapt_a_starter_profile(page: Page) -> None:
    checklist_step(page, "Role profiles").get_by_role("link", name="Role profiles").tap()
    expect(page.get_by_role("heading", name="Role profiles", level=1)).to_be_visible()
    page.get_by_role("link", name="New profile").tap()
    starter = page.locator("form").filter(has=page.get_by_role("heading", name=STARTER, exact=True))
    starter.get_by_label("Name of the copy").fill(PROFILE)
    starter.get_by_role("button", name=f"Copy {STARTER}").tap()
    expect(page.get_by_role("heading", name=re.compile(re.escape(PROFILE)))).to_be_visible()

    # One behaviour's wording sharpened (its history stays with it) ...
    behaviour = page.locator("li").filter(has=page.get_by_text(EDITED_FROM, exact=True)).first
    behaviour.locator("summary").filter(has_text="Edit").tap()
    behaviour.get_by_label("Behaviour", exact=True).fill(EDITED_TO)
    behaviour.get_by_role("button", name="Save the behaviour").tap()
    expect(editor_behaviour(page, EDITED_TO)).to_be_visible()
    expect(editor_behaviour(page, EDITED_FROM)).to_have_count(0)

    # ... and one added where the team needs it.
    adding = page.locator("form").filter(has=page.get_by_label("New behaviour in Call handling"))
    adding.get_by_label("New behaviour in Call handling").fill(NEW_BEHAVIOUR)
    adding.get_by_label("What good looks like (optional)").fill(
        "Reads the number out slowly and checks it was noted."
    )
    adding.get_by_role("button", name="Add the behaviour").tap()
    expect(editor_behaviour(page, NEW_BEHAVIOUR)).to_be_visible()
    scroll_under_header(page, page.get_by_role("heading", name=re.compile("Call handling")))
    screenshot(page, "first-day-profile")


def upload_people(page: Page, tmp_path: Path) -> dict[str, str]:
    """Ten people from a CSV file, previewed first; returns each person's invitation link."""
    checklist_step(page, "People").get_by_role("link", name="Upload a CSV").tap()
    expect(page.get_by_role("heading", name="Add people from a CSV file", level=1)).to_be_visible()
    people = tmp_path / "people.csv"
    people.write_text(PEOPLE_CSV, encoding="utf-8", newline="")
    page.get_by_label("CSV file").set_input_files(str(people))
    page.get_by_role("button", name="Preview").tap()

    expect(page.get_by_role("heading", name="Preview of the import", level=1)).to_be_visible()
    rows = page.get_by_role("list", name="Rows of the file").get_by_role("listitem")
    expect(rows).to_have_count(10)
    expect(rows.filter(has_text="Kowalska, Ewa")).to_have_count(1)
    screenshot(page, "first-day-people-preview")
    page.get_by_role("button", name="Create 10 invitations").first.tap()

    expect(page.get_by_role("heading", name="10 invitations created", level=1)).to_be_visible()
    screenshot(page, "first-day-people-links")
    links = {}
    for card in page.locator(".link-card").all():
        name = card.locator(".person-name").inner_text().strip()
        links[name] = card.locator(".link-text").inner_text().strip()
    assert len(links) == 10, links
    return links


def test_a_real_organisation_starts_from_an_empty_database(
    browser: Browser, empty_server: tuple[Flask, str], tmp_path: Path
) -> None:
    app, url = empty_server

    # The admin: the link from the command line, a passkey, then the checklist.
    admin = phone(browser, url)
    problems = watch_for_errors(admin)
    accept_invitation(admin, create_admin_link(app, url), ADMIN)
    expect(admin).to_have_url(re.compile(r"/setup$"))
    expect(admin.get_by_role("heading", name="Set-up checklist", level=1)).to_be_visible()
    expect(admin.get_by_text("0 of 4 done")).to_be_visible()
    screenshot(admin, "first-day-checklist-empty", full_page=True)
    assert_accessible(admin)

    set_up_the_organisation(admin)
    admin.goto("/setup")
    create_a_team(admin)
    admin.goto("/setup")
    copy_and_adapt_a_starter_profile(admin)
    assert_accessible(admin)
    admin.goto("/setup")
    expect(admin.get_by_text("3 of 4 done")).to_be_visible()
    links = upload_people(admin, tmp_path)
    assert_accessible(admin)
    # Done: the checklist is no longer the start page, and stays under Settings.
    admin.goto("/")
    expect(admin).to_have_url(re.compile(r"/admin/people$"))
    admin.get_by_role("link", name="Settings").tap()
    admin.get_by_role("link", name="Set-up checklist").tap()
    expect(admin.get_by_text("4 of 4 done")).to_be_visible()
    expect(admin.get_by_role("heading", name="Set-up is done")).to_be_visible()
    screenshot(admin, "first-day-checklist-done", full_page=True)
    assert problems == []

    # The agent accepts first, so that the manager finds her on Today.
    agent = phone(browser, url)
    accept_invitation(agent, links[AGENT], AGENT)
    expect(agent.get_by_role("heading", name="My coaching log")).to_be_visible()

    # The manager: the link from the sheet, a passkey, Today, and a strength in two taps.
    manager = phone(browser, url)
    accept_invitation(manager, links[MANAGER], MANAGER)
    expect(manager).to_have_url(re.compile(r"/today$"))
    start_shadowing_link(manager, AGENT).tap()
    expect(manager.get_by_role("heading", name=AGENT, level=1)).to_be_visible()
    screenshot(manager, "first-day-shadowing")
    assert_accessible(manager)
    taps = 0
    choose_kind(manager, "Strength")
    taps += 1
    tap_behaviour(manager, NEW_BEHAVIOUR)
    taps += 1
    strength = entry_for(manager, NEW_BEHAVIOUR).first
    expect(strength).to_contain_text("Strength")
    assert taps == 2
    expect(strength.locator('[data-field="status"]')).to_be_hidden()
    manager.get_by_role("button", name="End session").tap()
    expect(manager.get_by_role("heading", name=f"Session with {AGENT}", level=1)).to_be_visible()

    # The agent reads it on her log, and finds the behaviour on "My role".
    agent.reload()
    session = agent.get_by_role("region", name=re.compile(r"^Session of "))
    expect(session).to_have_count(1)
    expect(session).to_contain_text("Strength")
    expect(session).to_contain_text(NEW_BEHAVIOUR)
    screenshot(agent, "first-day-agent-log")
    agent.get_by_role("link", name="My role").tap()
    expect(agent.get_by_role("heading", name=re.compile(re.escape(PROFILE)))).to_be_visible()
    expect(agent.get_by_text(NEW_BEHAVIOUR, exact=True)).to_be_visible()
    expect(agent.get_by_text(EDITED_TO, exact=True)).to_be_visible()
    screenshot(agent, "first-day-my-role", full_page=True)
    assert_accessible(agent)
