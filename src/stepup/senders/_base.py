"""The sender contract: deliver one message, sync or async."""

from __future__ import annotations

import asyncio
import inspect
from typing import Any, Protocol

from .._errors import ConfigurationError
from .._models import Message

__all__ = ["AsyncSender", "AsyncSenderAdapter", "Sender", "as_async_sender", "sync_sender"]


class Sender(Protocol):
    """Delivers SMS or email (sync)."""

    def send(self, message: Message) -> None:
        """Deliver ``message`` or raise.

        :raises DeliveryError: when it could not be delivered; its text never holds
            credentials or the message body.
        """
        ...


class AsyncSender(Protocol):
    """The async twin of :class:`Sender`."""

    async def send(self, message: Message) -> None: ...  # noqa: D102


class AsyncSenderAdapter:
    """An :class:`AsyncSender` over a sync sender.

    :param sender: the sync sender.
    :param offload: run each send in a worker thread (for senders that block).
    """

    def __init__(self, sender: Sender, *, offload: bool) -> None:
        self.sync = sender
        self._offload = offload

    async def send(self, message: Message) -> None:
        """See :meth:`Sender.send`."""
        if self._offload:
            await asyncio.to_thread(self.sync.send, message)
        else:
            self.sync.send(message)


def _sends_async(sender: object, role: str) -> bool:
    """Whether ``sender.send`` is a coroutine function.

    :raises ConfigurationError: when ``sender`` has no ``send`` method at all.
    """
    send = getattr(sender, "send", None)
    if not callable(send):
        raise ConfigurationError(f"The {role} sender {type(sender).__name__} has no send(message) method.")
    return inspect.iscoroutinefunction(send)


def as_async_sender(sender: Sender | AsyncSender, role: str = "given") -> AsyncSender:
    """The sender an :class:`~stepup.AsyncEngine` uses: ``sender`` itself when its
    ``send`` is a coroutine function, else ``sender`` in an :class:`AsyncSenderAdapter`
    that runs each send in a worker thread, so a plain sender that blocks (SMTP, an HTTP
    client) never holds up the event loop.

    :param sender: a :class:`Sender` or an :class:`AsyncSender`.
    :param role: what the engine uses it for (``sms``, ``email``), for the error.
    :raises ConfigurationError: when ``sender`` has no ``send`` method.
    """
    if _sends_async(sender, role):
        return sender  # type: ignore[return-value]
    return AsyncSenderAdapter(sender, offload=True)  # type: ignore[arg-type]


def sync_sender(sender: Any, role: str = "given") -> Sender:
    """``sender``, checked to be a plain :class:`Sender` for an :class:`~stepup.Engine`:
    the sync engine cannot await a send, and a coroutine it never awaited would deliver
    nothing while the challenge went on as if the code had been sent.

    :param sender: the sender given to the engine.
    :param role: what the engine uses it for (``sms``, ``email``), for the error.
    :raises ConfigurationError: for an :class:`AsyncSender`, or an object without ``send``.
    """
    if _sends_async(sender, role):
        raise ConfigurationError(
            f"The {role} sender {type(sender).__name__} is async (its send is a coroutine function): "
            "give it to AsyncEngine, or give Engine a plain Sender."
        )
    return sender  # type: ignore[no-any-return]
