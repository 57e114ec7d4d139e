"""The trainer's dashboard in a browser, on a phone and on a desktop: the figures, a filter, a
drill-down to an agent's focus items, and the worklists; axe-core finds nothing to fix."""

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.conftest import SCREENSHOTS
from tests.e2e.harness import PHONE, accessibility_violations, screenshot
from tests.e2e.test_shadowing_flow import sign_in_from_demo_list

pytestmark = pytest.mark.e2e

TRAINER = "Tara Lindqvist"
DESKTOP = {"viewport": {"width": 1280, "height": 900}, "locale": "en-GB"}


@pytest.fixture(params=["phone", "desktop"])
def screen(request: pytest.FixtureRequest, browser: Browser, live_url: str) -> Iterator[Page]:
    """A fresh page on a 390 x 844 phone, then on a 1280 x 900 desktop."""
    options = PHONE if request.param == "phone" else DESKTOP
    context = browser.new_context(base_url=live_url, **options)  # type: ignore[arg-type]
    context.set_default_timeout(10_000)
    page = context.new_page()
    page.screen_name = request.param  # type: ignore[attr-defined]
    yield page
    context.close()


def click(page: Page, locator) -> None:  # type: ignore[no-untyped-def]
    locator.tap() if page.screen_name == "phone" else locator.click()  # type: ignore[attr-defined]


def fits(page: Page) -> None:
    width = page.viewport_size["width"] if page.viewport_size else 0
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    # The top bar stays one row: brand and links side by side.
    assert page.evaluate("document.querySelector('.topbar').getBoundingClientRect().height") < 70


def test_a_trainer_reads_filters_drills_down_and_works_the_lists(screen: Page) -> None:
    page, name = screen, screen.screen_name  # type: ignore[attr-defined]
    if name == "phone":
        sign_in_from_demo_list(page, TRAINER)
    else:
        page.goto("/signin")
        page.get_by_role("button", name=TRAINER).click()
        expect(page).not_to_have_url(re.compile(r"/signin$"))
    click(page, page.get_by_role("navigation", name="Main").get_by_role("link", name="Dashboard"))
    expect(page.get_by_role("heading", name="Dashboard", level=1)).to_be_visible()
    tile = page.locator(".dash-tile").filter(has_text="Follow-ups on time")
    expect(tile).to_contain_text(re.compile(r"\d+%"))
    expect(tile).to_contain_text(re.compile(r"n = \d+"))
    fits(page)
    screenshot(page, f"dashboard-{name}")
    screenshot(page, f"dashboard-{name}-full", full_page=True)
    for part in ("tiles", "curve", "managers", "behaviour", "load"):
        page.locator(f"section[aria-labelledby='{part}-title']").screenshot(
            path=str(SCREENSHOTS / f"dashboard-{name}-{part}.png"), animations="disabled"
        )
    assert accessibility_violations(page) == []

    click(page, page.locator("summary").filter(has_text="Filters"))
    page.get_by_label("Team", exact=True).select_option(label="Phone support")
    click(page, page.get_by_role("button", name="Show"))
    expect(page).to_have_url(re.compile(r"team=\d+"))
    expect(page.get_by_label("Team", exact=True)).to_have_value(re.compile(r"\d+"))
    fits(page)
    screenshot(page, f"dashboard-{name}-filtered")

    click(page, page.get_by_role("link", name="Relapse by 4 weeks (R28)"))
    expect(
        page.get_by_role("heading", name=re.compile("relapse by 4 weeks"), level=1)
    ).to_be_visible()
    expect(page).to_have_url(re.compile(r"figure=r28.*team=\d+"))
    fits(page)
    screenshot(page, f"dashboard-{name}-drill-down")
    assert accessibility_violations(page) == []
    first = page.locator(".dash-drill a").first
    agent = first.inner_text()
    click(page, first)
    expect(page).to_have_url(re.compile(r"/agents/\d+/focus-items"))
    expect(page.get_by_role("heading", level=1)).to_contain_text(agent.split()[0])

    page.goto("/dashboard")
    click(page, page.get_by_role("link", name="Worklists: escalated, overdue, coverage"))
    expect(page.get_by_role("heading", name="Worklists", level=1)).to_be_visible()
    expect(page.get_by_role("heading", name="Escalated: three slips")).to_be_visible()
    fits(page)
    screenshot(page, f"worklists-{name}")
    assert accessibility_violations(page) == []
    entry = page.locator("#escalated .dash-entry").first
    click(page, entry.get_by_text("Mark handled", exact=True).first)
    entry.get_by_label("What was done (the agent's managers read this)").fill(
        "Asked the team lead to review the script"
    )
    click(page, entry.get_by_role("button", name="Mark handled"))
    expect(page.get_by_role("status").filter(has_text="Marked handled")).to_be_visible()
    expect(page.locator("#escalated")).to_contain_text("Handled by Tara Lindqvist")
    screenshot(page, f"worklists-{name}-handled")
