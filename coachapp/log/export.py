"""My data: everything coachapp holds about an agent, as JSON, and as CSV flattened from it."""

import csv
import io
import json
from collections.abc import Iterator
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask import Response
from flask_babel import gettext as _

from coachapp.extensions import db
from coachapp.log.service import ended_sessions, focus_items_of
from coachapp.models import (
    AuditEvent,
    Comment,
    FollowUp,
    Observation,
    SelfAssessment,
    SelfAssessmentRating,
    SelfCheck,
    Suggestion,
    User,
)

#: The record type of the items of each list, for the CSV.
RECORD_TYPES = {
    "sessions": "session",
    "observations": "observation",
    "thread": "message",
    "focus_items": "focus_item",
    "checks": "check",
    "self_assessments": "self_assessment",
    "ratings": "rating",
    "suggestions": "suggestion",
    "updates": "status_change",
    "log_views": "log_view",
}

#: A spreadsheet would run a cell that starts with one of these as a formula.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def everything_about(agent: User, *, now: datetime) -> dict[str, Any]:
    """Every record about the agent that the app shows them, in one document."""
    sessions = ended_sessions(agent)
    observation_ids = [o.id for s in sessions for o in s.observations]
    comments = _comments(observation_ids)
    return {
        "exported_at": _when(now),
        "person": {
            "id": agent.id,
            "name": agent.name,
            "email": agent.email,
            "team": agent.team.name if agent.team else None,
            "role_profile": agent.role_profile.name if agent.role_profile else None,
            "created_at": _when(agent.created_at),
        },
        "sessions": [
            {
                "id": shadow.id,
                "manager": shadow.manager.name,
                "started_at": _when(shadow.started_at),
                "ended_at": _when(shadow.ended_at),
                "summary_note": shadow.summary_note,
                "observations": [
                    _observation(o, comments.get(o.id, [])) for o in shadow.observations
                ],
            }
            for shadow in sessions
        ],
        "focus_items": [
            {
                "id": item.id,
                "behaviour": item.behaviour.name,
                "status": item.status,
                "opened_on": _when(item.opened_on),
                "opened_by": item.opened_by.name,
                "opening_observation_id": item.opening_observation_id,
                "lapses": item.lapses,
                "escalated": item.escalated,
                "next_check_on": _when(item.due_on),
                "checks": [_check(f) for f in item.followups],
            }
            for item in focus_items_of(agent)
        ],
        "self_assessments": [_assessment(a) for a in _assessments(agent)],
        "suggestions": [_suggestion(s) for s in _suggestions(agent)],
        "log_views": [
            {
                "id": event.id,
                "at": _when(event.at),
                "by": event.actor.name if event.actor else None,
                "part": event.details,
            }
            for event in _log_views(agent)
        ],
    }


def json_download(agent: User, *, now: datetime) -> Response:
    body = json.dumps(everything_about(agent, now=now), ensure_ascii=False, indent=2)
    return _download(body, "application/json", _file_name(now, "json"))


def csv_download(agent: User, *, now: datetime) -> Response:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([_("Record"), _("Id"), _("Part of"), _("Field"), _("Value")])
    writer.writerows(csv_rows(everything_about(agent, now=now)))
    # The byte-order mark lets spreadsheet programs read the file as UTF-8.
    return _download("\ufeff" + buffer.getvalue(), "text/csv", _file_name(now, "csv"))


def csv_rows(document: dict[str, Any]) -> Iterator[list[str]]:
    """One row per field of each record; a nested record names the record it is part of."""
    yield ["export", "", "", "exported_at", _cell(document["exported_at"])]
    yield from _rows("person", document["person"], "")
    for key, value in document.items():
        if isinstance(value, list):
            for record in value:
                yield from _rows(RECORD_TYPES[key], record, "")


