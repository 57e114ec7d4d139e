"""A manager's shift on a phone, in a real browser: sign in, shadow an agent, log, fix, end, read.

The demo organisation is loaded once for the whole run; Maria Santos manages the phone-support
team, whose agents are coached against the contact-centre profile.
"""

import re
import uuid

import pytest
from playwright.sync_api import ConsoleMessage, Locator, Page, expect

from tests.e2e.harness import (
    poll,
    screenshot,
    scroll_under_header,
    start_shadowing_link,
    start_shadowing_name,
)

pytestmark = pytest.mark.e2e

MANAGER = "Maria Santos"
NO_RELOAD_MARKER = "window.__e2eSamePage"

#: What must stay big enough for a thumb: the kind buttons, the behaviour chips, every button but
#: the deliberately small ones in an entry (Fix, Undo, Remove).
TAP_TARGETS = ".kind, .chip, .button:not(.small)"
TAP_MIN_PX = 48


# --- steps, as a person takes them --------------------------------------------------------


def sign_in_from_demo_list(page: Page, name: str) -> None:
    page.goto("/signin")
    expect(page.get_by_role("heading", name="Sign in", level=1)).to_be_visible()
    page.get_by_role("button", name=name).tap()
    expect(page).not_to_have_url(re.compile(r"/signin$"))


def start_shadowing(page: Page, position: int = 0) -> str:
    """Tap "Start shadowing" for the agent at `position` on Today; returns the agent's name."""
    expect(page).to_have_url(re.compile(r"/today$"))
    expect(page.get_by_role("heading", name="Today", level=1)).to_be_visible()
    name = start_shadowing_name(start_shadowing_link(page, position=position))
    assert name, "the agent links say whom they start shadowing"
    start_shadowing_link(page, name).tap()
    expect(page.get_by_role("heading", name=name, level=1)).to_be_visible()
    return name


def choose_kind(page: Page, kind: str) -> None:
    """Tap one of the big Strength / Correction / Obstacle buttons."""
    kinds = page.get_by_role("group", name="What did you see?")
    kinds.get_by_text(kind, exact=True).tap()
    expect(kinds.get_by_role("radio", name=kind, exact=True)).to_be_checked()


def open_note(page: Page) -> None:
    """Tap "Note" beside the kinds, unless the note fields are open already."""
    toggle = page.get_by_role("button", name="Note", exact=True)
    if toggle.get_attribute("aria-expanded") != "true":
        toggle.tap()
    expect(toggle).to_have_attribute("aria-expanded", "true")


def tap_behaviour(page: Page, behaviour: str) -> None:
    """Tap a behaviour chip: it saves the entry at once."""
    chips = page.get_by_role("group", name="Behaviours: tap one to save")
    chips.get_by_role("button", name=behaviour, exact=True).tap()


def session_entries(page: Page) -> Locator:
    return page.get_by_role("region", name=re.compile(r"^This session")).get_by_role("listitem")


def entry_for(page: Page, behaviour: str) -> Locator:
    return session_entries(page).filter(has_text=behaviour)


def wait_until_sent(entry: Locator) -> None:
    """The entry's "waiting" line goes once the server has it; tapping before that can miss, as
    the line leaving moves the entry's buttons up."""
    expect(entry.locator('[data-field="status"]')).to_be_hidden()


def assert_same_page(page: Page, url: str) -> None:
    """The list updated in place: same address, and the marker set on this page's window survived.
    (The first entry names its new session in the query, by history.replaceState: no reload.)"""
    assert page.url.split("?")[0] == url.split("?")[0]
    assert page.evaluate(NO_RELOAD_MARKER) == "still here"


