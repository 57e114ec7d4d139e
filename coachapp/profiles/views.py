"""Role profile pages: admins and trainers edit, managers read every profile, an agent reads
their own ("My role")."""

from collections.abc import Callable
from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    make_response,
    redirect,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required
from werkzeug.exceptions import NotFound, RequestEntityTooLarge

from coachapp.extensions import db
from coachapp.htmx import is_fragment_request, render
from coachapp.models import Behaviour, Competency, CompetencyKind, RoleProfile
from coachapp.parsing import parse_id
from coachapp.profiles import files, service
from coachapp.roles import role_required

bp = Blueprint("profiles", __name__)
EDITORS = ("admin", "trainer")
READERS = ("admin", "trainer", "manager")


@bp.app_template_global()
def kind_label(kind: CompetencyKind) -> str:
    labels = {
        CompetencyKind.KNOWLEDGE: _("Knowledge"),
        CompetencyKind.SKILL: _("Skill"),
        CompetencyKind.ATTITUDE: _("Attitude"),
    }
    return labels[CompetencyKind(kind)]


@bp.app_template_global()
def kind_letter(kind: CompetencyKind) -> str:
    letters = {
        CompetencyKind.KNOWLEDGE: _("K"),
        CompetencyKind.SKILL: _("S"),
        CompetencyKind.ATTITUDE: _("A"),
    }
    return letters[CompetencyKind(kind)]


@bp.app_template_global()
def active_behaviours(competency: Competency) -> list[Behaviour]:
    return service.active_behaviours(competency)


# --- reading -------------------------------------------------------------------------------------


@bp.get("/profiles")
@login_required
@role_required(*READERS)
def index() -> Response:
    """Every role profile, with how many agents are coached against it."""
    return render(
        "profiles/index.html",
        "profiles/index.html",
        profiles=service.all_profiles(),
        agents=service.agents_per_profile(),
    )


@bp.get("/profiles/<int:profile_id>")
@login_required
@role_required(*READERS)
def show(profile_id: int) -> Response:
    """One profile in full: purpose, competencies, behaviours and what good looks like."""
    return render("profiles/show.html", "profiles/show.html", profile=_profile(profile_id))


@bp.get("/my-role")
@login_required
@role_required("agent")
def my_role() -> Response:
    """The profile the signed-in agent is coached against, in full."""
    return render(
        "profiles/my_role.html", "profiles/my_role.html", profile=current_user.role_profile
    )


@bp.get("/profiles/<int:profile_id>/export")
@login_required
@role_required(*EDITORS)
def export(profile_id: int) -> Response:
    """The profile as a JSON file to download (active behaviours only)."""
    profile = _profile(profile_id)
    response = make_response(files.export_json(profile))
    response.mimetype = "application/json"
    response.headers["Content-Disposition"] = (
        f'attachment; filename="{files.download_name(profile)}"'
    )
    return response


# --- new profiles: from scratch, from the starter library, from a file --------------------------


@bp.get("/profiles/new")
@login_required
@role_required(*EDITORS)
def new() -> Response:
    """The three ways to a new profile."""
    return _new_page()


@bp.post("/profiles")
@login_required
@role_required(*EDITORS)
def create() -> Response:
    """A new, empty profile: then add competencies and behaviours in the editor."""
    typed = _typed("name", "description")
    try:
        profile = service.create_profile(**typed, actor=current_user)
    except service.ProfileError as error:
        return _new_page(errors={"create": {error.field: str(error.message)}}, typed=typed)
    db.session.commit()
    return redirect(url_for("profiles.edit", profile_id=profile.id), code=303)


@bp.post("/profiles/copy")
@login_required
@role_required(*EDITORS)
def copy() -> Response:
    """An editable copy of a starter profile, under its own name or a new one."""
    key, name = request.form.get("starter", ""), request.form.get("name", "").strip()
    try:
        profile = files.copy_starter(key, actor=current_user, name=name or None)
    except service.ProfileError as error:
        db.session.rollback()
        return _new_page(errors={f"copy-{key}": {"name": str(error.message)}}, typed={"name": name})
    db.session.commit()
    flash(_("Copied %(name)s: adapt it to your organisation.", name=profile.name))
    return redirect(url_for("profiles.edit", profile_id=profile.id), code=303)


