"""The trainer's dashboard: follow-up completion and relapse, drill-downs, worklists, exports.

The blueprint lives in coachapp.dashboard.views; this package imports nothing, so that the
follow-ups service can import coachapp.dashboard.summaries without an import cycle.
"""
