"""The two engines: :class:`Engine` (sync, for WSGI apps and scripts) and
:class:`AsyncEngine` (for ASGI apps), twins with the same public methods.

Each public method is one flow of this package, declared on each twin by :func:`sync_twin`
(which runs the flow with plain components) or :func:`async_twin` (which awaits it with
async ones: :mod:`stepup._twin`). ``tests/core/test_twins.py`` checks that the twins
declare the same methods with the same signatures.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Coroutine, Mapping
from typing import Any, Concatenate, ParamSpec, TypeVar

from .._twin import Steps, arun, run
from ..senders import AsyncSender, Sender
from ..stores import AsyncStore, Store
from . import (
    _admin,
    _bindings,
    _challenges,
    _contact,
    _devices,
    _ended,
    _locale,
    _locks,
    _login,
    _open,
    _passkeys,
    _resume,
    _steps,
    _support,
    _trail,
    _verify,
)
from ._base import ASYNC_FACTORIES, SYNC_FACTORIES, EngineBase, fitted_async, fitted_sync
from ._context import Context
from ._effects import Flow

__all__ = ["AsyncEngine", "ContactVerification", "Engine", "async_twin", "sync_twin"]

P = ParamSpec("P")
R = TypeVar("R")
E = TypeVar("E", bound=EngineBase)


def _describe(method: Callable[..., Any], flow: Callable[..., Any]) -> None:
    """Give a twin's method the flow's name, text and signature (without the context)."""
    signature = inspect.signature(flow)
    params = list(signature.parameters.values())
    this = inspect.Parameter("self", inspect.Parameter.POSITIONAL_ONLY)
    method.__name__ = method.__qualname__ = flow.__name__
    method.__doc__ = flow.__doc__
    method.__signature__ = signature.replace(  # type: ignore[attr-defined]
        parameters=[this, *params[1:]], return_annotation=inspect.Signature.empty
    )


def sync_twin(flow: Callable[Concatenate[Context, P], Flow[R]]) -> Callable[Concatenate[E, P], R]:
    """The :class:`Engine` method of ``flow``: it runs the flow over the engine's context."""

    def method(self: E, /, *args: P.args, **kwargs: P.kwargs) -> R:
        return run(_trail.recorded(self.context, flow(self.context, *args, **kwargs)))

    _describe(method, flow)
    return method


def async_twin(flow: Callable[Concatenate[Context, P], Flow[R]]) -> Callable[Concatenate[E, P], Coroutine[Any, Any, R]]:
    """The :class:`AsyncEngine` method of ``flow``: it awaits the flow over the engine's context."""

    async def method(self: E, /, *args: P.args, **kwargs: P.kwargs) -> R:
        return await arun(_trail.recorded(self.context, flow(self.context, *args, **kwargs)))

    _describe(method, flow)
    return method


class ContactVerification:
    """Contact verification in the shape of Vonage Verify: ``request``, ``check``,
    ``cancel``, ``next`` (trigger the next event). On an :class:`AsyncEngine` each call
    returns an awaitable.
    """

    def __init__(self, engine: Engine | AsyncEngine) -> None:
        self._engine = engine

    def request(self, channel: str, to: object, *, client: str | None = None, session: str | None = None) -> Any:
        """Send a code to ``to`` by ``channel``; returns the request id. See
        :meth:`Engine.request_contact`."""
        return self._engine.request_contact(channel, to, client=client, session=session)

    def check(self, request_id: str, code: object, *, client: str | None = None, session: str | None = None) -> Any:
        """Check the code of a request. See :meth:`Engine.check_contact`."""
        return self._engine.check_contact(request_id, code, client=client, session=session)

    def cancel(self, request_id: str, *, client: str | None = None, session: str | None = None) -> Any:
        """Cancel a request. See :meth:`Engine.cancel_contact`."""
        return self._engine.cancel_contact(request_id, client=client, session=session)

    def next(self, request_id: str, *, client: str | None = None, session: str | None = None) -> Any:
        """Send a request's next step now. See :meth:`Engine.next_contact`."""
        return self._engine.next_contact(request_id, client=client, session=session)


