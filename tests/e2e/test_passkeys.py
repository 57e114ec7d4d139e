"""Passkeys in a real browser: Chromium's virtual authenticator (the DevTools WebAuthn domain)
stands in for a phone's Face ID. An admin invites a new agent, the agent creates a passkey from
the link on their own phone, signs out, signs in with it; with user verification switched off
the next sign-in fails with a message on the page."""

import re
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from playwright.sync_api import Browser, CDPSession, ConsoleMessage, Page, Route, expect

from tests.e2e.harness import PHONE, screenshot

pytestmark = pytest.mark.e2e

ADMIN = "Ada Okonkwo"
INVITEE = "Nia Novak"
TEAM = "Phone support"


@dataclass
class Authenticator:
    """A virtual platform authenticator attached to one page's browser context."""

    cdp: CDPSession
    id: str

    def credentials(self) -> list[dict[str, object]]:
        return self.cdp.send("WebAuthn.getCredentials", {"authenticatorId": self.id})["credentials"]

    def set_presence(self, automatic: bool) -> None:
        """Off: the phone lies in a pocket, nothing answers until it is switched back on."""
        self.cdp.send(
            "WebAuthn.setAutomaticPresenceSimulation",
            {"authenticatorId": self.id, "enabled": automatic},
        )

    def set_user_verified(self, verified: bool) -> None:
        self.cdp.send(
            "WebAuthn.setUserVerified", {"authenticatorId": self.id, "isUserVerified": verified}
        )


def add_virtual_authenticator(page: Page) -> Authenticator:
    """A phone's built-in passkey store with Face ID that says yes, until told otherwise."""
    cdp = page.context.new_cdp_session(page)
    cdp.send("WebAuthn.enable")
    added = cdp.send(
        "WebAuthn.addVirtualAuthenticator",
        {
            "options": {
                "protocol": "ctap2",
                "transport": "internal",
                "hasResidentKey": True,
                "hasUserVerification": True,
                "isUserVerified": True,
                "automaticPresenceSimulation": True,
            }
        },
    )
    return Authenticator(cdp, added["authenticatorId"])


@pytest.fixture
def invitee_page(browser: Browser, live_url: str) -> Iterator[Page]:
    """The invitee's own phone: a separate browser context, no cookies shared with the admin."""
    context = browser.new_context(base_url=live_url, **PHONE)
    context.set_default_timeout(10_000)
    yield context.new_page()
    context.close()


def watch_for_errors(page: Page) -> list[str]:
    """CSP violations and script errors on the page: the flow must produce none."""
    problems: list[str] = []

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error" and "Content Security Policy" in message.text:
            problems.append(message.text)

    page.on("console", on_console)
    page.on("pageerror", lambda error: problems.append(str(error)))
    return problems


# --- steps, as people take them ----------------------------------------------------------------


def admin_invites(page: Page, name: str) -> str:
    """The demo admin invites a new agent on the People page; returns the link shown once."""
    page.goto("/signin")
    page.get_by_role("button", name=ADMIN).tap()
    expect(page).not_to_have_url(re.compile(r"/signin$"))
    page.get_by_role("link", name="People", exact=True).tap()
    expect(page.get_by_role("heading", name="People", level=1)).to_be_visible()
    page.get_by_role("link", name="Invite someone").tap()
    page.get_by_label("Name", exact=True).fill(name)
    page.get_by_label("Role", exact=True).select_option(label="Agent")
    page.get_by_label("Team", exact=True).select_option(label=TEAM)
    page.get_by_role("button", name="Create invitation").tap()
    expect(page.get_by_role("heading", name=f"Invitation for {name}")).to_be_visible()
    expect(page.get_by_role("img", name="QR code of the invitation link")).to_be_visible()
    screenshot(page, "invitation-link")
    link = page.get_by_label("Invitation link").input_value()
    assert re.fullmatch(r"http://localhost:\d+/invite/[A-Za-z0-9_-]{32}", link), link
    return link


def sign_out(page: Page) -> None:
    page.get_by_role("link", name="Account", exact=True).tap()
    page.get_by_role("button", name="Sign out", exact=True).tap()
    expect(page).to_have_url(re.compile(r"/signin$"))


def sign_out_leaving_autofill_waiting(
    page: Page, phone: Authenticator, *, verified: bool = True
) -> None:
    """Sign out with the phone out of reach, so that the sign-in page's background (autofill)
    request is still waiting when the person taps the button, as on a real phone."""
    phone.set_presence(False)
    phone.set_user_verified(verified)
    with page.expect_response(lambda answer: answer.url.endswith("/signin/passkey/options")):
        sign_out(page)
    page.wait_for_timeout(300)  # the page hands the options to the browser's pending request
    phone.set_presence(True)


def sign_in_with_passkey(page: Page) -> None:
    page.get_by_role("button", name="Sign in with a passkey").tap()


# --- the journey -------------------------------------------------------------------------------


