"""An admin adds people from a CSV file on a phone: a file with a mistake is previewed with the
reason next to its row, corrected on the page, previewed again, confirmed, and the invitation
links are there at once: QR sheets one per team, and a CSV of the links to download."""

import csv
import io
import re

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.harness import accessibility_violations, screenshot
from tests.e2e.test_shadowing_flow import assert_fits

pytestmark = pytest.mark.e2e

CSV = (
    "\ufeffname;email;role;team;role_profile\r\n"
    "Žydrūnė Šimkutė;zydrune@example.lt;agent;Vilnius;Contact-centre agent\r\n"
    "Łukasz Żółkiewski;;manager;Vilnius;\r\n"
    "Анна Кузнецова;;agent;Phone support;\r\n"
    "João Gonçalves;;trainer;Reception;\r\n"
)


def sign_in_as_the_demo_admin(page: Page) -> None:
    page.goto("/signin")
    admins = page.get_by_role("region", name="Admins")
    admins.get_by_role("button").first.tap()
    expect(page).not_to_have_url(re.compile(r"/signin$"))


def test_an_admin_uploads_previews_and_prints_the_links(page: Page) -> None:
    sign_in_as_the_demo_admin(page)
    page.goto("/admin/people")
    page.get_by_role("link", name="Add many people from a CSV file").tap()
    expect(page.get_by_role("heading", name="Add people from a CSV file", level=1)).to_be_visible()
    assert_fits(page, "upload", width=390)
    page.get_by_label("CSV file").set_input_files(
        files=[{"name": "people.csv", "mimeType": "text/csv", "buffer": CSV.encode("utf-8")}]
    )
    screenshot(page, "people-import-upload")
    assert accessibility_violations(page) == []
    page.get_by_role("button", name="Preview").tap()

    # A trainer with a team: the reason is next to the row, nothing can be confirmed.
    expect(page.get_by_role("heading", name="Preview of the import", level=1)).to_be_visible()
    row = page.locator("#row-5")
    expect(row).to_contain_text("A trainer has no team: leave the team empty.")
    expect(page.get_by_role("button", name=re.compile(r"^Create \d+ invitation"))).to_have_count(0)
    assert_fits(page, "preview with an error", width=390)
    screenshot(page, "people-import-preview-error", full_page=True)
    assert accessibility_violations(page) == []

    # Corrected on the page, without uploading again.
    rows = page.get_by_label("Or paste the rows here")
    expect(rows).to_have_value(re.compile("João Gonçalves;;trainer;Reception;"))
    rows.fill(rows.input_value().replace("trainer;Reception;", "trainer;;"))
    page.get_by_role("button", name="Preview").tap()
    expect(page.get_by_text("4 new invitations")).to_be_visible()
    expect(page.get_by_text("1 team to be created: Vilnius")).to_be_visible()
    expect(page.locator("#row-3")).to_contain_text("team to be created")
    assert_fits(page, "preview", width=390)
    screenshot(page, "people-import-preview", full_page=True)
    assert accessibility_violations(page) == []

    page.get_by_role("button", name="Create 4 invitations").first.tap()
    expect(page.get_by_role("heading", name="4 invitations created", level=1)).to_be_visible()
    sheets = page.locator(".link-sheet")
    expect(sheets).to_have_count(3)
    expect(sheets.nth(0).get_by_role("heading", level=2)).to_have_text("Vilnius")
    expect(
        page.get_by_role("img", name="QR code of the invitation link for Анна Кузнецова")
    ).to_be_visible()
    assert_fits(page, "links", width=390)
    screenshot(page, "people-import-links", full_page=True)
    assert accessibility_violations(page) == []

    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download the links (CSV)").tap()
    download = download_info.value
    assert re.fullmatch(r"invitations-\d{4}-\d{2}-\d{2}\.csv", download.suggested_filename)
    text = open(download.path(), encoding="utf-8-sig").read()  # noqa: PTH123, SIM115
    lines = list(csv.reader(io.StringIO(text)))
    assert lines[0] == ["Name", "E-mail", "Team", "Link"]
    assert [line[0] for line in lines[1:]] == [
        "Žydrūnė Šimkutė",
        "Łukasz Żółkiewski",
        "Анна Кузнецова",
        "João Gonçalves",
    ]
    assert all("/invite/" in line[3] for line in lines[1:])

    # Printed, each team's sheet starts a page of its own and the screen's buttons are gone.
    page.emulate_media(media="print")
    assert (
        page.locator(".link-sheet").first.evaluate("e => getComputedStyle(e).breakAfter") == "page"
    )
    expect(page.get_by_role("link", name="Download the links (CSV)")).to_be_hidden()
    screenshot(page, "people-import-print", full_page=True)
    pdf = page.pdf(format="A4", print_background=True)
    assert len(re.findall(rb"/Type\s*/Page[^s]", pdf)) == 3, "one printed page a team"
    page.emulate_media(media="screen")
