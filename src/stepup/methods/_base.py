"""The method contract and the registry of methods.

A method is a kind of second factor. Delivered methods (``sms``, ``email``) have stepup
send a code to a target; held methods (``totp``, ``recovery``) check a code the user's own
device or paper makes against the binding. Third parties add methods through the
entry-point group ``stepup.methods``: each entry point names a :class:`Method` instance
or a class whose instances are one.
"""

from __future__ import annotations

from importlib.metadata import entry_points
from typing import Any, Protocol, runtime_checkable

from .._config import Settings
from .._crypto import Keyring
from .._errors import ConfigurationError

__all__ = ["ENTRY_POINT_GROUP", "Method", "load_methods"]

ENTRY_POINT_GROUP = "stepup.methods"


@runtime_checkable
class Method(Protocol):
    """One kind of second factor."""

    #: the name used in policy, bindings and URLs, e.g. ``"sms"``.
    name: str
    #: the sender channel for methods whose codes stepup delivers; ``None`` for held ones.
    channel: str | None

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
        methods[method.name] = method
    return methods
