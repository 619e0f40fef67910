"""The message catalogs: every locale stepup ships is complete, keeps each placeholder,
has the plural forms its language needs, and holds every text the code and templates
mark (``make catalogs`` has been run since the last text was added)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

import stepup
from stepup._i18n import LOCALES, Text, translate

ROOT = Path(stepup.__file__).parent
LOCALE_DIR = ROOT / "locale"
KEYWORDS = {"T": None, "Tn": (1, 2), "N_": None, "_t": None, "_tn": (1, 2)}
FIELD = re.compile(r"\{(\w+)\}")


def _catalog(locale: str) -> Catalog:
    with (LOCALE_DIR / locale / "LC_MESSAGES" / "stepup.po").open("rb") as f:
        return read_po(f, locale=locale)


def _marked() -> set[str | tuple[str, str]]:
    """Every text marked in stepup's sources, as pybabel extract finds it (babel.cfg)."""
    method_map = [("**/templates/**.html", "jinja2"), ("**.py", "python")]
    found: set[str | tuple[str, str]] = set()
    for _, _, message, _, _ in extract_from_dir(str(ROOT), method_map, keywords=KEYWORDS):
        found.add(tuple(message) if isinstance(message, tuple) else message)  # type: ignore[arg-type]
    return found


def test_the_template_catalog_holds_every_marked_text_and_nothing_else():
    with (LOCALE_DIR / "stepup.pot").open("rb") as f:
        pot = {m.id if isinstance(m.id, str) else tuple(m.id) for m in read_po(f) if m.id}
    marked = _marked()
    assert marked - pot == set(), "texts not in stepup.pot yet: run `make catalogs`"
    assert pot - marked == set(), "texts in stepup.pot no longer used: run `make catalogs`"


@pytest.mark.parametrize("locale", LOCALES)
def test_every_catalog_is_complete_with_its_placeholders_and_plural_forms(locale):
    catalog = _catalog(locale)
    wanted = Catalog(locale=locale)
    assert catalog.num_plurals == wanted.num_plurals and catalog.plural_expr == wanted.plural_expr
    marked = _marked()
    ids = {m.id if isinstance(m.id, str) else tuple(m.id) for m in catalog if m.id}
    assert marked - ids == set(), f"{locale}: untranslated texts"
    problems = []
    for message in catalog:
        if not message.id:
            continue
        singular, plural = (message.id, None) if isinstance(message.id, str) else message.id
        forms = [message.string] if isinstance(message.string, str) else list(message.string)
        fields = set(FIELD.findall(singular)) | set(FIELD.findall(plural or ""))
        if plural is not None and len(forms) != wanted.num_plurals:
            problems.append((singular, f"{len(forms)} plural forms, {locale} has {wanted.num_plurals}"))
        for form in forms:
            if not form.strip():
                problems.append((singular, "not translated"))
            elif plural is None and set(FIELD.findall(form)) != fields:
                problems.append((singular, form))
            elif plural is not None and not set(FIELD.findall(form)) <= fields | {"n"}:
                problems.append((singular, form))
            elif plural is not None and (fields - {"n"}) - set(FIELD.findall(form)):
                problems.append((singular, form))
        if message.fuzzy:
            problems.append((singular, "fuzzy"))
    assert problems == []


@pytest.mark.parametrize(
    ("locale", "n", "expected"),
    [
        ("en", 1, "1 attempt left"), ("en", 2, "2 attempts left"),
        ("de", 1, "Noch 1 Versuch"), ("de", 0, "Noch 0 Versuche"),
        ("fr", 0, "0 essai restant"), ("fr", 1, "1 essai restant"), ("fr", 2, "2 essais restants"),
        ("es", 1, "Te queda 1 intento"), ("es", 3, "Te quedan 3 intentos"),
        ("pt_BR", 1, "Resta 1 tentativa"), ("pt_BR", 2, "Restam 2 tentativas"),
        ("zh_Hans", 2, "还剩 2 次机会"), ("zh_Hant", 1, "還剩 1 次機會"), ("ja", 3, "残り 3 回"),
    ],
)  # fmt: skip
def test_plurals_read_right_in_each_language(locale, n, expected):
    assert translate(Text("{n} attempt left", "{n} attempts left", n), locale) == expected
