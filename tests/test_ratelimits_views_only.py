"""Only a view's own rate limits are checked, by the view: no hook on every other request."""

import pytest
from flask import Blueprint, Flask
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address

from coachapp.extensions import limiter
from coachapp.ratelimits import check_only_limited_views


def _app_with(extension: Limiter) -> Flask:
    app = Flask(__name__)
    app.config["RATELIMIT_STORAGE_URI"] = "memory://"
    extension.init_app(app)

    @app.get("/limited")
    @extension.limit("2/minute")
    def limited() -> str:
        return "ok"

    @app.get("/free")
    def free() -> str:
        return "ok"

    return app


def test_the_app_checks_no_limit_before_every_request(app: Flask):
    hooks = app.before_request_funcs.get(None, [])
    assert limiter._check_request_limit not in hooks


def test_a_view_keeps_its_own_limit_without_the_hook():
    extension = Limiter(key_func=get_remote_address)
    app = _app_with(extension)
    check_only_limited_views(app, extension)
    client = app.test_client()
    assert [client.get("/limited").status_code for _ in range(3)] == [200, 200, 429]
    assert [client.get("/free").status_code for _ in range(5)] == [200] * 5


@pytest.mark.parametrize(
    "settings",
    [
        {"default_limits": ["1/minute"]},
        {"application_limits": ["1/minute"]},
        {"meta_limits": ["1/minute"]},
    ],
)
def test_a_limit_that_only_the_hook_would_check_refuses_to_start(settings: dict[str, list[str]]):
    extension = Limiter(key_func=get_remote_address, **settings)
    app = _app_with(extension)
    with pytest.raises(RuntimeError, match="check_only_limited_views"):
        check_only_limited_views(app, extension)


def test_a_blueprint_limit_refuses_to_start():
    extension = Limiter(key_func=get_remote_address)
    app = _app_with(extension)
    pages = Blueprint("pages", __name__)
    extension.limit("1/minute")(pages)
    app.register_blueprint(pages)
    with pytest.raises(RuntimeError, match="check_only_limited_views"):
        check_only_limited_views(app, extension)
