"""Signing in and out: demo sign-in now, passkeys and invitations."""

from coachapp.auth.views import bp

__all__ = ["bp"]
