"""Senders: how codes reach people, chosen by URL.

The SMS and voice senders over httpx (``HttpSmsSender``, ``AsyncHttpSmsSender``,
``HttpVoiceSender``, ``AsyncHttpVoiceSender``, ``TwilioApi``, ``VonageApi``,
``TwilioVoiceApi``, ``VonageVoiceApi``) import httpx on first use.
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
    from ._http import AsyncHttpVoiceSender as AsyncHttpVoiceSender
    from ._http import HttpSmsSender as HttpSmsSender
    from ._http import HttpVoiceSender as HttpVoiceSender
    from ._providers import TwilioApi as TwilioApi
    from ._providers import VonageApi as VonageApi
    from ._voice import TwilioVoiceApi as TwilioVoiceApi
    from ._voice import VonageVoiceApi as VonageVoiceApi

_LAZY = {
    "HttpSmsSender": "_http", "AsyncHttpSmsSender": "_http", "HttpVoiceSender": "_http",
    "AsyncHttpVoiceSender": "_http", "TwilioApi": "_providers", "VonageApi": "_providers",
    "TwilioVoiceApi": "_voice", "VonageVoiceApi": "_voice",
}  # fmt: skip

__all__ = [
    "AsyncHttpSmsSender",
    "AsyncHttpVoiceSender",
    "AsyncSender",
    "AsyncSenderAdapter",
    "ConsoleSender",
    "FileSender",
    "HttpSmsSender",
    "HttpVoiceSender",
    "MemorySender",
    "SMTPSender",
    "Sender",
    "TwilioApi",
    "TwilioVoiceApi",
    "VonageApi",
    "VonageVoiceApi",
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
