"""The catalogues: complete in every language, placeholders kept, plural forms right, up to date
with the code; glossaries, starter profiles and demo texts in every language.

Until each language is translated these fail, naming what is missing: they are the target.
"""

import gettext
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from babel import Locale
from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po
from flask import Flask
from flask_babel import force_locale, ngettext

from coachapp.i18n import CATALOGUES, LANGUAGES, SOURCE_LANGUAGE

ROOT = Path(__file__).resolve().parent.parent
TRANSLATED = [code for code in LANGUAGES if code != SOURCE_LANGUAGE]
PLURAL_SAMPLES = [0, 1, 2, 5, 11, 12, 21, 22, 25, 101]
GLOSSARY_TERMS = [
    "strength",
    "correction",
    "obstacle",
    "focus item",
    "follow-up",
    "sustained",
    "partly",
    "slipped",
    "no chance",
    "shadowing",
]
#: %(name)s, %(n)d, %s, and {name} placeholders (the latter in texts scripts fill in).
PLACEHOLDER = re.compile(r"%\([a-z_]+\)[sdif]|%[sdif]|\{[a-z_]+\}")


def load(path: Path, locale: str | None = None) -> Catalog:
    with path.open("rb") as handle:
        return read_po(handle, locale=locale)


def template() -> Catalog:
    return load(CATALOGUES / "messages.pot")


def catalogue(code: str) -> Catalog:
    path = CATALOGUES / code / "LC_MESSAGES" / "messages.po"
    assert path.exists(), f"{code}: no catalogue at {path.relative_to(ROOT)}"
    return load(path, code)


def messages(cat: Catalog) -> dict[object, object]:
    return {message.id: message for message in cat if message.id}


def placeholders(text: str) -> list[str]:
    return sorted(PLACEHOLDER.findall(text))


def test_the_committed_template_is_what_the_code_says_now(tmp_path: Path) -> None:
    """Extract again: a message added, changed or removed in the code without
    scripts/update-catalogues fails here."""
    fresh = tmp_path / "messages.pot"
    subprocess.run(
        [sys.executable, "-m", "babel.messages.frontend", "-q", "extract", "-F", "babel.cfg",
         "-k", "_l", "-k", "lazy_gettext", "-k", "lazy_ngettext:1,2", "-k", "plural_forms:1,2",
         "-o", str(fresh), "."],
        cwd=ROOT, check=True, capture_output=True,
    )  # fmt: skip
    now = {m.id: (m.python_format, m.context) for m in load(fresh) if m.id}
    committed = {m.id: (m.python_format, m.context) for m in template() if m.id}
    added = sorted(str(key) for key in now.keys() - committed.keys())
    removed = sorted(str(key) for key in committed.keys() - now.keys())
    assert (added, removed) == ([], []), "run scripts/update-catalogues"


@pytest.mark.parametrize("code", LANGUAGES)
def test_every_message_is_in_every_catalogue_and_nothing_else(code: str) -> None:
    source, local = messages(template()), messages(catalogue(code))
    missing = sorted(str(key) for key in source.keys() - local.keys())
    extra = sorted(str(key) for key in local.keys() - source.keys())
    assert missing == [], f"{code}: {len(missing)} messages missing (scripts/update-catalogues)"
    assert extra == [], f"{code}: {len(extra)} messages the code no longer has"
    cat = catalogue(code)
    assert not cat.obsolete, f"{code}: obsolete entries {list(cat.obsolete)[:5]}"
    fuzzy = [str(m.id) for m in cat if m.id and m.fuzzy]
    assert fuzzy == [], f"{code}: {len(fuzzy)} fuzzy entries, first {fuzzy[:3]}"


@pytest.mark.parametrize("code", TRANSLATED)
def test_every_message_is_translated(code: str) -> None:
    untranslated = []
    for message in catalogue(code):
        if not message.id:
            continue
        forms = message.string if isinstance(message.string, tuple) else (message.string,)
        if not all(form.strip() for form in forms):
            untranslated.append(message.id if isinstance(message.id, str) else message.id[0])
    assert untranslated == [], f"{code}: {len(untranslated)} untranslated, first {untranslated[:5]}"


def test_english_translations_are_empty_or_the_source() -> None:
    """English is the source: its catalogue lists every message and may leave it empty."""
    changed = []
    for message in catalogue(SOURCE_LANGUAGE):
        if not message.id:
            continue
        sources = message.id if isinstance(message.id, tuple) else (message.id,)
        forms = message.string if isinstance(message.string, tuple) else (message.string,)
        if any(form and form not in sources for form in forms):
            changed.append(str(message.id))
    assert changed == []


@pytest.mark.parametrize("code", TRANSLATED)
def test_translations_keep_their_placeholders(code: str) -> None:
    wrong = []
    for message in catalogue(code):
        if not message.id or not message.string:
            continue
        if isinstance(message.id, tuple):
            categories = integer_categories(code)
            for index, form in enumerate(message.string):
                wanted = placeholders(message.id[1])
                if form and placeholders(form) != wanted:
                    # A form only for 1 (Polish "one", not Russian "one": 21 too) may say "a".
                    singular = index < len(categories) and only_one(code, categories[index])
                    if not (singular and placeholders(form) == placeholders(message.id[0])):
                        wrong.append(f"{message.id!r} [{index}] -> {form!r}")
        elif placeholders(message.string) != placeholders(message.id):
            wrong.append(f"{message.id!r} -> {message.string!r}")
    assert wrong == [], f"{code}: {len(wrong)} translations change placeholders:\n" + "\n".join(
        wrong[:10]
    )


