"""Senders that stay on this machine: the console, a JSON-lines file, a list in memory."""

from __future__ import annotations

import fcntl
import json
import sys
import threading
from pathlib import Path
from typing import TextIO

from .._errors import DeliveryError
from .._i18n import T
from .._models import Message

__all__ = ["ConsoleSender", "FileSender", "MemorySender"]


class ConsoleSender:
    """``console://``: prints each message, for development and the demo.

    :param stream: where to print; standard output by default.
    """

    def __init__(self, stream: TextIO | None = None) -> None:
        self._stream = stream

    def send(self, message: Message) -> None:
        """Print the message."""
        stream = self._stream or sys.stdout
        head = f"[stepup {message.channel} to {message.to}]"
        if message.subject:
            head += f" {message.subject}"
        print(f"{head}\n    {message.body}", file=stream, flush=True)


class FileSender:
    """``file:///path``: appends one JSON object a line (``channel``, ``to``, ``subject``,
    ``body``), so tests and browsers' test drivers can read the codes.

    :param path: the outbox file; created with its folder when missing.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()

    def send(self, message: Message) -> None:
        """Append the message to the outbox.

        :raises DeliveryError: when the file cannot be written.
        """
        line = json.dumps(
            {"channel": message.channel, "to": message.to, "subject": message.subject, "body": message.body},
            ensure_ascii=False,
        )
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self._lock, self.path.open("a", encoding="utf-8") as f:
                # Several processes may share one outbox: lock the file for the write.
                fcntl.flock(f, fcntl.LOCK_EX)
                f.write(line + "\n")
        except OSError as e:
            raise DeliveryError(
                T("The {channel} outbox cannot be written.", channel=message.channel), message.channel, e.strerror or ""
            ) from e

    def messages(self) -> list[dict[str, str]]:
        """Every message in the outbox, oldest first."""
        if not self.path.exists():
            return []
        with self.path.open(encoding="utf-8") as f:
            fcntl.flock(f, fcntl.LOCK_SH)  # a message being written is read whole, or not yet
            return [json.loads(line) for line in f if line.strip()]


class MemorySender:
    """``memory://``: keeps messages in a list, for tests.

    :ivar outbox: every message sent, oldest first.
    :ivar fail_with: when set, each send raises it instead (to test failures).
    """

    def __init__(self) -> None:
        self.outbox: list[Message] = []
        self.fail_with: DeliveryError | None = None

    def send(self, message: Message) -> None:
        """Keep the message, or raise ``fail_with``."""
        if self.fail_with is not None:
            raise self.fail_with
        self.outbox.append(message)

    @property
    def last(self) -> Message:
        """The newest message.

        :raises LookupError: when nothing was sent.
        """
        if not self.outbox:
            raise LookupError("nothing was sent")
        return self.outbox[-1]
