"""Bytes on the wire: static files under content-hashed names, pre-compressed and cached for a
year (WhiteNoise), pages and fragments compressed on the fly (Flask-Compress), and ETags on pages
so that the service worker's refresh of a shift's pages costs a 304 when nothing changed.

At start-up every file of static/ is copied once into the build folder (instance/static by
default, COACHAPP_STATIC_BUILD to move it) as NAME.HASH.EXT beside a .gz and a .br of it; the
plain name stays there too (a hard link), served with `no-cache` for anything that still names
it. `url_for("static", filename=...)` answers the hashed URL, so templates need no change.
Building is idempotent and safe with several workers: each file is written under a temporary
name and renamed into place.
"""

import hashlib
import os
import re
import tempfile
from pathlib import Path

from flask import Flask, Response, current_app, g, request, session, url_for
from flask_compress import Compress
from whitenoise import WhiteNoise
from whitenoise.compress import Compressor

from coachapp import security

#: What a hashed name looks like: app.0123456789ab.css.
HASHED = re.compile(r"\.[0-9a-f]{12}\.[A-Za-z0-9]+$")
HASH_LENGTH = 12
IMMUTABLE = "public, max-age=31536000, immutable"
#: Worth compressing: text. Images (PNG) are compressed already.
TEXT_SUFFIXES = frozenset({".css", ".js", ".svg", ".json", ".txt", ".html", ".webmanifest"})
#: Headers a 304 keeps (RFC 9110, 15.4.5); the rest were sent with the 200 the client holds.
NOT_MODIFIED_HEADERS = frozenset(
    {"cache-control", "content-location", "date", "etag", "expires", "vary", "set-cookie"}
)

#: Per-render values a page carries that say nothing about its content (see _page_etag).
PER_RENDER = re.compile(rb'(?<=name="client_uuid" value=")[^"]*')

compress = Compress()


def hashed_name(relative: str, content: bytes) -> str:
    digest = hashlib.sha256(content).hexdigest()[:HASH_LENGTH]
    stem, dot, suffix = relative.rpartition(".")
    if not dot or "/" in suffix:
        return f"{relative}.{digest}"
    return f"{stem}.{digest}.{suffix}"


