"""The admin's set-up pages on a phone: the checklist reopened from Settings, and a team created,
refused under a taken name, renamed and deleted again."""

import re

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.harness import PHONE, screenshot
from tests.e2e.test_shadowing_flow import assert_fits, sign_in_from_demo_list

pytestmark = pytest.mark.e2e

ADMIN = "Ada Okonkwo"
PHONE_WIDTH = PHONE["viewport"]["width"]  # type: ignore[index]


def test_the_checklist_and_the_teams_pages_on_a_phone(page: Page) -> None:
    sign_in_from_demo_list(page, ADMIN)
    # The demo organisation is set up: the admin starts on People, the checklist stays in Settings.
    expect(page).to_have_url(re.compile(r"/admin/people$"))
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Settings").tap()
    expect(page.get_by_role("heading", name="Organisation settings", level=1)).to_be_visible()
    expect(page.get_by_label("Time zone")).to_be_visible()
    screenshot(page, "setup-settings", full_page=True)
    page.get_by_role("link", name="Set-up checklist").tap()

    expect(page.get_by_role("heading", name="Set-up checklist", level=1)).to_be_visible()
    expect(page.get_by_text("4 of 4 done")).to_be_visible()
    steps = page.get_by_role("list").filter(has=page.get_by_role("heading", name="Teams"))
    expect(steps.get_by_role("listitem")).to_have_count(4)
    expect(steps.get_by_text("Done", exact=True)).to_have_count(4)
    expect(page.get_by_role("link", name="Go to People")).to_be_visible()
    assert_fits(page, "set-up checklist", width=PHONE_WIDTH)
    screenshot(page, "setup-checklist", full_page=True)

    page.get_by_role("listitem").filter(has_text="Agents work in a team").get_by_role(
        "link", name="Teams"
    ).tap()
    expect(page.get_by_role("heading", name="Teams", level=1)).to_be_visible()
    expect(page.get_by_role("heading", name=re.compile(r"^Active teams"))).to_be_visible()
    assert_fits(page, "teams", width=PHONE_WIDTH)
    screenshot(page, "setup-teams", full_page=True)

    name = page.get_by_label("Team name")
    name.fill("Night shift e2e")
    page.get_by_role("button", name="Create team").tap()
    expect(page.get_by_role("heading", name="Night shift e2e", level=1)).to_be_visible()
    expect(
        page.get_by_role("status").filter(has_text="Team Night shift e2e created.")
    ).to_be_visible()
    assert_fits(page, "one team", width=PHONE_WIDTH)
    screenshot(page, "setup-team", full_page=True)

    page.get_by_role("link", name="All teams").tap()
    page.get_by_label("Team name").fill("  night SHIFT e2e ")
    page.get_by_role("button", name="Create team").tap()
    expect(
        page.get_by_role("alert").filter(has_text="There is already a team of that name.")
    ).to_be_visible()
    expect(page.get_by_label("Team name")).to_have_value("  night SHIFT e2e ")
    screenshot(page, "setup-teams-refused")

    page.get_by_role("link", name=re.compile(r"^Night shift e2e")).tap()
    page.get_by_label("Team name").fill("Late shift e2e")
    page.get_by_role("button", name="Rename").tap()
    expect(page.get_by_role("heading", name="Late shift e2e", level=1)).to_be_visible()
    # Nobody in it and no history: it can go again, leaving the demo organisation as it was.
    page.get_by_role("button", name="Delete team").tap()
    expect(
        page.get_by_role("status").filter(has_text="Team Late shift e2e deleted.")
    ).to_be_visible()
    expect(page.get_by_role("link", name=re.compile(r"^Late shift e2e"))).to_have_count(0)
