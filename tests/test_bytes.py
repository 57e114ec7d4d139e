"""Bytes on the wire: every text answer compressed by the app itself, static files under hashed
names cached for a year, the worker precaching those names once, and 304s for unchanged pages."""

import gzip
import re
from pathlib import Path

import brotli
from flask import Flask, url_for
from flask.testing import FlaskClient

from coachapp.core import assets
from tests.conftest import Auth, World

ROOT = Path(__file__).resolve().parent.parent
BROWSER = {"Accept-Encoding": "gzip, deflate, br, zstd"}
IDENTITY = {"Accept-Encoding": "identity"}
IMMUTABLE = "public, max-age=31536000, immutable"


def decoded(answer) -> bytes:  # type: ignore[no-untyped-def]
    data = answer.get_data()
    match answer.headers.get("Content-Encoding"):
        case "br":
            return brotli.decompress(data)
        case "gzip":
            return gzip.decompress(data)
        case None:
            return data
    raise AssertionError(answer.headers["Content-Encoding"])


def static_urls(page: str) -> list[str]:
    return re.findall(r'(?:href|src)="(/static/[^"]+)"', page)


def worker_shell(client: FlaskClient) -> list[str]:
    source = client.get("/service-worker.js").get_data(as_text=True)
    shell = re.search(r"const SHELL = \[(.*?)\];", source, re.S)
    assert shell
    return ["/offline"] + re.findall(r'"(/[^"]*)"', shell.group(1))


def test_a_page_is_compressed_and_says_it_varies(client: FlaskClient):
    answer = client.get("/signin", headers=BROWSER)
    assert answer.headers["Content-Encoding"] == "br"
    assert "Accept-Encoding" in answer.headers["Vary"]
    body = decoded(answer)
    assert b"<title>" in body and len(answer.get_data()) < len(body) / 2


def test_a_fragment_is_compressed(client: FlaskClient, auth: Auth, world: World):
    auth.login(world.manager_maria)
    headers = {**BROWSER, "HX-Request": "true"}
    answer = client.get(url_for("log.agent", agent_id=world.agent_alex.id), headers=headers)
    assert answer.status_code == 200
    assert answer.headers["Content-Encoding"] == "br"
    body = decoded(answer).decode()
    assert "<html" not in body, "a fragment, not the page"
    assert set(answer.headers["Vary"].replace(" ", "").split(",")) >= {
        "Accept-Encoding",
        "HX-Request",
    }


def test_a_static_file_is_served_pre_compressed_with_the_page_headers(client: FlaskClient):
    css = assets.static_names()["css/app.css"]
    plain = (ROOT / "static" / "css" / "app.css").read_bytes()
    for encoding, expected in (("br", "br"), ("gzip", "gzip"), ("identity", None)):
        answer = client.get(f"/static/{css}", headers={"Accept-Encoding": encoding})
        assert answer.status_code == 200
        assert answer.headers.get("Content-Encoding") == expected
        assert decoded(answer) == plain
        assert answer.headers["Vary"] == "Accept-Encoding"
        # WhiteNoise answers before Flask: the security headers are its own, and the same.
        assert "script-src 'self'" in answer.headers["Content-Security-Policy"]
        assert answer.headers["X-Content-Type-Options"] == "nosniff"
    assert len(client.get(f"/static/{css}", headers=BROWSER).get_data()) < len(plain) / 3


def test_hashed_urls_are_immutable_and_pages_are_revalidated(
    client: FlaskClient, auth: Auth, world: World
):
    page = client.get("/signin").get_data(as_text=True)
    urls = static_urls(page)
    assert urls and all(assets.HASHED.search(url) for url in urls), urls
    for url in urls:
        assert client.get(url).headers["Cache-Control"] == IMMUTABLE, url
    # The plain name still answers, for whatever names it, but is checked on every use.
    assert client.get("/static/css/app.css").headers["Cache-Control"] == "no-cache"
    assert client.get("/signin").headers["Cache-Control"] == "no-cache"
    assert client.get("/service-worker.js").headers["Cache-Control"] == "no-cache"
    auth.login(world.manager_maria)
    assert client.get("/today").headers["Cache-Control"] == "no-store"


