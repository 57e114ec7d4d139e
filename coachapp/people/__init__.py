"""People: invitations, the admin's people management, the CSV import, and the audit log."""

from coachapp.people import import_views
from coachapp.people.views import bp

bp.register_blueprint(import_views.bp)

__all__ = ["bp"]
