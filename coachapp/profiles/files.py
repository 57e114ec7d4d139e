"""Role profiles as JSON files: parse and check (every problem at once), export, import, and the
starter library shipped in the package."""

import json
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext

from coachapp import clock
from coachapp.errors import DomainError
from coachapp.extensions import db
from coachapp.models import (
    BEHAVIOUR_NAME_MAX_LENGTH,
    Behaviour,
    Competency,
    CompetencyKind,
    RoleProfile,
    User,
)
from coachapp.profiles import service
from coachapp.profiles.service import (
    COMPETENCY_NAME_MAX_LENGTH,
    MAX_BEHAVIOURS,
    MIN_BEHAVIOURS,
    PROFILE_NAME_MAX_LENGTH,
    TEXT_MAX_LENGTH,
)

#: The same as the app's upload limit (MAX_CONTENT_LENGTH).
MAX_FILE_BYTES = 256 * 1024
PROFILE_KEYS = {"name", "description", "competencies"}
COMPETENCY_KEYS = {"name", "kind", "description", "behaviours"}
BEHAVIOUR_KEYS = {"name", "example"}


class InvalidProfileFile(DomainError):
    """A file that is not a profile; `problems` holds one message per problem, with its place."""

    status_code = 422
    message = _l("The file is not a role profile that can be imported.")

    def __init__(self, problems: list[str]) -> None:
        super().__init__()
        self.problems = problems


@dataclass
class BehaviourData:
    name: str
    example: str = ""


@dataclass
class CompetencyData:
    name: str
    kind: CompetencyKind
    description: str = ""
    behaviours: list[BehaviourData] = field(default_factory=list)


@dataclass
class ProfileData:
    name: str
    description: str = ""
    competencies: list[CompetencyData] = field(default_factory=list)


# --- parsing -------------------------------------------------------------------------------------


def parse(raw: bytes | str) -> ProfileData:
    """The profile in a file, or InvalidProfileFile listing every problem found."""
    if len(raw) > MAX_FILE_BYTES:
        raise InvalidProfileFile([_("The file is over 256 KB: a role profile is much smaller.")])
    try:
        text = raw.decode("utf-8-sig") if isinstance(raw, bytes) else raw
        document = json.loads(text)
    except (UnicodeDecodeError, json.JSONDecodeError):
        message = _("The file is not JSON: export a profile to see the format.")
        raise InvalidProfileFile([message]) from None
    if not isinstance(document, dict):
        raise InvalidProfileFile([_("The file must hold one profile: an object with a name.")])
    problems: list[str] = []
    profile = ProfileData(
        name=_name(document, _("The profile"), PROFILE_NAME_MAX_LENGTH, problems),
        description=_optional(document, "description", _("The profile"), problems),
    )
    _unknown_keys(document, PROFILE_KEYS, _("The profile"), problems)
    competencies = document.get("competencies")
    if not isinstance(competencies, list) or not competencies:
        problems.append(_("The profile has no behaviours: add competencies with behaviours."))
        competencies = []
    seen_competencies: set[str] = set()
    seen_behaviours: set[str] = set()
    for c_number, raw_competency in enumerate(competencies, start=1):
        place = _("Competency %(number)d", number=c_number)
        competency = _competency(raw_competency, place, problems)
        if competency is None:
            continue
        if competency.name and competency.name.lower() in seen_competencies:
            problems.append(_("%(place)s: another competency has this name.", place=place))
        seen_competencies.add(competency.name.lower())
        raw_behaviours = raw_competency.get("behaviours")
        if not isinstance(raw_behaviours, list):
            raw_behaviours = []
        for b_number, raw_behaviour in enumerate(raw_behaviours, start=1):
            b_place = _(
                "Competency %(competency)d, behaviour %(number)d",
                competency=c_number,
                number=b_number,
            )
            behaviour = _behaviour(raw_behaviour, b_place, problems)
            if behaviour is None:
                continue
            if behaviour.name and behaviour.name.lower() in seen_behaviours:
                problems.append(_("%(place)s: another behaviour has this name.", place=b_place))
            seen_behaviours.add(behaviour.name.lower())
            competency.behaviours.append(behaviour)
        if not MIN_BEHAVIOURS <= len(raw_behaviours) <= MAX_BEHAVIOURS:
            problems.append(
                ngettext(
                    "%(place)s: it has %(num)d behaviour; a competency needs 3 to 12.",
                    "%(place)s: it has %(num)d behaviours; a competency needs 3 to 12.",
                    len(raw_behaviours),
                    place=place,
                )
            )
        profile.competencies.append(competency)
    if competencies and not seen_behaviours:
        problems.append(_("The profile has no behaviours: add competencies with behaviours."))
    if problems:
        raise InvalidProfileFile(problems)
    return profile


