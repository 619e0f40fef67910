"""Senders: how codes reach people, chosen by URL.

The SMS senders over httpx (``HttpSmsSender``, ``AsyncHttpSmsSender``, ``TwilioApi``,
``VonageApi``) import httpx on first use.
"""

from typing import TYPE_CHECKING, Any

from ._base import AsyncSender as AsyncSender
from ._base import AsyncSenderAdapter as AsyncSenderAdapter
from ._base import Sender as Sender
from ._base import as_async_sender as as_async_sender
from ._base import sync_sender as sync_sender
from ._local import ConsoleSender as ConsoleSender
from ._local import FileSender as FileSender
from ._local import MemorySender as MemorySender
from ._smtp import SMTPSender as SMTPSender
from ._url import async_sender_from_url as async_sender_from_url
from ._url import sender_from_url as sender_from_url

if TYPE_CHECKING:
    from ._http import AsyncHttpSmsSender as AsyncHttpSmsSender
    from ._http import HttpSmsSender as HttpSmsSender
    from ._providers import TwilioApi as TwilioApi
    from ._providers import VonageApi as VonageApi

_LAZY = {"HttpSmsSender": "_http", "AsyncHttpSmsSender": "_http", "TwilioApi": "_providers", "VonageApi": "_providers"}

__all__ = [
    "AsyncHttpSmsSender",
    "AsyncSender",
    "AsyncSenderAdapter",
    "ConsoleSender",
    "FileSender",
    "HttpSmsSender",
    "MemorySender",
    "SMTPSender",
    "Sender",
    "TwilioApi",
    "VonageApi",
    "as_async_sender",
    "async_sender_from_url",
    "sender_from_url",
    "sync_sender",
]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(f"{__name__}.{_LAZY[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
