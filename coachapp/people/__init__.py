"""People: invitations, the admin's people management, and the audit log."""

from coachapp.people.views import bp

__all__ = ["bp"]