@bp.post("/profiles/import")
@login_required
@role_required(*EDITORS)
def import_file() -> Response:
    """A profile from a JSON file; with "replace", the profile of that name is updated in place."""
    raw = _uploaded()
    replace = request.form.get("replace") == "on"
    try:
        profile = files.import_profile(files.parse(raw), actor=current_user, replace=replace)
    except files.InvalidProfileFile as error:
        db.session.rollback()
        return _new_page(problems=error.problems, pasted=_as_text(raw), replace=replace)
    except service.ProfileError as error:
        db.session.rollback()
        return _new_page(problems=[str(error.message)], pasted=_as_text(raw), replace=replace)
    db.session.commit()
    flash(_("Imported %(name)s.", name=profile.name))
    return redirect(url_for("profiles.edit", profile_id=profile.id), code=303)


@bp.errorhandler(RequestEntityTooLarge)
def too_large(_error: RequestEntityTooLarge) -> Response:
    """A file over the upload limit is refused before any view runs: say so on the form."""
    if not current_user.is_authenticated:
        return current_app.login_manager.unauthorized()  # type: ignore[attr-defined, no-any-return]
    if current_user.role not in EDITORS:
        return current_app.handle_http_exception(NotFound())  # type: ignore[return-value]
    limit = current_app.config["MAX_CONTENT_LENGTH"] // 1024
    problem = _(
        "The file is larger than %(limit)d KiB, the most that can be sent at once. "
        "A role profile is a few KiB: check that this is the right file.",
        limit=limit,
    )
    return _new_page(problems=[problem], status=413)


# --- the editor ----------------------------------------------------------------------------------


@bp.get("/profiles/<int:profile_id>/edit")
@login_required
@role_required(*EDITORS)
def edit(profile_id: int) -> Response:
    """The editor: wording, order, competencies; retire what no longer applies."""
    return _editor(_profile(profile_id))


@bp.post("/profiles/<int:profile_id>/edit")
@login_required
@role_required(*EDITORS)
def update(profile_id: int) -> Response:
    """Rename the profile or change its purpose."""
    profile = _profile(profile_id)
    typed = _typed("name", "description")
    return _change(
        profile,
        "profile",
        typed,
        lambda: service.update_profile(profile, **typed, actor=current_user),
    )


@bp.post("/profiles/<int:profile_id>/competencies")
@login_required
@role_required(*EDITORS)
def add_competency(profile_id: int) -> Response:
    """Add a competency of one of the three kinds."""
    profile = _profile(profile_id)
    typed = _typed("name", "kind", "description")
    return _change(
        profile,
        "new-competency",
        typed,
        lambda: service.add_competency(profile, **typed, actor=current_user),
    )


@bp.post("/profiles/competencies/<int:competency_id>")
@login_required
@role_required(*EDITORS)
def update_competency(competency_id: int) -> Response:
    """Rename a competency, change its kind or description."""
    competency = db.get_or_404(Competency, competency_id)
    typed = _typed("name", "kind", "description")
    return _change(
        competency.role_profile,
        f"competency-{competency.id}",
        typed,
        lambda: service.update_competency(competency, **typed, actor=current_user),
    )


@bp.post("/profiles/competencies/<int:competency_id>/move")
@login_required
@role_required(*EDITORS)
def move_competency(competency_id: int) -> Response:
    """One place up or down."""
    competency = db.get_or_404(Competency, competency_id)
    up = request.form.get("direction") == "up"
    return _change(
        competency.role_profile,
        f"competency-{competency.id}",
        {},
        lambda: service.move_competency(competency, up=up, actor=current_user),
    )


@bp.post("/profiles/competencies/<int:competency_id>/behaviours")
@login_required
@role_required(*EDITORS)
def add_behaviour(competency_id: int) -> Response:
    """Add a behaviour, with what good looks like."""
    competency = db.get_or_404(Competency, competency_id)
    typed = _typed("name", "example")
    return _change(
        competency.role_profile,
        f"new-behaviour-{competency.id}",
        typed,
        lambda: service.add_behaviour(competency, **typed, actor=current_user),
    )


