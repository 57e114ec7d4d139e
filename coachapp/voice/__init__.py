"""Obstacles and suggestions: raised by agents and managers, followed up in the trainers' inbox."""

from coachapp.voice.views import bp

__all__ = ["bp"]