def shadow_an_agent(page: Page, *, shoot: bool = True) -> None:
    """The whole journey of one shadowing session, with what a manager checks on the way."""
    sign_in_from_demo_list(page, MANAGER)
    if shoot:
        screenshot(page, "today")
    agent = start_shadowing(page)
    session_url = page.url
    page.evaluate(f"{NO_RELOAD_MARKER} = 'still here'")

    # A strength in two taps: the kind, then the behaviour.
    choose_kind(page, "Strength")
    tap_behaviour(page, "Greets the customer by name")
    strength = entry_for(page, "Greets the customer by name").first
    # The kind's name alone: the label it comes from also says "selected" for the chosen kind.
    expect(strength.get_by_text("Strength", exact=True)).to_be_visible()
    expect(
        page.get_by_role("status").filter(has_text="Strength saved: Greets the customer by name")
    ).to_be_visible()
    expect(strength.get_by_role("link", name="Add a note")).to_be_visible()
    expect(strength.get_by_role("button", name="Undo")).to_be_visible()
    assert_same_page(page, session_url)

    # A correction: the kind, what was coached (typed first, saved with it), the behaviour.
    choose_kind(page, "Correction")
    open_note(page)
    page.get_by_label("Note (optional)", exact=True).fill(
        "Ended the call without saying what happens next."
    )
    page.get_by_label("What I coached (optional)").fill("Agreed on a closing sentence to use.")
    tap_behaviour(page, "Confirms the next steps before closing")
    correction = entry_for(page, "Confirms the next steps before closing").first
    expect(correction.get_by_text("Correction", exact=True)).to_be_visible()
    expect(correction).to_contain_text("Ended the call without saying what happens next.")
    expect(correction).to_contain_text("Coached: Agreed on a closing sentence to use.")
    expect(session_entries(page).first).to_contain_text(
        "Confirms the next steps before closing"
    )  # newest on top
    assert_same_page(page, session_url)

    # Fix one entry in place.
    wait_until_sent(correction)
    correction.get_by_role("link", name="Fix").tap()
    editor = session_entries(page).filter(has=page.get_by_role("button", name="Save changes"))
    editor.get_by_label("Note", exact=True).fill("Forgot the next steps at the end of a long call.")
    editor.get_by_role("button", name="Save changes").tap()
    fixed = entry_for(page, "Confirms the next steps before closing").first
    expect(fixed).to_contain_text("Forgot the next steps at the end of a long call.")
    expect(fixed).not_to_contain_text("Ended the call")
    expect(fixed).to_contain_text("Coached: Agreed on a closing sentence to use.")
    expect(editor).to_have_count(0)
    assert_same_page(page, session_url)
    if shoot:
        scroll_under_header(page, page.get_by_role("group", name="What did you see?"))
        screenshot(page, "shadowing")
        screenshot(page, "shadowing-full", full_page=True)

    # End the session: the summary, then the agent's log.
    reference = uuid.uuid4().hex[:8]
    page.get_by_label("Overall note (optional)").fill(f"Warm with every caller. Ref {reference}.")
    page.get_by_role("button", name="End session").tap()
    expect(page.get_by_role("heading", name=f"Session with {agent}", level=1)).to_be_visible()
    if shoot:
        screenshot(page, "summary", full_page=True)

    page.get_by_role("link", name=f"Open {agent.split()[0]}'s log").tap()
    expect(page.get_by_role("heading", name=agent, level=1)).to_be_visible()
    session = page.get_by_role("region", name=re.compile(r"^Session of ")).filter(
        has_text=reference
    )
    expect(session).to_have_count(1)
    expect(session).to_contain_text("1 strength")
    expect(session).to_contain_text("1 correction")
    expect(session).to_contain_text("0 obstacles")
    entries = session.get_by_role("listitem")
    expect(entries).to_have_count(2)
    # Strengths first, though the correction came later.
    expect(entries.nth(0)).to_contain_text("Strength")
    expect(entries.nth(0)).to_contain_text("Greets the customer by name")
    expect(entries.nth(1)).to_contain_text("Correction")
    expect(entries.nth(1)).to_contain_text("Forgot the next steps at the end of a long call.")
    if shoot:
        scroll_under_header(page, page.get_by_role("heading", name="Sessions", level=2))
        screenshot(page, "agent-log")


# --- the tests ----------------------------------------------------------------------------


def test_a_manager_shadows_an_agent_from_start_to_log(page: Page) -> None:
    shadow_an_agent(page)


