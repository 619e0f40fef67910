"""Channels: the ways codes reach people (``sms``, ``email``, ``voice``), and how third
parties add their own through the entry-point group ``stepup.channels``."""

from ._base import BUILTIN_CHANNELS as BUILTIN_CHANNELS
from ._base import ENTRY_POINT_GROUP as ENTRY_POINT_GROUP
from ._base import CatalogChannel as CatalogChannel
from ._base import Channel as Channel
from ._base import channel as channel
from ._base import channels as channels
from ._base import load_channels as load_channels

__all__ = ["BUILTIN_CHANNELS", "ENTRY_POINT_GROUP", "CatalogChannel", "Channel", "channel", "channels", "load_channels"]