def test_a_changed_file_gets_a_new_url_and_the_old_one_stays(tmp_path: Path):
    source, target = tmp_path / "static", tmp_path / "build"
    (source / "css").mkdir(parents=True)
    (source / "css" / "site.css").write_text("body { color: red; }\n" * 50)
    first = assets.build(source, target)["css/site.css"]
    assert assets.build(source, target)["css/site.css"] == first, "the same bytes, the same name"
    (source / "css" / "site.css").write_text("body { color: blue; }\n" * 50)
    second = assets.build(source, target)["css/site.css"]
    assert second != first and assets.HASHED.search(second)
    assert (target / first).exists(), "a page still naming the old file can load it"
    for name in (second, second + ".gz", second + ".br"):
        assert (target / name).exists(), name
    assert (target / "css" / "site.css").read_text() == (source / "css" / "site.css").read_text()


def test_the_worker_precaches_the_hashed_names_once_each(app: Flask, client: FlaskClient):
    shell = worker_shell(client)
    assert len(shell) == len(set(shell)), "no file twice"
    names = assets.static_names()
    statics = [url for url in shell if url.startswith("/static/")]
    page = client.get("/signin").get_data(as_text=True)
    linked = {url for url in static_urls(page) if "passkeys" not in url}
    assert linked <= set(statics), "everything a page links is in the shell"
    assert set(statics) <= {f"/static/{hashed}" for hashed in names.values()}
    source = client.get("/service-worker.js").get_data(as_text=True)
    assert f'importScripts("/static/{names["js/outbox.js"]}")' in source
    named = re.findall(r'"(/static/[^"]+)"', source)
    assert named and all(assets.HASHED.search(url) for url in named), "no plain name left"
    for url in shell:
        assert client.get(url).status_code == 200, url


def test_an_unchanged_shift_page_answers_304_with_its_etag(
    client: FlaskClient, auth: Auth, world: World
):
    auth.login(world.manager_maria)
    page = url_for("shadowing.shadow_agent", agent_id=world.agent_alex.id)
    for headers in (BROWSER, IDENTITY):
        first = client.get(page, headers=headers)
        assert first.status_code == 200
        etag = first.headers["ETag"]
        again = client.get(page, headers={**headers, "If-None-Match": etag})
        assert again.status_code == 304, headers
        assert again.get_data() == b""
        assert again.headers["ETag"] == etag
        # Only what a 304 must carry: the worker keeps the headers of its 200.
        assert "Content-Security-Policy" not in again.headers
        assert "Set-Cookie" not in again.headers, "an unchanged session is not sent again"
        other = client.get(page, headers={**headers, "If-None-Match": '"something-else"'})
        assert other.status_code == 200
    # Today, rendered twice, keeps its ETag too (its forms' fresh ids do not count).
    today = client.get("/today").headers["ETag"]
    assert client.get("/today").headers["ETag"] == today != client.get(page).headers["ETag"]


def test_everything_works_without_compression(client: FlaskClient, auth: Auth, world: World):
    for url in ("/signin", "/service-worker.js", "/manifest.webmanifest", "/offline"):
        answer = client.get(url, headers=IDENTITY)
        assert answer.status_code == 200, url
        assert "Content-Encoding" not in answer.headers, url
    auth.login(world.manager_maria)
    today = client.get("/today", headers=IDENTITY)
    assert today.status_code == 200 and "Content-Encoding" not in today.headers
    for url in static_urls(today.get_data(as_text=True)):
        answer = client.get(url, headers=IDENTITY)
        assert answer.status_code == 200 and "Content-Encoding" not in answer.headers, url


def test_the_worker_script_is_compressed_and_revalidated(client: FlaskClient):
    first = client.get("/service-worker.js", headers=BROWSER)
    assert first.headers["Content-Encoding"] == "br"
    assert first.headers["Service-Worker-Allowed"] == "/"
    again = client.get(
        "/service-worker.js", headers={**BROWSER, "If-None-Match": first.headers["ETag"]}
    )
    assert again.status_code == 304