def _write(path: Path, data: bytes) -> None:
    """Write under a temporary name, then rename: a reader never sees half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=".build-")
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    os.chmod(temporary, 0o644)
    os.replace(temporary, path)


def _link(source: Path, target: Path) -> None:
    """target becomes the same file as source (a hard link, else a copy), atomically."""
    if target.exists() and source.exists() and os.path.samefile(source, target):
        return
    temporary = target.with_name(f".build-{os.getpid()}-{target.name}")
    temporary.unlink(missing_ok=True)
    try:
        os.link(source, temporary)
    except OSError:
        temporary.write_bytes(source.read_bytes())
    os.replace(temporary, target)


def build(source: Path, target: Path) -> dict[str, str]:
    """Copy static/ into `target` under hashed names with .gz and .br beside each text file.

    Returns plain name -> hashed name (relative to the static folder, with forward slashes).
    """
    names: dict[str, str] = {}
    compressor = Compressor(quiet=True)
    for path in sorted(source.rglob("*")):
        if not path.is_file() or any(p.startswith(".") for p in path.relative_to(source).parts):
            continue
        relative = path.relative_to(source).as_posix()
        content = path.read_bytes()
        hashed = hashed_name(relative, content)
        names[relative] = hashed
        built = target / hashed
        variants = [""]
        if path.suffix in TEXT_SUFFIXES:
            variants += [".gz", ".br"]
        if not built.exists():
            _write(built, content)
            if len(variants) > 1:
                for suffix, packed in (
                    (".gz", compressor.compress_gzip(content)),
                    (".br", compressor.compress_brotli(content)),
                ):
                    # Served only where it saves something (WhiteNoise picks what exists).
                    if len(packed) <= 0.95 * len(content):
                        _write(built.with_name(built.name + suffix), packed)
        for suffix in variants:
            variant = built.with_name(built.name + suffix)
            plain = target / (relative + suffix)
            if variant.exists():
                _link(variant, plain)
            else:
                plain.unlink(missing_ok=True)
    return names


def static_url(filename: str) -> str:
    """The URL of a static file: its hashed name when it has one."""
    return url_for("static", filename=filename)


def _hashed_filenames(app: Flask, names: dict[str, str]) -> None:
    @app.url_defaults
    def _hashed(endpoint: str, values: dict[str, object]) -> None:
        if endpoint == "static":
            filename = values.get("filename")
            if isinstance(filename, str) and filename in names:
                values["filename"] = names[filename]


def _serve_static(app: Flask, build_dir: Path) -> None:
    # WhiteNoise answers before Flask, outside any request context: the headers Flask's
    # after_request gives pages (CSP, nosniff, ...) are added here, fixed at start.
    fixed = security.static_headers(https=bool(app.config["HTTPS"]))

    def add_headers(headers: object, _path: str, url: str) -> None:
        for name, value in fixed.items():
            headers[name] = value  # type: ignore[index]
        headers["Cache-Control"] = IMMUTABLE if HASHED.search(url) else "no-cache"  # type: ignore[index]

    prefix = (app.static_url_path or "/static").strip("/") + "/"
    app.wsgi_app = WhiteNoise(  # type: ignore[method-assign]
        app.wsgi_app,
        root=str(build_dir),
        prefix=prefix,
        max_age=None,
        allow_all_origins=False,
        add_headers_function=add_headers,
    )


def _page_etag(response: Response) -> Response:
    """A strong ETag on every HTML page and fragment, and 304 when the client holds it.

    What changes on every render without changing the page is left out of the hash: the CSRF
    token (signed with the time; its secret, fixed for the session, is hashed instead) and the
    fresh client_uuid of a form without script (the scripts make their own for each entry). A
    page whose content did not change keeps its ETag, and the copy the worker keeps stays valid.
    """
    if (
        request.method not in ("GET", "HEAD")
        or response.status_code != 200
        or response.mimetype != "text/html"
        or response.is_streamed
        or response.direct_passthrough
        or "ETag" in response.headers
    ):
        return response
    # Pages nobody is signed in to may be kept by the browser, but asked again every time.
    response.headers.setdefault("Cache-Control", "no-cache")
    body = PER_RENDER.sub(b"", response.get_data())
    digest = hashlib.sha256()
    field = current_app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token")
    token = g.get(field)
    if isinstance(token, str):
        body = body.replace(token.encode(), b"")
        # The token's secret stays in: a page kept from another session (whose token would be
        # refused) is never confirmed by a 304.
        digest.update(str(session.get(field, "")).encode() + b"\0")
    digest.update(body)
    response.set_etag(digest.hexdigest()[:32])
    return response.make_conditional(request)


def _lean_not_modified(response: Response) -> Response:
    """A 304 carries only the headers it must: the client already holds the rest."""
    if response.status_code == 304:
        for name in {key for key, _ in response.headers if key.lower() not in NOT_MODIFIED_HEADERS}:
            del response.headers[name]
    return response


def init_compression(app: Flask) -> None:
    """Flask-Compress on pages, fragments, JSON, the worker script, the manifest and feeds.

    Called before anything else registers an after_request: Flask runs them in reverse, so
    compression comes after the security headers and the ETag, and the 304 trim after all.
    """
    app.after_request(_lean_not_modified)
    app.config.setdefault("COMPRESS_ALGORITHM", ["br", "zstd", "gzip"])
    app.config.setdefault("COMPRESS_ALGORITHM_STREAMING", ["br", "zstd", "deflate"])
    app.config.setdefault("COMPRESS_BR_LEVEL", 5)
    app.config.setdefault("COMPRESS_MIN_SIZE", 500)
    compress.init_app(app)
    types = set(app.config["COMPRESS_MIMETYPES"]) | {"text/calendar", "text/csv"}
    compress.compress_mimetypes_set = types
    app.config["COMPRESS_MIMETYPES"] = sorted(types)


def register(app: Flask) -> None:
    """Hashed static files served by WhiteNoise, and ETags on pages (after the other hooks)."""
    source = Path(app.static_folder or "static").resolve()
    build_dir = Path(
        app.config.get("STATIC_BUILD_DIR")
        or os.environ.get("COACHAPP_STATIC_BUILD")
        or Path(app.instance_path) / "static"
    )
    names = build(source, build_dir)
    app.extensions["static_names"] = names
    _hashed_filenames(app, names)
    _serve_static(app, build_dir)
    app.after_request(_page_etag)
    app.jinja_env.globals["static_url"] = static_url


def static_names() -> dict[str, str]:
    """Plain name -> hashed name of every static file of the running app."""
    return current_app.extensions["static_names"]
