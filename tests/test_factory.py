"""The app factory: config overrides, settings from the environment, SQLite tuning, demo mode."""

import stat

import pytest
from flask import Flask, url_for
from flask.testing import FlaskClient

from coachapp import create_app
from coachapp.config import MissingSecretKey, from_environment, load_secret_key
from coachapp.extensions import db
from tests.conftest import Auth, World, make_app


def sqlite_app(tmp_path, **overrides: object) -> Flask:  # type: ignore[no-untyped-def]
    return make_app("sqlite:///" + str(tmp_path / "factory.sqlite3"), **overrides)


def test_config_passed_to_the_factory_wins(tmp_path, monkeypatch):
    monkeypatch.setenv("COACHAPP_DEMO", "1")
    monkeypatch.setenv("COACHAPP_TIMEZONE", "Europe/Oslo")
    url = "sqlite:///" + str(tmp_path / "given.sqlite3")
    app = create_app(
        {"SECRET_KEY": "given", "SQLALCHEMY_DATABASE_URI": url, "DEMO_MODE": False, "X": 1}
    )
    assert app.config["SECRET_KEY"] == "given"
    assert app.config["SQLALCHEMY_DATABASE_URI"] == url
    assert app.config["DEMO_MODE"] is False
    assert app.config["X"] == 1
    # What the config left alone still comes from the environment.
    assert app.config["BABEL_DEFAULT_TIMEZONE"] == "Europe/Oslo"


def test_secret_key_is_generated_once_into_the_instance_folder(tmp_path, monkeypatch):
    monkeypatch.delenv("COACHAPP_SECRET_KEY", raising=False)
    instance = tmp_path / "instance"

    first = load_secret_key(str(instance))
    second = load_secret_key(str(instance))

    assert first == second
    assert len(first) == 64
    key_file = instance / "secret_key"
    assert key_file.read_text().strip() == first
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600


def test_secret_key_from_the_environment_writes_no_file(tmp_path, monkeypatch):
    monkeypatch.setenv("COACHAPP_SECRET_KEY", "from-the-environment")
    assert load_secret_key(str(tmp_path)) == "from-the-environment"
    assert not (tmp_path / "secret_key").exists()


def test_factory_without_a_secret_key_uses_the_instance_file(tmp_path, monkeypatch):
    monkeypatch.delenv("COACHAPP_SECRET_KEY", raising=False)
    monkeypatch.setattr(Flask, "auto_find_instance_path", lambda self: str(tmp_path))
    config = {"SQLALCHEMY_DATABASE_URI": "sqlite:///" + str(tmp_path / "x.sqlite3")}

    first, second = create_app(config), create_app(config)

    assert first.config["SECRET_KEY"] == second.config["SECRET_KEY"]
    assert first.config["SECRET_KEY"] == (tmp_path / "secret_key").read_text().strip()


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("postgres://u:p@db.example:5432/coach", "postgresql+psycopg://u:p@db.example:5432/coach"),
        ("postgresql://u@db/coach", "postgresql+psycopg://u@db/coach"),
        ("postgresql+psycopg://u@db/coach", "postgresql+psycopg://u@db/coach"),
        ("sqlite:////srv/coach.sqlite3", "sqlite:////srv/coach.sqlite3"),
    ],
)
def test_database_url_names_the_driver(given, expected, tmp_path, monkeypatch):
    monkeypatch.setenv("COACHAPP_DATABASE_URL", given)
    assert from_environment(str(tmp_path))["SQLALCHEMY_DATABASE_URI"] == expected


def test_default_database_is_sqlite_in_the_instance_folder(tmp_path, monkeypatch):
    monkeypatch.delenv("COACHAPP_DATABASE_URL", raising=False)
    url = from_environment(str(tmp_path))["SQLALCHEMY_DATABASE_URI"]
    assert url == "sqlite:///" + str(tmp_path / "coachapp.sqlite3")


def test_sqlite_connections_are_tuned(tmp_path):
    app = sqlite_app(tmp_path)
    with app.app_context(), db.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() == 5000


def test_demo_mode_is_off_by_default(tmp_path, monkeypatch):
    monkeypatch.delenv("COACHAPP_DEMO", raising=False)
    app = create_app(
        {"SECRET_KEY": "x", "SQLALCHEMY_DATABASE_URI": "sqlite:///" + str(tmp_path / "d.db")}
    )
    assert app.config["DEMO_MODE"] is False


