"""The organisation's set-up: the first-run checklist, organisation settings and teams."""

from coachapp.setup.views import bp

__all__ = ["bp"]
