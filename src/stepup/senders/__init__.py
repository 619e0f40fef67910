"""Senders: how codes reach people, chosen by URL."""

from ._base import AsyncSender as AsyncSender
from ._base import AsyncSenderAdapter as AsyncSenderAdapter
from ._base import Sender as Sender
from ._local import ConsoleSender as ConsoleSender
from ._local import FileSender as FileSender
from ._local import MemorySender as MemorySender
from ._url import async_sender_from_url as async_sender_from_url
from ._url import sender_from_url as sender_from_url

__all__ = [
    "AsyncSender",
    "AsyncSenderAdapter",
    "ConsoleSender",
    "FileSender",
    "MemorySender",
    "Sender",
    "async_sender_from_url",
    "sender_from_url",
]