@pytest.mark.parametrize("code", TRANSLATED)
def test_the_plural_header_matches_babel_and_every_entry_has_its_forms(code: str) -> None:
    cat = catalogue(code)
    expected = integer_categories(code)
    assert cat.num_plurals == len(expected), f"{code}: {cat.plural_forms}"
    choose = gettext.c2py(cat.plural_expr)
    for n in WHOLE_NUMBERS:
        assert choose(n) == expected.index(Locale(code).plural_form(n)), (code, n)
    short = [m.id[0] for m in cat if isinstance(m.id, tuple) and len(m.string) != cat.num_plurals]
    assert short == [], f"{code}: plural entries without {cat.num_plurals} forms: {short[:5]}"


#: Whole numbers that reach every category whole numbers can reach (a million: Spanish "many").
WHOLE_NUMBERS = [*range(0, 1000), 10**6]


def integer_categories(code: str) -> list[str]:
    """The CLDR categories whole numbers fall into, in gettext's order (one, two, few, many,
    other): Polish "one, few, many", Lithuanian "one, few, other"."""
    rule = Locale(code).plural_form
    reached = {rule(n) for n in WHOLE_NUMBERS}
    return [tag for tag in ("zero", "one", "two", "few", "many", "other") if tag in reached]


def only_one(code: str, category: str) -> bool:
    rule = Locale(code).plural_form
    return {n for n in WHOLE_NUMBERS if rule(n) == category} <= {0, 1}


@pytest.mark.parametrize("code", ["pl", "lt", "ru"])
def test_plural_forms_on_the_page_for_the_hard_numbers(app: Flask, code: str) -> None:
    """0, 1, 2, 5, 11, 12, 21, 22, 25, 101 take the form Babel's rules say, as pages show them."""
    cat = catalogue(code)
    plural = next(m for m in cat if isinstance(m.id, tuple) and m.id[0] == "%(num)d day late")
    categories = integer_categories(code)
    rule = Locale(code).plural_form
    with app.test_request_context("/"), force_locale(code):
        for n in PLURAL_SAMPLES:
            form = plural.string[categories.index(rule(n))]
            assert form, f"{code}: '%(num)d day late' is not translated"
            assert ngettext("%(num)d day late", "%(num)d days late", n) == form % {"num": n}, n


@pytest.mark.parametrize("code", TRANSLATED)
def test_each_language_has_a_glossary_of_the_products_words(code: str) -> None:
    path = CATALOGUES / code / "glossary.md"
    assert path.exists(), f"{code}: no glossary at {path.relative_to(ROOT)}"
    rows = [line for line in path.read_text(encoding="utf-8").splitlines() if line.startswith("|")]
    assert rows, f"{code}: the glossary has no table (English term | translation | notes)"
    terms = set()
    for row in rows[2:]:  # "sustained (outcome)", "slipped / slip" name the term too
        cell = re.sub(r"\(.*?\)", "", row.strip("|").split("|")[0]).replace("*", "").lower()
        terms |= {variant.strip() for variant in cell.split("/")}
    missing = [term for term in GLOSSARY_TERMS if term not in terms]
    assert missing == [], f"{code}: glossary lacks {missing}"
    for row in rows[2:]:
        cells = [cell.strip() for cell in row.strip("|").split("|")]
        assert len(cells) >= 2 and cells[1], f"{code}: a term without translation: {row}"


def shape(value: object) -> object:
    """A JSON document with its text replaced by placeholders: the same shape, any language.
    `kind` values are not text (knowledge, skill, attitude) and stay."""
    if isinstance(value, dict):
        return {k: (v if k == "kind" else shape(v)) for k, v in value.items()}
    if isinstance(value, list):
        return [shape(v) for v in value]
    if isinstance(value, str):
        return "text" if value else ""
    return value


STARTER = ROOT / "coachapp" / "profiles" / "starter"
DEMO_TEXTS = ROOT / "coachapp" / "demo_texts"


@pytest.mark.parametrize("code", TRANSLATED)
def test_starter_profiles_in_every_language_have_the_english_files_and_shape(code: str) -> None:
    english = sorted(path.name for path in STARTER.glob("*.json"))
    local = sorted(path.name for path in (STARTER / code).glob("*.json"))
    assert local == english, f"{code}: starter profiles {local}, English has {english}"
    for name in english:
        source = json.loads((STARTER / name).read_text(encoding="utf-8"))
        translated = json.loads((STARTER / code / name).read_text(encoding="utf-8"))
        assert shape(translated) == shape(source), f"{code}/{name}"
        assert translated["name"] != source["name"], f"{code}/{name}: the name is English"


@pytest.mark.parametrize("code", TRANSLATED)
def test_demo_texts_in_every_language(code: str) -> None:
    path = DEMO_TEXTS / f"{code}.json"
    assert path.exists(), f"{code}: no demo texts at {path.relative_to(ROOT)}"
    english = json.loads((DEMO_TEXTS / "en.json").read_text(encoding="utf-8"))
    translated = json.loads(path.read_text(encoding="utf-8"))
    assert shape(translated) == shape(english)
    assert translated["strength_notes"] != english["strength_notes"], f"{code}: English notes"