def _competency(raw: Any, place: str, problems: list[str]) -> CompetencyData | None:
    if not isinstance(raw, dict):
        problems.append(_("%(place)s: must be an object with a name and a kind.", place=place))
        return None
    _unknown_keys(raw, COMPETENCY_KEYS, place, problems)
    kind_value = raw.get("kind")
    try:
        kind = CompetencyKind(kind_value)
    except ValueError:
        kind = CompetencyKind.SKILL
        problems.append(
            _(
                "%(place)s: the kind must be knowledge, skill or attitude, not %(kind)s.",
                place=place,
                kind=json.dumps(kind_value)[:40],
            )
        )
    if "behaviours" in raw and not isinstance(raw["behaviours"], list):
        problems.append(_("%(place)s: behaviours must be a list.", place=place))
    return CompetencyData(
        name=_name(raw, place, COMPETENCY_NAME_MAX_LENGTH, problems),
        kind=kind,
        description=_optional(raw, "description", place, problems),
    )


def _behaviour(raw: Any, place: str, problems: list[str]) -> BehaviourData | None:
    if not isinstance(raw, dict):
        problems.append(_("%(place)s: must be an object with a name.", place=place))
        return None
    _unknown_keys(raw, BEHAVIOUR_KEYS, place, problems)
    return BehaviourData(
        name=_name(raw, place, BEHAVIOUR_NAME_MAX_LENGTH, problems),
        example=_optional(raw, "example", place, problems),
    )


def _name(raw: dict[str, Any], place: str, limit: int, problems: list[str]) -> str:
    value = raw.get("name")
    if value is None:
        problems.append(_("%(place)s: the name is missing.", place=place))
        return ""
    if not isinstance(value, str):
        problems.append(_("%(place)s: the name must be text.", place=place))
        return ""
    name = " ".join(value.split())
    if not name:
        problems.append(_("%(place)s: the name is empty.", place=place))
    elif len(name) > limit:
        problems.append(
            _("%(place)s: the name is over %(limit)d characters.", place=place, limit=limit)
        )
    return name


def _optional(raw: dict[str, Any], key: str, place: str, problems: list[str]) -> str:
    value = raw.get(key, "")
    if value is None:
        return ""
    if not isinstance(value, str):
        problems.append(_("%(place)s: %(key)s must be text.", place=place, key=key))
        return ""
    if len(value.strip()) > TEXT_MAX_LENGTH:
        problems.append(
            _(
                "%(place)s: %(key)s is over %(limit)d characters.",
                place=place,
                key=key,
                limit=TEXT_MAX_LENGTH,
            )
        )
    return value.strip()


def _unknown_keys(raw: dict[str, Any], allowed: set[str], place: str, problems: list[str]) -> None:
    unknown = sorted(str(key) for key in raw if key not in allowed)
    if unknown:
        problems.append(
            _(
                "%(place)s: unknown keys %(keys)s (allowed: %(allowed)s).",
                place=place,
                keys=", ".join(json.dumps(k) for k in unknown)[:120],
                allowed=", ".join(sorted(allowed)),
            )
        )


# --- export --------------------------------------------------------------------------------------


def export(profile: RoleProfile) -> dict[str, Any]:
    """The profile in the file format: active behaviours only, in their order."""
    return {
        "name": profile.name,
        "description": profile.description,
        "competencies": [
            {
                "name": competency.name,
                "kind": competency.kind.value,
                "description": competency.description,
                "behaviours": [
                    {"name": b.name, "example": b.example}
                    for b in service.active_behaviours(competency)
                ],
            }
            for competency in profile.competencies
            if service.active_behaviours(competency)
        ],
    }


def export_json(profile: RoleProfile) -> str:
    return json.dumps(export(profile), ensure_ascii=False, indent=2) + "\n"


def download_name(profile: RoleProfile) -> str:
    slug = "".join(ch if ch.isalnum() else "-" for ch in profile.name.lower()).strip("-")
    return f"{'-'.join(filter(None, slug.split('-'))) or 'profile'}.json"


# --- import --------------------------------------------------------------------------------------


