"""The channel contract and the registry of channels.

A channel is a way to reach people with a code: ``sms`` and ``voice`` reach a phone
number, ``email`` an address. Each says what its target is and how a code message is made
for it; which sender carries its messages is the engine's business
(:mod:`stepup.engine._channels`: ``<channel>``, ``<channel>:<REGION>`` for a phone channel,
``<channel>:fallback``). Third parties add channels through the entry-point group
``stepup.channels``: each entry point names a :class:`Channel` instance or a class whose
instances are one, and a plug-in method then names that channel as its ``channel``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from importlib.metadata import entry_points
from types import MappingProxyType
from typing import Protocol, runtime_checkable

from .._errors import ConfigurationError
from .._messages import MessageCatalog
from .._models import Message

__all__ = ["BUILTIN_CHANNELS", "ENTRY_POINT_GROUP", "CatalogChannel", "Channel", "channel", "channels", "load_channels"]

ENTRY_POINT_GROUP = "stepup.channels"
#: what a channel's name may be: it appears in routes, settings and audit events.
_NAME = re.compile(r"[a-z][a-z0-9_]{0,31}")


@runtime_checkable
class Channel(Protocol):
    """One way to reach people with a code."""

    @property
    def name(self) -> str:
        """The name methods and routes use, e.g. ``"voice"``."""
        ...

    @property
    def target(self) -> str:
        """What the channel reaches: ``"phone"`` (an E.164 number, routed by its country)
        or ``"email"`` (an address); a plug-in may name a kind of its own (``"chat"``).
        Read only, so a plain class attribute (``target = "phone"``) satisfies it."""
        ...

    def code_message(
        self, catalog: MessageCatalog, *, to: str, purpose: str, code: str, ttl: float,
        operation: str | None = None, locale: str | None = None,
    ) -> Message:  # fmt: skip
        """The message that carries ``code`` to ``to``.

        :param catalog: the app's texts (:meth:`MessageCatalog.code_message`).
        :param to: the target: a number in E.164, an address.
        :param purpose: ``login``, ``step_up``, ``operation``, ``bind`` or ``contact``.
        :param code: the code.
        :param ttl: seconds the code stays valid.
        :param operation: what an operation approval approves.
        :param locale: the language of the message (``None``: English).
        """
        ...


@dataclass(frozen=True)
class CatalogChannel:
    """A channel whose messages are the catalog's texts for it: the built-in ``sms``,
    ``email`` (the only one with a subject) and ``voice`` (what a call says, the code read
    digit by digit), and any plug-in channel happy with the SMS wording.

    :ivar name: the channel's name.
    :ivar target: ``phone``, ``email`` or a plug-in's own kind.
    :ivar subject: whether its messages carry a subject line (email).
    """

    name: str
    target: str
    subject: bool = False

    def code_message(
        self, catalog: MessageCatalog, *, to: str, purpose: str, code: str, ttl: float,
        operation: str | None = None, locale: str | None = None,
    ) -> Message:  # fmt: skip
        """See :meth:`Channel.code_message`."""
        subject, body = catalog.code_message(purpose, self.name, code, ttl, operation, locale=locale)
        return Message(self.name, to, body, subject if self.subject else "", purpose, locale=locale or "")


#: the channels stepup ships.
BUILTIN_CHANNELS: Mapping[str, Channel] = MappingProxyType({
    "sms": CatalogChannel("sms", "phone"),
    "email": CatalogChannel("email", "email", subject=True),
    "voice": CatalogChannel("voice", "phone"),
})  # fmt: skip


def load_channels() -> dict[str, Channel]:
    """The built-in channels plus those installed under ``stepup.channels`` (read anew
    each call: an engine reads them once, when it is made).

    :raises ConfigurationError: when a plug-in does not meet the contract or takes the
        name of a built-in channel.
    """
    found = dict(BUILTIN_CHANNELS)
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        obj = ep.load()
        made = obj() if isinstance(obj, type) else obj
        where = f"The entry point {ep.name!r} in {ENTRY_POINT_GROUP}"
        if not isinstance(made, Channel):
            raise ConfigurationError(f"{where} is not a stepup channel (name, target, code_message).")
        if not isinstance(made.name, str) or not _NAME.fullmatch(made.name):
            raise ConfigurationError(
                f"{where} has the name {made.name!r}; a channel's name is lower-case letters, digits and _, "
                "such as 'whatsapp'."
            )
        if made.name in BUILTIN_CHANNELS:
            raise ConfigurationError(f"{where} takes the name {made.name!r} of a built-in channel; choose another.")
        found[made.name] = made
    return found


def channels() -> Mapping[str, Channel]:
    """Every channel by name: the built-in ones and the plug-ins', read only.

    :raises ConfigurationError: as for :func:`load_channels`.
    """
    return MappingProxyType(load_channels())


def channel(name: str) -> Channel:
    """The channel called ``name`` (a built-in one without reading the plug-ins).

    :raises ConfigurationError: when no channel has that name, naming those known.
    """
    if name in BUILTIN_CHANNELS:
        return BUILTIN_CHANNELS[name]
    known = load_channels()
    if name not in known:
        raise ConfigurationError(f"No channel is called {name!r}; stepup knows {', '.join(sorted(known))}.")
    return known[name]
