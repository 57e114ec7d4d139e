"""Every language on a 360 px phone: the main pages of each role fit the screen and speak the
language, with no English sentence of the catalogue left on them (names and data aside).

One browser context per language, its Accept-Language that language's; each role signs in from
the demo list in turn. Screenshots: tests/e2e/screenshots/language-<lang>-<page>.png.
"""

import re
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from playwright.sync_api import Browser, Page, expect

from coachapp.i18n import CATALOGUES, LANGUAGES, SOURCE_LANGUAGE
from tests.e2e.harness import PHONE, screenshot

pytestmark = pytest.mark.e2e

#: The smallest phone we promise to fit; no service worker (its install fetches every shell file,
#: which this test does not need).
NARROW = {
    **PHONE,
    "viewport": {"width": 360, "height": 780},
    "device_scale_factor": 1,
    "service_workers": "block",
}
#: The demo list's sections, in the sign-in page's order.
ROLES = ["manager", "agent", "trainer", "admin"]
#: Words that read the same in English and some languages, or are names, not sentences.
ALLOWED = {"coachapp", "OK", "E-mail", "Email", "CSV", "JSON", "QR", "iPhone", "Android", "n"}

#: Visible text, one string per text node (hidden elements and scripts left out).
VISIBLE_TEXT = """() => {
  const out = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const node = walker.currentNode;
    const text = node.textContent.replace(/\\s+/g, " ").trim();
    if (!text) continue;
    const el = node.parentElement;
    if (!el || el.closest("script, style, template, [hidden]")) continue;
    if (!el.checkVisibility()) continue;
    out.push(text);
  }
  return out;
}"""

#: What sticks out to the right of a 360 px screen (outside any scrolling box of its own).
OVERFLOW = """() => {
  const width = document.documentElement.clientWidth;
  const wide = [];
  for (const el of document.body.querySelectorAll("*")) {
    const box = el.getBoundingClientRect();
    if (box.width === 0 || box.right <= width + 1) continue;
    let scroller = el.parentElement, inside = false;
    while (scroller && scroller !== document.body) {
      const style = getComputedStyle(scroller);
      if (["auto", "scroll", "hidden", "clip"].includes(style.overflowX)) { inside = true; break; }
      scroller = scroller.parentElement;
    }
    const text = (el.textContent || "").trim().slice(0, 40);
    if (!inside) wide.push(`${el.tagName.toLowerCase()}.${el.className}: ${text}`);
  }
  return {scroll: document.documentElement.scrollWidth, width, wide: wide.slice(0, 8)};
}"""


def english_left(lang: str) -> list[re.Pattern[str]]:
    """A matcher for each English message this language translates differently: a text node
    that is such a message, placeholders standing for any text, is English left on the page."""
    with (CATALOGUES / lang / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        catalogue = read_po(handle, locale=lang)
    patterns = []
    for message in catalogue:
        if not message.id:
            continue
        sources = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        for source in sources:
            if source in strings or source in ALLOWED or len(source) < 3:
                continue
            parts = re.split(r"%\([a-z_]+\)[sdif]|\{[a-z_]+\}", source)
            # "%(name)s: %(n)d" or "%(profile)s agent" could be data: two words of English at least.
            if len(parts) > 1 and len(re.findall(r"[A-Za-z]{2,}", "".join(parts))) < 2:
                continue
            patterns.append(re.compile("^" + ".+?".join(re.escape(p) for p in parts) + "$"))
    return patterns


def sign_in_as(page: Page, role: str) -> None:
    page.context.clear_cookies()
    page.goto("/signin")
    section = page.locator("main section.card:has(button.person-button)").nth(ROLES.index(role))
    section.locator("button.person-button").first.tap()
    expect(page).not_to_have_url(re.compile(r"/signin$"))


def check(page: Page, lang: str, name: str, english: list[re.Pattern[str]], found: dict) -> None:
    expect(page.locator("html")).to_have_attribute("lang", lang)
    screenshot(page, f"language-{lang}-{name}")
    fit = page.evaluate(OVERFLOW)
    if fit["scroll"] > fit["width"] or fit["wide"]:
        found.setdefault("overflow", []).append(f"{name}: {fit}")
    left = sorted(
        {text for text in page.evaluate(VISIBLE_TEXT) if any(p.match(text) for p in english)}
    )
    if left:
        found.setdefault("english", []).append(f"{name}: {left[:12]}")


def shadow_url(page: Page) -> str | None:
    return page.locator("a[data-shadow-url]").first.get_attribute("data-shadow-url")


@pytest.mark.parametrize("lang", [code for code in LANGUAGES if code != SOURCE_LANGUAGE])
def test_main_pages_of_every_role_fit_and_speak_the_language(
    browser: Browser, live_url: str, lang: str
) -> None:
    context = browser.new_context(base_url=live_url, **{**NARROW, "locale": lang})
    context.set_default_timeout(15_000)
    page = context.new_page()
    english = english_left(lang)
    found: dict[str, list[str]] = {}
    try:
        sign_in_as(page, "manager")
        check(page, lang, "manager-today", english, found)
        url = shadow_url(page)
        if url:
            page.goto(url)
            check(page, lang, "manager-shadowing", english, found)
        sign_in_as(page, "agent")
        check(page, lang, "agent-log", english, found)
        sign_in_as(page, "trainer")
        page.goto("/dashboard")
        check(page, lang, "trainer-dashboard", english, found)
        sign_in_as(page, "admin")
        page.goto("/admin/settings")
        check(page, lang, "admin-settings", english, found)
        page.goto("/account")
        check(page, lang, "admin-account", english, found)
    finally:
        context.close()
    assert found == {}, "\n".join(line for lines in found.values() for line in lines)


def test_the_screenshots_directory_is_ignored_by_git() -> None:
    ignored = (Path(__file__).resolve().parents[2] / ".gitignore").read_text()
    assert "tests/e2e/screenshots/" in ignored
