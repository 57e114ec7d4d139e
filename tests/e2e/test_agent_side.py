"""The agent's side on a phone: an agent reads a new correction and asks about it, the manager
answers from Today, the agent rates themselves, and the manager sees that self-check beside the
next re-observation."""

import re
import uuid
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Page, expect

from tests.e2e.harness import PHONE, screenshot, scroll_under_header
from tests.e2e.test_shadowing_flow import (
    MANAGER,
    assert_fits,
    choose_kind,
    open_note,
    sign_in_from_demo_list,
    start_shadowing,
    tap_behaviour,
)

pytestmark = pytest.mark.e2e

BEHAVIOUR = "Asks before putting the customer on hold"
PHONE_WIDTH = PHONE["viewport"]["width"]  # type: ignore[index]


@pytest.fixture
def manager_page(browser: Browser, live_url: str) -> Iterator[Page]:
    """A second phone, the manager's, beside the agent's (`page`)."""
    context = browser.new_context(base_url=live_url, **PHONE)
    context.set_default_timeout(10_000)
    yield context.new_page()
    context.close()


def watch_for_csp_violations(*pages: Page) -> list[str]:
    problems: list[str] = []

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error" and "Content Security Policy" in message.text:
            problems.append(message.text)

    for page in pages:
        page.on("console", on_console)
        page.on("pageerror", lambda error: problems.append(str(error)))
    return problems


def log_a_correction(page: Page, note: str) -> str:
    """As the manager: shadow an agent, log a correction, end the session. Returns the agent."""
    sign_in_from_demo_list(page, MANAGER)
    agent = start_shadowing(page, position=2)
    choose_kind(page, "Correction")
    open_note(page)
    page.get_by_label("Note (optional)", exact=True).fill(note)
    page.get_by_label("What I coached (optional)").fill("Practised asking first.")
    tap_behaviour(page, BEHAVIOUR)
    expect(
        page.get_by_role("status").filter(has_text=f"Correction saved: {BEHAVIOUR}")
    ).to_be_visible()
    page.get_by_role("button", name="End session").tap()
    expect(page.get_by_role("heading", name=f"Session with {agent}", level=1)).to_be_visible()
    return agent


def test_an_agent_asks_the_manager_answers_and_the_self_check_reaches_the_next_check(
    page: Page, manager_page: Page
) -> None:
    problems = watch_for_csp_violations(page, manager_page)
    reference = uuid.uuid4().hex[:8]
    note = f"Put the caller on hold without asking. Ref {reference}."
    agent = log_a_correction(manager_page, note)
    first_name = agent.split()[0]

    # The agent opens their log on their phone and finds the new correction, who wrote it, when.
    sign_in_from_demo_list(page, agent)
    expect(page.get_by_role("heading", name="My coaching log", level=1)).to_be_visible()
    entry = page.locator("li.entry-correction").filter(has_text=reference)
    expect(entry).to_contain_text(BEHAVIOUR)
    expect(entry).to_contain_text(f"Written by {MANAGER} on")
    expect(entry).to_contain_text("Coached: Practised asking first.")
    assert_fits(page, "my log", width=PHONE_WIDTH)

    # Seen, then a question, in place.
    entry.get_by_role("button", name="Mark as seen").tap()
    expect(entry.get_by_role("button", name="Mark as seen")).to_have_count(0)
    log_url = page.url
    entry.get_by_role("link", name="Reply or ask").tap()
    question = f"Do I ask before every hold, even a short one? {reference}"
    entry.get_by_label("Your reply or question").fill(question)
    assert page.url == log_url, "the link opens the thread in place, not its own page"
    entry.get_by_role("button", name="Ask for clarification").tap()
    expect(entry.get_by_role("status")).to_have_text("Sent.")
    expect(entry).to_contain_text(question)
    scroll_under_header(page, entry)
    screenshot(page, "agent-asks")

    # The manager sees the unread question on Today and answers in the same thread.
    manager_page.goto("/today")
    unread = manager_page.get_by_role("region", name=re.compile(r"^Unread replies"))
    row = unread.get_by_role("link").filter(has_text=question)
    expect(row).to_contain_text(agent)
    expect(row).to_contain_text("asks for clarification")
    scroll_under_header(manager_page, unread)
    screenshot(manager_page, "today-unread-replies")
    row.tap()
    expect(manager_page.get_by_role("heading", name=f"About {agent}", level=1)).to_be_visible()
    assert_fits(manager_page, "thread", width=PHONE_WIDTH)
    answer = f"Yes, every hold: ask, then wait for the yes. {reference}"
    manager_page.get_by_label("Your answer").fill(answer)
    manager_page.get_by_role("button", name="Send answer").tap()
    thread = manager_page.locator(".thread")
    expect(thread.get_by_role("status")).to_have_text("Sent.")
    expect(thread).to_contain_text(answer)
    manager_page.goto("/today")
    expect(manager_page.get_by_role("link").filter(has_text=question)).to_have_count(0)

    # The agent reads the answer, then rates themselves before the next check.
    page.reload()
    entry = page.locator("li.entry-correction").filter(has_text=reference)
    expect(entry).to_contain_text(answer)
    page.get_by_role("navigation", name="My coaching").get_by_role("link", name="Focus items").tap()
    expect(page.get_by_role("heading", name="My focus items", level=1)).to_be_visible()
    item = page.get_by_role("article").filter(
        has=page.get_by_role("heading", name=BEHAVIOUR, level=2)
    )
    expect(item).to_contain_text("Next check around")
    expect(item).to_contain_text("It is not a score.")
    self_check = item.get_by_role("region", name="My self-check before the next check")
    self_check.get_by_label("A note for your manager (optional)").fill(
        f"I asked on most holds today. {reference}"
    )
    self_check.get_by_role("group", name="How is it going?").get_by_role(
        "button", name="Partly", exact=True
    ).tap()
    expect(self_check.get_by_role("status")).to_have_text(
        "Saved. Your manager sees it beside the next check."
    )
    assert_fits(page, "my focus items", width=PHONE_WIDTH)
    scroll_under_header(page, item)
    screenshot(page, "agent-self-check")

    # The manager opens the next re-observation: the self-check is beside the four outcomes.
    manager_page.goto("/people")
    manager_page.get_by_role("link", name=agent, exact=True).tap()
    manager_page.get_by_role("navigation", name=f"{first_name}'s coaching").get_by_role(
        "link", name="Focus items"
    ).tap()
    managers_item = manager_page.get_by_role("article").filter(
        has=manager_page.get_by_role("heading", name=BEHAVIOUR, level=2)
    )
    managers_item.get_by_role("link", name="Record the next check").tap()
    card = manager_page.get_by_role("article").filter(
        has=manager_page.get_by_role("heading", name=BEHAVIOUR)
    )
    beside = card.get_by_role("note", name="Self-check")
    expect(beside).to_contain_text(f"{first_name}'s self-check:")
    expect(beside).to_contain_text("Partly")
    expect(beside).to_contain_text(f"I asked on most holds today. {reference}")
    screenshot(manager_page, "check-with-self-check")
    card.get_by_role("group", name="How did it go?").get_by_role(
        "button", name="Sustained", exact=True
    ).tap()
    expect(card.get_by_role("status")).to_contain_text("Recorded: Sustained")
    expect(card).to_contain_text(f"{first_name} saw it going less well than was observed.")

    assert problems == []
