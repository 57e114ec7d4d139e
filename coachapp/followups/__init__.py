"""Spaced follow-ups: re-observing corrected behaviours on an adaptive ladder, and reminders."""

from coachapp.followups.views import bp

__all__ = ["bp"]
