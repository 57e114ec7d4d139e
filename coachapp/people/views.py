"""Invitations (admins and managers), people management and the audit log (admins)."""

from collections.abc import Sequence

from flask import Blueprint, current_app, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from coachapp import clock
from coachapp.auth import invitations
from coachapp.auth.devices import describe as describe_device
from coachapp.extensions import db
from coachapp.htmx import render
from coachapp.models import AuditEvent, Invitation, Role, RoleProfile, Team, User
from coachapp.parsing import parse_int
from coachapp.people import audit_log, service
from coachapp.people.forms import (
    NO_TEAM,
    ROLE_LABELS,
    AuditFilterForm,
    InvitationForm,
    PersonForm,
    ResetForm,
)
from coachapp.roles import role_required

bp = Blueprint("people", __name__)
admin_only = role_required("admin")


@bp.app_template_global()
def role_label(role: Role) -> str:
    return str(ROLE_LABELS[role])


@bp.app_template_global()
def log_viewers(agent: User) -> Sequence[AuditEvent]:
    """Who opened this agent's log: shown to the agent on their own log page."""
    return audit_log.log_viewers(agent)


# --- invitations -------------------------------------------------------------------------------


@bp.get("/invitations")
@login_required
@role_required("admin", "manager")
def invitations_page() -> Response:
    """Invite someone, and the invitations still waiting to be used."""
    return _invitations_page(_invitation_form(formdata=None))


@bp.post("/invitations")
@login_required
@role_required("admin", "manager")
def create_invitation() -> Response:
    """Create an invitation and show its link and QR code, this once."""
    form = _invitation_form()
    role = _role(form.role.data)
    team = db.session.get(Team, form.team_id.data or NO_TEAM)
    # Outside a manager's teams (or not an agent) the invitation does not exist for them: 404.
    service.abort_unless(invitations.may_invite(inviter=current_user, role=role, team=team))
    if not form.validate():
        return _invitations_page(form, status=422)
    invitation, token = invitations.create_invitation(
        created_by=current_user,
        name=form.name.data or "",
        email=form.email.data or None,
        role=role,
        team=team,
        role_profile=db.session.get(RoleProfile, form.role_profile_id.data or NO_TEAM),
        now=clock.now(),
    )
    db.session.commit()
    return _link_page(invitation, token)


@bp.post("/invitations/<int:invitation_id>/revoke")
@login_required
@role_required("admin", "manager")
def revoke_invitation(invitation_id: int) -> Response:
    """Withdraw a pending invitation: its link stops working at once."""
    invitation = invitations.invitation_or_404(viewer=current_user, invitation_id=invitation_id)
    if invitations.revoke(invitation=invitation, actor=current_user, now=clock.now()):
        flash(_("Invitation for %(name)s withdrawn.", name=invitation.name))
    db.session.commit()
    return redirect(url_for("people.invitations_page"), code=303)


# --- people ------------------------------------------------------------------------------------


@bp.get("/admin/people")
@login_required
@admin_only
def index() -> Response:
    """Everyone, by role and team, with whether their account is on."""
    return render(
        "people/index.html",
        "people/index.html",
        people=service.people_by_role(),
        passkeys=service.passkey_counts(),
    )


@bp.get("/admin/people/<int:person_id>")
@login_required
@admin_only
def person(person_id: int) -> Response:
    """One person: role and teams, switch off or on, passkey reset."""
    found = service.person_or_404(person_id)
    return _person_page(found, _person_form(found, filled=True))


@bp.post("/admin/people/<int:person_id>/role")
@login_required
@admin_only
def change_role(person_id: int) -> Response:
    """Change a person's role, team, managed teams or role profile."""
    found = service.person_or_404(person_id)
    form = _person_form(found, filled=False)
    if not form.validate():
        return _person_page(found, form, status=422)
    service.change_role(
        person=found,
        actor=current_user,
        role=Role(form.role.data),
        team=db.session.get(Team, form.team_id.data or NO_TEAM),
        managed_teams=[
            t for t in service.all_teams() if t.id in (form.managed_team_ids.data or [])
        ],
        role_profile=db.session.get(RoleProfile, form.role_profile_id.data or NO_TEAM),
    )
    db.session.commit()
    flash(_("Saved the changes for %(name)s.", name=found.name))
    return redirect(url_for("people.person", person_id=found.id), code=303)


@bp.post("/admin/people/<int:person_id>/deactivate")
@login_required
@admin_only
def deactivate(person_id: int) -> Response:
    """Switch an account off: every session it has ends now, its passkeys stop working."""
    found = service.person_or_404(person_id)
    service.deactivate(person=found, actor=current_user)
    db.session.commit()
    flash(_("%(name)s is switched off and signed out everywhere.", name=found.name))
    return redirect(url_for("people.person", person_id=found.id), code=303)


