"""The shadowing screen on a phone on a busy floor: taps and scrolling counted, the confirmation
measured against the chips, an open session found again however the manager comes back to it.

These tests sign in as the demo's second and third managers, so that the sessions they open never
meet the ones the other browser tests open as Maria Santos.
"""

import re
import uuid
from dataclasses import dataclass, field

import pytest
from playwright.sync_api import Locator, Page, expect

from tests.e2e.harness import accessibility_violations, poll, screenshot

pytestmark = pytest.mark.e2e

CHIPS = "Behaviours: tap one to save"
KINDS = "What did you see?"
#: The confirmation goes by itself after about five seconds.
CONFIRMATION_SECONDS = 5


@dataclass
class Thumb:
    """The manager's thumb: every tap is counted, and so is every pixel the page scrolled."""

    page: Page
    taps: int = 0
    scrolled: float = 0
    log: list[str] = field(default_factory=list)

    def tap(self, target: Locator, what: str) -> None:
        before = self.page.evaluate("window.scrollY")
        box = target.bounding_box()
        assert box is not None, f"{what} is not on the screen"
        height = self.page.viewport_size["height"] if self.page.viewport_size else 0
        assert box["y"] >= 0 and box["y"] + box["height"] <= height, (
            f"{what} is off the screen (top at {box['y']:.0f}px): the manager would scroll"
        )
        target.tap()
        self.taps += 1
        self.log.append(what)
        self.scrolled += abs(self.page.evaluate("window.scrollY") - before)


def sign_in(page: Page, position: int) -> None:
    """Sign in as the demo manager at `position` (0 is Maria Santos, whom the others use)."""
    page.goto("/signin")
    managers = page.get_by_role("region", name="Managers")
    managers.get_by_role("button").nth(position).tap()
    expect(page.get_by_role("heading", name="Today", level=1)).to_be_visible()


def agent_with_most_checks_due(page: Page) -> tuple[int, int]:
    """(agent id, checks due) of the manager's agent with the most follow-ups due, read from each
    agent's shadowing screen (opening it starts nothing)."""
    ids = page.locator("a.agent-button[data-agent-id]").evaluate_all(
        "(forms) => forms.map((form) => Number(form.dataset.agentId))"
    )
    best = (0, -1)
    for agent_id in ids:
        html = page.request.get(f"/agents/{agent_id}/shadow").text()
        match = re.search(r"(\d+) checks? due:", html)
        due = int(match.group(1)) if match else 0
        if due > best[1]:
            best = (agent_id, due)
    return best


def first_agent(page: Page) -> int:
    """The first agent on the manager's Today."""
    first = page.locator("a.agent-button[data-agent-id]").first
    return int(first.get_attribute("data-agent-id") or 0)


def open_screen(page: Page, agent_id: int) -> None:
    page.goto(f"/agents/{agent_id}/shadow")
    expect(page.get_by_role("group", name=CHIPS)).to_be_visible()


def chip(page: Page, position: int) -> Locator:
    return page.get_by_role("group", name=CHIPS).get_by_role("button").nth(position)


def kind(page: Page, name: str) -> Locator:
    return page.get_by_role("group", name=KINDS).get_by_text(name, exact=True)


def entries(page: Page) -> Locator:
    return page.get_by_role("region", name=re.compile(r"^This session")).locator(
        "li[data-observation]"
    )


def confirmation(page: Page) -> Locator:
    return page.locator("[data-confirm] .confirm")


def end_session(page: Page) -> None:
    page.get_by_role("button", name="End session").tap()
    expect(page.get_by_role("heading", name=re.compile(r"^Session with "), level=1)).to_be_visible()


def boxes_overlap(a: dict[str, float], b: dict[str, float]) -> bool:
    return not (
        a["x"] + a["width"] <= b["x"]
        or b["x"] + b["width"] <= a["x"]
        or a["y"] + a["height"] <= b["y"]
        or b["y"] + b["height"] <= a["y"]
    )


def assert_confirmation_covers_no_chip(page: Page) -> None:
    saved = confirmation(page).bounding_box()
    assert saved is not None
    chips = page.get_by_role("group", name=CHIPS).get_by_role("button")
    for index in range(chips.count()):
        box = chips.nth(index).bounding_box()
        assert box is not None and not boxes_overlap(saved, box), f"covers chip {index}"
    # And it is not laid over the page: it takes its own place in the flow.
    assert confirmation(page).evaluate(
        "(el) => getComputedStyle(el).position === 'static'"
        " && getComputedStyle(el.parentElement).position === 'static'"
    )


