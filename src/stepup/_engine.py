"""The two engines: :class:`Engine` (sync, for WSGI apps and scripts) and
:class:`AsyncEngine` (for ASGI apps), twins with the same public methods.

Both run the same flows; they differ only in how an effect is carried out: called, or
awaited. The async engine's store, senders and limiter never block the event loop.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Coroutine, Generator
from typing import Any, Concatenate, ParamSpec, TypeVar

from ._config import Settings
from ._core import Io
from ._ratelimit import async_rate_limiter, rate_limiter
from ._resume_flows import ResumeFlows
from .senders import AsyncSender, Sender, async_sender_from_url, sender_from_url
from .stores import AsyncStore, Store, async_store_from_url, store_from_url

__all__ = ["AsyncEngine", "ContactVerification", "Engine"]

P = ParamSpec("P")
R = TypeVar("R")
FlowFn = Callable[Concatenate[Any, P], Generator[Io, Any, R]]


def _sync(flow: FlowFn[P, R]) -> Callable[Concatenate[Engine, P], R]:
    @functools.wraps(flow)
    def method(self: Engine, *args: P.args, **kwargs: P.kwargs) -> R:
        return self._run(flow(self, *args, **kwargs))

    return method


def _async(flow: FlowFn[P, R]) -> Callable[Concatenate[AsyncEngine, P], Coroutine[Any, Any, R]]:
    @functools.wraps(flow)
    async def method(self: AsyncEngine, *args: P.args, **kwargs: P.kwargs) -> R:
        return await self._run(flow(self, *args, **kwargs))

    return method


def _route_urls(settings: Settings) -> dict[str, str]:
    """The senders beyond ``sms`` and ``email``, by route: ``sms:GB`` for each country in
    ``sms_routes``, ``sms:fallback`` for ``sms_fallback_url``."""
    routes = {f"sms:{region}": url for region, url in settings.sms_routes.items()}
    if settings.sms_fallback_url:
        routes["sms:fallback"] = settings.sms_fallback_url
    return routes


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


class Engine(ResumeFlows):
    """stepup's core, synchronous.

    ::

        engine = Engine(secret_key=KEY, store_url="sqlite:///stepup.db")
        engine.begin_bind("alice", "sms", "+44 7400 123456")   # sends a code
        ...

    :param settings: a :class:`Settings`; keyword arguments override single fields.
    :param store: a store object instead of ``store_url``.
    :param sms: a sender for SMS instead of ``sms_url``.
    :param email: a sender for email instead of ``email_url``.
    :param kwargs: see :class:`stepup._core.Core` (``clock``, ``methods``, ``audit_hooks``,
        ``messages``) and the fields of :class:`Settings`.
    :raises ConfigurationError: for a missing or weak key or an unknown URL.
    """

    def __init__(
        self,
        settings: Any = None,
        *,
        store: Store | None = None,
        sms: Sender | None = None,
        email: Sender | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(settings, **kwargs)
        s = self.settings
        self.store = store if store is not None else store_from_url(s.store_url, self.clock)
        self.limiter = rate_limiter(self.limits, self.store, self.clock)
        self.sms = sms if sms is not None else sender_from_url(s.sms_url)
        self.email = email if email is not None else sender_from_url(s.email_url)
        #: every sender by route (``sms``, ``email``, ``sms:GB``, ``sms:fallback``).
        self.senders: dict[str, Sender] = {
            "sms": self.sms, "email": self.email,
            **{route: sender_from_url(url) for route, url in _route_urls(s).items()},
        }  # fmt: skip
        self.contact = ContactVerification(self)
        self._components: dict[str, Any] = {"store": self.store, "limiter": self.limiter, **self.senders}

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

    start = _sync(ResumeFlows._start)
    verify = _sync(ResumeFlows._verify)
    resend = _sync(ResumeFlows._resend)
    cancel = _sync(ResumeFlows._cancel)
    consume = _sync(ResumeFlows._consume)
    challenge = _sync(ResumeFlows._challenge)
    begin_bind = _sync(ResumeFlows._begin_bind)
    bindings = _sync(ResumeFlows._bindings)
    unbind = _sync(ResumeFlows._unbind)
    reset = _sync(ResumeFlows._reset)
    unlock = _sync(ResumeFlows._unlock)
    generate_recovery_codes = _sync(ResumeFlows._generate_recovery_codes)
    import_binding = _sync(ResumeFlows._import_binding)
    policy = _sync(ResumeFlows._get_policy)
    set_method = _sync(ResumeFlows._set_method)
    set_login_2fa = _sync(ResumeFlows._set_login_2fa)
    set_identity_source = _sync(ResumeFlows._set_identity_source)
    set_bind_on_first_login = _sync(ResumeFlows._set_bind_on_first_login)
    login_decision = _sync(ResumeFlows._login_decision)
    remember_device = _sync(ResumeFlows._remember_device)
    is_trusted_device = _sync(ResumeFlows._is_trusted_device)
    request_contact = _sync(ResumeFlows._request_contact)
    check_contact = _sync(ResumeFlows._check_contact)
    cancel_contact = _sync(ResumeFlows._cancel_contact)
    save_resume = _sync(ResumeFlows._save_resume)
    load_resume = _sync(ResumeFlows._load_resume)
    take_resume = _sync(ResumeFlows._take_resume)


class AsyncEngine(ResumeFlows):
    """stepup's core for asyncio: the methods of :class:`Engine`, awaited.

    :param store: an async store instead of ``store_url``.
    :param sms: an async SMS sender instead of ``sms_url``.
    :param email: an async email sender instead of ``email_url``.
    """

    def __init__(
        self,
        settings: Any = None,
        *,
        store: AsyncStore | None = None,
        sms: AsyncSender | None = None,
        email: AsyncSender | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(settings, **kwargs)
        s = self.settings
        self.store = store if store is not None else async_store_from_url(s.store_url, self.clock)
        self.limiter = async_rate_limiter(self.limits, self.store, self.clock)
        self.sms = sms if sms is not None else async_sender_from_url(s.sms_url)
        self.email = email if email is not None else async_sender_from_url(s.email_url)
        #: every sender by route, as on :class:`Engine`.
        self.senders: dict[str, AsyncSender] = {
            "sms": self.sms, "email": self.email,
            **{route: async_sender_from_url(url) for route, url in _route_urls(s).items()},
        }  # fmt: skip
        self.contact = ContactVerification(self)
        self._components: dict[str, Any] = {"store": self.store, "limiter": self.limiter, **self.senders}

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

    start = _async(ResumeFlows._start)
    verify = _async(ResumeFlows._verify)
    resend = _async(ResumeFlows._resend)
    cancel = _async(ResumeFlows._cancel)
    consume = _async(ResumeFlows._consume)
    challenge = _async(ResumeFlows._challenge)
    begin_bind = _async(ResumeFlows._begin_bind)
    bindings = _async(ResumeFlows._bindings)
    unbind = _async(ResumeFlows._unbind)
    reset = _async(ResumeFlows._reset)
    unlock = _async(ResumeFlows._unlock)
    generate_recovery_codes = _async(ResumeFlows._generate_recovery_codes)
    import_binding = _async(ResumeFlows._import_binding)
    policy = _async(ResumeFlows._get_policy)
    set_method = _async(ResumeFlows._set_method)
    set_login_2fa = _async(ResumeFlows._set_login_2fa)
    set_identity_source = _async(ResumeFlows._set_identity_source)
    set_bind_on_first_login = _async(ResumeFlows._set_bind_on_first_login)
    login_decision = _async(ResumeFlows._login_decision)
    remember_device = _async(ResumeFlows._remember_device)
    is_trusted_device = _async(ResumeFlows._is_trusted_device)
    request_contact = _async(ResumeFlows._request_contact)
    check_contact = _async(ResumeFlows._check_contact)
    cancel_contact = _async(ResumeFlows._cancel_contact)
    save_resume = _async(ResumeFlows._save_resume)
    load_resume = _async(ResumeFlows._load_resume)
    take_resume = _async(ResumeFlows._take_resume)
