"""The flask commands a person runs by hand: the demo server."""

from coachapp import cli
from tests.conftest import make_app


def test_the_demo_command_sets_up_and_serves_on_loopback(tmp_path, monkeypatch):
    """The README's run command: migrations, demo data once, then a real server (not app.run,
    which Flask ignores inside its own CLI)."""
    app = make_app("sqlite:///" + str(tmp_path / "demo.sqlite3"), DEMO_MODE=True)
    loaded: list[bool] = []
    served: list[tuple[str, int]] = []
    monkeypatch.setattr(cli.demo_data, "load", lambda: loaded.append(True))
    monkeypatch.setattr(
        cli, "run_simple", lambda host, port, wsgi, **kw: served.append((host, port))
    )
    result = app.test_cli_runner().invoke(args=["demo", "--port", "5999"])
    assert result.exit_code == 0, result.output
    assert loaded == [True]
    assert served == [("127.0.0.1", 5999)]


def test_the_demo_command_needs_demo_mode(tmp_path):
    app = make_app("sqlite:///" + str(tmp_path / "demo.sqlite3"), DEMO_MODE=False)
    result = app.test_cli_runner().invoke(args=["demo"])
    assert result.exit_code != 0
    assert "COACHAPP_DEMO=1" in result.output
