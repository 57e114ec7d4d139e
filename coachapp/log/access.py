"""The agent's own side: pages and actions that exist only for the agent they are about."""

from flask import abort

from coachapp.models import Role, User


def myself_or_404(viewer: User, agent_id: int) -> User:
    """`viewer` when they are the agent `agent_id`; anybody else, managers included, gets 404."""
    if viewer.role != Role.AGENT or viewer.id != agent_id:
        abort(404)
    return viewer
