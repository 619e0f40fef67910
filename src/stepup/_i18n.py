"""Texts in the user's language: the message catalogs, the locale a request asks for, and
numbers and durations written the way that locale writes them.

A user-facing text is marked where it is written, ``T("That code is not right.")`` or
``Tn("{n} attempt left", "{n} attempts left", n)``: a :class:`Text` is a ``str`` (its
English, fields filled in, so logs and ``str(error)`` read as before) that remembers its
message id and fields, so :func:`translate` can give it in any locale later, when the
page, problem document or message that shows it knows whom it is for. ``pybabel extract``
finds the marks (``babel.cfg``); the catalogs are ``stepup/locale/<locale>/LC_MESSAGES/
stepup.po``, compiled to ``.mo`` by the wheel's build (``hatch_build.py``) or ``make
catalogs``; a checkout without ``.mo`` files reads the ``.po`` files directly.
"""

from __future__ import annotations

import functools
import gettext
import io
import re
from collections.abc import Iterable, Mapping
from datetime import timedelta
from importlib import resources
from pathlib import Path
from typing import Any

__all__ = [
    "DOMAIN", "LOCALES", "N_", "T", "Text", "Tn", "available_locales", "fill", "format_duration", "format_number",
    "html_lang", "negotiate", "normalize_locale", "translate",
]  # fmt: skip

#: the gettext domain of stepup's catalogs (``stepup.po``, ``stepup.mo``).
DOMAIN = "stepup"
#: the locales stepup ships, every one complete (a test checks).
LOCALES: tuple[str, ...] = ("en", "zh_Hans", "zh_Hant", "es", "fr", "de", "pt_BR", "ja")
#: the most of an ``Accept-Language`` header that is read: a longer one is cut there.
_MAX_HEADER = 512
_FIELD = re.compile(r"\{(\w+)\}")


def N_(text: str) -> str:  # noqa: N802 - the name xgettext looks for
    """Mark ``text`` for extraction; it is translated where it is shown."""
    return text


class Text(str):
    """A user-facing text: its English with the fields filled in, and what
    :func:`translate` needs to give it in another locale.

    :param msgid: the English as written in the catalog, with ``{name}`` fields.
    :param plural: the plural English, for a text that depends on ``n``.
    :param n: the number that picks the plural form.
    :param fields: the values of the fields.
    """

    msgid: str
    plural: str | None
    n: int | None
    fields: dict[str, Any]

    def __new__(cls, msgid: str, plural: str | None = None, n: int | None = None, **fields: Any) -> Text:
        if n is not None:
            fields.setdefault("n", n)
        english = plural if plural is not None and n != 1 else msgid
        self = super().__new__(cls, fill(english, fields))
        self.msgid, self.plural, self.n, self.fields = msgid, plural, n, fields
        return self

    def __reduce__(self) -> Any:  # an error pickled (multiprocessing) keeps its text
        return (_rebuild, (self.msgid, self.plural, self.n, self.fields))


def _rebuild(msgid: str, plural: str | None, n: int | None, fields: dict[str, Any]) -> Text:
    return Text(msgid, plural, n, **{k: v for k, v in fields.items() if k != "n"})


def T(msgid: str, **fields: Any) -> Text:  # noqa: N802 - short, as gettext's ``_`` is
    """A text to translate where it is shown; ``{name}`` fields are filled from ``fields``."""
    return Text(msgid, **fields)


def Tn(singular: str, plural: str, n: int, **fields: Any) -> Text:  # noqa: N802
    """A text whose form depends on ``n`` (``{n}`` is filled with it)."""
    return Text(singular, plural, n, **fields)


def fill(text: str, fields: Mapping[str, Any]) -> str:
    """``text`` with its ``{name}`` fields filled; a field not given stays as written, so
    a broken translation shows its placeholder rather than failing the page."""
    if not fields:
        return text
    return _FIELD.sub(lambda m: str(fields[m.group(1)]) if m.group(1) in fields else m.group(0), text)


@functools.cache
def _catalog(folder: str, locale: str) -> gettext.NullTranslations | None:
    """The compiled catalog of ``locale`` in ``folder``: its ``.mo``, else its ``.po``
    compiled in memory (a source checkout), else ``None``."""
    base = Path(folder) / locale / "LC_MESSAGES"
    mo, po = base / f"{DOMAIN}.mo", base / f"{DOMAIN}.po"
    if mo.is_file():
        return gettext.GNUTranslations(io.BytesIO(mo.read_bytes()))
    if not po.is_file():
        return None
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    with po.open("rb") as f:
        catalog = read_po(f, locale=locale)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return gettext.GNUTranslations(buffer)


def _builtin_folder() -> str:
    return str(resources.files("stepup") / "locale")


