"""The JSON write API that the phone's outbox replays, and its OpenAPI document."""

from coachapp.sync import batch as _batch  # noqa: F401 - registers POST /api/batch on bp
from coachapp.sync.views import bp

__all__ = ["bp"]