def import_profile(
    data: ProfileData, *, actor: User | None, replace: bool = False, name: str | None = None
) -> RoleProfile:
    """A new profile from the file, or with `replace` the profile of that name brought in line
    with it: matched by name, reworded and reordered in place, new ones added, the behaviours no
    longer in the file retired (their history stays). Raises before writing anything."""
    name = " ".join((name or data.name).split())
    existing = service.profile_named(name)
    if existing is not None and not replace:
        raise service.ProfileNameTaken(
            _(
                "There is already a profile named %(name)s: choose another name, or replace it.",
                name=name,
            )
        )
    if existing is None:
        profile = service.create_profile(name=name, description=data.description, actor=actor)
        for competency_data in data.competencies:
            competency = service.add_competency(
                profile,
                name=competency_data.name,
                kind=competency_data.kind.value,
                description=competency_data.description,
                actor=None,
            )
            for behaviour in competency_data.behaviours:
                service.add_behaviour(
                    competency, name=behaviour.name, example=behaviour.example, actor=None
                )
        return profile
    _replace(existing, data, actor=actor)
    return existing


def _replace(profile: RoleProfile, data: ProfileData, *, actor: User | None) -> None:
    now = clock.now()
    profile.description = data.description
    competencies = {c.name.lower(): c for c in profile.competencies}
    behaviours = {b.name.lower(): b for c in profile.competencies for b in c.behaviours}
    kept_competencies: list[Competency] = []
    kept_behaviours: set[int] = set()
    for c_position, competency_data in enumerate(data.competencies):
        competency = competencies.get(competency_data.name.lower())
        if competency is None:
            competency = Competency(role_profile=profile)
            db.session.add(competency)
        competency.name = competency_data.name
        competency.kind = competency_data.kind
        competency.description = competency_data.description
        competency.position = c_position
        kept_competencies.append(competency)
        for b_position, behaviour_data in enumerate(competency_data.behaviours):
            behaviour = behaviours.get(behaviour_data.name.lower())
            if behaviour is None:
                behaviour = Behaviour()
                db.session.add(behaviour)
            elif behaviour.competency is not competency:
                behaviour.competency.behaviours.remove(behaviour)
            if behaviour not in competency.behaviours:
                competency.behaviours.append(behaviour)
            behaviour.name = behaviour_data.name
            behaviour.example = behaviour_data.example
            behaviour.position = b_position
            behaviour.retired_at = None
            db.session.flush()
            kept_behaviours.add(behaviour.id)
    # What the file no longer names is retired, never deleted: past records keep pointing at it.
    for c_position, competency in enumerate(
        [c for c in profile.competencies if c not in kept_competencies],
        start=len(kept_competencies),
    ):
        competency.position = c_position
    for competency in profile.competencies:
        for behaviour in competency.behaviours:
            if behaviour.id not in kept_behaviours and behaviour.retired_at is None:
                behaviour.retired_at = now
                behaviour.position += MAX_BEHAVIOURS
        competency.behaviours.sort(key=lambda b: b.position)
    profile.competencies.sort(key=lambda c: c.position)
    db.session.flush()
    service._audit("profile.imported", actor, profile)


# --- the starter library -------------------------------------------------------------------------


@dataclass(frozen=True)
class Starter:
    key: str
    data: ProfileData


def starters(language: str | None = None) -> list[Starter]:
    """The profiles shipped with the package, to copy and adapt, in `language` (the page's by
    default): starter/<language>/<key>.json where it exists, else the English starter/<key>.json."""
    from coachapp.i18n import current_language

    language = language or current_language()
    folder = resources.files("coachapp.profiles") / "starter"
    translated = folder / language
    found = []
    for entry in folder.iterdir():
        if not entry.name.endswith(".json"):
            continue
        local = translated / entry.name
        source = local if language != "en" and local.is_file() else entry
        found.append(Starter(entry.name.removesuffix(".json"), parse(source.read_bytes())))
    return sorted(found, key=lambda starter: starter.data.name)


def starter(key: str, language: str | None = None) -> Starter | None:
    return next((s for s in starters(language) if s.key == key), None)


def copy_starter(
    key: str, *, actor: User | None, name: str | None = None, language: str | None = None
) -> RoleProfile:
    """An editable profile from the starter library, under its own name or the one given."""
    found = starter(key, language)
    if found is None:
        raise service.ProfileError(_("There is no starter profile of that name."))
    return import_profile(found.data, actor=actor, name=name or found.data.name)
