"""Set-up pages for admins: the first-run checklist, the organisation's settings, teams."""

from flask import Blueprint

bp = Blueprint("setup", __name__)
