"""The JSON write API that the phone's outbox replays, and its OpenAPI document."""

from coachapp.sync.views import bp

__all__ = ["bp"]
