"""Senders chosen by URL: one table, scheme -> backend. A backend's module (and its
driver, such as httpx) is imported only when its scheme is used.

::

    console://                       file:///var/tmp/outbox.jsonl            memory://
    smtp://[user:password@]host[:port]?from=no-reply@bank.example[&starttls=true][&timeout=10]
    smtps://[user:password@]host[:465]?from=...                             (implicit TLS)
    twilio://ACCOUNT_SID:AUTH_TOKEN@?from=+15005550006                      (or messaging_service_sid=MG...)
    vonage://API_KEY:API_SECRET@?from=DemoBank
    twilio-voice://ACCOUNT_SID:AUTH_TOKEN@?from=+15005550006[&voice=Polly.Amy]    (voice calls)
    vonage-voice://APPLICATION_ID@?private_key=/path/private.key&from=+447700900000

Twilio and Vonage take ``timeout`` (read, default 10 s), ``connect_timeout`` (5 s) and
``base_url``. A ``+`` in a query value is a plus sign, not a space, so ``from=+1555...``
works as written.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple
from urllib.parse import SplitResult, parse_qsl, unquote, urlsplit

from .._errors import ConfigurationError
from .._schemes import by_scheme
from ._base import AsyncSender, AsyncSenderAdapter, Sender
from ._local import ConsoleSender, FileSender, MemorySender

__all__ = ["async_sender_from_url", "sender_from_url"]

_HTTP_OPTIONS = ("timeout", "connect_timeout", "base_url")


def _parts(url: str, known: tuple[str, ...]) -> tuple[SplitResult, dict[str, str]]:
    """The URL split, and its query (refusing names not in ``known``)."""
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query.replace("+", "%2B")))
    unknown = sorted(set(query) - set(known))
    if unknown:
        raise ConfigurationError(f"{parts.scheme}:// does not take {', '.join(unknown)}; it takes {', '.join(known)}.")
    return parts, query


def _number(query: dict[str, str], name: str, default: float) -> float:
    try:
        return float(query.get(name, default))
    except ValueError as e:
        raise ConfigurationError(f"{name}={query[name]!r} in a sender URL is not a number of seconds.") from e


def _credentials(parts: SplitResult) -> tuple[str, str]:
    return unquote(parts.username or ""), unquote(parts.password or "")


def _file(url: str) -> Sender:
    path = unquote(urlsplit(url).path)
    if not path:
        raise ConfigurationError("A file:// sender needs a path: file:///var/tmp/outbox.jsonl.")
    return FileSender(path)


def _smtp(url: str) -> Sender:
    from ._smtp import SMTPSender

    parts, query = _parts(url, ("from", "starttls", "timeout"))
    implicit = parts.scheme == "smtps"
    starttls = query.get("starttls", "false").lower() in {"1", "true", "yes", "on"}
    example = f"{parts.scheme}://user:password@mail.example.com?from=no-reply@example.com"
    if not parts.hostname or "from" not in query:
        raise ConfigurationError(f"An {parts.scheme}:// URL needs a host and from=: {example}")
    if implicit and starttls:
        raise ConfigurationError("smtps:// is TLS from the start; starttls=true goes with smtp://.")
    try:
        port = parts.port or (465 if implicit else 587 if starttls else 25)
    except ValueError as e:
        raise ConfigurationError(f"The port in the {parts.scheme}:// URL is not a number.") from e
    username, password = _credentials(parts)
    return SMTPSender(
        parts.hostname, port, query["from"], username=username or None, password=password or None,
        tls="implicit" if implicit else "starttls" if starttls else "none",
        timeout=_number(query, "timeout", 10.0),
    )  # fmt: skip


def _provider_url(url: str, known: tuple[str, ...]) -> tuple[dict[str, str], str, str, dict[str, float]]:
    """A provider URL's query, user, secret and the sender's timeouts.

    :raises ConfigurationError: for a host (the provider's address is ``base_url=``), an
        option not in ``known``, or a timeout that is not a number.
    """
    parts, query = _parts(url, (*known, *_HTTP_OPTIONS))
    if parts.hostname:
        raise ConfigurationError(f"A {parts.scheme}:// URL has no host (use base_url= for another address).")
    user, secret = _credentials(parts)
    timeouts = {"timeout": _number(query, "timeout", 10.0), "connect_timeout": _number(query, "connect_timeout", 5.0)}
    return query, user, secret, timeouts


def _sms_api(url: str) -> tuple[Any, dict[str, float]]:
    """The provider a twilio:// or vonage:// URL names, and the sender's timeouts."""
    from ._providers import TWILIO_BASE_URL, VONAGE_BASE_URL, TwilioApi, VonageApi

    twilio = urlsplit(url).scheme == "twilio"
    query, user, secret, timeouts = _provider_url(url, ("from", "messaging_service_sid") if twilio else ("from",))
    if twilio:
        base = query.get("base_url", TWILIO_BASE_URL)
        api: Any = TwilioApi(
            user, secret, sender=query.get("from"), messaging_service_sid=query.get("messaging_service_sid"),
            base_url=base,
        )  # fmt: skip
    else:
        api = VonageApi(user, secret, sender=query.get("from", ""), base_url=query.get("base_url", VONAGE_BASE_URL))
    return api, timeouts


def _voice_api(url: str) -> tuple[Any, dict[str, float]]:
    """The provider a twilio-voice:// or vonage-voice:// URL names, and the sender's timeouts."""
    from ._providers import TWILIO_BASE_URL
    from ._voice import VONAGE_VOICE_BASE_URL, TwilioVoiceApi, VonageVoiceApi

    twilio = urlsplit(url).scheme == "twilio-voice"
    query, user, secret, timeouts = _provider_url(url, ("from", "voice") if twilio else ("from", "private_key"))
    if twilio:
        base = query.get("base_url", TWILIO_BASE_URL)
        voice = query.get("voice", "")
        return TwilioVoiceApi(user, secret, sender=query.get("from", ""), voice=voice, base_url=base), timeouts
    if secret or "private_key" not in query:
        raise ConfigurationError(
            "A vonage-voice:// URL names the application and the path of its private key: "
            "vonage-voice://APPLICATION_ID@?private_key=/path/private.key&from=+44..."
        )
    base = query.get("base_url", VONAGE_VOICE_BASE_URL)
    return VonageVoiceApi.from_file(user, query["private_key"], sender=query.get("from", ""), base_url=base), timeouts


def _voice(url: str) -> bool:
    return urlsplit(url).scheme.endswith("-voice")


def _http(url: str) -> Sender:
    """An SMS or voice sender over httpx, for the provider the URL names."""
    from ._http import HttpSmsSender, HttpVoiceSender

    api, timeouts = _voice_api(url) if _voice(url) else _sms_api(url)
    return (HttpVoiceSender if _voice(url) else HttpSmsSender)(api, **timeouts)


def _async_http(url: str) -> AsyncSender:
    """The asyncio twin of :func:`_http`."""
    from ._http import AsyncHttpSmsSender, AsyncHttpVoiceSender

    api, timeouts = _voice_api(url) if _voice(url) else _sms_api(url)
    return (AsyncHttpVoiceSender if _voice(url) else AsyncHttpSmsSender)(api, **timeouts)


class _Backend(NamedTuple):
    sync: Callable[[str], Sender]
    #: a native asyncio sender; without one the sync sender runs through AsyncSenderAdapter.
    native_async: Callable[[str], AsyncSender] | None = None
    #: whether the sync sender blocks (it then runs in a worker thread in async code).
    blocking: bool = False


_SCHEMES: dict[str, _Backend] = {
    "console": _Backend(lambda url: ConsoleSender()),
    "file": _Backend(_file, blocking=True),
    "memory": _Backend(lambda url: MemorySender()),
    "smtp": _Backend(_smtp, blocking=True),
    "smtps": _Backend(_smtp, blocking=True),
    "twilio": _Backend(_http, _async_http, blocking=True),
    "vonage": _Backend(_http, _async_http, blocking=True),
    "twilio-voice": _Backend(_http, _async_http, blocking=True),
    "vonage-voice": _Backend(_http, _async_http, blocking=True),
}


def _lookup(url: str) -> _Backend:
    return by_scheme(_SCHEMES, url, "sender")


def sender_from_url(url: str) -> Sender:
    """The sender a URL names.

    :param url: ``console://``, ``file:///path``, ``memory://``, ``smtp://...``,
        ``smtps://...``, ``twilio://...``, ``vonage://...``, ``twilio-voice://...`` or
        ``vonage-voice://...`` (see this module).
    :raises ConfigurationError: for an unknown scheme (naming the known ones) or a URL
        that cannot be used; its text never holds the URL's credentials.
    """
    return _lookup(url).sync(url)


def async_sender_from_url(url: str) -> AsyncSender:
    """The async sender a URL names: native asyncio for Twilio and Vonage (SMS and voice), a worker thread
    for the blocking others (SMTP, files).

    :raises ConfigurationError: as for :func:`sender_from_url`.
    """
    backend = _lookup(url)
    if backend.native_async is not None:
        return backend.native_async(url)
    return AsyncSenderAdapter(backend.sync(url), offload=backend.blocking)
