"""Today on a 390x844 phone: a strength in three taps without scrolling, the agent search, the
due count following an outcome and its undo, no session left by a look, axe light and dark."""

import re

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.harness import (
    accessibility_violations,
    poll,
    screenshot,
    start_shadowing_link,
    start_shadowing_name,
)
from tests.e2e.test_shadowing_flow import MANAGER, sign_in_from_demo_list

pytestmark = pytest.mark.e2e

VIEWPORT_HEIGHT = 844
WAITING_ITEMS = "CoachappOutbox.all().then((items) => items.length)"


def in_view(page: Page, locator) -> bool:  # type: ignore[no-untyped-def]
    box = locator.bounding_box()
    return box is not None and box["y"] >= 0 and box["y"] + box["height"] <= VIEWPORT_HEIGHT


def due_count(page: Page) -> int:
    return int(page.locator("#due-count").inner_text())


def test_from_today_to_a_saved_strength_in_three_taps_without_scrolling(page: Page):
    sign_in_from_demo_list(page, MANAGER)
    expect(page).to_have_url(re.compile(r"/today$"))
    # The first five agents are all on the first screen.
    for position in range(5):
        assert in_view(page, start_shadowing_link(page, position=position)), position
    screenshot(page, "today-first-screen")

    taps = 0
    link = start_shadowing_link(page, position=4)
    agent = start_shadowing_name(link)
    link.tap()
    taps += 1
    expect(page.get_by_role("heading", name=agent, level=1)).to_be_visible()
    kinds = page.get_by_role("group", name="What did you see?")
    strength = kinds.get_by_role("radio", name="Strength", exact=True)
    if not strength.is_checked():
        kinds.get_by_text("Strength", exact=True).tap()
        taps += 1
    chips = page.get_by_role("group", name="Behaviours: tap one to save")
    chip = chips.get_by_role("button").first
    behaviour = chip.inner_text().strip()
    assert in_view(page, chip), "the first chip is on the first screen"
    screenshot(page, "today-shadowing-first-screen")
    chip.tap()
    taps += 1

    entries = page.get_by_role("region", name=re.compile(r"^This session"))
    expect(entries.get_by_role("listitem").filter(has_text=behaviour).first).to_contain_text(
        "Strength"
    )
    # Every tap was on something already on the screen: the manager never scrolled.
    assert taps <= 3, taps
    print(f"taps from Today to a saved strength: {taps}")
    screenshot(page, "today-strength-saved")
    # The session is real now; end it so the demo's Today stays as the other tests expect.
    poll(page, WAITING_ITEMS, lambda n: n == 0)
    page.get_by_role("button", name="End session").last.tap()
    expect(page.get_by_role("heading", name=f"Session with {agent}")).to_be_visible()


def test_the_agent_search_filters_as_you_type(page: Page):
    sign_in_from_demo_list(page, MANAGER)
    section = page.get_by_role("region", name="Start shadowing")
    links = section.locator("a[data-shadow-url]")
    everyone = links.count()
    first = start_shadowing_name(links.first)
    search = page.get_by_role("searchbox", name="Find an agent")
    search.tap()
    search.press_sequentially(first.split()[0][:3].lower())
    visible = section.locator("a[data-shadow-url]:visible")
    assert 0 < visible.count() < everyone
    for name in visible.locator(".person-name").all_inner_texts():
        assert first.split()[0][:3].lower() in name.lower()
    screenshot(page, "today-search")
    search.fill("zzzz")
    expect(section.get_by_text("No agent of your teams has that name.")).to_be_visible()
    search.fill("")
    expect(visible).to_have_count(everyone)


def test_the_due_count_follows_an_outcome_and_its_undo(page: Page):
    sign_in_from_demo_list(page, MANAGER)
    before = due_count(page)
    assert before > 0, "the demo leaves checks due for Maria"
    page.locator(".due-list .due-row").first.tap()
    card = page.locator("article.check").first
    outcomes = card.get_by_role("group", name="How did it go?")
    outcomes.get_by_role("button", name="Slipped", exact=True).tap()
    expect(card.get_by_role("status")).to_contain_text("Recorded: Slipped")
    expect(page.locator("#due-count")).to_have_text(str(before - 1))
    card = page.locator("article.check").filter(has=page.get_by_role("button", name="Undo"))
    expect(card.get_by_text("the ladder starts over")).to_be_visible()
    card.get_by_role("button", name="Undo").scroll_into_view_if_needed()
    screenshot(page, "today-outcome-recorded")

    card.get_by_role("button", name="Undo").tap()
    expect(page.locator("#due-count")).to_have_text(str(before))
    asking = page.get_by_role("group", name="How did it go?")
    card = page.locator("article.check").filter(has=asking)
    expect(card.first.get_by_role("button", name="Slipped", exact=True)).to_be_visible()
    screenshot(page, "today-outcome-undone")
    page.reload()
    assert due_count(page) == before


def test_opening_and_leaving_the_shadowing_screen_leaves_no_session(page: Page):
    sign_in_from_demo_list(page, MANAGER)
    link = start_shadowing_link(page, position=2)
    agent = start_shadowing_name(link)
    before = link.inner_text()
    link.tap()
    expect(page.get_by_role("heading", name=agent, level=1)).to_be_visible()
    page.wait_for_timeout(300)  # what the screen's script would queue on opening
    assert page.evaluate(WAITING_ITEMS) == 0
    page.go_back()
    expect(page).to_have_url(re.compile(r"/today$"))
    page.reload()
    expect(page.get_by_role("link", name=f"Continue with {agent}")).to_have_count(0)
    assert start_shadowing_link(page, agent).inner_text() == before


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_today_is_clean_for_axe(page: Page, scheme: str):
    page.emulate_media(color_scheme=scheme)
    sign_in_from_demo_list(page, MANAGER)
    expect(page.get_by_role("heading", name="Start shadowing")).to_be_visible()
    screenshot(page, f"today-axe-{scheme}")
    assert accessibility_violations(page) == []
