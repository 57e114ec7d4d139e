"""The OpenAPI 3.1 description of the write API, served at /api/openapi.json."""

from typing import Any

from coachapp.models import NOTE_MAX_LENGTH, ObservationKind
from coachapp.scheduling import Outcome

UUID = {"type": "string", "format": "uuid"}
TIME = {
    "type": "string",
    "format": "date-time",
    "description": "The phone's clock, ISO 8601 with a zone. More than ten minutes ahead of the "
    "server is refused; absent means the time the server receives it.",
}
TEXT = {"type": "string", "maxLength": NOTE_MAX_LENGTH}
ID = {"type": "integer", "minimum": 1, "maximum": 2**31 - 1}
#: As many items as one batch takes (coachapp.sync.batch imports it from here).
MAX_ITEMS = 100


def _schema(required: list[str], **properties: Any) -> dict[str, Any]:
    return {"type": "object", "required": required, "properties": properties}


SCHEMAS: dict[str, Any] = {
    "StartSession": _schema(
        ["client_uuid", "agent_id"], client_uuid=UUID, agent_id=ID, started_at=TIME
    ),
    "Entry": _schema(
        ["kind"],
        kind={"enum": [k.value for k in ObservationKind]},
        behaviour_id={
            "oneOf": [ID, {"type": "null"}],
            "description": "One of the agent's role-profile behaviours.",
        },
        note={**TEXT, "description": "Needed for an obstacle, and when no behaviour is named."},
        coached={**TEXT, "description": "Kept for a correction only."},
    ),
    "NewEntry": {
        "allOf": [
            {"$ref": "#/components/schemas/Entry"},
            _schema(["client_uuid"], client_uuid=UUID, occurred_at=TIME),
        ]
    },
    "Outcome": _schema(
        ["client_uuid", "outcome"],
        client_uuid=UUID,
        outcome={"enum": [o.value for o in Outcome]},
        note=TEXT,
        coached={**TEXT, "description": "What was coached on a slip."},
        occurred_at=TIME,
    ),
    "EndSession": _schema([], summary_note=TEXT, ended_at=TIME),
    "Session": _schema(
        ["id", "client_uuid", "agent_id", "started_at"],
        id=ID,
        client_uuid={
            **UUID,
            "description": "The session's own UUID. It differs from the one sent when a "
            "session with this agent was already open: later calls use this one.",
        },
        agent_id=ID,
        started_at={"type": "string", "format": "date-time"},
        ended_at={"type": ["string", "null"], "format": "date-time"},
        url={"type": "string"},
    ),
    "Observation": _schema(
        ["id", "client_uuid", "session_uuid", "kind"],
        id=ID,
        client_uuid=UUID,
        session_uuid=UUID,
        kind={"enum": [k.value for k in ObservationKind]},
        behaviour_id={"type": ["integer", "null"]},
        note={"type": "string"},
        coached={"type": "string"},
        occurred_at={"type": "string", "format": "date-time"},
        recorded_at={"type": "string", "format": "date-time"},
        updated_at={"type": ["string", "null"], "format": "date-time"},
    ),
    "FollowUp": _schema(
        ["id", "outcome"],
        id=ID,
        client_uuid={"type": ["string", "null"], "format": "uuid"},
        outcome={"enum": [o.value for o in Outcome]},
        observed_on={"type": "string", "format": "date"},
        on_time={"type": ["boolean", "null"]},
        next_due_on={"type": ["string", "null"], "format": "date"},
        url={"type": "string"},
    ),
    "Problem": _schema(
        ["error"],
        error={"type": "string", "description": "Why, in words to show the manager."},
        code={"enum": ["signin", "csrf", "body", "dependency"]},
        field={"type": "string", "description": "The field at fault, when there is one."},
        depends_on={
            "type": "integer",
            "description": "In a batch, with code `dependency`: the index of the earlier item "
            "this one needed, which was not stored.",
        },
    ),
    "Batch": _schema(
        ["items"],
        items={
            "type": "array",
            "minItems": 1,
            "maxItems": MAX_ITEMS,
            "items": _schema(
                ["method", "url"],
                method={"enum": ["POST", "PUT", "DELETE"]},
                url={
                    "type": "string",
                    "description": "One of the writes of this document, as the phone would "
                    "call it alone (for example /api/sessions/{session_uuid}/observations).",
                },
                body={
                    "description": "That write's own body (null for a removal), within that "
                    "write's own limits.",
                },
            ),
        },
    ),
    "BatchResults": _schema(
        ["results"],
        results={
            "type": "array",
            "description": "One per item tried, in order. Shorter than the items when an item "
            "met a server error (5xx): the items after it were not tried.",
            "items": _schema(
                ["status", "body"],
                status={"type": "integer", "description": "What that write alone answers."},
                body={"description": "What that write alone answers: its resource or a Problem."},
            ),
        },
    ),
}


def _json(ref: str) -> dict[str, Any]:
    return {"content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{ref}"}}}}


def _answer(description: str, ref: str) -> dict[str, Any]:
    return {"description": description, **_json(ref)}


