"""Access-table rows of uploading people from a CSV file (gathered by tests/test_access.py)."""

from tests.access import Route

ROUTES: dict[str, Route] = {}
