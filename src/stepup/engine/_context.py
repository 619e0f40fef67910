"""The engine's context: everything a flow reads (settings, keys, clock, methods, limits,
audit, store, senders), typed, made once per engine.

Flows are module-level functions over a :class:`Context` (``start(ctx, ...)``); the
context holds no flow. Its store and senders are of one kind, plain or async, fitted by
the engine that made it (:mod:`stepup.engine._engines`), so one flow serves both.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from .._audit import Auditor, current_request
from .._clock import Clock
from .._config import Settings
from .._crypto import Keyring
from .._errors import MethodNotAvailable
from .._i18n import T
from .._messages import MessageCatalog
from .._models import AuditEvent, Challenge
from .._policy import Policy
from .._ratelimit import Limit, Limits
from ..channels import CatalogChannel, Channel, load_channels
from ..methods import BUILTIN_METHODS, Method, load_methods
from ._policy_cache import PolicyCache

__all__ = ["Context"]

#: digests of sessions and their logins a context remembers before it starts again (a bound
#: on its memory).
_SESSION_DIGESTS = 4096


class Context:
    """What every flow reads.

    :param settings: the settings in force (overrides applied).
    :param clock: the time source (frozen in tests).
    :param methods: the methods by name; ``None``: the built-in ones plus plug-ins.
    :param audit_hooks: callables taking each :class:`AuditEvent`.
    :param messages: the message texts (for translation or other wording).
    :raises ConfigurationError: for a missing or weak secret key or a bad setting.
    """

    #: the store, plain for :class:`~stepup.Engine`, async for :class:`~stepup.AsyncEngine`.
    store: Any
    #: every sender by route (``sms``, ``sms:GB``, ``sms:fallback``, ``voice``...), of the store's kind.
    senders: Mapping[str, Any]
    #: whether the store's ``update_many`` is atomic across records.
    store_atomic: bool
    #: ``address -> place`` the app gave, for remembered browsers; ``None``: no places.
    locate: Callable[[str], str | None] | None = None

    def __init__(
        self,
        settings: Settings,
        *,
        clock: Clock,
        methods: Mapping[str, Method] | None,
        audit_hooks: Iterable[Callable[[AuditEvent], None]],
        messages: MessageCatalog | None,
    ) -> None:
        self.settings = settings
        self.keys = Keyring(settings.secret_key, clock)
        self.clock = clock
        self.methods: dict[str, Method] = dict(methods) if methods is not None else load_methods(BUILTIN_METHODS)
        hooks = list(audit_hooks)
        self.auditor = Auditor(hooks, keep=settings.audit_retention_days > 0)
        #: what each verification's wall time goes to: the ``observe_verify`` of a hook
        #: that has one (:class:`stepup.Metrics`); none, and nothing is timed.
        self.latency_hooks: list[Callable[[float], None]] = [
            observe for h in hooks if callable(observe := getattr(h, "observe_verify", None))
        ]
        self.messages = messages or MessageCatalog(settings.app_name)
        #: every channel by name, read once (:mod:`stepup.channels`).
        self.channels: dict[str, Channel] = load_channels()
        self.default_policy = Policy.defaults(settings, self.methods)
        #: the policy as this process last read it (:mod:`stepup.engine._policy_cache`).
        self.policy_cache = PolicyCache(self.default_policy, settings.policy_refresh)
        self.limits = Limits({
            name.removeprefix("limit_"): Limit(name.removeprefix("limit_"), getattr(settings, name))
            for name in settings.limit_names()
        })  # fmt: skip
        self._digests: dict[tuple[str, str], str] = {}
        #: the events in each audit trail head as this process last wrote it (:mod:`._trail`).
        self.trail_heads: dict[str, int] = {}

    def method(self, name: object) -> Method:
        """The method called ``name``.

        :raises MethodNotAvailable: when no such method is registered.
        """
        method = self.methods.get(name) if isinstance(name, str) else None
        if method is None:
            known = ", ".join(sorted(self.methods))
            raise MethodNotAvailable(T("Unknown method '{method}'; stepup knows {known}.", method=name, known=known))
        return method

    def channel(self, name: str) -> Channel:
        """The channel called ``name``; a plug-in method's channel that no plug-in
        registered is a :class:`~stepup.channels.CatalogChannel` without country routes,
        as every such channel was before channels had a registry."""
        found = self.channels.get(name)
        return found if found is not None else CatalogChannel(name, "other")

    def emit(self, type_: str, challenge: Challenge | None = None, **fields: Any) -> None:
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
        fields.setdefault("context", current_request())
        self.auditor.emit(type_, self.clock(), fields)

    def session_digest(self, session: str | None) -> str | None:
        """The digest a challenge or saved request keeps of the session that made it
        (remembered: a session starts and verifies several challenges)."""
        return None if session is None else self.remembered_digest("session", session)

    def remembered_digest(self, purpose: str, value: str) -> str:
        """``keys.digest(purpose, value)``, remembered for a value a session brings again
        and again (its nonce, its login's): at most ``_SESSION_DIGESTS``, then afresh."""
        digest = self._digests.get((purpose, value))
        if digest is None:
            if len(self._digests) >= _SESSION_DIGESTS:
                self._digests.clear()
            digest = self._digests[purpose, value] = self.keys.digest(purpose, value)
        return digest

    def same_session(self, digest: str | None, session: str | None) -> bool:
        """Whether ``digest`` (kept with a challenge or a saved request) is of ``session``,
        under any key, so a rotation does not cut a session off its pending work."""
        if digest is None or session is None:
            return digest is None and session is None
        return self.session_digest(session) == digest or self.keys.matches(digest, "session", session)

    def operation_digest(self, operation: Any) -> str:
        """The digest an operation approval is bound to.

        :param operation: any JSON-able description of the operation, e.g.
            ``{"to": "bob", "amount": "50.00"}``; keys are sorted before hashing.
        """
        return self.keys.digest("operation", _canonical(operation))

    def operation_matches(self, digest: str, operation: Any) -> bool:
        """Whether ``operation`` is the one ``digest`` was made of, under any key."""
        return self.keys.matches(digest, "operation", _canonical(operation))


def _canonical(operation: Any) -> str:
    return json.dumps(operation, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
