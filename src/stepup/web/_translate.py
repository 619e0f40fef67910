"""What both adapters translate, written once: the parts of a request into a
:class:`WebRequest`, a :class:`WebResult`'s headers, and the subject and identity source
a loader or the session names.

An adapter keeps only what touches its framework's objects. It hands these functions the
values its framework parsed (headers, the media type, whether a body is JSON, the form),
never a header read again by hand, so that what stepup approves is what the view reads.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, MutableMapping
from typing import Any

from .._config import Settings
from ._base import WebRequest, WebResult, parse_json
from ._client import client_address

__all__ = ["identity_source", "response_headers", "session_subject", "subject_of", "web_request"]


def subject_of(user: object) -> str | None:
    """The subject id of what a user loader answered: ``None`` stays ``None``."""
    return None if user is None else str(user)


def session_subject(session: Mapping[str, Any], settings: Settings) -> str | None:
    """The subject an app without a user loader keeps in its session
    (``session_user_key``)."""
    value = session.get(settings.session_user_key)
    return None if value is None else str(value)


def identity_source(loaded: str | None, session: Mapping[str, Any], settings: Settings) -> str:
    """How the user logged in: what the app's loader answered, else the session's
    ``session_identity_source_key``, else ``default_identity_source``.

    :param loaded: the identity source loader's answer (``None`` without a loader).
    """
    if loaded:
        return loaded
    value = session.get(settings.session_identity_source_key)
    return value if isinstance(value, str) and value else settings.default_identity_source


def web_request(
    settings: Settings, *, method: str, path: str, query_string: str, args: Mapping[str, str],
    headers: Mapping[str, str], session: MutableMapping[str, Any], subject: str | None, peer: str | None,
    forwarded_for: str, cookies: Mapping[str, str], content_type: str, body: bytes, too_large: bool,
    is_json: bool, form: Any, locale_selector: Callable[[], object] | None = None,
) -> WebRequest:  # fmt: skip
    """A request as the web layer sees it, from the parts the adapter's framework read.

    :param peer: the address the connection came from.
    :param forwarded_for: the ``X-Forwarded-For`` values as the framework joins them.
    :param cookies: the request's cookies (the remembered browser's is read from them).
    :param body: the body as read, at most ``max_resume_body`` bytes; empty when not read.
    :param too_large: the body was over ``max_resume_body`` and was not read.
    :param is_json: the framework reads the body as JSON (by its media type).
    :param form: the framework's parsed form, or ``None`` when the body is not one.
    :param locale_selector: the app's choice of language, asked only when needed.
    """
    data, json_error = parse_json(body) if is_json else (None, False)
    return WebRequest(
        method=method,
        path=path,
        query_string=query_string,
        args=args,
        form=form,
        json=data,
        json_error=json_error,
        headers=headers,
        session=session,
        subject=subject,
        client=client_address(peer, forwarded_for, settings.trusted_proxy_hops, settings.client_ipv6_prefix),
        content_type=content_type,
        body=body,
        too_large=too_large,
        device_token=cookies.get(settings.device_cookie),
        locale_selector=locale_selector,
    )


def response_headers(result: WebResult, page_headers: tuple[tuple[str, str], ...]) -> list[tuple[str, str, bool]]:
    """The headers of the response to ``result``, in order, each with whether it replaces
    the framework's own header of that name (set) or is one more (added): the result's own
    (its ``Content-Type`` replaces the framework's), then the page headers the result did
    not set itself.

    :param page_headers: :func:`~stepup.web.page_headers` of the app's settings.
    """
    lines = [(name, value, name.lower() == "content-type") for name, value in result.headers]
    given = {name.lower() for name, _ in result.headers}
    lines += [(name, value, True) for name, value in page_headers if name.lower() not in given]
    return lines