def test_demo_mode_is_read_from_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("COACHAPP_DEMO", "1")
    app = create_app(
        {"SECRET_KEY": "x", "SQLALCHEMY_DATABASE_URI": "sqlite:///" + str(tmp_path / "d.db")}
    )
    assert app.config["DEMO_MODE"] is True


# --- demo sign-in needs both the setting and a demo organisation -------------------------


@pytest.mark.parametrize(
    ("demo_setting", "demo_org"), [(False, False), (True, False), (False, True)]
)
def test_demo_sign_in_is_off_unless_both_are_on(
    demo_setting: bool,
    demo_org: bool,
    app: Flask,
    client: FlaskClient,
    world: World,
    monkeypatch: pytest.MonkeyPatch,
):
    monkeypatch.setitem(app.config, "DEMO_MODE", demo_setting)
    world.org.is_demo = demo_org
    db.session.commit()

    page = client.get(url_for("auth.signin")).get_data(as_text=True)
    answer = client.post(url_for("auth.demo_signin"), data={"user_id": world.manager_maria.id})

    assert "Sign in with the passkey" in page
    assert "Maria Santos" not in page
    assert "Demo mode" not in page
    assert answer.status_code == 404
    assert client.get(url_for("shadowing.today")).status_code == 302


def test_demo_sign_in_lists_people_and_signs_in(
    app: Flask, client: FlaskClient, world: World, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setitem(app.config, "DEMO_MODE", True)
    world.org.is_demo = True
    db.session.commit()

    page = client.get(url_for("auth.signin")).get_data(as_text=True)
    assert "Demo mode" in page
    for person in ("Maria Santos", "Mo Mensah", "Alex Adams", "Tara Lindqvist", "Ada Okonkwo"):
        assert person in page

    answer = client.post(url_for("auth.demo_signin"), data={"user_id": world.manager_maria.id})
    assert answer.status_code == 303
    today = client.get(url_for("shadowing.today"))
    assert today.status_code == 200
    assert "Alex Adams" in today.get_data(as_text=True)


def test_demo_sign_in_refuses_a_deactivated_or_unknown_person(
    app: Flask, client: FlaskClient, world: World, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setitem(app.config, "DEMO_MODE", True)
    world.org.is_demo = True
    world.agent_bo.active = False
    db.session.commit()

    assert "Bo Berg" not in client.get(url_for("auth.signin")).get_data(as_text=True)
    for user_id in (world.agent_bo.id, 999_999, "nobody"):
        answer = client.post(url_for("auth.demo_signin"), data={"user_id": user_id})
        assert answer.status_code == 404
    assert client.get(url_for("log.agent", agent_id=world.agent_bo.id)).status_code == 302


def test_demo_banner_shows_on_signed_in_pages(
    app: Flask, client: FlaskClient, auth: Auth, world: World, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setitem(app.config, "DEMO_MODE", True)
    world.org.is_demo = True
    db.session.commit()
    auth.login(world.manager_maria)

    assert "Demo mode" in client.get(url_for("shadowing.today")).get_data(as_text=True)


# --- several servers, one key ----------------------------------------------------------------


def test_postgresql_without_a_secret_key_refuses_to_start_and_says_how(tmp_path, monkeypatch):
    monkeypatch.delenv("COACHAPP_SECRET_KEY", raising=False)
    monkeypatch.setattr(Flask, "auto_find_instance_path", lambda self: str(tmp_path))
    config = {"SQLALCHEMY_DATABASE_URI": "postgresql+psycopg://coach@127.0.0.1:1/coach"}

    with pytest.raises(MissingSecretKey) as refused:
        create_app(config)

    assert "export COACHAPP_SECRET_KEY=" in str(refused.value)
    assert "every server" in str(refused.value)
    assert not (tmp_path / "secret_key").exists()


def test_postgresql_with_the_secret_key_in_the_environment_uses_it(tmp_path, monkeypatch):
    monkeypatch.setenv("COACHAPP_SECRET_KEY", "shared-by-every-server")
    url = "postgresql+psycopg://coach@127.0.0.1:1/coach"
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "STARTUP_CHECK": False})
    assert app.config["SECRET_KEY"] == "shared-by-every-server"
