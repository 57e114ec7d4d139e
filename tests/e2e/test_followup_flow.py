"""A manager completes a due follow-up from Today on a phone, and sees the next date at once."""

import re

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.harness import screenshot
from tests.e2e.test_shadowing_flow import MANAGER, sign_in_from_demo_list

pytestmark = pytest.mark.e2e


def due_count(page: Page) -> int:
    heading = page.get_by_role("heading", name=re.compile(r"^Follow-ups due"))
    return int(heading.locator(".count").inner_text())


def test_a_due_follow_up_is_completed_from_today(page: Page):
    sign_in_from_demo_list(page, MANAGER)
    expect(page.get_by_role("heading", name="Today", level=1)).to_be_visible()
    due_before = due_count(page)
    assert due_before > 0, "the demo data leaves some checks due for Maria"
    screenshot(page, "today-due")

    due_list = page.locator(".due-list")
    first = due_list.get_by_role("listitem").first
    behaviour = first.locator(".due-row > span").nth(1).inner_text()
    first.get_by_role("link").tap()

    # One tap opened the re-observation in place: four outcomes, each a big button.
    card = due_list.get_by_role("article").first
    outcomes = card.get_by_role("group", name="How did it go?")
    for label in ("Sustained", "Partly", "Slipped", "No chance"):
        expect(outcomes.get_by_role("button", name=label, exact=True)).to_be_visible()
    expect(card.get_by_role("heading", name=behaviour)).to_be_visible()
    card.get_by_text("Add a note first (optional)").tap()
    card.get_by_label("Note", exact=True).fill("Used the closing sentence with every caller.")
    screenshot(page, "followup-open")

    outcomes.get_by_role("button", name="Sustained", exact=True).tap()
    expect(card.get_by_role("status")).to_contain_text("Recorded: Sustained")
    expect(card.get_by_text(re.compile(r"^Next check: \w+day \d{1,2} \w+$"))).to_be_visible()
    screenshot(page, "followup-recorded")

    page.reload()
    expect(page.get_by_role("heading", name="Today", level=1)).to_be_visible()
    assert due_count(page) == due_before - 1
