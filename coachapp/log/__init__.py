"""Coaching logs: an agent's sessions and observations, and the list of people to open them from."""

from coachapp.log.views import bp

__all__ = ["bp"]
