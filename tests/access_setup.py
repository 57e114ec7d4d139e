"""Access-table rows of the first-run checklist, organisation settings and teams."""

from tests.access import Route

ROUTES: dict[str, Route] = {}
