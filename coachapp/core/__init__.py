"""Pages that belong to no one area: the home redirect and the health check."""

from coachapp.core.views import bp

__all__ = ["bp"]