def test_strengths_in_two_taps_then_one_each_with_checks_due_and_no_scrolling(page: Page) -> None:
    sign_in(page, 1)
    agent_id, due = agent_with_most_checks_due(page)
    assert due >= 3, f"the demo gives this manager an agent with 3 checks due (found {due})"
    open_screen(page, agent_id)
    strip = page.locator(".due-strip > summary")
    expect(strip).to_have_text(re.compile(rf"^{due} checks due: "))
    screenshot(page, "capture-checks-due")
    thumb = Thumb(page)

    # The first strength: the kind, then the chip.
    thumb.tap(kind(page, "Strength"), "Strength")
    first = chip(page, 4)
    name = first.inner_text().strip()
    thumb.tap(first, name)
    expect(entries(page)).to_have_count(1)
    expect(entries(page).first).to_contain_text(name)
    expect(page.get_by_role("status").filter(has_text=f"Strength saved: {name}")).to_be_visible()
    assert thumb.taps == 2 and thumb.scrolled == 0, thumb.log
    assert_confirmation_covers_no_chip(page)
    screenshot(page, "capture-strength-saved")

    # The kind stays chosen (colour, words and shape say so): each next strength is one tap.
    chosen = page.locator('label[for="kind-strength"]')
    expect(chosen).to_contain_text("selected")
    expect(page.get_by_role("radio", name="Strength", exact=True)).to_be_checked()
    thumb.tap(chip(page, 5), "second chip")
    expect(entries(page)).to_have_count(2)
    thumb.tap(chip(page, 0), "third chip")
    expect(entries(page)).to_have_count(3)
    assert thumb.taps == 4 and thumb.scrolled == 0, thumb.log
    expect(entries(page).filter(has_text="Strength")).to_have_count(3)
    assert_confirmation_covers_no_chip(page)

    # It goes by itself; the undo stays on the entry in the list.
    expect(confirmation(page)).to_have_count(0, timeout=(CONFIRMATION_SECONDS + 3) * 1000)
    expect(page.locator("[data-confirm]")).to_contain_text("Pick what you saw")
    expect(entries(page).first.get_by_role("button", name="Undo")).to_be_visible()
    screenshot(page, "capture-confirmation-gone")
    end_session(page)


def test_the_screen_is_clean_for_axe_in_light_and_dark(page: Page) -> None:
    sign_in(page, 2)
    agent_id = first_agent(page)
    for scheme in ("light", "dark"):
        page.emulate_media(color_scheme=scheme)
        open_screen(page, agent_id)
        kind(page, "Correction").tap()
        page.get_by_role("button", name="Note", exact=True).tap()
        expect(page.get_by_label("What I coached (optional)")).to_be_visible()
        assert accessibility_violations(page) == [], scheme
        screenshot(page, f"capture-{scheme}")


def test_the_htmx_save_swaps_in_only_the_entry_and_its_confirmation(page: Page) -> None:
    """With the outbox script missing (an old phone, a blocked file) htmx saves the form itself."""
    page.route(
        "**/static/js/outbox.js",
        lambda route: route.fulfill(body="", content_type="text/javascript"),
    )
    sign_in(page, 2)
    agent_id = first_agent(page)
    token = page.locator('meta[name="csrf-token"]').get_attribute("content") or ""
    page.request.post(
        f"/agents/{agent_id}/sessions",
        form={"csrf_token": token, "client_uuid": str(uuid.uuid4())},
    )
    open_screen(page, agent_id)
    page.evaluate("window.__samePage = 1")
    kind(page, "Strength").tap()
    name = chip(page, 1).inner_text().strip()
    chip(page, 1).tap()
    expect(page.get_by_role("status").filter(has_text=f"Strength saved: {name}")).to_be_visible()
    expect(entries(page).filter(has_text=name)).to_have_count(1)
    expect(page.get_by_role("radio", name="Strength", exact=True)).to_be_checked()
    assert page.evaluate("window.__samePage") == 1
    assert accessibility_violations(page) == []
    screenshot(page, "capture-htmx-saved")

    # An obstacle with no note: the server's message beside the note, in view; the field says why.
    kind(page, "Obstacle").tap()
    page.get_by_label("Note (needed for an obstacle)").fill("")
    chip(page, -1).scroll_into_view_if_needed()
    chip(page, -1).tap()
    message = page.get_by_text("Say in a few words what gets in the way.")
    expect(message).to_be_visible()
    expect(message).to_be_in_viewport()
    expect(page.get_by_label("Note (needed for an obstacle)")).to_be_focused()
    assert accessibility_violations(page) == []
    page.get_by_label("Note (needed for an obstacle)").fill("The headset cuts out.")
    page.get_by_role("button", name="Save", exact=True).tap()
    expect(entries(page).filter(has_text="The headset cuts out.")).to_have_count(1)
    end_session(page)


