"""gunicorn.conf.py as an operator runs it: SIGTERM lets an in-flight request finish, and each
request leaves one JSON log line of the app's (gunicorn's own access log is off)."""

import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

from tests.test_rate_limits import _free_port, _wait_until_up

ROOT = Path(__file__).resolve().parent.parent


def test_sigterm_lets_the_request_in_flight_finish(tmp_path: Path):
    env = {
        **os.environ,
        "COACHAPP_DATABASE_URL": "sqlite:///" + str(tmp_path / "app.sqlite3"),
        "COACHAPP_SECRET_KEY": "graceful-test",
        "WEB_CONCURRENCY": "1",
        "COACHAPP_REDIS_URL": "memory://",
    }
    env.pop("COACHAPP_LOG_FORMAT", None)
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py"]
        + ["-b", f"127.0.0.1:{port}", "tests.ops_slow_app:app"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    url = f"http://127.0.0.1:{port}"
    answers: list[tuple[int, str]] = []
    try:
        _wait_until_up(url + "/healthz")

        def slow() -> None:
            with urllib.request.urlopen(url + "/test-slow", timeout=10) as answer:
                answers.append((answer.status, answer.read().decode()))

        in_flight = threading.Thread(target=slow)
        in_flight.start()
        time.sleep(0.5)  # the request is being served
        server.send_signal(signal.SIGTERM)
        in_flight.join(timeout=10)
        _, errors = server.communicate(timeout=15)
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()

    assert answers == [(200, '{"status":"finished"}\n')]
    assert server.returncode == 0
    logged = [json.loads(line) for line in errors.splitlines() if line.startswith("{")]
    assert {"method": "GET", "route": "/test-slow", "status": 200} in [
        {k: entry[k] for k in ("method", "route", "status")} for entry in logged
    ]
    assert '"GET /test-slow' not in errors  # no access-log line of gunicorn's own
