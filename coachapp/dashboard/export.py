"""CSV of every dashboard table and of the raw records behind a filter, for a trainer's own
analysis. The view writes each export to the audit log."""

import csv
import io
from collections.abc import Iterable, Iterator
from datetime import date

from flask import Response
from flask_babel import lazy_gettext as _l

from coachapp import metrics
from coachapp.dashboard import service
from coachapp.metrics import CheckRecord
from coachapp.scheduling import Ladder

#: A cell a spreadsheet would run as a formula is written as text.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

TABLES = (
    "tiles",
    "by_manager",
    "by_team",
    "by_competency",
    "by_behaviour",
    "curve",
    "load",
    "items",
    "checks",
)


#: The header of each column, in the reader's language (the rows below them are data).
HEADERS = {
    "figure": _l("Figure"),
    "value": _l("Value"),
    "count": _l("Count"),
    "previous_value": _l("Previous value"),
    "previous_count": _l("Previous count"),
    "from": _l("From"),
    "to": _l("To"),
    "manager": _l("Manager"),
    "team": _l("Team"),
    "on_time_share": _l("Share on time"),
    "checks_counted": _l("Checks counted"),
    "overdue_now": _l("Overdue now"),
    "competency": _l("Competency"),
    "behaviour": _l("Behaviour"),
    "r28": _l("Relapse by 4 weeks (R28)"),
    "items_included": _l("Items counted"),
    "not_reobserved": _l("Not seen again"),
    "day": _l("Day"),
    "still_holding": _l("Still holding"),
    "at_risk": _l("At risk"),
    "slips": _l("Slips"),
    "censored": _l("Censored"),
    "already_due": _l("Already due"),
    "item": _l("Focus item"),
    "agent": _l("Agent"),
    "agent_name": _l("Agent's name"),
    "opened_on": _l("Opened on"),
    "status": _l("Status"),
    "closed_on": _l("Closed on"),
    "checks": _l("Follow-ups"),
    "check": _l("Follow-up"),
    "due_on": _l("Due on"),
    "gap": _l("Gap (days)"),
    "window_from": _l("Window from"),
    "window_to": _l("Window to"),
    "done_on": _l("Done on"),
    "outcome": _l("Outcome"),
    "on_time": _l("On time"),
    "self_check": _l("Self-check"),
}


def _header(*keys: str) -> list[object]:
    return [str(HEADERS[key]) for key in keys]


def rows(
    table: str, data: service.Data, ladder: Ladder, periods: service.Periods
) -> Iterator[list[object]]:
    options = data.options
    if table == "tiles":
        yield _header("figure", "value", "count", "previous_value", "previous_count", "from", "to")
        for tile in service.tiles(data, ladder, periods):
            yield [tile.key, _value(tile.value, tile.enough), tile.n,
                   _value(tile.previous, tile.previous_enough), tile.previous_n,
                   periods.start, periods.end]  # fmt: skip
    elif table in ("by_manager", "by_team"):
        yield _header(table.removeprefix("by_"), "on_time_share", "checks_counted", "overdue_now")
        for row in service.on_time_by(data, ladder, periods, table.removeprefix("by_")):
            yield [row.label, _value(row.value, row.enough), row.n, row.detail]
    elif table in ("by_competency", "by_behaviour"):
        yield _header(table.removeprefix("by_"), "r28", "items_included", "not_reobserved")
        for row in service.relapse_by(data, periods, table.removeprefix("by_")):
            yield [row.label, _value(row.value, row.enough), row.n, row.detail]
    elif table == "curve":
        yield _header("day", "still_holding", "at_risk", "slips", "censored")
        for step in service.curve(data, periods).steps:
            yield [step.day, round(step.survival, 6), step.at_risk, step.events, step.censored]
    elif table == "load":
        load, managers = service.forward_load(data, periods.end)
        yield [*_header("manager", "already_due"), *[w.isoformat() for w in load.weeks]]
        for manager in managers:
            yield [manager.name, load.overdue[manager.id], *load.per_week[manager.id]]
    elif table == "items":
        yield _header("item", "agent", "agent_name", "team", "behaviour", "competency",
                      "opened_on", "status", "closed_on", "checks", "slips")  # fmt: skip
        for item in data.items:
            yield [item.id, item.agent_id, item.agent_name, options.name("team", item.team_id or 0),
                   options.name("behaviour", item.behaviour_id),
                   options.name("competency", item.competency_id), item.record.opened_on,
                   item.status, item.record.closed_on, len(item.record.checks),
                   item.record.lapses]  # fmt: skip
    elif table == "checks":
        yield _header("check", "item", "agent", "due_on", "gap", "window_from", "window_to",
                      "done_on", "outcome", "on_time", "self_check", "day")  # fmt: skip
        for item in data.items:
            for check_id, check in zip(item.check_ids, item.record.checks, strict=True):
                yield _check(item, check_id, check, ladder)


def _check(item: service.Item, check_id: int, check: CheckRecord, ladder: Ladder) -> list[object]:
    low, high = metrics.window(ladder, check)
    done = check.done_on
    return [
        check_id,
        item.id,
        item.agent_id,
        check.due_on,
        check.gap,
        low,
        high,
        done,
        check.outcome.value if check.outcome else None,
        None if done is None else low <= done <= high,
        check.self_rating.value if check.self_rating else None,
        None if done is None else (done - item.record.opened_on).days,
    ]


def _value(value: float | int | None, enough: bool) -> object:
    if value is None or not enough:
        return None
    return round(value, 6) if isinstance(value, float) else value


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, date):
        return value.isoformat()
    text = str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def download(table: str, lines: Iterable[list[object]], today: date) -> Response:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerows([_cell(v) for v in line] for line in lines)
    response = Response("\ufeff" + buffer.getvalue(), mimetype="text/csv")
    name = f"coachapp-dashboard-{table.replace('_', '-')}-{today.isoformat()}.csv"
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
