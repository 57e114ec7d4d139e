"""The agent's view of themselves: self-checks before re-observations, monthly self-assessments."""

from coachapp.selfcheck.views import bp

__all__ = ["bp"]
