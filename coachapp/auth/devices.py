"""A browser's User-Agent in plain words ("Chrome on an Android phone") for the account page."""

from flask_babel import gettext as _

# Order matters: Edge and Samsung Internet also say "Chrome", Chrome also says "Safari".
_BROWSERS = (
    ("Edg/", "Edge"),
    ("SamsungBrowser/", "Samsung Internet"),
    ("Firefox/", "Firefox"),
    ("FxiOS/", "Firefox"),
    ("CriOS/", "Chrome"),
    ("Chrome/", "Chrome"),
    ("Safari/", "Safari"),
)


def describe(user_agent: str) -> str:
    """What the person would call the device; "An unknown device" when nothing is recognised."""
    browser = next((name for marker, name in _BROWSERS if marker in user_agent), None)
    system = _system(user_agent)
    if browser and system:
        return _("%(browser)s on %(system)s", browser=browser, system=system)
    if browser:
        return browser
    return system or _("An unknown device")


def _system(user_agent: str) -> str | None:
    if "iPhone" in user_agent:
        return _("an iPhone")
    if "iPad" in user_agent:
        return _("an iPad")
    if "Android" in user_agent:
        return _("an Android phone") if "Mobile" in user_agent else _("an Android tablet")
    if "Windows" in user_agent:
        return _("a Windows computer")
    if "Macintosh" in user_agent or "Mac OS X" in user_agent:
        return _("a Mac")
    if "CrOS" in user_agent:
        return _("a Chromebook")
    if "Linux" in user_agent:
        return _("a Linux computer")
    return None
