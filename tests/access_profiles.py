"""Access-table rows of role profiles, the starter library and "My role"."""

from tests.access import Route

ROUTES: dict[str, Route] = {}
