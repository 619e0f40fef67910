"""The method contract and the registry of methods.

A method is a kind of second factor. Delivered methods (``sms``, ``email``) have stepup
send a code to a target; held methods (``totp``, ``recovery``) check a code the user's own
device or paper makes against the binding. Third parties add methods through the
entry-point group ``stepup.methods``: each entry point names a :class:`Method` instance
or a class whose instances are one.

Two attributes beyond the protocol tell the pages how to offer a method: ``title``, its
name for people ("Voice call"), and for a delivered method ``target_input``, a
:class:`TargetInput` saying how its target is typed in. Both are optional, so a method
written before them still loads (its name stands for its title; a plain text field for
its target).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib.metadata import entry_points
from typing import Any, Protocol, runtime_checkable

from .._config import Settings
from .._crypto import Keyring
from .._errors import ConfigurationError

__all__ = ["ENTRY_POINT_GROUP", "Method", "TargetInput", "load_methods", "method_title", "target_input"]

ENTRY_POINT_GROUP = "stepup.methods"
#: what a method's name and channel may be: they appear in URLs, store keys and routes.
_NAME = re.compile(r"[a-z][a-z0-9_]{0,31}")


@dataclass(frozen=True)
class TargetInput:
    """How people type a delivered method's target on its bind page.

    :ivar label: the field's label, e.g. ``"Phone number"``.
    :ivar type: the HTML input type: ``text``, ``tel`` or ``email``.
    :ivar autocomplete: the field's ``autocomplete`` hint, e.g. ``tel``.
    :ivar placeholder: an example value shown in the empty field.
    :ivar hint: a line under the field, e.g. which format to use.
    :ivar heading: the bind page's heading and the account page's link to it
        (``"Add a phone for voice calls"``); ``"Add <title>"`` when empty.
    """

    label: str
    type: str = "text"
    autocomplete: str = "off"
    placeholder: str = ""
    hint: str = ""
    heading: str = ""


@runtime_checkable
class Method(Protocol):
    """One kind of second factor."""

    #: the name used in policy, bindings and URLs, e.g. ``"sms"``.
    name: str

    @property
    def channel(self) -> str | None:
        """The sender channel for methods whose codes stepup delivers; ``None`` for held ones.

        A channel other than ``sms`` and ``email`` needs a sender of its own: the engine
        refuses to start without one (``sender_urls`` or ``senders=``). Read only, so a
        plain class attribute (``channel = "voice"``) satisfies it.
        """
        ...

    def normalize_target(self, raw: object, settings: Settings) -> str:
        """The target a user typed (a phone number, an address), checked and normalised.

        :raises InvalidInput: with a reason the user can act on.
        """
        ...

    def label(self, target: str) -> str:
        """The target masked for display and logs."""
        ...

    def enrol(self, target: str, settings: Settings) -> dict[str, Any]:
        """The data a new binding starts with (a TOTP secret, say); kept server side."""
        ...

    def check(
        self, data: dict[str, Any], code: str, now: float, settings: Settings, keys: Keyring
    ) -> dict[str, Any] | None:
        """For held methods: the binding's data after accepting ``code``, or ``None``.

        Runs inside an atomic update of the subject, so accepting a code and marking it
        used happen together.
        """
        ...


def method_title(method: Method) -> str:
    """A method's name for people: its ``title`` attribute, or else its ``name``."""
    title = getattr(method, "title", None)
    return title if isinstance(title, str) and title else method.name


def target_input(method: Method) -> TargetInput | None:
    """How a delivered method's target is typed in: its ``target_input`` attribute, or
    else a plain text field labelled with its title; ``None`` for a held method."""
    if not method.channel:
        return None
    declared = getattr(method, "target_input", None)
    return declared if isinstance(declared, TargetInput) else TargetInput(method_title(method))


def load_methods(builtin: dict[str, Method]) -> dict[str, Method]:
    """The built-in methods plus those installed under ``stepup.methods``.

    :param builtin: the methods stepup ships.
    :raises ConfigurationError: when a plug-in does not meet the contract.
    """
    methods = dict(builtin)
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        obj = ep.load()
        method = obj() if isinstance(obj, type) else obj
        if not isinstance(method, Method):
            raise ConfigurationError(f"The entry point {ep.name!r} in {ENTRY_POINT_GROUP} is not a stepup method.")
        for what, value in (("name", method.name), ("channel", method.channel or "none")):
            if not isinstance(value, str) or not _NAME.fullmatch(value):
                raise ConfigurationError(
                    f"The method of entry point {ep.name!r} in {ENTRY_POINT_GROUP} has the {what} {value!r}; "
                    "a method's name and channel are lower-case letters, digits and _, such as 'voice'."
                )
        methods[method.name] = method
    return methods
