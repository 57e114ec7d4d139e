"""Installable and offline, on the server's side: the manifest and its icons, the worker and what
it precaches, the offline page, and the shadowing screen that exists before its session does."""

import html
import json
import re
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from coachapp.core import assets
from coachapp.core.views import png_size
from coachapp.shadowing import service
from tests.conftest import Auth, World, make_observation, make_session

ROOT = Path(__file__).resolve().parent.parent
STATIC = ROOT / "static"


def test_the_manifest_has_what_an_install_needs(client: FlaskClient):
    answer = client.get("/manifest.webmanifest")
    assert answer.status_code == 200
    assert answer.mimetype == "application/manifest+json"
    manifest = answer.json
    assert (manifest["name"], manifest["short_name"]) == ("coachapp", "coachapp")
    assert (manifest["start_url"], manifest["scope"], manifest["id"]) == ("/", "/", "/")
    assert manifest["display"] == "standalone"
    # The colours of the top bar and the page in static/css/app.css.
    css = (STATIC / "css" / "app.css").read_text()
    assert f"--brand: {manifest['theme_color']};" in css
    assert f"--bg: {manifest['background_color']};" in css
    icons = {(icon["sizes"], icon.get("purpose", "any")) for icon in manifest["icons"]}
    assert {("192x192", "any"), ("512x512", "any"), ("512x512", "maskable")} <= icons
    assert [shot["form_factor"] for shot in manifest["screenshots"]] == ["narrow", "narrow"]


def test_every_image_of_the_manifest_exists_at_its_size(client: FlaskClient):
    manifest = client.get("/manifest.webmanifest").json
    plain = {hashed: name for name, hashed in assets.static_names().items()}
    for image in manifest["icons"] + manifest["screenshots"]:
        path = STATIC / plain[image["src"].removeprefix("/static/")]
        width, height = png_size(path)
        assert image["sizes"] == f"{width}x{height}", image["src"]
        assert client.get(image["src"]).status_code == 200
    for shot in manifest["screenshots"]:
        assert shot["label"]


def test_the_maskable_icon_fills_its_square():
    """A maskable icon has no transparent corners: launchers cut their own shape from it."""
    data = (STATIC / "icons" / "icon-maskable-512.png").read_bytes()
    # Colour type 2 (RGB) or 6 (RGBA) at 8 bits; the drawing itself is checked by eye.
    assert data[24] == 8 and data[25] in (2, 6)


def test_every_page_links_the_manifest_and_the_offline_scripts(
    client: FlaskClient, auth: Auth, world: World
):
    names = assets.static_names()

    def script(name: str) -> str:
        return f'src="/static/{names["js/" + name]}" defer'

    agent = world.agent_alex
    visits = ((None, "/signin"), (world.manager_maria, "/today"), (agent, f"/agents/{agent.id}"))
    for who, path in visits:
        if who is not None:
            auth.login(who)
        page = client.get(path).get_data(as_text=True)
        assert '<link rel="manifest" href="/manifest.webmanifest">' in page
        assert f'rel="apple-touch-icon" href="/static/{names["icons/icon-192.png"]}"' in page
        for name in ("outbox.js", "offline.js", "app.js"):
            assert script(name) in page
        # The shift's script only where shifts happen: a manager's pages.
        assert (script("shadowing.js") in page) == (who is world.manager_maria), path
        # app.js last in the head: the task that runs the last deferred script of the layout
        # also runs DOMContentLoaded (htmx's processing of the page).
        head = page[: page.index("</head>")]
        assert head.rindex("<script ") == head.index(script("app.js")) - len("<script ")
        assert 'data-worker-url="/service-worker.js"' in page


def test_the_iphone_hint_is_there_hidden_for_the_script_to_show(client: FlaskClient):
    page = client.get("/signin").get_data(as_text=True)
    hint = re.search(r'<p class="install-hint" data-ios-hint hidden>(.*?)</p>', page, re.S)
    assert hint, "the hint is in every page, hidden until offline.js finds iOS Safari"
    assert "Add coachapp to your home screen so nothing you save offline is lost" in hint.group(1)


def test_the_worker_is_served_from_the_root_with_its_scope(client: FlaskClient):
    answer = client.get("/service-worker.js")
    assert answer.status_code == 200
    assert answer.mimetype == "application/javascript"
    assert answer.headers["Service-Worker-Allowed"] == "/"
    assert answer.headers["Cache-Control"] == "no-cache"


def test_everything_the_worker_precaches_exists(client: FlaskClient):
    source = (ROOT / "service-worker.js").read_text()
    assert len(re.findall(r"^const CACHE_VERSION = ", source, re.M)) == 1
    shell = re.search(r"const SHELL = \[(.*?)\];", source, re.S)
    assert shell
    paths = re.findall(r'"(/[^"]*)"', shell.group(1)) + ["/offline"]
    assert "/static/js/outbox.js" in paths and "/static/icons/icon-512.png" in paths
    for path in paths:
        assert client.get(path).status_code == 200, path
    assert 'importScripts("/static/js/outbox.js")' in source


def test_the_worker_keeps_only_the_pages_of_a_shift():
    source = (ROOT / "service-worker.js").read_text()
    kept = re.search(r"const KEPT_PAGES = \[(.*?)\];", source, re.S)
    assert kept
    patterns = [
        re.compile(p.replace("\\/", "/")) for p in re.findall(r"/(\^.*?\$)/", kept.group(1))
    ]

    def is_kept(path: str) -> bool:
        return any(p.match(path) for p in patterns)

    for path in ("/today", "/agents/7/shadow", "/sessions/12", "/followups/3"):
        assert is_kept(path), path
    for path in (
        "/signin",
        "/signin/passkey/options",
        "/calendar/abc.ics",
        "/api/session",
        "/agents/7",
        "/people",
        "/invitations",
    ):
        assert not is_kept(path), path


