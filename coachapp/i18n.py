"""The interface's languages: which one a page speaks, and the compiled catalogues it reads.

A page speaks the person's choice (Account), else the best of the browser's Accept-Language
among the six, else the organisation's default language (Settings), else English. Pages without
a person (sign-in, invitations) start at the browser's languages.
"""

import functools
import json
import os
import tempfile
from pathlib import Path

from babel import Locale, support
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from flask import Flask, g, has_request_context, request
from flask_babel import get_locale, get_translations

#: The languages the interface speaks; English is the source language of the catalogues.
LANGUAGES = ("en", "es", "pt", "pl", "lt", "ru")
SOURCE_LANGUAGE = "en"
CATALOGUES = Path(__file__).resolve().parent / "translations"


def language_name(code: str) -> str:
    """A language's name in itself ("Polski"), as a person looks for their own language."""
    name = Locale.parse(code).get_display_name(code) or code
    return name[:1].upper() + name[1:]


def language_choices() -> list[tuple[str, str]]:
    return [(code, language_name(code)) for code in LANGUAGES]


def is_supported(code: str | None) -> bool:
    return code in LANGUAGES


def current_language() -> str:
    """The page's language code, English outside a request."""
    if not has_request_context():
        return SOURCE_LANGUAGE
    locale = get_locale()
    code = locale.language if locale is not None else SOURCE_LANGUAGE
    return code if code in LANGUAGES else SOURCE_LANGUAGE


def browser_language() -> str | None:
    """The best of the browser's Accept-Language among ours ("pl-PL" is Polish), or None."""
    return request.accept_languages.best_match(LANGUAGES)


def organisation_language() -> str | None:
    from coachapp import organisation

    org = organisation.current()
    code = org.default_language if org is not None else None
    return code if is_supported(code) else None


def select_locale() -> str:
    """Flask-Babel's locale selector: the person's choice, the browser's, the organisation's."""
    from flask_login import current_user

    if not has_request_context():
        return SOURCE_LANGUAGE  # commands speak English
    user = current_user._get_current_object() if current_user else None
    if user is not None and user.is_authenticated and is_supported(user.language):
        return user.language
    return browser_language() or organisation_language() or SOURCE_LANGUAGE


def selected_locale() -> Locale:
    """select_locale's choice as the Locale Flask-Babel keeps for the request, parsed once per
    language for the process (Flask-Babel would parse the code again on every request)."""
    return _parsed_locale(select_locale())


@functools.cache
def _parsed_locale(code: str) -> Locale:
    return Locale.parse(code)


# --- compiled catalogues ---------------------------------------------------------------------


def compile_catalogues(app: Flask) -> None:
    """Compile each messages.po whose .mo is missing or older, beside it, or into a temporary
    folder when the package is read-only; the catalogues are then read from there.

    So `pip install -e .`, a clean clone and a wheel all run with the committed .po files; the
    .mo files are never committed (they could drift from their sources)."""
    target = CATALOGUES
    if not os.access(CATALOGUES, os.W_OK):
        target = Path(tempfile.gettempdir()) / f"coachapp-translations-{os.getuid()}"
    compile_all(target)
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", str(target))


def compile_all(target: Path = CATALOGUES) -> list[Path]:
    """Compile the catalogues that changed since their .mo; returns the .mo files written.

    Not `pybabel compile`: its check wrongly wants a Russian or Lithuanian "one" form (21, 31,
    ...) to keep only the English singular's placeholders; tests/test_catalogues.py checks them."""
    written = []
    for po in sorted(CATALOGUES.glob("*/LC_MESSAGES/messages.po")):
        mo = target / po.relative_to(CATALOGUES).with_suffix(".mo")
        if mo.exists() and mo.stat().st_mtime >= po.stat().st_mtime:
            continue
        mo.parent.mkdir(parents=True, exist_ok=True)
        with po.open("rb") as source:
            catalogue = read_po(source, locale=po.parent.parent.name)
        # Written aside and renamed, so that another worker starting at once reads a whole file.
        handle, partial = tempfile.mkstemp(dir=mo.parent, suffix=".mo.part")
        with os.fdopen(handle, "wb") as out:
            write_mo(out, catalogue)
        os.replace(partial, mo)
        written.append(mo)
    return written


#: Whole numbers that reach every plural category a language has for them.
_PLURAL_SAMPLES = [*range(0, 200), 10**6]


def plural_forms(singular: str, plural: str) -> str:
    """Every plural form of a count message in the page's language, for a script to choose
    with Intl.PluralRules: {"one": "{count} entry ...", "few": ..., "many": ..., "other": ...}.
    Extracted like ngettext (the keyword plural_forms:1,2 in scripts/update-catalogues)."""
    translations = get_translations()
    rule = Locale.parse(current_language()).plural_form
    forms: dict[str, str] = {}
    for n in _PLURAL_SAMPLES:
        forms.setdefault(rule(n), translations.ngettext(singular, plural, n))
    forms.setdefault("other", translations.ngettext(singular, plural, 5))
    return json.dumps(
        {category: text.replace("%(num)d", "{count}") for category, text in forms.items()},
        ensure_ascii=False,
    )


def page_translations() -> support.NullTranslations:
    """The catalogue for this context's locale, looked up once per locale.

    Flask-Babel's template callables find it through `g` several times on every call, and a
    page calls them hundreds of times. Kept beside Flask-Babel's own state for the context and
    keyed on its locale object, so a refresh() or force_locale() (which replace that object)
    is followed at once."""
    try:
        state = g.get("_flask_babel")
    except RuntimeError:  # no application context: Flask-Babel's own answer
        return get_translations()
    locale = getattr(state, "babel_locale", None)
    known = getattr(state, "coachapp_translations", None)
    if known is not None and locale is not None and known[0] is locale:
        return known[1]  # type: ignore[no-any-return]
    translations = get_translations()  # settles the locale on first use
    state = g.get("_flask_babel")
    if state is not None:
        state.coachapp_translations = (getattr(state, "babel_locale", None), translations)
    return translations


def register(app: Flask) -> None:
    @app.context_processor
    def languages() -> dict[str, object]:
        return {"language_name": language_name, "languages": LANGUAGES}

    # Flask-Babel's callables, with the catalogue looked up once per page (page_translations).
    app.jinja_env.install_gettext_callables(  # type: ignore[attr-defined]
        gettext=lambda s: page_translations().ugettext(s),
        ngettext=lambda s, p, n: page_translations().ungettext(s, p, n),
        pgettext=lambda c, s: page_translations().upgettext(c, s),
        npgettext=lambda c, s, p, n: page_translations().unpgettext(c, s, p, n),
        newstyle=True,
    )

    app.jinja_env.globals["plural_forms"] = plural_forms
