"""A subject's language: the locale their messages go in and their pages default to,
kept on their record until they choose another."""

from __future__ import annotations

from typing import Any

from .._errors import InvalidInput
from .._i18n import T, available_locales, normalize_locale
from ._context import Context
from ._effects import SUBJECT, Flow, subject_record, update

__all__ = ["locale_of", "set_locale"]


def locale_of(ctx: Context, subject: str) -> Flow[str | None]:
    """The locale the subject chose (:func:`set_locale`), or ``None``.

    :param subject: the app's user id.
    """
    record = yield from subject_record(ctx, subject)
    value = (record or {}).get("locale")
    return value if isinstance(value, str) else None


def set_locale(ctx: Context, subject: str, locale: str | None) -> Flow[str | None]:
    """Keep the language of a subject's pages and messages: a locale stepup has a
    catalog for (``zh-CN`` is kept as ``zh_Hans``); ``None`` forgets it.

    :param subject: the app's user id.
    :param locale: a language tag or locale name, or ``None``.
    :returns: the locale kept.
    :raises InvalidInput: for a locale stepup has no catalog for.
    """
    chosen = None
    if locale is not None:
        available = available_locales(ctx.settings.translations_dir)
        chosen = normalize_locale(locale, available)
        if chosen is None:
            raise InvalidInput(T("Choose one of these languages: {locales}.", locales=", ".join(available)))

    def change(record: dict[str, Any] | None) -> tuple[dict[str, Any], None]:
        new = {**(record or {"bindings": []})}
        if chosen is None:
            new.pop("locale", None)
        else:
            new["locale"] = chosen
        return new, None

    yield from update(ctx, SUBJECT, subject, change, None)
    return chosen
