"""The language of a request's pages and problem documents, and the helpers a page's
template translates with.

The locale is chosen in this order (docs/i18n.md): the app's hook (``locale_selector``,
or Flask-Babel's selector on Flask), the subject's stored preference, the request's
``Accept-Language``, then ``default_locale``. It is chosen only when a request gets a page
or a JSON answer with words in it, never on the hot path.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from markupsafe import Markup, escape

from .. import engine as flows
from .._config import Settings
from .._errors import StepUpError
from .._i18n import (
    Text,
    available_locales,
    format_duration,
    format_number,
    html_lang,
    negotiate,
    normalize_locale,
    translate,
    translations,
)
from .._i18n import (
    fill as fill_fields,
)
from ..engine import AsyncEngine, Engine, Flow
from ._base import WebRequest, WebResult

__all__ = ["localized", "page_helpers", "request_locale"]


def request_locale(engine: Engine | AsyncEngine, req: WebRequest) -> Flow[str]:
    """The locale of ``req``, chosen once and kept on it (``req.locale``).

    A store that cannot be read leaves the stored preference out: a page that says the
    store is down is still in a language the visitor reads.
    """
    if req.locale:
        return req.locale
    s = engine.settings
    available = available_locales(s.translations_dir)
    chosen = normalize_locale(req.locale_selector(), available) if req.locale_selector else None
    if chosen is None and req.subject is not None:
        try:
            chosen = yield from flows.locale_of(engine.context, req.subject)
        except StepUpError:
            chosen = None
        chosen = chosen if chosen in available else None
    req.locale = chosen or negotiate(req.headers.get("accept-language"), available) or s.default_locale
    return req.locale


def localized(engine: Engine | AsyncEngine, req: WebRequest, result: WebResult | None) -> Flow[WebResult | None]:
    """``result`` in the request's language: a page gets the translating helpers, a JSON
    document its texts translated. A redirect, a replay or ``None`` is handed back as it
    is, without choosing a locale."""
    if result is None or (result.template is None and result.json is None):
        return result
    locale = yield from request_locale(engine, req)
    extra = engine.settings.translations_dir
    if result.template is not None:
        result.context.update(page_helpers(locale, engine.settings))
    if result.json is not None:
        result.json = _translated(result.json, locale, extra)
    result.headers.append(("Content-Language", html_lang(locale)))
    return result


def _translated(value: Any, locale: str, extra: str) -> Any:
    """A JSON value with every :class:`Text` in it translated."""
    if isinstance(value, Text):
        return translate(value, locale, extra)
    if isinstance(value, dict):
        return {key: _translated(item, locale, extra) for key, item in value.items()}
    if isinstance(value, list):
        return [_translated(item, locale, extra) for item in value]
    return value


def _text(message: str) -> str:
    """A message as HTML text, safe in a text node and in a double-quoted attribute: its
    ``&``, ``<``, ``>`` and ``"`` escaped, its apostrophes kept as typed ("it's")."""
    return message.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&#34;")


@functools.lru_cache(maxsize=4096)
def _message(locale: str, extra: str, msgid: str, plural: str | None = None, n: int | None = None) -> Markup:
    """A message in ``locale`` as HTML text, its ``{name}`` fields not yet filled: the
    same for every page, so looked up and escaped once (a page has a dozen)."""
    tr = translations(locale, extra)
    return Markup(_text(tr.ngettext(msgid, plural, n) if plural is not None and n is not None else tr.gettext(msgid)))


@functools.lru_cache(maxsize=1024, typed=True)
def _number(value: float, locale: str) -> str:
    """:func:`format_number`, kept: a page shows the same few small numbers again and
    again (seconds, attempts), and Babel takes longer to write one than the page to use it."""
    return format_number(value, locale)


def page_helpers(locale: str, settings: Settings) -> dict[str, Any]:
    """What every page template gets to speak ``locale``: ``_t`` and ``_tn`` (gettext and
    ngettext with ``{name}`` fields, escaped), ``lang`` for ``<html lang>``, ``locale``,
    ``format_number`` and ``format_duration``, and ``base_template``."""
    return dict(_helpers(locale, settings.translations_dir, settings.base_template or "stepup/layout.html"))


@functools.lru_cache(maxsize=64)
def _helpers(locale: str, extra: str, base_template: str) -> dict[str, Any]:
    """The helpers of :func:`page_helpers`, made once a locale (they hold no request)."""

    def fill(html: Markup, fields: dict[str, Any]) -> Markup:
        if not fields:
            return html
        safe = {name: _shown(value) for name, value in fields.items()}
        return Markup(fill_fields(html, safe))

    def _shown(value: Any) -> Any:
        if isinstance(value, Markup):
            return value
        return t(value) if isinstance(value, Text) else escape(value)

    def t(text: Any, **fields: Any) -> Markup:
        if not text:
            return Markup("")
        if isinstance(text, Text):
            return fill(_message(locale, extra, text.msgid, text.plural, text.n), {**text.fields, **fields})
        return fill(_message(locale, extra, str(text)), fields)

    def tn(singular: str, plural: str, n: int, **fields: Any) -> Markup:
        return fill(_message(locale, extra, singular, plural, n), {"n": _number(n, locale), **fields})

    duration: Callable[[float], str] = lambda seconds: format_duration(seconds, locale)  # noqa: E731
    return {
        "_t": t, "_tn": tn, "lang": html_lang(locale), "locale": locale,
        "format_number": lambda value: _number(value, locale), "format_duration": duration,
        "base_template": base_template,
    }  # fmt: skip