@bp.post("/admin/people/<int:person_id>/reactivate")
@login_required
@admin_only
def reactivate(person_id: int) -> Response:
    """Switch an account back on."""
    found = service.person_or_404(person_id)
    service.reactivate(person=found, actor=current_user)
    db.session.commit()
    flash(_("%(name)s can sign in again.", name=found.name))
    return redirect(url_for("people.person", person_id=found.id), code=303)


@bp.post("/admin/people/<int:person_id>/reset-passkeys")
@login_required
@admin_only
def reset_passkeys(person_id: int) -> Response:
    """A lost phone: a new invitation that lets this person add a passkey, and nothing else."""
    found = service.person_or_404(person_id)
    service.can_be_reset(found)
    if ResetForm().remove_existing.data:
        service.remove_all_passkeys(person=found, actor=current_user)
    invitation, token = invitations.create_reset_invitation(
        created_by=current_user, person=found, now=clock.now()
    )
    db.session.commit()
    return _link_page(invitation, token)


@bp.get("/admin/audit")
@login_required
@admin_only
def audit_page() -> Response:
    """The audit log, newest first, filtered by action, person and dates."""
    form = AuditFilterForm(formdata=request.args)
    form.action.choices = [("", _("Everything"))] + [
        (code, audit_log.label(code)) for code in audit_log.actions_seen()
    ]
    form.person.choices = [(NO_TEAM, _("Everyone"))] + [(p.id, p.name) for p in audit_log.people()]
    filters = audit_log.AuditFilter()
    if form.validate():
        filters = audit_log.AuditFilter(
            action=form.action.data or "",
            person_id=form.person.data or NO_TEAM,
            start=form.start.data,
            end=form.end.data,
        )
    zone = clock.zone()
    events = db.paginate(
        audit_log.events(filters, zone=zone),
        page=parse_int(request.args.get("page"), high=10_000) or 1,
        per_page=audit_log.PER_PAGE,
        error_out=False,
    )
    arguments = {k: v for k, v in request.args.items() if k != "page" and v}
    return render(
        "people/audit.html",
        "people/audit.html",
        form=form,
        events=events,
        arguments=arguments,
        label=audit_log.label,
        device=describe_device,
    )


# --- helpers -----------------------------------------------------------------------------------


def _invitation_form(**kwargs: object) -> InvitationForm:
    form = InvitationForm(**kwargs)  # type: ignore[arg-type]
    if current_user.role == Role.ADMIN:
        form.offer(roles=list(Role), teams=service.all_teams(), profiles=service.all_profiles())
    else:
        active = [t for t in current_user.managed_teams if t.archived_at is None]
        teams = sorted(active, key=lambda t: t.name)
        form.offer(
            roles=[Role.AGENT], teams=teams, profiles=service.all_profiles(), team_optional=False
        )
    return form


def _invitations_page(form: InvitationForm, status: int = 200) -> Response:
    pending = invitations.pending_invitations(viewer=current_user, now=clock.now())
    return render(
        "people/invitations.html",
        "people/invitations.html",
        status=status,
        form=form,
        pending=pending,
    )


def _role(value: object) -> Role:
    try:
        return Role(value)
    except ValueError:
        return Role.AGENT  # an unknown role is refused by the form's own choices


def _link_page(invitation: Invitation, token: str) -> Response:
    link = invitations.link_for(token, origin=current_app.config.get("WEBAUTHN_ORIGIN"))
    return render(
        "people/invitation_link.html",
        "people/invitation_link.html",
        invitation=invitation,
        link=link,
        qr=invitations.qr_data_uri(link),
    )


def _person_form(found: User, *, filled: bool) -> PersonForm:
    """The role form: `filled` with the person's current values, or read from the request."""
    form = PersonForm(formdata=None) if filled else PersonForm()
    teams = service.all_teams()
    form.offer(roles=list(Role), teams=teams, profiles=service.all_profiles())
    form.offer_managed(teams)
    if filled:
        form.role.data = found.role.value
        form.team_id.data = found.team_id or NO_TEAM
        form.role_profile_id.data = found.role_profile_id or NO_TEAM
        form.managed_team_ids.data = [t.id for t in found.managed_teams]
    return form


def _person_page(found: User, form: PersonForm, status: int = 200) -> Response:
    return render(
        "people/person.html",
        "people/person.html",
        status=status,
        person=found,
        form=form,
        reset_form=ResetForm(formdata=None),
        passkeys=service.passkey_counts().get(found.id, 0),
        viewed=audit_log.log_viewers(found, limit=5),
    )
