"""The two engines: :class:`Engine` (sync, for WSGI apps and scripts) and
:class:`AsyncEngine` (for ASGI apps), twins with the same public methods.

Both run the same flows; they differ only in how an effect is carried out: called, or
awaited. The async engine's store and senders never block the event loop.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Coroutine, Generator, Mapping
from typing import Any, Concatenate, Generic, ParamSpec, TypeVar, overload

from ._channels import check_channels, make_senders
from ._core import Io
from ._errors import ConfigurationError
from ._resume_flows import ResumeFlows
from .senders import AsyncSender, Sender, async_sender_from_url, sender_from_url
from .senders._base import as_async_sender, sync_sender
from .stores import AsyncStore, Store, async_store_from_url, store_from_url
from .stores._base import as_async_store, async_with_many, sync_store, with_many

__all__ = ["AsyncEngine", "ContactVerification", "Engine"]

P = ParamSpec("P")
R = TypeVar("R")
FlowFn = Callable[Concatenate[Any, P], Generator[Io, Any, R]]


class _Twin(Generic[P, R]):
    """One public method of both engines, made from one flow: on an :class:`Engine` it runs
    the flow and returns its result; on an :class:`AsyncEngine` it returns an awaitable of
    it. Declared once, so the twins cannot drift apart."""

    def __init__(self, flow: FlowFn[P, R]) -> None:
        self.flow = flow
        self.__doc__ = flow.__doc__
        self.__name__ = flow.__name__.lstrip("_")
        signature = inspect.signature(flow)
        # What callers see: the flow's parameters without ``self``; the result type
        # differs between the twins (a value, or an awaitable of it).
        self.signature = signature.replace(
            parameters=list(signature.parameters.values())[1:], return_annotation=inspect.Signature.empty
        )

    def __set_name__(self, owner: type, name: str) -> None:
        self.__name__ = name

    @overload
    def __get__(self, obj: None, owner: type) -> _Twin[P, R]: ...

    @overload
    def __get__(self, obj: Engine, owner: type) -> Callable[P, R]: ...

    @overload
    def __get__(self, obj: AsyncEngine, owner: type) -> Callable[P, Coroutine[Any, Any, R]]: ...

    def __get__(self, obj: Any, owner: type) -> Any:
        if obj is None:
            return self
        flow, run = self.flow, obj._run
        method: Any
        if isinstance(obj, AsyncEngine):

            async def method(*args: Any, **kwargs: Any) -> Any:
                return await run(flow(obj, *args, **kwargs))

        else:

            def method(*args: Any, **kwargs: Any) -> Any:
                return run(flow(obj, *args, **kwargs))

        method.__name__ = method.__qualname__ = self.__name__
        method.__doc__ = self.__doc__
        method.__signature__ = self.signature
        return method


class _Twins(ResumeFlows):
    """The public methods both engines share; see each flow for its documentation."""

    def _wire(
        self, store: Any, sms: Any, email: Any, senders: Mapping[str, Any] | None,
        store_factory: Callable[..., Any], sender_factory: Callable[[str], Any], many: Callable[[Any], Any],
    ) -> None:  # fmt: skip
        """Set up the store and senders from the twin's own (sync or async) kind; a store
        without ``get_many``/``update_many`` gets them from ``many``.

        :raises ConfigurationError: a channel given twice, or a method whose channel has
            no sender (:mod:`stepup._channels`).
        """
        s = self.settings
        given = dict(senders or {})
        for channel, sender in (("sms", sms), ("email", email)):
            if sender is not None:
                if channel in given:
                    raise ConfigurationError(f"The {channel} sender is given twice: as {channel}= and in senders=.")
                given[channel] = sender
        self.senders = make_senders(s, sender_factory, given)
        check_channels(self.methods, self.senders)
        self.sms, self.email = self.senders["sms"], self.senders["email"]
        if store is None:
            store = store_factory(s.store_url, self.clock, require_noeviction=s.store_require_noeviction)
        self.store = many(store)
        #: whether the store's update_many is atomic across records (``atomic_many``).
        self.store_atomic = bool(getattr(self.store, "atomic_many", False))
        self.contact = ContactVerification(self)  # type: ignore[arg-type]
        self._components: dict[str, Any] = {"store": self.store, **self.senders}

    start = _Twin(ResumeFlows._start)
    verify = _Twin(ResumeFlows._verify)
    resend = _Twin(ResumeFlows._resend)
    cancel = _Twin(ResumeFlows._cancel)
    consume = _Twin(ResumeFlows._consume)
    challenge = _Twin(ResumeFlows._challenge)
    begin_bind = _Twin(ResumeFlows._begin_bind)
    bindings = _Twin(ResumeFlows._bindings)
    unbind = _Twin(ResumeFlows._unbind)
    reset = _Twin(ResumeFlows._reset)
    unlock = _Twin(ResumeFlows._unlock)
    unlock_target = _Twin(ResumeFlows._unlock_target)
    generate_recovery_codes = _Twin(ResumeFlows._generate_recovery_codes)
    import_binding = _Twin(ResumeFlows._import_binding)
    policy = _Twin(ResumeFlows._get_policy)
    set_method = _Twin(ResumeFlows._set_method)
    set_login_2fa = _Twin(ResumeFlows._set_login_2fa)
    set_identity_source = _Twin(ResumeFlows._set_identity_source)
    set_bind_on_first_login = _Twin(ResumeFlows._set_bind_on_first_login)
    login_decision = _Twin(ResumeFlows._login_decision)
    remember_device = _Twin(ResumeFlows._remember_device)
    is_trusted_device = _Twin(ResumeFlows._is_trusted_device)
    devices = _Twin(ResumeFlows._devices)
    forget_device = _Twin(ResumeFlows._forget_device)
    forget_browser = _Twin(ResumeFlows._forget_browser)
    forget_devices = _Twin(ResumeFlows._forget_devices)
    request_contact = _Twin(ResumeFlows._request_contact)
    check_contact = _Twin(ResumeFlows._check_contact)
    cancel_contact = _Twin(ResumeFlows._cancel_contact)
    save_resume = _Twin(ResumeFlows._save_resume)
    load_resume = _Twin(ResumeFlows._load_resume)
    take_resume = _Twin(ResumeFlows._take_resume)
    end_login = _Twin(ResumeFlows._end_login)


class ContactVerification:
    """Contact verification in the shape of Vonage Verify: ``request``, ``check``,
    ``cancel``. On an :class:`AsyncEngine` each call returns an awaitable.
    """

    def __init__(self, engine: Engine | AsyncEngine) -> None:
        self._engine = engine

    def request(self, channel: str, to: object, *, client: str | None = None) -> Any:
        """Send a code to ``to`` by ``channel``; returns the request id. See
        :meth:`Engine.request_contact`."""
        return self._engine.request_contact(channel, to, client=client)

    def check(self, request_id: str, code: object, *, client: str | None = None) -> Any:
        """Check the code of a request. See :meth:`Engine.check_contact`."""
        return self._engine.check_contact(request_id, code, client=client)

    def cancel(self, request_id: str) -> Any:
        """Cancel a request. See :meth:`Engine.cancel_contact`."""
        return self._engine.cancel_contact(request_id)


class Engine(_Twins):
    """stepup's core, synchronous.

    ::

        engine = Engine(secret_key=KEY, store_url="sqlite:///stepup.db")
        engine.begin_bind("alice", "sms", "+44 7400 123456")   # sends a code
        ...

    :param settings: a :class:`Settings`; keyword arguments override single fields.
    :param store: a store object instead of ``store_url``.
    :param sms: a sender for SMS instead of ``sms_url``.
    :param email: a sender for email instead of ``email_url``.
    :param senders: senders by channel, for the channels of plug-in methods:
        ``{"voice": sender}``, and ``{"voice:fallback": other}`` for one tried when the
        first fails; they replace those ``sender_urls`` names for the same channel.
    :param kwargs: see :class:`stepup._core.Core` (``clock``, ``methods``, ``audit_hooks``,
        ``messages``) and the fields of :class:`Settings`.
    :raises ConfigurationError: for a missing or weak key, an unknown URL, or a method
        whose channel has no sender; for an async store or sender, which this engine could
        not await (give those to :class:`AsyncEngine`).
    """

    def __init__(
        self,
        settings: Any = None,
        *,
        store: Store | None = None,
        sms: Sender | None = None,
        email: Sender | None = None,
        senders: Mapping[str, Sender] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(settings, **kwargs)
        store = None if store is None else sync_store(store)
        sms = None if sms is None else sync_sender(sms, "sms")
        email = None if email is None else sync_sender(email, "email")
        senders = None if senders is None else {name: sync_sender(s, name) for name, s in senders.items()}
        self._wire(store, sms, email, senders, store_from_url, sender_from_url, with_many)
        self.store: Store
        self.sms: Sender
        self.email: Sender
        #: every sender by route (``sms``, ``email``, ``sms:GB``, ``sms:fallback``, ``voice``).
        self.senders: dict[str, Sender]

    def _run(self, flow: Generator[Io, Any, R]) -> R:
        value: Any = None
        error: BaseException | None = None
        while True:
            try:
                effect = flow.throw(error) if error is not None else flow.send(value)
            except StopIteration as stop:
                return stop.value  # type: ignore[no-any-return]
            try:
                value, error = getattr(self._components[effect.component], effect.name)(*effect.args), None
            except Exception as e:  # handed to the flow, which decides
                value, error = None, e

    def close(self) -> None:
        """Release the store's connections."""
        self.store.close()



