"""The manager's live shadowing flow."""

from coachapp.shadowing.views import bp

__all__ = ["bp"]
