"""Role profile pages: admins and trainers edit, managers and agents read."""

from flask import Blueprint

bp = Blueprint("profiles", __name__)