@bp.post("/profiles/behaviours/<int:behaviour_id>")
@login_required
@role_required(*EDITORS)
def update_behaviour(behaviour_id: int) -> Response:
    """Reword a behaviour: its history stays with it."""
    behaviour = db.get_or_404(Behaviour, behaviour_id)
    typed = _typed("name", "example")
    return _change(
        behaviour.competency.role_profile,
        f"behaviour-{behaviour.id}",
        typed,
        lambda: service.update_behaviour(behaviour, **typed, actor=current_user),
    )


@bp.post(
    "/profiles/behaviours/<int:behaviour_id>/<any(move,competency,retire,restore,delete):action>"
)
@login_required
@role_required(*EDITORS)
def behaviour_action(behaviour_id: int, action: str) -> Response:
    """Move up or down, to another competency; retire, restore or delete."""
    behaviour = db.get_or_404(Behaviour, behaviour_id)
    profile = behaviour.competency.role_profile
    actions: dict[str, Callable[[], Any]] = {
        "move": lambda: service.move_behaviour(
            behaviour, up=request.form.get("direction") == "up", actor=current_user
        ),
        "competency": lambda: service.move_to_competency(
            behaviour, _target_competency(profile), actor=current_user
        ),
        "retire": lambda: service.retire_behaviour(behaviour, actor=current_user),
        "restore": lambda: service.restore_behaviour(behaviour, actor=current_user),
        "delete": lambda: service.delete_behaviour(behaviour, actor=current_user),
    }
    return _change(profile, f"behaviour-{behaviour.id}", {}, actions[action])


# --- helpers -------------------------------------------------------------------------------------


def _profile(profile_id: int) -> RoleProfile:
    return db.get_or_404(RoleProfile, profile_id)


def _typed(*names: str) -> dict[str, str]:
    return {name: request.form.get(name, "") for name in names}


def _target_competency(profile: RoleProfile) -> Competency:
    target = db.session.get(Competency, parse_id(request.form.get("competency_id")) or 0)
    if target is None or target.role_profile_id != profile.id:
        raise service.OtherProfile()
    return target


def _change(
    profile: RoleProfile,
    key: str,
    typed: dict[str, str],
    change: Callable[[], Any],
) -> Response:
    """Apply one edit; the editor again (fragment or page) with the error next to its form."""
    profile_id = profile.id
    try:
        change()
    except service.ProfileError as error:
        db.session.rollback()
        return _editor(
            db.session.get(RoleProfile, profile_id),
            errors={key: {error.field: str(error.message)}},
            typed={key: typed},
            status=422,
        )
    db.session.commit()
    if is_fragment_request():
        return _editor(db.session.get(RoleProfile, profile_id))
    return redirect(url_for("profiles.edit", profile_id=profile_id, _anchor=key), code=303)


def _editor(profile: RoleProfile | None, status: int = 200, **context: Any) -> Response:
    if profile is None:
        abort(404)
    return render(
        "profiles/edit.html",
        "profiles/_editor.html",
        status=status,
        profile=profile,
        warnings=service.warnings(profile),
        history=service.profile_history(profile),
        kinds=list(CompetencyKind),
        errors=context.get("errors", {}),
        typed=context.get("typed", {}),
    )


def _new_page(status: int | None = None, **context: Any) -> Response:
    failed = bool(context.get("problems") or context.get("errors"))
    return render(
        "profiles/new.html",
        "profiles/new.html",
        status=status or (422 if failed else 200),
        starters=files.starters(),
        kinds=list(CompetencyKind),
        errors=context.get("errors", {}),
        typed=context.get("typed", {}),
        problems=context.get("problems", []),
        pasted=context.get("pasted", ""),
        replace=context.get("replace", False),
    )


def _uploaded() -> bytes | str:
    upload = request.files.get("file")
    if upload is not None and upload.filename:
        return upload.read(files.MAX_FILE_BYTES + 1)
    return request.form.get("json", "")


def _as_text(raw: bytes | str) -> str:
    if isinstance(raw, str):
        return raw
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return ""
