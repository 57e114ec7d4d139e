"""Role profiles: the job description as observable behaviours, and the starter library."""

from coachapp.profiles.views import bp

__all__ = ["bp"]
