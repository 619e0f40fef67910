"""Senders by channel: which sender carries each channel's messages, route by route.

A channel is where a delivered method's codes go (``sms``, ``email``, ``voice`` or a
plug-in's own: :mod:`stepup.channels`). Each channel has one sender under its own name,
and may have more routes tried in turn when one fails: ``<channel>:fallback`` for any
channel, and for a phone channel ``<channel>:<REGION>`` per destination country
(``sms_routes``, ``voice_routes``, or ``sender_urls`` for a plug-in's channel). Every route
is a key of one mapping, ``route -> sender``, made from the settings' URLs and the senders
given in code.

A method whose channel has no sender is refused when the engine is made: a code that
cannot go anywhere must not cost a user a challenge and its limits at the first send.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from .._config import Settings
from .._errors import ConfigurationError
from ..methods import Method

__all__ = ["channel_routes", "check_channels", "make_senders"]

#: a route as code may name it: a channel, its fallback, or its provider for a country.
_ROUTE = re.compile(r"[a-z][a-z0-9_]{0,31}(:fallback|:[A-Z]{2})?")


def _urls(settings: Settings) -> dict[str, str]:
    """Every route the settings name, with its URL."""
    urls = {"sms": settings.sms_url, "email": settings.email_url}
    if settings.voice_url:
        urls["voice"] = settings.voice_url
    for channel, routes in (("sms", settings.sms_routes), ("voice", settings.voice_routes)):
        urls.update({f"{channel}:{region}": url for region, url in routes.items()})
    for channel, url in (("sms", settings.sms_fallback_url), ("voice", settings.voice_fallback_url)):
        if url:
            urls[f"{channel}:fallback"] = url
    urls.update(settings.sender_urls)
    return urls


def make_senders(settings: Settings, factory: Callable[[str], Any], given: Mapping[str, Any]) -> dict[str, Any]:
    """Every sender by route: those ``given`` in code, then those the settings' URLs name
    (a URL whose route was given in code is not even opened).

    :param settings: where the URLs are (``sms_url``, ``email_url``, ``sms_routes``,
        ``sms_fallback_url``, the same three of voice, ``sender_urls``).
    :param factory: makes a sender of the engine's kind (sync or async) from a URL.
    :param given: route -> sender, e.g. ``{"voice": VoiceSender()}``.
    :raises ConfigurationError: for a route that is not a channel name or its fallback,
        or a URL that names no sender.
    """
    for route in given:
        if not isinstance(route, str) or not _ROUTE.fullmatch(route):
            raise ConfigurationError(
                "senders maps channels to senders, e.g. {'voice': sender}, {'voice:fallback': sender} "
                f"or {{'voice:US': sender}}; got {route!r}."
            )
    senders = {route: given[route] if route in given else factory(url) for route, url in _urls(settings).items()}
    senders.update({route: sender for route, sender in given.items() if route not in senders})
    return senders


def check_channels(methods: Mapping[str, Method], senders: Mapping[str, Any]) -> None:
    """Refuse a method whose channel has no sender.

    :raises ConfigurationError: naming the method, its channel and how to give it one.
    """
    for method in methods.values():
        channel = method.channel
        if channel and channel not in senders:
            raise ConfigurationError(
                f"The method {method.name!r} sends its codes by the channel {channel!r}, which has no sender. "
                f'Name one in STEPUP_SENDER_URLS, e.g. \'{{"{channel}": "console://"}}\', '
                f"or pass senders={{{channel!r}: sender}} to the engine."
            )


def channel_routes(channel: str, senders: Mapping[str, Any], *, country: str | None = None) -> list[str]:
    """The routes a message of ``channel`` tries in turn: the channel's provider for
    ``country`` when it has one (else its own sender), then its fallback when it has one."""
    routes = [f"{channel}:{country}" if f"{channel}:{country}" in senders else channel]
    if f"{channel}:fallback" in senders:
        routes.append(f"{channel}:fallback")
    return routes
