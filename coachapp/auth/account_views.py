"""My account: the signed-in person's passkeys and the devices they are signed in on."""

from datetime import UTC, datetime

from flask import abort, flash, redirect, request, url_for
from flask_babel import force_locale, ngettext, refresh
from flask_babel import gettext as _
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from coachapp import i18n
from coachapp.auth import account
from coachapp.auth.forms import PasskeyNameForm
from coachapp.auth.sessions import sign_out
from coachapp.auth.views import bp
from coachapp.htmx import render
from coachapp.unit_of_work import commits


@bp.get("/account")
@login_required
def account_page() -> Response:
    """My passkeys: names, when each was made and last used; add, rename, remove."""
    return _page()


@bp.post("/account/language")
@login_required
@commits
def set_language() -> Response:
    """Speak my language on every page: one of the six, or "" to follow my browser."""
    chosen = request.form.get("language", "")
    if chosen and not i18n.is_supported(chosen):
        abort(400)
    current_user.language = chosen or None
    refresh()
    with force_locale(i18n.select_locale()):
        flash(_("Language saved."))
    return redirect(url_for("auth.account_page", _anchor="language"), code=303)


@bp.post("/account/passkeys/<int:passkey_id>/rename")
@login_required
@commits
def rename_passkey(passkey_id: int) -> Response:
    """Give one of my passkeys a name I recognise."""
    passkey = account.own_passkey_or_404(user=current_user, passkey_id=passkey_id)
    form = PasskeyNameForm()
    if not form.validate():
        return _page(renaming=passkey.id, form=form, status=422)
    account.rename_passkey(passkey=passkey, name=form.name.data or "")
    flash(_("Passkey renamed."))
    return redirect(url_for("auth.account_page"), code=303)


@bp.post("/account/passkeys/<int:passkey_id>/remove")
@login_required
@commits
def remove_passkey(passkey_id: int) -> Response:
    """Remove one of my passkeys (never the last one)."""
    passkey = account.own_passkey_or_404(user=current_user, passkey_id=passkey_id)
    account.remove_passkey(passkey=passkey, actor=current_user)
    flash(_("Passkey removed. It can no longer be used to sign in."))
    return redirect(url_for("auth.account_page"), code=303)


@bp.post("/account/sign-out-others")
@login_required
@commits
def sign_out_others() -> Response:
    """Sign out of every other phone and computer; this one stays signed in."""
    ended = account.sign_out_other_devices(user=current_user)
    flash(
        ngettext(
            "Signed out of %(num)d other device.", "Signed out of %(num)d other devices.", ended
        )
    )
    return redirect(url_for("auth.account_page"), code=303)


@bp.post("/account/sessions/<int:login_id>/sign-out")
@login_required
@commits
def sign_out_session(login_id: int) -> Response:
    """Sign out of one device listed on the account page (this one included)."""
    now = datetime.now(UTC)
    login = account.own_session_or_404(user=current_user, login_id=login_id, now=now)
    if account.end_device_session(user=current_user, login=login, now=now):
        sign_out()
        return redirect(url_for("auth.signin"), code=303)
    flash(_("Signed out of that device."))
    return redirect(url_for("auth.account_page"), code=303)


def _page(
    renaming: int | None = None, form: PasskeyNameForm | None = None, status: int = 200
) -> Response:
    return render(
        "auth/account.html",
        "auth/account.html",
        status=status,
        devices=account.sessions_of(user=current_user, now=datetime.now(UTC)),
        passkeys=account.passkeys_of(current_user),
        renaming=renaming,
        form=form,
    )
