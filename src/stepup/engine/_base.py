"""What both engines hold: the context their flows read, wired to a store and senders of
the engine's kind (plain for :class:`~stepup.Engine`, async for :class:`~stepup.AsyncEngine`)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from .._clock import Clock, system_clock
from .._config import Settings
from .._errors import ConfigurationError
from .._messages import MessageCatalog
from .._models import AuditEvent
from ..methods import Method
from ..senders import AsyncSender, Sender, as_async_sender, async_sender_from_url, sender_from_url, sync_sender
from ..stores import (
    AsyncStore,
    Store,
    as_async_store,
    async_store_from_url,
    async_with_many,
    store_from_url,
    sync_store,
    with_many,
)
from ._channels import check_channels, make_senders
from ._context import Context
from ._steps import check_workflow_senders

__all__ = ["ASYNC_FACTORIES", "SYNC_FACTORIES", "EngineBase", "fitted_async", "fitted_sync"]


class EngineBase:
    """What both engines hold: the :class:`Context` their flows read, and its parts under
    the names an app reads them by (``engine.settings``, ``engine.store``...).

    :param settings: the settings; keyword arguments override single fields.
    :param clock: the time source (frozen in tests).
    :param methods: the methods by name; by default the built-in ones plus plug-ins. A
        set of names instead is the :class:`Settings` field ``methods`` (those on by default).
    :param audit_hooks: callables taking each :class:`AuditEvent`.
    :param messages: the message texts (for translation or other wording).
    :param locate: ``address -> place`` ("London, GB"), for the account page's list of
        remembered browsers (a GeoIP look-up of the app's); ``None`` shows no place.
    :raises ConfigurationError: for a missing or weak secret key or a bad setting.
    """

    store: Any
    senders: dict[str, Any]

    def __init__(
        self,
        settings: Settings | None = None,
        *,
        clock: Clock = system_clock,
        methods: Mapping[str, Method] | Iterable[str] | None = None,
        audit_hooks: Iterable[Callable[[AuditEvent], None]] = (),
        messages: MessageCatalog | None = None,
        locate: Callable[[str], str | None] | None = None,
        **overrides: Any,
    ) -> None:
        if methods is not None and not isinstance(methods, Mapping):
            # The keyword names both the registry and a Settings field; names mean the field.
            overrides["methods"] = frozenset(methods)
            methods = None
        base = settings or Settings()
        resolved = base.replace(**overrides) if overrides else base
        ctx = Context(resolved, clock=clock, methods=methods, audit_hooks=audit_hooks, messages=messages)
        ctx.locate = locate
        #: what every flow of this engine reads (:mod:`stepup.engine`'s flows take it first).
        self.context = ctx
        self.settings = ctx.settings
        #: ``settings.grant_grace``, read by every protected request.
        self.grace: float = ctx.settings.grant_grace
        self.keys, self.clock, self.methods, self.auditor = ctx.keys, ctx.clock, ctx.methods, ctx.auditor
        self.messages, self.default_policy, self.limits = ctx.messages, ctx.default_policy, ctx.limits
        #: the policy as this process last read it (:mod:`stepup.engine._policy_cache`).
        self.policy_cache = ctx.policy_cache

    def _wire(
        self, store: Any, sms: Any, email: Any, senders: Mapping[str, Any] | None,
        store_factory: Callable[..., Any], sender_factory: Callable[[str], Any], many: Callable[[Any], Any],
    ) -> None:  # fmt: skip
        """Set up the store and senders from the twin's own (sync or async) kind; a store
        without ``get_many``/``update_many`` gets them from ``many``.

        :raises ConfigurationError: a channel given twice, or a method whose channel has
            no sender (:mod:`stepup.engine._channels`).
        """
        s, ctx = self.settings, self.context
        given = dict(senders or {})
        for channel, sender in (("sms", sms), ("email", email)):
            if sender is not None:
                if channel in given:
                    raise ConfigurationError(f"The {channel} sender is given twice: as {channel}= and in senders=.")
                given[channel] = sender
        ctx.senders = self.senders = make_senders(s, sender_factory, given)
        check_channels(self.methods, self.senders)
        check_workflow_senders(s, self.senders)
        self.sms, self.email = self.senders["sms"], self.senders["email"]
        if store is None:
            store = store_factory(s.store_url, self.clock, require_noeviction=s.store_require_noeviction)
        ctx.store = self.store = many(store)
        #: whether the store's update_many is atomic across records (``atomic_many``).
        ctx.store_atomic = self.store_atomic = bool(getattr(self.store, "atomic_many", False))

    def method(self, name: object) -> Method:
        """The method called ``name``.

        :raises MethodNotAvailable: when no such method is registered.
        """
        return self.context.method(name)

    def operation_digest(self, operation: Any) -> str:
        """The digest an operation approval is bound to.

        :param operation: any JSON-able description of the operation, e.g.
            ``{"to": "bob", "amount": "50.00"}``; keys are sorted before hashing.
        """
        return self.context.operation_digest(operation)


def fitted_sync(
    store: Store | None, sms: Sender | None, email: Sender | None, senders: Mapping[str, Sender] | None
) -> tuple[Any, Any, Any, Any]:
    """What :class:`Engine` is given, checked to be plain (it cannot await)."""
    return (
        None if store is None else sync_store(store),
        None if sms is None else sync_sender(sms, "sms"),
        None if email is None else sync_sender(email, "email"),
        None if senders is None else {name: sync_sender(s, name) for name, s in senders.items()},
    )


def fitted_async(
    store: AsyncStore | Store | None,
    sms: AsyncSender | Sender | None,
    email: AsyncSender | Sender | None,
    senders: Mapping[str, AsyncSender | Sender] | None,
) -> tuple[Any, Any, Any, Any]:
    """What :class:`AsyncEngine` is given, fitted to the async protocol up front (a plain
    sender here once failed at its first send, after the challenge had been started)."""
    return (
        None if store is None else as_async_store(store),
        None if sms is None else as_async_sender(sms, "sms"),
        None if email is None else as_async_sender(email, "email"),
        None if senders is None else {name: as_async_sender(s, name) for name, s in senders.items()},
    )


SYNC_FACTORIES = (store_from_url, sender_from_url, with_many)
ASYNC_FACTORIES = (async_store_from_url, async_sender_from_url, async_with_many)
