"""The app with one deliberately slow route, for the graceful-shutdown test under gunicorn."""

import time

from app import app


def _slow() -> dict[str, str]:
    time.sleep(2)
    return {"status": "finished"}


app.add_url_rule("/test-slow", "test_slow", _slow)
