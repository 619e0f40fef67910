"""The sender contract: deliver one message, sync or async."""

from __future__ import annotations

import asyncio
from typing import Protocol

from .._models import Message

__all__ = ["AsyncSender", "AsyncSenderAdapter", "Sender"]


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