def test_the_flow_breaks_no_content_security_policy(page: Page) -> None:
    violations: list[str] = []
    page_errors: list[str] = []

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error" and "Content Security Policy" in message.text:
            violations.append(message.text)

    page.on("console", on_console)
    page.on("pageerror", lambda error: page_errors.append(str(error)))

    shadow_an_agent(page, shoot=False)

    assert violations == []
    assert page_errors == []
    # The listener does hear a violation: an inline style is refused and reported.
    page.evaluate(
        "() => { const s = document.createElement('style');"
        " s.textContent = 'body { color: red }'; document.head.append(s); }"
    )
    poll(page, "1", lambda _: bool(violations), timeout=3)
    assert violations, "a refused inline style should show up as a CSP console error"


def _layout_problems(page: Page) -> tuple[int, list[str], list[dict[str, object]]]:
    scroll_width = page.evaluate("document.documentElement.scrollWidth")
    # The innermost elements that stick out on the right: where to look when the page is too wide.
    sticking_out = page.evaluate(
        """(width) => Array.from(document.body.querySelectorAll('*'))
            .filter((el) => el.getBoundingClientRect().right > width + 0.5)
            .filter((el, _, all) => !all.some((other) => other !== el && el.contains(other)))
            .map((el) => el.outerHTML.slice(0, 120))""",
        page.viewport_size["width"] if page.viewport_size else 0,
    )
    small = page.evaluate(
        """(selector) => Array.from(document.querySelectorAll(selector))
            .map((el) => ({text: el.textContent.trim(), box: el.getBoundingClientRect()}))
            .filter(({box}) => box.width > 0 && box.height > 0)
            .map(({text, box}) => ({text, height: box.height}))""",
        TAP_TARGETS,
    )
    too_small = [target for target in small if target["height"] < TAP_MIN_PX]
    return scroll_width, sticking_out, too_small


def assert_fits(page: Page, where: str, width: int = 360) -> None:
    scroll_width, sticking_out, too_small = _layout_problems(page)
    assert scroll_width <= width, (
        f"{where}: the page scrolls sideways ({scroll_width}px wide): {sticking_out}"
    )
    assert too_small == [], f"{where}: tap targets under {TAP_MIN_PX}px: {too_small}"


def test_every_screen_fits_a_360px_phone_with_thumb_sized_targets(page: Page) -> None:
    page.set_viewport_size({"width": 360, "height": 740})
    page.goto("/signin")
    assert_fits(page, "sign in")
    page.get_by_role("button", name=MANAGER).tap()
    expect(page.get_by_role("heading", name="Today", level=1)).to_be_visible()
    assert_fits(page, "Today")

    agent = start_shadowing(page, position=1)
    assert_fits(page, "shadowing, empty")
    choose_kind(page, "Correction")
    open_note(page)
    page.get_by_label("What I coached (optional)").fill("Walked through the refund form together.")
    tap_behaviour(page, "Explains the refund policy in plain words")
    expect(entry_for(page, "Explains the refund policy in plain words")).to_have_count(1)
    choose_kind(page, "Correction")  # shows the "What I coached" field again
    assert_fits(page, "shadowing, with an entry")
    wait_until_sent(entry_for(page, "Explains the refund policy in plain words"))
    entry_for(page, "Explains the refund policy in plain words").get_by_role(
        "link", name="Add a note"
    ).tap()
    expect(page.get_by_role("button", name="Save changes")).to_be_visible()
    assert_fits(page, "fixing an entry")
    page.get_by_role("button", name="Save changes").tap()
    expect(page.get_by_role("button", name="Save changes")).to_have_count(0)

    page.get_by_role("button", name="End session").tap()
    expect(page.get_by_role("heading", name=f"Session with {agent}", level=1)).to_be_visible()
    assert_fits(page, "summary")
    page.get_by_role("link", name=f"Open {agent.split()[0]}'s log").tap()
    expect(page.get_by_role("heading", name=agent, level=1)).to_be_visible()
    assert_fits(page, "agent's log")
