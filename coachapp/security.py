"""Response headers that keep the browser strict: CSP, framing, sniffing, caching."""

from flask import Flask, Response, abort, current_app, request
from flask_login import current_user

from coachapp.refusals import note_reason

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
NOT_PERSONAL = frozenset({"static", "core.service_worker"})

# No inline script or style anywhere, no eval: everything comes from our own origin.
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "manifest-src 'self'",
        "worker-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)

PERMISSIONS_POLICY = "camera=(), geolocation=(), microphone=(), payment=(), usb=()"


def static_headers(https: bool) -> dict[str, str]:
    """The same headers for the static files WhiteNoise serves before Flask sees the request."""
    headers = {
        "Content-Security-Policy": CONTENT_SECURITY_POLICY,
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "same-origin",
        "Permissions-Policy": PERMISSIONS_POLICY,
        "Cross-Origin-Opener-Policy": "same-origin",
    }
    if https:
        headers["Strict-Transport-Security"] = "max-age=63072000; includeSubDomains"
    return headers


#: What every answer carries, over plain HTTP (False) and HTTPS (True).
_SECURITY_HEADERS = {https: tuple(static_headers(https).items()) for https in (False, True)}


def set_security_headers(response: Response) -> Response:
    # Added where the view set none of its own (a passkey answer sets its Referrer-Policy), in
    # one pass over the answer's headers: Werkzeug's setdefault reads them all again for each.
    headers = response.headers
    given = {name.lower() for name, _value in headers}
    https = current_app.config["HTTPS"]
    headers.extend(
        (name, value) for name, value in _SECURITY_HEADERS[https] if name.lower() not in given
    )
    # Pages about people must not linger in shared caches or the back-forward cache of a
    # borrowed phone; static files and the service worker script keep their own caching.
    if request.endpoint not in NOT_PERSONAL and current_user.is_authenticated:
        headers["Cache-Control"] = "no-store"
    return response


def refuse_cross_site_writes() -> None:
    """A second lock beside the CSRF token: state changes only from our own pages.

    Browsers say where a request comes from (Sec-Fetch-Site, Origin); anything other than our
    own origin is refused before a view runs. Clients that send neither (curl, tests) still
    need a valid CSRF token.
    """
    if request.method in SAFE_METHODS:
        return
    fetch_site = request.headers.get("Sec-Fetch-Site")
    if fetch_site is not None and fetch_site not in ("same-origin", "none"):
        note_reason("origin")
        abort(403)
    origin = request.headers.get("Origin")
    if origin is not None and origin != request.host_url.rstrip("/"):
        note_reason("origin")
        abort(403)


def register(app: Flask) -> None:
    app.before_request(refuse_cross_site_writes)
    app.after_request(set_security_headers)
