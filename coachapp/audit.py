"""The audit log: one function to write an event, so every door records the same way."""

from coachapp.clients import client_address, client_agent
from coachapp.extensions import db
from coachapp.models import AuditEvent, User


def record(
    action: str,
    *,
    actor: User | None = None,
    subject: User | None = None,
    details: str = "",
) -> AuditEvent:
    """Add an audit event. `details` is a short code or id, never observation text or secrets;
    the client's address and browser come from the request that caused it, if any."""
    event = AuditEvent(
        action=action,
        actor_id=actor.id if actor is not None else None,
        subject_id=subject.id if subject is not None else None,
        details=details[:200],
        address=client_address(),
        user_agent=client_agent(),
    )
    # Added, not committed: the event lands with the change it records, or not at all.
    db.session.add(event)
    return event