class AsyncEngine(_Twins):
    """stepup's core for asyncio: the methods of :class:`Engine`, awaited.

    A plain (sync) store or sender is accepted too: its calls run in worker threads
    (:class:`~stepup.stores.AsyncStoreAdapter`, :class:`~stepup.senders.AsyncSenderAdapter`),
    so they never block the event loop.

    :param store: a store instead of ``store_url``, async or plain.
    :param sms: an SMS sender instead of ``sms_url``, async or plain.
    :param email: an email sender instead of ``email_url``, async or plain.
    :param senders: senders by channel, as on :class:`Engine`, async or plain.
    :raises ConfigurationError: as :class:`Engine`; for a store or sender without the
        protocol's methods, or a store whose methods are partly async.
    """

    def __init__(
        self,
        settings: Any = None,
        *,
        store: AsyncStore | Store | None = None,
        sms: AsyncSender | Sender | None = None,
        email: AsyncSender | Sender | None = None,
        senders: Mapping[str, AsyncSender | Sender] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(settings, **kwargs)
        # A plain sender here once failed at its first send (a TypeError, a 500), after the
        # challenge had been started: each is fitted to the async protocol up front.
        store = None if store is None else as_async_store(store)
        sms = None if sms is None else as_async_sender(sms, "sms")
        email = None if email is None else as_async_sender(email, "email")
        fitted = None if senders is None else {name: as_async_sender(s, name) for name, s in senders.items()}
        self._wire(store, sms, email, fitted, async_store_from_url, async_sender_from_url, async_with_many)
        self.store: AsyncStore
        self.sms: AsyncSender
        self.email: AsyncSender
        #: every sender by route, as on :class:`Engine`.
        self.senders: dict[str, AsyncSender]

    async def _run(self, flow: Generator[Io, Any, R]) -> R:
        value: Any = None
        error: BaseException | None = None
        while True:
            try:
                effect = flow.throw(error) if error is not None else flow.send(value)
            except StopIteration as stop:
                return stop.value  # type: ignore[no-any-return]
            try:
                value, error = await getattr(self._components[effect.component], effect.name)(*effect.args), None
            except Exception as e:  # handed to the flow, which decides
                value, error = None, e

    async def close(self) -> None:
        """Release the store's connections."""
        await self.store.close()
