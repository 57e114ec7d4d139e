"""Who is on the other end of a request: the client's address and browser, as stored."""

from flask import has_request_context, request

from coachapp.bodies import without_controls

USER_AGENT_LENGTH = 200
#: The longest IPv6 text form with an IPv4 tail.
ADDRESS_LENGTH = 45


def client_address() -> str:
    """The client's address as the app sees it: behind COACHAPP_TRUSTED_PROXIES, ProxyFix has
    already replaced the proxy's address with the one in X-Forwarded-For; "" outside a request."""
    return (request.remote_addr or "")[:ADDRESS_LENGTH] if has_request_context() else ""


def client_agent() -> str:
    """The browser's User-Agent, cut short; "" outside a request."""
    if not has_request_context():
        return ""
    return without_controls(request.headers.get("User-Agent", ""))[:USER_AGENT_LENGTH]
