"""Reminders outside the app: a daily Web Push count of checks due, and a calendar feed."""

from coachapp.reminders.views import bp

__all__ = ["bp"]