def test_an_obstacle_without_a_note_says_so_beside_the_note_in_view(page: Page) -> None:
    sign_in(page, 1)
    agent_id = first_agent(page)
    open_screen(page, agent_id)
    page.get_by_role("button", name="Note", exact=True).tap()
    page.get_by_label("Note (optional)", exact=True).fill("")
    kind(page, "Obstacle").tap()
    note = page.get_by_label("Note (needed for an obstacle)")
    expect(note).to_be_visible()
    # From the last chip, far below the note field.
    last = chip(page, -1)
    last.scroll_into_view_if_needed()
    last.tap()
    message = page.get_by_text("Say in a few words what gets in the way.")
    expect(message).to_be_in_viewport()
    expect(note).to_be_focused()
    expect(entries(page)).to_have_count(0)
    screenshot(page, "capture-obstacle-needs-note")
    note.fill("The queue screen froze.")
    last.tap()
    expect(entries(page).filter(has_text="The queue screen froze.")).to_have_count(1)
    end_session(page)


def test_an_open_session_shows_every_entry_however_the_manager_comes_back(page: Page) -> None:
    sign_in(page, 3)
    agent_id = first_agent(page)
    open_screen(page, agent_id)
    agent = page.get_by_role("heading", level=1).inner_text().strip()
    kind(page, "Strength").tap()
    names = []
    for position in (2, 3):
        names.append(chip(page, position).inner_text().strip())
        chip(page, position).tap()
    expect(entries(page)).to_have_count(2)
    poll(
        page,
        "document.querySelectorAll('[data-field=\"status\"]:not([hidden])').length",
        lambda n: n == 0,
    )

    def every_entry_shown(how: str) -> None:
        expect(page.get_by_role("heading", name=agent, level=1)).to_be_visible()
        expect(entries(page)).to_have_count(2)
        for name in names:
            expect(entries(page).filter(has_text=name)).to_have_count(1)
        expect(page.locator("[data-entry-count]")).to_have_text("2")
        expect(page.locator("[data-session-since]")).to_contain_text(
            f"Shadowing {agent.split()[0]} since "
        )
        screenshot(page, f"capture-back-{how}")

    # From Today, by "Continue with ..." and by the agent's own button.
    page.get_by_role("link", name="Today").tap()
    page.get_by_role("link", name=f"Continue with {agent}").tap()
    every_entry_shown("continue")
    page.get_by_role("link", name="Today").tap()
    page.locator(f'a.agent-button[data-agent-id="{agent_id}"]').tap()
    every_entry_shown("agent")
    # Back from Today, and a reload.
    page.get_by_role("link", name="Today").tap()
    expect(page.get_by_role("heading", name="Today", level=1)).to_be_visible()
    page.go_back()
    every_entry_shown("back")
    page.reload()
    every_entry_shown("reload")

    # Offline: the copy the phone keeps, from Today's agent button.
    kept = f"/agents/{agent_id}/shadow"
    poll(
        page,
        f"""(async () => {{
            const names = (await caches.keys()).filter((n) => n.startsWith('coachapp-pages-'));
            if (!names.length) return '';
            const cache = await caches.open(names[0]);
            const kept = await cache.match('{kept}', {{ignoreSearch: true}});
            return kept ? await kept.text() : '';
        }})()""",
        lambda text: all(name in (text or "") for name in names),
        timeout=10,
    )
    page.context.set_offline(True)
    try:
        page.get_by_role("link", name="Today").tap()
        page.locator(f'a.agent-button[data-agent-id="{agent_id}"]').tap()
        every_entry_shown("offline")
    finally:
        page.context.set_offline(False)
    end_session(page)
