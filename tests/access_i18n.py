"""Access rows of issue 15: choosing one's language in Account."""

from flask import url_for

from tests.access import SIGN_IN, Route, everyone

ROUTES: dict[str, Route] = {
    "auth.set_language": Route(
        "POST",
        lambda ids: url_for("auth.set_language"),
        everyone(303, anonymous=SIGN_IN),
        data=lambda world: {"language": "pl"},
    ),
}