REFUSALS = {
    "401": {"$ref": "#/components/responses/SignIn"},
    "403": {"$ref": "#/components/responses/Token"},
    "404": _answer("Not found, or outside your teams.", "Problem"),
    "409": _answer("Refused by a rule: the session ended, the check was recorded.", "Problem"),
    "422": _answer("The body is not acceptable; `field` says which part.", "Problem"),
}


def _write(summary: str, body: str | None, answers: dict[str, Any]) -> dict[str, Any]:
    operation: dict[str, Any] = {
        "summary": summary,
        "security": [{"session": [], "csrf": []}],
        "responses": {**answers, **REFUSALS},
    }
    if body:
        operation["requestBody"] = {"required": True, **_json(body)}
    return operation


SESSION_UUID = {"name": "session_uuid", "in": "path", "required": True, "schema": UUID}
OBSERVATION_UUID = {"name": "observation_uuid", "in": "path", "required": True, "schema": UUID}
FOLLOWUP_ID = {"name": "followup_id", "in": "path", "required": True, "schema": ID}


def document() -> dict[str, Any]:
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "coachapp write API",
            "version": "1",
            "description": (
                "What a manager's phone sends while shadowing. Every write is idempotent on the "
                "signed-in author and a UUID made on the phone: a replay answers as the first "
                "call did (200 instead of 201) and stores nothing new. The author is always the "
                "signed-in person, never a field of the body. Writes need the session cookie and "
                "the X-CSRFToken header (GET /api/session gives both the token and the tag the "
                "phone files its waiting items under)."
            ),
        },
        "servers": [{"url": "/"}],
        "paths": {
            "/api/session": {
                "get": {
                    "summary": "Who is signed in, and a CSRF token for the writes",
                    "security": [{"session": []}],
                    "responses": {
                        "200": {
                            "description": "Signed in.",
                            "content": {
                                "application/json": {
                                    "schema": _schema(
                                        ["user", "csrf_token"],
                                        user={"type": "string"},
                                        csrf_token={"type": "string"},
                                    )
                                }
                            },
                        },
                        "401": {"$ref": "#/components/responses/SignIn"},
                    },
                }
            },
            "/api/sessions": {
                "post": _write(
                    "Start shadowing an agent",
                    "StartSession",
                    {
                        "201": _answer("Started.", "Session"),
                        "200": _answer("A replay, or the session already open.", "Session"),
                    },
                )
            },
            "/api/sessions/{session_uuid}/observations": {
                "parameters": [SESSION_UUID],
                "post": _write(
                    "Add an entry to a session",
                    "NewEntry",
                    {
                        "201": _answer("Stored.", "Observation"),
                        "200": _answer("A replay: nothing new stored.", "Observation"),
                    },
                ),
            },
            "/api/observations/{observation_uuid}": {
                "parameters": [OBSERVATION_UUID],
                "put": _write(
                    "Change an entry while its session is open",
                    "Entry",
                    {"200": _answer("Changed (or already so).", "Observation")},
                ),
                "delete": _write(
                    "Remove an entry while its session is open",
                    None,
                    {
                        "200": {"description": "Removed."},
                        # The same 404 as an entry never made or another's: a replay counts it done.
                        "404": _answer("Gone already, never made, or not yours.", "Problem"),
                    },
                ),
            },
            "/api/followups/{followup_id}/outcome": {
                "parameters": [FOLLOWUP_ID],
                "post": _write(
                    "Record a re-observation",
                    "Outcome",
                    {
                        "201": _answer("Recorded; the next check is scheduled.", "FollowUp"),
                        "200": _answer("A replay: nothing new stored.", "FollowUp"),
                    },
                ),
            },
            "/api/batch": {
                "post": _write(
                    "Send the phone's waiting writes in one request",
                    "Batch",
                    {
                        "200": _answer(
                            "Each item applied in order, in its own transaction, and answered "
                            "as if it had been sent alone (its own 201, 200 or refusal). One "
                            "refusal does not stop the rest; an item that names a session or "
                            "entry an earlier item failed to store answers 424 with "
                            "`depends_on`. A session already open with that agent (a start "
                            "that answers another UUID) is used by the items after it.",
                            "BatchResults",
                        ),
                        "413": _answer("More than 1 MiB in one batch: send fewer.", "Problem"),
                    },
                )
            },
            "/api/sessions/{session_uuid}/end": {
                "parameters": [SESSION_UUID],
                "post": _write(
                    "End a session",
                    "EndSession",
                    {"200": _answer("Ended (ending again keeps the first end).", "Session")},
                ),
            },
        },
        "components": {
            "schemas": SCHEMAS,
            "responses": {
                "SignIn": _answer(
                    "Not signed in (any more). The phone keeps what waits and asks the "
                    "manager to sign in again.",
                    "Problem",
                ),
                "Token": _answer("The CSRF token is missing or does not match.", "Problem"),
            },
            "securitySchemes": {
                "session": {"type": "apiKey", "in": "cookie", "name": "session"},
                "csrf": {"type": "apiKey", "in": "header", "name": "X-CSRFToken"},
            },
        },
    }