@functools.cache
def translations(locale: str, extra: str = "") -> gettext.NullTranslations:
    """The translations of ``locale``: the app's own catalog in ``extra`` first (its texts
    win), then stepup's, then the English as written.

    :param locale: a locale name as :func:`normalize_locale` gives it.
    :param extra: the app's catalog folder (``translations_dir``), or empty.
    """
    chain = [c for c in (_catalog(extra, locale) if extra else None, _catalog(_builtin_folder(), locale)) if c]
    if not chain:
        return gettext.NullTranslations()
    first = chain[0]
    for more in chain[1:]:
        first.add_fallback(more)
    return first


def translate(text: str, locale: str, extra: str = "") -> str:
    """``text`` in ``locale``: a :class:`Text` by its message id with its fields, a plain
    string looked up as it is (a method's title, an app's override).

    :param text: what to show.
    :param locale: the locale to show it in.
    :param extra: the app's catalog folder, or empty.
    """
    if not text:
        return text
    tr = translations(locale, extra)
    if isinstance(text, Text):
        fields = {k: translate(v, locale, extra) if isinstance(v, Text) else v for k, v in text.fields.items()}
        if text.plural is not None and text.n is not None:
            return fill(tr.ngettext(text.msgid, text.plural, text.n), fields)
        return fill(tr.gettext(text.msgid), fields)
    return tr.gettext(text)


def available_locales(extra: str = "") -> tuple[str, ...]:
    """stepup's locales and any the app's catalog folder adds."""
    folder = Path(extra) if extra else None
    found = [p.name for p in folder.iterdir() if (p / "LC_MESSAGES").is_dir()] if folder and folder.is_dir() else []
    return LOCALES + tuple(sorted(name for name in found if name not in LOCALES))


#: language tags whose Chinese script is Traditional when no script is named.
_HANT_REGIONS = frozenset({"tw", "hk", "mo"})


def normalize_locale(tag: object, available: Iterable[str] = LOCALES) -> str | None:
    """The available locale closest to a language tag (``zh-CN`` -> ``zh_Hans``,
    ``zh-TW`` -> ``zh_Hant``, ``pt`` -> ``pt_BR``, ``de-AT`` -> ``de``), or ``None``.

    :param tag: a BCP 47 tag or a POSIX-style name (``pt_BR``), or a Babel ``Locale``.
    :param available: the locales to choose from.
    """
    if tag is None:
        return None
    text = str(tag).strip().replace("-", "_").split(".")[0].split("@")[0].lower()
    parts = [p for p in text.split("_") if p]
    if not parts or len(text) > 35:
        return None
    known = {name.lower(): name for name in available}
    if text in known:
        return known[text]
    if parts[0] == "zh":
        hant = "hant" in parts or (not {"hans", "cn", "sg"} & set(parts) and bool(_HANT_REGIONS & set(parts)))
        script = known.get("zh_hant" if hant else "zh_hans")
        if script:
            return script
    if parts[0] in known:
        return known[parts[0]]
    for lower, name in known.items():  # pt -> pt_BR: the one of that language
        if lower.split("_")[0] == parts[0]:
            return name
    return None


def negotiate(header: str | None, available: Iterable[str] = LOCALES) -> str | None:
    """The best available locale of an ``Accept-Language`` header (by ``q``, then order),
    or ``None``.

    :param header: the header's value.
    :param available: the locales to choose from.
    """
    if not header:
        return None
    choices = tuple(available)
    ranked: list[tuple[float, int, str]] = []
    for index, part in enumerate(header[:_MAX_HEADER].split(",")):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                continue
        if tag and tag != "*" and quality > 0:
            ranked.append((-quality, index, tag))
    for _, _, tag in sorted(ranked):
        found = normalize_locale(tag, choices)
        if found:
            return found
    return None


def html_lang(locale: str) -> str:
    """The ``lang`` attribute (BCP 47) of a locale: ``zh-Hans``, ``pt-BR``, ``en``."""
    return locale.replace("_", "-")


@functools.cache
def _babel_locale(locale: str) -> Any:
    from babel import Locale, UnknownLocaleError

    try:
        return Locale.parse(locale)
    except (ValueError, UnknownLocaleError):
        return Locale.parse("en")


def format_number(value: float, locale: str) -> str:
    """``value`` as ``locale`` writes numbers (``1,234.5``, ``1.234,5``)."""
    from babel.numbers import format_decimal

    return str(format_decimal(value, locale=_babel_locale(locale)))


def format_duration(seconds: float, locale: str) -> str:
    """A span of time in ``locale``'s words, rounded to its largest unit ("8 seconds",
    "8 Sekunden", "8秒钟")."""
    from babel.dates import format_timedelta

    return str(format_timedelta(timedelta(seconds=max(1, round(seconds))), threshold=1.0, locale=_babel_locale(locale)))
