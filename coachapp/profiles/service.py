"""Role profiles as the job description in observable behaviours. Services add and flush; the
caller commits once."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from coachapp import audit, clock
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

PROFILE_NAME_MAX_LENGTH = 120
COMPETENCY_NAME_MAX_LENGTH = 120
TEXT_MAX_LENGTH = 1000
#: A competency saved from a file or copied holds this many active behaviours; the editor warns
#: below the minimum and refuses past the maximum.
MIN_BEHAVIOURS = 3
MAX_BEHAVIOURS = 12


# --- refusals ------------------------------------------------------------------------------------


class ProfileError(DomainError):
    """A profile edit the rules refuse; `field` names the form field the message belongs to."""

    status_code = 422
    field = "name"


class ProfileNameEmpty(ProfileError):
    message = _l("Give the profile a name.")


class ProfileNameTooLong(ProfileError):
    message = _l("Keep the profile's name to 120 characters.")


class ProfileNameTaken(ProfileError):
    message = _l("There is already a profile of that name.")


class CompetencyNameEmpty(ProfileError):
    message = _l("Give the competency a name.")


class CompetencyNameTooLong(ProfileError):
    message = _l("Keep the competency's name to 120 characters.")


class CompetencyNameTaken(ProfileError):
    message = _l("This profile already has a competency of that name.")


class UnknownKind(ProfileError):
    field = "kind"
    message = _l("Choose knowledge, skill or attitude.")


class BehaviourNameEmpty(ProfileError):
    message = _l("Write the behaviour as something one can see or hear.")


class BehaviourNameTooLong(ProfileError):
    message = _l("Keep the behaviour to 160 characters.")


class BehaviourNameTaken(ProfileError):
    message = _l("This profile already has a behaviour of that name.")


class BehaviourNameRetired(ProfileError):
    message = _l("A retired behaviour of this profile has that name: restore it instead.")


class TextTooLong(ProfileError):
    field = "description"
    message = _l("Keep this to 1000 characters.")


class TooManyBehaviours(ProfileError):
    message = _l("A competency holds at most 12 behaviours: retire one first, or add a competency.")


class OtherProfile(ProfileError):
    field = "competency_id"
    message = _l("A behaviour moves only to another competency of the same profile.")


class HasHistory(ProfileError):
    message = _l("This behaviour is on past records, so it cannot be deleted: retire it instead.")


# --- reading -------------------------------------------------------------------------------------


def profile_named(name: str) -> RoleProfile | None:
    """The profile of that name, ignoring case and spacing."""
    cleaned = _clean(name)
    return db.session.scalar(
        sa.select(RoleProfile).where(sa.func.lower(RoleProfile.name) == cleaned.lower()).limit(1)
    )


def all_profiles() -> Sequence[RoleProfile]:
    return db.session.scalars(sa.select(RoleProfile).order_by(RoleProfile.name)).all()


def agents_per_profile() -> dict[int, int]:
    """How many agents are coached against each profile (shown on the list)."""
    rows = db.session.execute(
        sa.select(User.role_profile_id, sa.func.count())
        .where(User.role_profile_id.is_not(None))
        .group_by(User.role_profile_id)
    )
    return {profile_id: count for profile_id, count in rows}


def active_behaviours(competency: Competency) -> list[Behaviour]:
    return [b for b in competency.behaviours if not b.is_retired]


def retired_behaviours(competency: Competency) -> list[Behaviour]:
    return [b for b in competency.behaviours if b.is_retired]


@dataclass(frozen=True)
class Warning:
    competency: Competency
    count: int


def warnings(profile: RoleProfile) -> list[Warning]:
    """Competencies the editor warns about: fewer than three active behaviours."""
    return [
        Warning(c, len(active_behaviours(c)))
        for c in profile.competencies
        if len(active_behaviours(c)) < MIN_BEHAVIOURS
    ]


def has_history(behaviour: Behaviour) -> bool:
    """True when any record points at the behaviour: observations, focus items, ratings, ..."""
    return behaviour.id is not None and behaviour.id in with_history([behaviour.id])


def with_history(behaviour_ids: Sequence[int]) -> set[int]:
    """Which of these behaviours any record points at, in one query.

    Every table with a foreign key to behaviours counts, so a record type added later is
    protected without a change here."""
    if not behaviour_ids:
        return set()
    selects = [
        sa.select(fk.parent.label("behaviour_id")).where(fk.parent.in_(behaviour_ids))
        for table in db.metadata.sorted_tables
        for fk in table.foreign_keys
        if fk.column.table.name == Behaviour.__tablename__
    ]
    return set(db.session.scalars(sa.union(*selects)))


def profile_history(profile: RoleProfile) -> set[int]:
    return with_history([b.id for c in profile.competencies for b in c.behaviours])


# --- profiles ------------------------------------------------------------------------------------


def create_profile(*, name: str, description: str = "", actor: User | None) -> RoleProfile:
    name = _profile_name(name)
    profile = RoleProfile(name=name, description=_text(description))
    db.session.add(profile)
    db.session.flush()
    _audit("profile.created", actor, profile)
    return profile


def update_profile(
    profile: RoleProfile, *, name: str, description: str, actor: User | None
) -> None:
    profile.name = _profile_name(name, keep=profile)
    profile.description = _text(description)
    db.session.flush()
    _audit("profile.changed", actor, profile)


# --- competencies --------------------------------------------------------------------------------


def add_competency(
    profile: RoleProfile,
    *,
    name: str,
    kind: str,
    description: str = "",
    actor: User | None,
) -> Competency:
    competency = Competency(
        role_profile=profile,
        name=_competency_name(profile, name),
        kind=_kind(kind),
        description=_text(description),
        position=len(profile.competencies),
    )
    db.session.add(competency)
    db.session.flush()
    _audit("profile.changed", actor, profile)
    return competency


def update_competency(
    competency: Competency, *, name: str, kind: str, description: str, actor: User | None
) -> None:
    competency.name = _competency_name(competency.role_profile, name, keep=competency)
    competency.kind = _kind(kind)
    competency.description = _text(description)
    db.session.flush()
    _audit("profile.changed", actor, competency.role_profile)


def move_competency(competency: Competency, *, up: bool, actor: User | None) -> None:
    profile = competency.role_profile
    ordered = list(profile.competencies)
    _swap(ordered, competency, up)
    for position, item in enumerate(ordered):
        item.position = position
    profile.competencies.sort(key=lambda c: c.position)
    db.session.flush()
    _audit("profile.changed", actor, profile)


# --- behaviours ----------------------------------------------------------------------------------


def add_behaviour(
    competency: Competency, *, name: str, example: str = "", actor: User | None
) -> Behaviour:
    name = _behaviour_name(competency.role_profile, name)
    if len(active_behaviours(competency)) >= MAX_BEHAVIOURS:
        raise TooManyBehaviours()
    behaviour = Behaviour(
        name=name,
        example=_text(example, field="example"),
        position=_next_position(competency),
    )
    competency.behaviours.append(behaviour)
    db.session.flush()
    _audit("profile.changed", actor, competency.role_profile)
    return behaviour


def update_behaviour(behaviour: Behaviour, *, name: str, example: str, actor: User | None) -> None:
    """New wording on the same row: every past record follows it. A new meaning is a new one."""
    profile = behaviour.competency.role_profile
    behaviour.name = _behaviour_name(profile, name, keep=behaviour)
    behaviour.example = _text(example, field="example")
    db.session.flush()
    _audit("profile.changed", actor, profile)


def move_behaviour(behaviour: Behaviour, *, up: bool, actor: User | None) -> None:
    competency = behaviour.competency
    ordered = active_behaviours(competency)
    _swap(ordered, behaviour, up)
    _renumber(competency, ordered)
    db.session.flush()
    _audit("profile.changed", actor, competency.role_profile)


def move_to_competency(behaviour: Behaviour, target: Competency, *, actor: User | None) -> None:
    """Move a behaviour, with its history, to the end of another competency of its profile."""
    source = behaviour.competency
    if target.role_profile_id != source.role_profile_id:
        raise OtherProfile()
    if target.id == source.id:
        return
    if not behaviour.is_retired and len(active_behaviours(target)) >= MAX_BEHAVIOURS:
        raise TooManyBehaviours()
    behaviour.position = _next_position(target)
    source.behaviours.remove(behaviour)
    target.behaviours.append(behaviour)
    _renumber(source, active_behaviours(source))
    db.session.flush()
    _audit("profile.changed", actor, source.role_profile)


def retire_behaviour(
    behaviour: Behaviour, *, actor: User | None, now: datetime | None = None
) -> None:
    """Take a behaviour off the chips; every past record keeps it."""
    if behaviour.is_retired:
        return
    behaviour.retired_at = now or clock.now()
    competency = behaviour.competency
    _renumber(competency, active_behaviours(competency))
    db.session.flush()
    _audit("behaviour.retired", actor, competency.role_profile, behaviour)


def restore_behaviour(behaviour: Behaviour, *, actor: User | None) -> None:
    if not behaviour.is_retired:
        return
    competency = behaviour.competency
    if len(active_behaviours(competency)) >= MAX_BEHAVIOURS:
        raise TooManyBehaviours()
    behaviour.retired_at = None
    behaviour.position = _next_position(competency)
    competency.behaviours.sort(key=lambda b: b.position)
    _renumber(competency, active_behaviours(competency))
    db.session.flush()
    _audit("behaviour.restored", actor, competency.role_profile, behaviour)


def delete_behaviour(behaviour: Behaviour, *, actor: User | None) -> None:
    """Delete a behaviour no record points at (a slip of the keyboard); others are retired."""
    if has_history(behaviour):
        raise HasHistory()
    competency = behaviour.competency
    profile = competency.role_profile
    competency.behaviours.remove(behaviour)
    db.session.delete(behaviour)
    _renumber(competency, active_behaviours(competency))
    db.session.flush()
    _audit("profile.changed", actor, profile)


# --- checks shared with files --------------------------------------------------------------------


def _clean(value: str | None) -> str:
    return " ".join((value or "").split())


def _profile_name(name: str, keep: RoleProfile | None = None) -> str:
    name = _clean(name)
    if not name:
        raise ProfileNameEmpty()
    if len(name) > PROFILE_NAME_MAX_LENGTH:
        raise ProfileNameTooLong()
    existing = profile_named(name)
    if existing is not None and existing is not keep:
        raise ProfileNameTaken()
    return name


def _competency_name(profile: RoleProfile, name: str, keep: Competency | None = None) -> str:
    name = _clean(name)
    if not name:
        raise CompetencyNameEmpty()
    if len(name) > COMPETENCY_NAME_MAX_LENGTH:
        raise CompetencyNameTooLong()
    for competency in profile.competencies:
        if competency is not keep and competency.name.lower() == name.lower():
            raise CompetencyNameTaken()
    return name


def _behaviour_name(profile: RoleProfile, name: str, keep: Behaviour | None = None) -> str:
    name = _clean(name)
    if not name:
        raise BehaviourNameEmpty()
    if len(name) > BEHAVIOUR_NAME_MAX_LENGTH:
        raise BehaviourNameTooLong()
    for competency in profile.competencies:
        for behaviour in competency.behaviours:
            if behaviour is not keep and behaviour.name.lower() == name.lower():
                raise BehaviourNameRetired() if behaviour.is_retired else BehaviourNameTaken()
    return name


def _kind(kind: str) -> CompetencyKind:
    try:
        return CompetencyKind((kind or "").strip().lower())
    except ValueError:
        raise UnknownKind() from None


def _text(value: str | None, field: str = "description") -> str:
    text = (value or "").strip()
    if len(text) > TEXT_MAX_LENGTH:
        error = TextTooLong()
        error.field = field
        raise error
    return text


def _swap(ordered: list, item: object, up: bool) -> None:  # type: ignore[type-arg]
    index = ordered.index(item)
    other = index - 1 if up else index + 1
    if 0 <= other < len(ordered):
        ordered[index], ordered[other] = ordered[other], ordered[index]


def _renumber(competency: Competency, active: list[Behaviour]) -> None:
    """Active behaviours in the given order, retired ones after them."""
    for position, behaviour in enumerate(active + retired_behaviours(competency)):
        behaviour.position = position
    competency.behaviours.sort(key=lambda b: b.position)


def _next_position(competency: Competency) -> int:
    return max((b.position for b in competency.behaviours), default=-1) + 1


def _audit(
    action: str, actor: User | None, profile: RoleProfile, behaviour: Behaviour | None = None
) -> None:
    details = f"profile {profile.id}" + (f" behaviour {behaviour.id}" if behaviour else "")
    audit.record(action, actor=actor, details=details)
