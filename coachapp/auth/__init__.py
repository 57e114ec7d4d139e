"""Signing in and out: demo sign-in, passkeys, invitations, the person's own account."""

from coachapp.auth import account_views, passkey_views
from coachapp.auth.views import bp

# The passkey and account routes live in their own modules, on the same blueprint.
__all__ = ["account_views", "bp", "passkey_views"]
