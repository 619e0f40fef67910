"""What the adapters hand the web layer, and what they get back.

The web layer is framework-agnostic: an adapter turns its request into a
:class:`WebRequest`, runs a handler flow with its engine, and turns the
:class:`WebResult` into its framework's response. Pages, forms, the JSON API and
route protection are written once for Flask and ASGI.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping, MutableMapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote, urlsplit

from ..engine import SavedRequest

__all__ = ["FORM_TYPES", "WebRequest", "WebResult", "is_json_type", "media_type", "parse_json", "safe_next"]

_NO_JSON = object()
#: the media types whose bodies frameworks read as forms (Werkzeug, Starlette).
FORM_TYPES = frozenset({"application/x-www-form-urlencoded", "multipart/form-data"})


def media_type(content_type: str) -> str:
    """The media type of a ``Content-Type`` header, as Werkzeug and Starlette read it:
    without its parameters, in lower case (``Application/JSON; charset=utf-8`` is
    ``application/json``).

    :param content_type: the header's value; empty when there is none.
    """
    return content_type.partition(";")[0].strip(" \t").lower()


def is_json_type(media: str) -> bool:
    """Whether a body of this media type is JSON to the frameworks: ``application/json``
    or a ``+json`` suffix such as ``application/merge-patch+json`` (Werkzeug's
    ``is_json``, FastAPI's body parsing).

    :param media: a media type from :func:`media_type`.
    """
    return media == "application/json" or (media.startswith("application/") and media.endswith("+json"))


def parse_json(body: bytes) -> tuple[Any, bool]:
    """A JSON request body, read the same way by both adapters: ``(value, False)``, or
    ``(None, True)`` for a body that is not JSON. Nesting too deep for the parser (a
    ``RecursionError``) is bad input like any other, not a server error.

    :param body: the raw body; an empty one is no JSON at all, ``(None, False)``.
    """
    if not body:
        return None, False
    try:
        return json.loads(body), False
    except (ValueError, RecursionError):
        return None, True


#: the headers of a speculative load (a prefetch, a prerender, a link's preview), which
#: the user did not ask for: Fetch Metadata's own, and the older ones some browsers send.
_SPECULATIVE = ("sec-purpose", "purpose", "x-purpose", "x-moz")


@dataclass
class WebRequest:
    """One HTTP request, as the web layer sees it.

    :ivar path: the full path, script root and mount included.
    :ivar args: query parameters (first value of each).
    :ivar form: form data with ``getlist`` (what WTForms reads), or ``None``.
    :ivar json: the parsed JSON body, ``None`` when absent.
    :ivar json_error: the body claimed to be JSON but could not be read.
    :ivar headers: request headers, keys in lower case.
    :ivar session: the framework's session, a mutable mapping.
    :ivar subject: the logged-in user's id, or ``None``.
    """

    method: str
    path: str
    query_string: str
    args: Mapping[str, str]
    form: Any
    json: Any
    headers: Mapping[str, str]
    session: MutableMapping[str, Any]
    subject: str | None
    client: str | None = None
    content_type: str = ""
    body: bytes = b""
    json_error: bool = False
    #: the body was larger than stepup reads (``max_resume_body``): it was not read, and
    #: every handler answers 413 (:class:`~stepup.RequestTooLarge`).
    too_large: bool = False
    #: the remembered-browser cookie, if the request carried one.
    device_token: str | None = None
    #: the app's choice of language for this request (its ``locale_selector``, or
    #: Flask-Babel's), asked only when a page or a JSON answer needs words.
    locale_selector: Callable[[], object] | None = None
    #: the request's locale once chosen (:func:`stepup.web._locale.request_locale`).
    locale: str | None = None

    @property
    def wants_json(self) -> bool:
        """Whether the client asked for JSON rather than a page: its ``Accept`` header
        when that names one and not the other (a JSON body sent by a client that accepts
        only pages goes the page way, and is replayed after the code like a form); when it
        names both, the kind of body it sent; when it names neither (no header, ``*/*``:
        curl, httpx, ``fetch``), JSON unless it sent a form, for browsers name
        ``text/html`` in every page they ask for."""
        accept = self.headers.get("accept", "").lower()
        json, html = "application/json" in accept, "text/html" in accept
        if json != html:
            return json
        if html:
            return is_json_type(self.media_type)
        return self.media_type not in FORM_TYPES

    @property
    def navigated_here(self) -> bool:
        """Whether a browser navigated here from this site (a link, a redirect, a form) or
        the address bar: only then may a request send a code without a button pressed on
        stepup's page. A cross-site link, a script's fetch or a prefetch does not (nor a
        preview: ``Sec-Purpose``, and the older ``Purpose``, ``X-Purpose`` and ``X-Moz``);
        nor does a client that says nothing (no ``Sec-Fetch-*`` headers)."""
        h = self.headers
        site, mode = h.get("sec-fetch-site"), h.get("sec-fetch-mode")
        if site not in ("same-origin", "none") or mode != "navigate":
            return False
        return not any(h.get(name) for name in _SPECULATIVE)

    @property
    def media_type(self) -> str:
        """The body's media type (:func:`media_type` of ``content_type``)."""
        return media_type(self.content_type)

    @property
    def full_path(self) -> str:
        """Path and query string."""
        return f"{self.path}?{self.query_string}" if self.query_string else self.path


@dataclass
class WebResult:
    """What a handler answers; exactly one of template, json, body, redirect or replay is set."""

    status: int = 200
    template: str | None = None
    context: dict[str, Any] = field(default_factory=dict)
    json: Any = None
    redirect: str | None = None
    headers: list[tuple[str, str]] = field(default_factory=list)
    #: a saved request the adapter replays once, through the app's whole request handling.
    replay: SavedRequest | None = None
    #: what the replayed request may run: the approved operation's digest and the subject.
    replay_grant: dict[str, Any] | None = None
    #: a file's bytes (stepup's static files), typed by a ``Content-Type`` in ``headers``.
    body: bytes | None = None

    @property
    def redirect_status(self) -> int:
        """The status of a redirect: the result's own when it is one (303, 307), else 303."""
        return self.status if 300 <= self.status < 400 else 303


# Backslashes and control characters are how "/\evil.example" and friends get browsers to
# leave the site; a safe target is a plain absolute path on this site.
_UNSAFE = re.compile(r"[\\\x00-\x1f\x7f]")


def safe_next(target: object, default: str = "/") -> str:
    """``target`` if it is a same-site relative path, else ``default``.

    Refuses absolute URLs (``https://...``), scheme-relative ones (``//host``), backslash
    tricks (``/\\host``), encoded forms of those (``/%2F%2Fhost``), ``javascript:`` and
    anything with control characters.

    :param target: a return URL from a query parameter or a form.
    :param default: where to go instead.
    """
    if not isinstance(target, str) or not target or len(target) > 2048:
        return default
    for candidate in (target, unquote(target), unquote(unquote(target))):
        if _UNSAFE.search(candidate) or not candidate.startswith("/") or candidate.startswith("//"):
            return default
        parts = urlsplit(candidate)
        if parts.scheme or parts.netloc:
            return default
    return target
