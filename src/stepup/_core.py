"""The engine's shared core: settings, keys, methods and the I/O effects flows yield.

Flows (in :mod:`stepup._flows`) are generators: they ``yield`` an :class:`Io` for each
store or sender call and get its result back. :class:`stepup.Engine` runs
them with sync components and :class:`stepup.AsyncEngine` awaits async ones, so the logic
of every operation is written once.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Generator, Iterable, Mapping
from typing import Any, TypeVar

from ._audit import Auditor
from ._clock import Clock, system_clock
from ._config import Settings
from ._crypto import Keyring
from ._errors import MethodNotAvailable
from ._messages import MessageCatalog
from ._models import AuditEvent, Challenge
from ._policy import Policy
from ._policy_cache import PolicyCache
from ._ratelimit import Limit, Limits
from .methods import BUILTIN_METHODS, Method, load_methods

__all__ = ["Core", "Flow", "Io"]

T = TypeVar("T")


@dataclasses.dataclass(frozen=True, slots=True)
class Io:
    """One call a flow needs made: ``components[component].name(*args)``."""

    component: str
    name: str
    args: tuple[Any, ...]


Flow = Generator[Io, Any, T]


class Core:
    """What both engines share.

    :param settings: the settings; keyword arguments override single fields.
    :param clock: the time source (frozen in tests).
    :param methods: the methods by name; by default the built-in ones plus plug-ins. A
        set of names instead is the :class:`Settings` field ``methods`` (those on by default).
    :param audit_hooks: callables taking each :class:`AuditEvent`.
    :param messages: the message texts (for translation or other wording).
    :raises ConfigurationError: for a missing or weak secret key or a bad setting.
    """

    #: every sender by route (``sms``, ``sms:fallback``, ``voice``...), set by the engine.
    senders: Mapping[str, Any]
    #: whether the store's update_many is atomic across records, set by the engine.
    store_atomic: bool

    def __init__(
        self,
        settings: Settings | None = None,
        *,
        clock: Clock = system_clock,
        methods: Mapping[str, Method] | Iterable[str] | None = None,
        audit_hooks: Iterable[Callable[[AuditEvent], None]] = (),
        messages: MessageCatalog | None = None,
        **overrides: Any,
    ) -> None:
        if methods is not None and not isinstance(methods, Mapping):
            # The keyword names both the registry and a Settings field; names mean the field.
            overrides["methods"] = frozenset(methods)
            methods = None
        base = settings or Settings()
        self.settings = base.replace(**overrides) if overrides else base
        #: ``settings.grant_grace``, read by every protected request.
        self.grace: float = self.settings.grant_grace
        self.keys = Keyring(self.settings.secret_key, clock)
        self.clock = clock
        self.methods: dict[str, Method] = dict(methods) if methods is not None else load_methods(BUILTIN_METHODS)
        self.auditor = Auditor(audit_hooks)
        self._session_digests: dict[str, str] = {}
        self.messages = messages or MessageCatalog(self.settings.app_name)
        self.default_policy = Policy.defaults(self.settings, self.methods)
        #: the policy as this process last read it (:mod:`stepup._policy_cache`).
        self.policy_cache = PolicyCache(self.default_policy, self.settings.policy_refresh)
        self.limits = Limits({
            name.removeprefix("limit_"): Limit(name.removeprefix("limit_"), getattr(self.settings, name))
            for name in self.settings.limit_names()
        })  # fmt: skip

    # -- helpers shared by the flows ---------------------------------------------------

    def method(self, name: object) -> Method:
        """The method called ``name``.

        :raises MethodNotAvailable: when no such method is registered.
        """
        method = self.methods.get(name) if isinstance(name, str) else None
        if method is None:
            known = ", ".join(sorted(self.methods))
            raise MethodNotAvailable(f"Unknown method {name!r}; stepup knows {known}.")
        return method

    def _emit(self, type_: str, challenge: Challenge | None = None, **fields: Any) -> None:
        """Fire an audit event, masking the challenge's target."""
        if not self.auditor.wants(type_):
            return
        if challenge is not None:
            method = self.methods.get(challenge.method)
            fields.setdefault("subject", challenge.subject)
            fields.setdefault("method", challenge.method)
            fields.setdefault("purpose", challenge.purpose)
            fields.setdefault("challenge_id", challenge.id)
            if method is not None and method.channel:
                fields.setdefault("target", method.label(challenge.target))
        detail = fields.pop("detail", {})
        self.auditor.emit(AuditEvent(type_, self.clock(), detail=detail, **fields))

    def _session_digest(self, session: str | None) -> str | None:
        """The digest a challenge keeps of the session that started it (remembered: a
        session starts and verifies several challenges)."""
        if session is None:
            return None
        digest = self._session_digests.get(session)
        if digest is None:
            if len(self._session_digests) >= 4096:
                self._session_digests.clear()
            digest = self._session_digests[session] = self.keys.digest("session", session)
        return digest

    def _same_session(self, digest: str | None, session: str | None) -> bool:
        """Whether ``digest`` (kept with a challenge or a saved request) is of ``session``,
        under any key, so a rotation does not cut a session off its pending work."""
        if digest is None or session is None:
            return digest is None and session is None
        return self._session_digest(session) == digest or self.keys.matches(digest, "session", session)

    def operation_digest(self, operation: Any) -> str:
        """The digest an operation approval is bound to.

        :param operation: any JSON-able description of the operation, e.g.
            ``{"to": "bob", "amount": "50.00"}``; keys are sorted before hashing.
        """
        return self.keys.digest("operation", _canonical(operation))

    def _operation_matches(self, digest: str, operation: Any) -> bool:
        """Whether ``operation`` is the one ``digest`` was made of, under any key.

        :param digest: an approval's :meth:`operation_digest`.
        :param operation: the operation about to run.
        """
        return self.keys.matches(digest, "operation", _canonical(operation))

    # -- I/O, as effects ---------------------------------------------------------------

    @staticmethod
    def _io(component: str, name: str, *args: Any) -> Flow[Any]:
        """Yield one call and return its result (``yield from core._io(...)``)."""
        return (yield Io(component, name, args))


def _canonical(operation: Any) -> str:
    return json.dumps(operation, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
