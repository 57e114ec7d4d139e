"""The organisation an installation serves, loaded once per request, and its time zone."""

from functools import cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

import sqlalchemy as sa
from flask import current_app, g

from coachapp.extensions import db
from coachapp.models import Organisation

#: The `g` name of the cached (organisation, time zone name) pair.
G_NAME = "_organisation"


def current() -> Organisation | None:
    """The organisation, from this request's cache when it is already loaded.

    An empty database is not cached: the first settings save creates the row in the same request.
    """
    known = current_if_loaded()
    if known is not None:
        return known
    org = db.session.scalar(sa.select(Organisation).order_by(Organisation.id).limit(1))
    if org is not None:
        remember(org)
    return org


def current_if_loaded() -> Organisation | None:
    """The organisation when this request has loaded it already; None asks nothing."""
    cached = g.get(G_NAME)
    return cached[0] if cached is not None and cached[0] in db.session else None


def remember(org: Organisation) -> None:
    """Cache `org` and its zone for the rest of the request (after a load or a save)."""
    setattr(g, G_NAME, (org, org.timezone))


def forget() -> None:
    g.pop(G_NAME, None)


def default_zone_name() -> str:
    """COACHAPP_TIMEZONE when this machine knows that zone, else UTC."""
    configured = current_app.config.get("BABEL_DEFAULT_TIMEZONE") or "UTC"
    try:
        ZoneInfo(configured)
    except (ZoneInfoNotFoundError, ValueError):
        return "UTC"
    return configured


def zone_name() -> str:
    """The organisation's zone; the environment's COACHAPP_TIMEZONE is only the default."""
    cached = g.get(G_NAME)
    if cached is None or cached[0] not in db.session:
        current()
        cached = g.get(G_NAME)
    stored = cached[1] if cached is not None else None
    return stored if stored and is_known_zone(stored) else default_zone_name()


def zone() -> ZoneInfo:
    return ZoneInfo(zone_name())


@cache
def zone_names() -> tuple[str, ...]:
    """Every IANA zone this machine knows, sorted, for the settings' select."""
    names = {name for name in available_timezones() if "/" in name or name == "UTC"}
    return tuple(sorted(names | {"UTC"}))


def is_known_zone(name: str) -> bool:
    """One of the zones on offer; a file ZoneInfo could read but no zone name is refused."""
    return name in zone_names()
