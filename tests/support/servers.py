"""The example banks served by real server processes on loopback: ``python -m <module>`` on a
free port, with its own SQLite store, ledger and ``file://`` outbox, so codes are read from
the outbox. The browser suite and the load tests both start their servers here.
"""

from __future__ import annotations

import contextlib
import os
import re
import socket
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from stepup.senders import FileSender

#: the example apps: (name, the module that ``python -m`` serves).
APPS = [
    ("flask", "examples.flask_app"),
    ("starlette", "examples.starlette_app"),
]
ROOT = Path(__file__).resolve().parents[2]
#: carol's TOTP secret in every server started here (not the demo default).
TOTP_SECRET = "KRSXG5CTMVRXEZLUKN2XAZLSKNSWC4TE"
#: attempts to reach a starting server, POLL_INTERVAL seconds apart.
POLL_TRIES, POLL_INTERVAL = 300, 0.05

_CODE = re.compile(r"(?<!\d)(\d{6})(?!\d)")


class Outbox:
    """The ``file://`` sender's JSON lines: ``channel``, ``to``, ``subject``, ``body``."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def messages(self) -> list[dict[str, Any]]:
        """Every message sent so far, oldest first (read as the sender writes: under the file's lock)."""
        return FileSender(self.path).messages()  # type: ignore[return-value]

    def last_to(self, to: str) -> dict[str, Any]:
        """The newest message to ``to``."""
        mine = [m for m in self.messages() if m["to"] == to]
        assert mine, f"nothing was sent to {to}; outbox: {self.messages()}"
        return mine[-1]

    def code_for(self, to: str) -> str:
        """The code in the newest message to ``to`` (its first run of six digits)."""
        body = self.last_to(to)["body"]
        match = _CODE.search(body)
        assert match is not None, f"no code in {body!r}"
        return match.group(1)


@dataclass
class Server:
    """A running example: its base URL, outbox, and carol's TOTP secret."""

    url: str
    outbox: Outbox
    totp_secret: str = TOTP_SECRET


def free_port() -> int:
    """A loopback TCP port nobody listens on."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2):
            return True
    except urllib.error.HTTPError as error:  # it answers, if not with 200
        error.close()
        return True
    except OSError:  # refused, reset, or not listening yet
        return False


@contextlib.contextmanager
def serve_example(module: str, folder: Path, log_path: Path, **env: str) -> Iterator[Server]:
    """``python -m <module>`` on a free loopback port, its store, ledger and outbox in
    ``folder``, its output in ``log_path``; ``env`` adds or overrides environment
    variables. Stopped when the block ends."""
    port = free_port()
    outbox = folder / "outbox.jsonl"
    environ = {
        **os.environ,
        "PORT": str(port),
        "PYTHONUNBUFFERED": "1",
        "STEPUP_STORE_URL": f"sqlite:///{folder / 'stepup.db'}",
        "DEMO_BANK_DB": str(folder / "bank.db"),
        "STEPUP_SMS_URL": f"file://{outbox}",
        "STEPUP_EMAIL_URL": f"file://{outbox}",
        "DEMO_TOTP_SECRET": TOTP_SECRET,
        **env,
    }
    url = f"http://127.0.0.1:{port}"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", module], cwd=ROOT, env=environ, stdout=log, stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )  # fmt: skip
        try:
            for _ in range(POLL_TRIES):
                if process.poll() is not None:
                    pytest.fail(f"{module} exited with {process.returncode}:\n{log_path.read_text()}")
                if _answers(f"{url}/login"):
                    break
                try:
                    process.wait(POLL_INTERVAL)
                except subprocess.TimeoutExpired:
                    pass
            else:
                pytest.fail(f"{module} did not answer on {url}:\n{log_path.read_text()}")
            yield Server(url=url, outbox=Outbox(outbox))
        finally:
            process.terminate()
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
