"""The role profile editor on a phone: the demo admin copies a starter profile, rewords one
behaviour, adds one and moves one up, with the buttons (no drag)."""

import re

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.harness import screenshot
from tests.e2e.test_shadowing_flow import sign_in_from_demo_list

pytestmark = pytest.mark.e2e

ADMIN = "Ada Okonkwo"
COPY = "Front desk, weekends"


def behaviour_names(page: Page, competency: str) -> list[str]:
    section = page.get_by_role("region", name=re.compile(competency))
    return [
        text.strip() for text in section.locator(".editor-behaviours > li strong").all_inner_texts()
    ]


def assert_one_row(page: Page) -> None:
    links = page.get_by_role("navigation", name="Main").get_by_role("link")
    tops = {round((links.nth(i).bounding_box() or {"y": 0})["y"]) for i in range(links.count())}
    assert len(tops) == 1, "the top bar should stay one row on a 390 px phone"


@pytest.mark.parametrize("person", ["Tara Lindqvist", "Maria Santos"])
def test_the_trainers_and_managers_bar_with_profiles_is_one_row(page: Page, person: str) -> None:
    sign_in_from_demo_list(page, person)
    nav = page.get_by_role("navigation", name="Main")
    expect(nav.get_by_role("link", name="Profiles")).to_be_visible()
    assert_one_row(page)


def test_copy_a_starter_profile_then_edit_add_and_move_a_behaviour(page: Page) -> None:
    sign_in_from_demo_list(page, ADMIN)
    nav = page.get_by_role("navigation", name="Main")
    assert_one_row(page)
    nav.get_by_role("link", name="Profiles").tap()
    expect(page.get_by_role("heading", name="Role profiles", level=1)).to_be_visible()
    page.get_by_role("link", name="New profile").tap()

    starter = page.locator("form").filter(has=page.get_by_role("heading", name="Front desk"))
    starter.get_by_label("Name of the copy").fill(COPY)
    starter.get_by_role("button", name="Copy Front desk").tap()
    expect(page.get_by_role("heading", name=f"Edit {COPY}", level=1)).to_be_visible()

    welcome = page.get_by_role("region", name=re.compile("Welcome and service"))
    item = welcome.locator("li").filter(has_text="Makes eye contact while greeting")
    item.locator("summary").tap()
    item.get_by_label("Behaviour").fill("Looks up and makes eye contact while greeting")
    item.get_by_label("What good looks like").fill("Looks at the guest, not the screen.")
    item.get_by_role("button", name="Save the behaviour").tap()
    welcome = page.get_by_role("region", name=re.compile("Welcome and service"))
    expect(
        welcome.locator("strong").filter(has_text="Looks up and makes eye contact while greeting")
    ).to_be_visible()

    welcome.get_by_label("New behaviour in Welcome and service").fill("Smiles when greeting")
    welcome.get_by_label("What good looks like (optional)").fill("A real smile, not a grin.")
    welcome.get_by_role("button", name="Add the behaviour").tap()
    expect(page.get_by_role("region", name=re.compile("Welcome and service"))).to_contain_text(
        "Smiles when greeting"
    )
    assert behaviour_names(page, "Welcome and service")[-1] == "Smiles when greeting"

    page.get_by_role("button", name="Up Smiles when greeting").tap()
    expect(
        page.get_by_role("region", name=re.compile("Welcome and service"))
        .locator(".editor-behaviours > li strong")
        .nth(4)
    ).to_have_text("Smiles when greeting")
    names = behaviour_names(page, "Welcome and service")
    assert names[1] == "Looks up and makes eye contact while greeting"
    assert names[4:] == ["Smiles when greeting", "Closes with what happens next"]

    page.get_by_role("button", name="Up Smiles when greeting").scroll_into_view_if_needed()
    screenshot(page, "profile-editor-phone")
    page.get_by_role("link", name="See it as others do").tap()
    expect(page.get_by_text("A real smile, not a grin.")).to_be_visible()
    screenshot(page, "profile-page-phone", full_page=True)
