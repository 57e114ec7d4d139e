"""Draw the PNG icons of the web app manifest from static/icons/icon.svg, in Debian's Chromium.

Run once after changing the SVG: .venv/bin/python scripts/make_icons.py
"""

import base64
from pathlib import Path

from playwright.sync_api import sync_playwright

ICONS = Path(__file__).resolve().parent.parent / "static" / "icons"
CHROMIUM = "/usr/bin/chromium"
BRAND = "#0f5c4d"


def glyph(svg: str) -> str:
    """The drawing inside the rounded square: everything after the background rect."""
    body = svg.split(">", 1)[1].rsplit("</svg>", 1)[0]
    return body.split("/>", 1)[1]


def maskable(svg: str) -> str:
    """Full-bleed background, the drawing shrunk into the safe zone (the middle 80% circle) that
    every launcher's mask keeps."""
    return (
        '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 512 512">'
        f'<rect width="512" height="512" fill="{BRAND}"/>'
        f'<g transform="translate(256 256) scale(0.72) translate(-248 -261)">{glyph(svg)}</g>'
        "</svg>"
    )


def render(page, svg: str, size: int, path: Path) -> None:  # type: ignore[no-untyped-def]
    page.set_viewport_size({"width": size, "height": size})
    encoded = base64.b64encode(svg.encode()).decode()
    page.set_content(
        '<html><body style="margin:0;background:transparent">'
        f'<img src="data:image/svg+xml;base64,{encoded}" '
        f'width="{size}" height="{size}" style="display:block"></body></html>'
    )
    page.screenshot(path=str(path), omit_background=True)


def main() -> None:
    svg = (ICONS / "icon.svg").read_text().strip()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        page = browser.new_page(device_scale_factor=1)
        render(page, svg, 192, ICONS / "icon-192.png")
        render(page, svg, 512, ICONS / "icon-512.png")
        render(page, maskable(svg), 512, ICONS / "icon-maskable-512.png")
        browser.close()


if __name__ == "__main__":
    main()
