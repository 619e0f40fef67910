"""Senders by channel: which sender carries each channel's messages, route by route.

A channel is where a delivered method's codes go (``sms``, ``email``, or a plug-in's own,
such as ``voice``). Each channel has one sender under its own name, and may have more
routes tried in turn when one fails: ``<channel>:fallback`` for any channel, and for SMS
``sms:<REGION>`` per destination country (``sms_routes``). Every route is a key of one
mapping, ``route -> sender``, made from the settings' URLs and the senders given in code.

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

#: a route as code may name it: a channel, or its fallback.
_ROUTE = re.compile(r"[a-z][a-z0-9_]{0,31}(:fallback)?")


def _urls(settings: Settings) -> dict[str, str]:
    """Every route the settings name, with its URL."""
    urls = {"sms": settings.sms_url, "email": settings.email_url}
    urls.update({f"sms:{region}": url for region, url in settings.sms_routes.items()})
    if settings.sms_fallback_url:
        urls["sms:fallback"] = settings.sms_fallback_url
    urls.update(settings.sender_urls)
    return urls


def make_senders(settings: Settings, factory: Callable[[str], Any], given: Mapping[str, Any]) -> dict[str, Any]:
    """Every sender by route: those ``given`` in code, then those the settings' URLs name
    (a URL whose route was given in code is not even opened).

    :param settings: where the URLs are (``sms_url``, ``email_url``, ``sms_routes``,
        ``sms_fallback_url``, ``sender_urls``).
    :param factory: makes a sender of the engine's kind (sync or async) from a URL.
    :param given: route -> sender, e.g. ``{"voice": VoiceSender()}``.
    :raises ConfigurationError: for a route that is not a channel name or its fallback,
        or a URL that names no sender.
    """
    for route in given:
        if not isinstance(route, str) or not _ROUTE.fullmatch(route):
            raise ConfigurationError(
                "senders maps channels to senders, e.g. {'voice': sender} or {'voice:fallback': sender}; "
                f"got {route!r}."
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


def channel_routes(channel: str, senders: Mapping[str, Any], *, first: str | None = None) -> list[str]:
    """The routes a message of ``channel`` tries in turn: ``first`` (the channel's own
    sender unless told), then the channel's fallback when it has one."""
    routes = [first or channel]
    if f"{channel}:fallback" in senders:
        routes.append(f"{channel}:fallback")
    return routes
