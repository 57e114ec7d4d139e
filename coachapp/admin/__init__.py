"""The organisation's set-up: the follow-up ladder and working days."""

from coachapp.admin.views import bp

__all__ = ["bp"]