def test_the_offline_page_names_no_one(client: FlaskClient):
    answer = client.get("/offline")
    assert answer.status_code == 200
    body = answer.get_data(as_text=True)
    assert "<h1>No signal</h1>" in body
    assert 'href="/today"' in body
    assert 'data-user=""' in body


def test_signed_in_answers_name_their_person_for_the_worker(
    app: Flask, client: FlaskClient, auth: Auth, world: World
):
    assert "X-Coachapp-User" not in client.get("/signin").headers
    auth.login(world.manager_maria)
    maria = client.get("/today").headers["X-Coachapp-User"]
    assert f'data-user="{maria}"' in client.get("/today").get_data(as_text=True)
    assert "X-Coachapp-User" not in client.get("/static/css/app.css").headers
    auth.login(world.manager_mo)
    assert client.get("/today").headers["X-Coachapp-User"] != maria


# --- the shadowing screen, before and after its session --------------------------------------


@pytest.fixture
def maria(client: FlaskClient, auth: Auth, world: World):
    """Maria signed in."""
    auth.login(world.manager_maria)
    return world.manager_maria


def shadow_page(client: FlaskClient, agent_id: int, session: str | None = None):
    query = f"?session={session}" if session else ""
    return client.get(f"/agents/{agent_id}/shadow{query}")


def test_a_session_the_server_has_not_seen_gets_a_blank_screen(
    client: FlaskClient, maria, world: World
):
    answer = shadow_page(client, world.agent_alex.id, str(uuid.uuid4()))
    body = answer.get_data(as_text=True)
    assert answer.status_code == 200
    assert "<h1>Alex Adams</h1>" in body
    assert 'data-session-uuid=""' in body, "the page's session comes from the address"
    assert "Greets by name" in body  # the chips
    assert 'id="entry-template"' in body and 'id="entry-editor-template"' in body
    assert "Nothing logged yet" in body


def test_the_open_session_is_shown_without_a_name(client: FlaskClient, maria, world: World):
    shadow = make_session(world.manager_maria, world.agent_alex)
    make_observation(shadow, note="Kind words.", behaviour_id=world.behaviours[0].id)
    body = shadow_page(client, world.agent_alex.id).get_data(as_text=True)
    assert f'data-session-uuid="{shadow.client_uuid}"' in body
    assert "Kind words." in body
    same = shadow_page(client, world.agent_alex.id, str(shadow.client_uuid)).get_data(as_text=True)
    assert "Kind words." in same


def test_an_ended_session_opens_as_its_summary(client: FlaskClient, maria, world: World):
    shadow = make_session(world.manager_maria, world.agent_alex)
    make_observation(shadow)  # an ended session without entries would leave no trace
    service.end_session(session=shadow, summary_note="", now=datetime.now(UTC))
    answer = shadow_page(client, world.agent_alex.id, str(shadow.client_uuid))
    assert answer.status_code == 302
    assert answer.location == f"/sessions/{shadow.id}"


def test_another_managers_agent_has_no_shadowing_screen(client: FlaskClient, maria, world: World):
    assert shadow_page(client, world.agent_bo.id).status_code == 404
    mine = make_session(world.manager_mo, world.agent_bo)
    assert shadow_page(client, world.agent_bo.id, str(mine.client_uuid)).status_code == 404


def test_today_names_the_pages_to_keep_for_offline(client: FlaskClient, maria, world: World):
    shadow = make_session(world.manager_maria, world.agent_alex)
    make_observation(shadow)
    page = client.get("/today").get_data(as_text=True)
    assert f'data-shadow-url="/agents/{world.agent_alex.id}/shadow"' in page
    assert f'href="/sessions/{shadow.id}" data-warm' in page


def test_the_texts_of_the_offline_code_are_rendered_for_translation(
    client: FlaskClient, maria, world: World
):
    """No word the phone shows is written in JavaScript: each comes from a template."""
    for script in ("offline.js", "shadowing.js", "outbox.js"):
        source = (STATIC / "js" / script).read_text()
        assert not re.search(r'textContent = "[A-Z]', source), script
    body = shadow_page(client, world.agent_alex.id).get_data(as_text=True)
    texts = re.search(r"<div hidden data-capture-texts(.*?)></div>", body, re.S)
    assert texts
    assert 'data-kind-missing="Choose strength, correction or obstacle first."' in texts.group(1)
    shell = re.search(r'<div id="offline-shell"(.*?)>', body, re.S)
    assert shell
    # Counts carry every plural form of the page's language, for Intl.PluralRules to choose.
    forms = re.search(r'data-count-forms="([^"]*)"', shell.group(1))
    assert forms
    assert json.loads(html.unescape(forms.group(1))) == {
        "one": "{count} entry waits on this phone",
        "other": "{count} entries wait on this phone",
    }


def test_the_workers_last_words_are_in_every_language(client: FlaskClient) -> None:
    source = client.get("/service-worker.js").get_data(as_text=True)
    for words in ("No signal", "Sin cobertura", "Sem sinal"):
        assert words in source
    assert '"No signal"' not in source  # replaced by the line in every language