class Engine(EngineBase):
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
    :param kwargs: see :class:`stepup.engine.EngineBase` (``clock``, ``methods``,
        ``audit_hooks``, ``messages``) and the fields of :class:`Settings`.
    :raises ConfigurationError: for a missing or weak key, an unknown URL, or a method
        whose channel has no sender; for an async store or sender, which this engine could
        not await (give those to :class:`AsyncEngine`).
    """

    store: Store
    sms: Sender
    email: Sender
    #: every sender by route (``sms``, ``email``, ``sms:GB``, ``sms:fallback``, ``voice``).
    senders: dict[str, Sender]

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
        self._wire(*fitted_sync(store, sms, email, senders), *SYNC_FACTORIES)
        #: contact verification as ``request``/``check``/``cancel`` (Vonage Verify's shape).
        self.contact = ContactVerification(self)

    def run(self, flow: Steps[R]) -> R:
        """Run a flow of :mod:`stepup.engine` (or of the web layer) over this engine's
        store and senders, and return its result; the audit events it fired are stored."""
        return run(_trail.recorded(self.context, flow))

    def close(self) -> None:
        """Release the store's connections."""
        self.store.close()

    start = sync_twin(_challenges.start)
    verify = sync_twin(_verify.verify)
    passkey_options = sync_twin(_passkeys.passkey_options)
    rename_passkey = sync_twin(_passkeys.rename_passkey)
    resend = sync_twin(_challenges.resend)
    cancel = sync_twin(_challenges.cancel)
    consume = sync_twin(_challenges.consume)
    challenge = sync_twin(_challenges.challenge)
    begin_bind = sync_twin(_bindings.begin_bind)
    bindings = sync_twin(_bindings.bindings)
    unbind = sync_twin(_bindings.unbind)
    reset = sync_twin(_bindings.reset)
    unlock = sync_twin(_locks.unlock)
    unlock_target = sync_twin(_locks.unlock_target)
    generate_recovery_codes = sync_twin(_bindings.generate_recovery_codes)
    import_binding = sync_twin(_bindings.import_binding)
    policy = sync_twin(_admin.policy)
    set_method = sync_twin(_admin.set_method)
    set_login_2fa = sync_twin(_admin.set_login_2fa)
    set_identity_source = sync_twin(_admin.set_identity_source)
    set_bind_on_first_login = sync_twin(_admin.set_bind_on_first_login)
    login_decision = sync_twin(_login.login_decision)
    remember_device = sync_twin(_devices.remember_device)
    is_trusted_device = sync_twin(_devices.is_trusted_device)
    devices = sync_twin(_devices.devices)
    forget_device = sync_twin(_devices.forget_device)
    forget_browser = sync_twin(_devices.forget_browser)
    forget_devices = sync_twin(_devices.forget_devices)
    request_contact = sync_twin(_contact.request_contact)
    check_contact = sync_twin(_contact.check_contact)
    cancel_contact = sync_twin(_contact.cancel_contact)
    next_contact = sync_twin(_contact.next_contact)
    save_resume = sync_twin(_resume.save_resume)
    load_resume = sync_twin(_resume.load_resume)
    take_resume = sync_twin(_resume.take_resume)
    end_login = sync_twin(_ended.end_login)
    audit_events = sync_twin(_trail.audit_events)
    pending_challenges = sync_twin(_open.pending_challenges)
    subject_overview = sync_twin(_support.subject_overview)
    support_action = sync_twin(_support.support_action)
    locale_of = sync_twin(_locale.locale_of)
    set_locale = sync_twin(_locale.set_locale)
    next_step = sync_twin(_steps.next_step)
    run_due = sync_twin(_steps.run_due)


class AsyncEngine(EngineBase):
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

    store: AsyncStore
    sms: AsyncSender
    email: AsyncSender
    #: every sender by route, as on :class:`Engine`.
    senders: dict[str, AsyncSender]

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
        self._wire(*fitted_async(store, sms, email, senders), *ASYNC_FACTORIES)
        #: contact verification as on :class:`Engine`, each call awaited.
        self.contact = ContactVerification(self)

    async def run(self, flow: Steps[R]) -> R:
        """Run a flow of :mod:`stepup.engine` (or of the web layer) over this engine's
        store and senders, awaiting each call, and return its result; the audit events it
        fired are stored."""
        return await arun(_trail.recorded(self.context, flow))

    async def close(self) -> None:
        """Release the store's connections."""
        await self.store.close()

    start = async_twin(_challenges.start)
    verify = async_twin(_verify.verify)
    passkey_options = async_twin(_passkeys.passkey_options)
    rename_passkey = async_twin(_passkeys.rename_passkey)
    resend = async_twin(_challenges.resend)
    cancel = async_twin(_challenges.cancel)
    consume = async_twin(_challenges.consume)
    challenge = async_twin(_challenges.challenge)
    begin_bind = async_twin(_bindings.begin_bind)
    bindings = async_twin(_bindings.bindings)
    unbind = async_twin(_bindings.unbind)
    reset = async_twin(_bindings.reset)
    unlock = async_twin(_locks.unlock)
    unlock_target = async_twin(_locks.unlock_target)
    generate_recovery_codes = async_twin(_bindings.generate_recovery_codes)
    import_binding = async_twin(_bindings.import_binding)
    policy = async_twin(_admin.policy)
    set_method = async_twin(_admin.set_method)
    set_login_2fa = async_twin(_admin.set_login_2fa)
    set_identity_source = async_twin(_admin.set_identity_source)
    set_bind_on_first_login = async_twin(_admin.set_bind_on_first_login)
    login_decision = async_twin(_login.login_decision)
    remember_device = async_twin(_devices.remember_device)
    is_trusted_device = async_twin(_devices.is_trusted_device)
    devices = async_twin(_devices.devices)
    forget_device = async_twin(_devices.forget_device)
    forget_browser = async_twin(_devices.forget_browser)
    forget_devices = async_twin(_devices.forget_devices)
    request_contact = async_twin(_contact.request_contact)
    check_contact = async_twin(_contact.check_contact)
    cancel_contact = async_twin(_contact.cancel_contact)
    next_contact = async_twin(_contact.next_contact)
    save_resume = async_twin(_resume.save_resume)
    load_resume = async_twin(_resume.load_resume)
    take_resume = async_twin(_resume.take_resume)
    end_login = async_twin(_ended.end_login)
    audit_events = async_twin(_trail.audit_events)
    pending_challenges = async_twin(_open.pending_challenges)
    subject_overview = async_twin(_support.subject_overview)
    support_action = async_twin(_support.support_action)
    locale_of = async_twin(_locale.locale_of)
    set_locale = async_twin(_locale.set_locale)
    next_step = async_twin(_steps.next_step)
    run_due = async_twin(_steps.run_due)
