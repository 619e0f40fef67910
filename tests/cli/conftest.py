"""The ``stepup`` command against real stores: a SQLite file and a real ``redis-server``.

``cli(*argv)`` runs the command in this process and returns its status and output;
``site`` is one store with a TOML config file naming it, and an engine of the app's own
(what the app would read) on the same store, to check what the command wrote.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

import stepup
from stepup._cli import main
from tests.support.redis_servers import RedisServer, command

#: the key of every command and engine here (long enough for the keyring).
KEY = "cli-test-secret-key-0123456789abcdef"


@pytest.fixture
def key() -> str:
    """The secret key of the config files and engines here."""
    return KEY


@dataclass
class Ran:
    status: int
    out: str
    err: str


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str]) -> Callable[..., Ran]:
    """``cli(*argv)``: run ``stepup ARGV`` and return its status, stdout and stderr."""

    def run(*argv: str) -> Ran:
        capsys.readouterr()
        try:
            status = main(list(argv))
        except SystemExit as e:  # argparse refusing the arguments
            status = int(e.code or 0)
        captured = capsys.readouterr()
        return Ran(status, captured.out, captured.err)

    return run


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """No STEPUP_* variable of the machine reaches a test."""
    for key in list(os.environ):
        if key.startswith("STEPUP_"):
            monkeypatch.delenv(key)


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path_factory.mktemp("cli-redis")).start()
    yield server
    server.stop()


@pytest.fixture(params=["sqlite", "redis"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A SQLite file, or the session's real Redis emptied."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/stepup.sqlite3"
    server: RedisServer = request.getfixturevalue("redis_server")
    command(server.port, "FLUSHALL")
    return server.url


class Site:
    """One store, a config file naming it, and an outbox file the senders write."""

    def __init__(self, store_url: str, folder: Path) -> None:
        self.store_url = store_url
        self.outbox = folder / "outbox.jsonl"
        self.config = folder / "stepup.toml"
        self.config.write_text(
            f'STEPUP_SECRET_KEY = "{KEY}"\n'
            f'STEPUP_STORE_URL = "{store_url}"\n'
            f'STEPUP_SMS_URL = "file://{self.outbox}"\n'
            f'STEPUP_EMAIL_URL = "file://{self.outbox}"\n'
            'STEPUP_TEST_NUMBER_PREFIXES = ["+447700900"]\n'
            "STEPUP_LOCKOUT_AFTER = 2\n"
            "STEPUP_BACKOFF_AFTER = 1000\n",
            encoding="utf-8",
        )
        self._engines: list[stepup.Engine] = []

    def engine(self, **overrides: Any) -> stepup.Engine:
        """An engine of the app's own on the same store and key."""
        options: dict[str, Any] = {
            "secret_key": KEY, "store_url": self.store_url, "sms_url": f"file://{self.outbox}",
            "email_url": f"file://{self.outbox}", "test_number_prefixes": ("+447700900",), "lockout_after": 2,
            "backoff_after": 1000,
        }  # fmt: skip
        made = stepup.Engine(**{**options, **overrides})
        self._engines.append(made)
        return made

    def close(self) -> None:
        for made in self._engines:
            made.close()


@pytest.fixture
def site(store_url: str, tmp_path: Path) -> Iterator[Site]:
    made = Site(store_url, tmp_path)
    yield made
    made.close()