def _rows(record: str, values: dict[str, Any], part_of: str) -> Iterator[list[str]]:
    own_id = str(values.get("id", ""))
    nested: list[tuple[str, dict[str, Any]]] = []
    for field, value in values.items():
        if isinstance(value, list):
            nested += [(RECORD_TYPES[field], child) for child in value]
        elif isinstance(value, dict):
            nested.append((field, value))
        elif field != "id":
            yield [record, own_id, part_of, field, _cell(value)]
    for child_record, child in nested:
        yield from _rows(child_record, child, f"{record} {own_id}")


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    text = str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def _observation(observation: Observation, thread: list[Comment]) -> dict[str, Any]:
    return {
        "id": observation.id,
        "kind": observation.kind.value,
        "behaviour": observation.behaviour.name if observation.behaviour else None,
        "note": observation.note,
        "coached": observation.coached,
        "written_by": observation.author.name,
        "occurred_at": _when(observation.occurred_at),
        "recorded_at": _when(observation.recorded_at),
        "changed_at": _when(observation.updated_at),
        "thread": [
            {
                "id": comment.id,
                "kind": comment.kind.value,
                "written_by": comment.author.name,
                "body": comment.body,
                "created_at": _when(comment.created_at),
                "changed_at": _when(comment.updated_at),
                "read_at": _when(comment.read_at),
            }
            for comment in thread
        ],
    }


def _check(followup: FollowUp) -> dict[str, Any]:
    self_check: SelfCheck | None = followup.self_check
    return {
        "id": followup.id,
        "sequence": followup.sequence,
        "due_on": _when(followup.due_on),
        "outcome": followup.outcome.value if followup.outcome else None,
        "observed_on": _when(followup.observed_on),
        "on_time": followup.on_time,
        "note": followup.note,
        "coached": followup.coached,
        "recorded_by": followup.author.name if followup.author else None,
        "self_check": None
        if self_check is None
        else {
            "id": self_check.id,
            "rating": self_check.rating.value,
            "note": self_check.note,
            "created_at": _when(self_check.created_at),
            "changed_at": _when(self_check.updated_at),
            "observed_outcome": self_check.observed_outcome.value
            if self_check.observed_outcome
            else None,
            "difference": self_check.difference,
        },
    }


def _assessment(assessment: SelfAssessment) -> dict[str, Any]:
    return {
        "id": assessment.id,
        "period": assessment.period,
        "created_at": _when(assessment.created_at),
        "role_profile": assessment.role_profile.name if assessment.role_profile else None,
        "proud_of": assessment.proud_of,
        "want_to_improve": assessment.want_to_improve,
        "goal": assessment.goal,
        "ratings": [
            {"id": rating.id, "behaviour": rating.behaviour.name, "level": rating.level}
            for rating in assessment.ratings
        ],
    }


def _suggestion(suggestion: Suggestion) -> dict[str, Any]:
    return {
        "id": suggestion.id,
        "kind": suggestion.kind.value,
        "text": suggestion.text,
        "status": suggestion.status.value,
        "created_at": _when(suggestion.created_at),
        "updates": [
            {
                "id": update.id,
                "status": update.status.value,
                "note": update.note,
                "by": update.by.name,
                "at": _when(update.at),
            }
            for update in suggestion.updates
        ],
    }


def _comments(observation_ids: list[int]) -> dict[int, list[Comment]]:
    grouped: dict[int, list[Comment]] = {}
    for comment in db.session.scalars(
        sa.select(Comment)
        .where(Comment.observation_id.in_(observation_ids))
        .options(so.joinedload(Comment.author))
        .order_by(Comment.created_at, Comment.id)
    ):
        grouped.setdefault(comment.observation_id, []).append(comment)
    return grouped


def _assessments(agent: User) -> list[SelfAssessment]:
    return list(
        db.session.scalars(
            sa.select(SelfAssessment)
            .where(SelfAssessment.agent_id == agent.id)
            .options(
                so.selectinload(SelfAssessment.ratings).joinedload(SelfAssessmentRating.behaviour)
            )
            .order_by(SelfAssessment.period)
        )
    )


def _suggestions(agent: User) -> list[Suggestion]:
    return list(
        db.session.scalars(
            sa.select(Suggestion)
            .where(Suggestion.author_id == agent.id)
            .options(so.selectinload(Suggestion.updates))
            .order_by(Suggestion.created_at, Suggestion.id)
        )
    )


def _log_views(agent: User) -> list[AuditEvent]:
    return list(
        db.session.scalars(
            sa.select(AuditEvent)
            .where(AuditEvent.action == "log.viewed", AuditEvent.subject_id == agent.id)
            .options(so.joinedload(AuditEvent.actor))
            .order_by(AuditEvent.at, AuditEvent.id)
        )
    )


def _when(value: date | datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _file_name(now: datetime, extension: str) -> str:
    return f"coachapp-my-data-{now:%Y-%m-%d}.{extension}"


def _download(body: str, mimetype: str, file_name: str) -> Response:
    response = Response(body, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{file_name}"'
    return response
