"""The trainer's dashboard: follow-up completion and relapse, drill-downs, worklists, exports."""

from coachapp.dashboard.views import bp

__all__ = ["bp"]
