"""Threads under observations: the agent marks them seen, replies or asks; the manager answers."""

from coachapp.threads.views import bp

__all__ = ["bp"]