def test_an_invited_agent_creates_a_passkey_and_signs_in_with_it(
    page: Page, invitee_page: Page
) -> None:
    link = admin_invites(page, INVITEE)
    phone = add_virtual_authenticator(invitee_page)
    problems = watch_for_errors(invitee_page)

    invitee_page.goto(link)
    expect(invitee_page.get_by_role("heading", name=f"Welcome, {INVITEE}")).to_be_visible()
    expect(invitee_page.get_by_text(f"as Agent in {TEAM}")).to_be_visible()
    screenshot(invitee_page, "invitation")
    invitee_page.get_by_role("button", name="Create a passkey").tap()

    expect(invitee_page).to_have_url(re.compile(r"/agents/\d+$"))
    welcome = invitee_page.get_by_role("status").filter(has_text=f"Welcome, {INVITEE}")
    expect(welcome).to_contain_text("Your passkey is ready")
    expect(invitee_page.get_by_role("heading", name="My coaching log")).to_be_visible()
    [credential] = phone.credentials()
    assert credential["isResidentCredential"] is True
    assert credential["rpId"] == "localhost"
    # The link worked once: opening it again says so.
    invitee_page.goto(link)
    expect(
        invitee_page.get_by_role("heading", name="This invitation has already been used")
    ).to_be_visible()

    invitee_page.goto("/")
    sign_out_leaving_autofill_waiting(invitee_page, phone)
    sign_in_with_passkey(invitee_page)

    expect(invitee_page).to_have_url(re.compile(r"/agents/\d+$"))
    expect(invitee_page.get_by_role("heading", name="My coaching log")).to_be_visible()
    screenshot(invitee_page, "signed-in-with-passkey")
    [credential] = phone.credentials()
    assert credential["signCount"] >= 1

    invitee_page.get_by_role("link", name="Account", exact=True).tap()
    expect(invitee_page.get_by_role("heading", name="My passkeys", level=2)).to_be_visible()
    expect(invitee_page.get_by_text("last used")).to_be_visible()
    expect(invitee_page.get_by_text("This is your only passkey")).to_be_visible()
    screenshot(invitee_page, "my-passkeys")

    # Passkey autofill: the sign-in page asks in the background; choosing the passkey (which the
    # virtual authenticator does at once) signs in without a tap on the button.
    sign_out(invitee_page)
    expect(invitee_page).to_have_url(re.compile(r"/agents/\d+$"))

    sign_out_leaving_autofill_waiting(invitee_page, phone, verified=False)
    sign_in_with_passkey(invitee_page)

    alert = invitee_page.get_by_role("alert")
    expect(alert).to_be_visible()
    expect(alert).to_contain_text("did not confirm it was you")
    expect(invitee_page).to_have_url(re.compile(r"/signin$"))
    screenshot(invitee_page, "passkey-refused")
    invitee_page.goto("/")
    expect(invitee_page).to_have_url(re.compile(r"/signin"))
    assert problems == []


def test_the_admin_sees_the_new_person_and_the_audit_trail(page: Page) -> None:
    page.goto("/signin")
    page.get_by_role("button", name=ADMIN).tap()
    expect(page).not_to_have_url(re.compile(r"/signin$"))
    page.goto("/admin/audit")
    expect(page.get_by_role("heading", name="Audit log", level=1)).to_be_visible()
    page.get_by_label("What happened").select_option(label="Invitation created")
    page.get_by_role("button", name="Show").tap()
    expect(page).to_have_url(re.compile(r"action=invitation\.created"))
    screenshot(page, "audit-log")


def test_the_passkey_autofills_late_answer_leaves_a_demo_sign_in_in_place(page: Page) -> None:
    """The race, in the order that undid sign-ins: the autofill's request for options reaches
    the server as the page opens, a demo person is tapped and signed in, and only then, before
    the next page, does the options' answer arrive. Each step is held and let go in that order."""
    options: list[Route] = []
    demo: list[Route] = []
    page.route("**/signin/passkey/options", lambda route: options.append(route))
    page.route("**/signin/demo", lambda route: demo.append(route))
    page.goto("/signin")
    # The server answers the options at once, with the cookies the page opened with ...
    answered = _held(page, options).fetch()
    assert answered.ok
    # ... a demo person is signed in: from now on that cookie is the browser's ...
    page.get_by_role("button", name="Maria Santos").tap()
    signed_in = _held(page, demo).fetch(max_redirects=0)
    assert signed_in.status == 303
    # ... then the options' answer reaches the page, whatever cookies it carries ...
    options[0].fulfill(response=answered)
    # ... and the browser follows the sign-in to the next page, with the cookies it now holds.
    headers = {k: v for k, v in signed_in.headers.items() if k.lower() != "set-cookie"}
    demo[0].fulfill(status=303, headers=headers, body="")
    expect(page.get_by_role("heading", name="Today", level=1)).to_be_visible()
    page.reload()
    expect(page.get_by_role("heading", name="Today", level=1)).to_be_visible()


def _held(page: Page, routes: list[Route]) -> Route:
    """The one request a route handler is holding, once the browser has made it."""
    for _ in range(250):
        if routes:
            assert len(routes) == 1, "one request held"
            return routes[0]
        page.wait_for_timeout(20)  # the handler runs while the page is waited on
    raise AssertionError("the request was never made")
