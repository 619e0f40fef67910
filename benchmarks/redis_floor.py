"""3b. The Redis and SQLite stores against their floors, in one interleaved run.

The cases share rounds: start + verify on memory://, redis:// and sqlite:/// (each with
1,000 warmed-up users), with the stored audit trail (the default) and without it
(``audit_retention_days=0``), a bare redis-py ``GET`` loop, the same store's ``GET`` on a
pooled connection without redis-py's command path, and a bare SQLite write transaction of
one record (WAL, ``synchronous=NORMAL``, as the store writes). ``redis-benchmark -c 1 -t
get`` runs after the rounds on the same server (the floor of one round trip from C). The
targets: redis:// within 1.5× of (memory:// time + two round trips of the floor), the floor
being the bare redis-py ``GET``; and the same with the round trips the trail's appends add.
The floor of sqlite:/// is memory:// time plus the time of the statements the store makes,
run by SQLite through Python's ``sqlite3`` alone (:mod:`benchmarks._sqlite_replay`): those
of a batch of start + verify, recorded with their parameters before the rounds and replayed
in them on a copy of the store's file, through a bare connection. Commands and round trips
per start + verify are read from the server's ``INFO commandstats``, over operations run
after the timed rounds, each case alone: top-level commands are round trips; ``GET`` and
``SET`` counted inside the script run on the server.
The SQLite store's write transactions are counted the same way.
"""

from __future__ import annotations

import re
import shutil
import sqlite3
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ._harness import Samples, interleave
from ._sqlite_replay import record

__all__ = ["REPLAY", "FloorRun", "run"]

#: the case that replays the SQLite store's statements on a bare connection (its floor).
REPLAY = "the statements of sqlite:/// replayed on a bare connection"


class FloorRun:
    """What one run measured."""

    def __init__(
        self,
        samples: Samples,
        commands: dict[str, dict[str, float]],
        server_time: dict[str, float],
        benchmark_get: float | None,
        transactions: dict[str, float],
        statements: float,
    ) -> None:
        self.samples = samples
        #: per redis:// case, commands per start + verify, by name (``INFO commandstats``
        #: calls / operations).
        self.commands = commands
        #: per redis:// case, seconds the server spent on its round trips per start + verify.
        self.server_time = server_time
        #: seconds per ``GET`` from ``redis-benchmark -c 1`` (``None``: not installed).
        self.benchmark_get = benchmark_get
        #: per sqlite:/// case, write transactions per start + verify.
        self.transactions = transactions
        #: statements per start + verify the replay (:data:`REPLAY`) runs: the SQLite store's,
        #: audit trail kept.
        self.statements = statements


def _redis_benchmark(port: int) -> float | None:
    binary = shutil.which("redis-benchmark")
    if binary is None:
        return None
    out = subprocess.run(
        [binary, "-p", str(port), "-c", "1", "-n", "20000", "-t", "get", "-q"],
        capture_output=True, text=True, check=False,
    ).stdout  # fmt: skip
    rates = re.findall(r"GET: ([\d.]+) requests per second", out)
    return 1 / float(rates[-1]) if rates else None


#: the trail's two settings: the default (kept 90 days), and off.
TRAILS = {"": {}, ", trail off": {"audit_retention_days": 0}}


#: a record about a challenge's size, for the floors.
_PAYLOAD = "x" * 600


def _bare_transactions(path: Path) -> tuple[Callable[[int], None], sqlite3.Connection]:
    """``run(n)``: ``n`` write transactions of one record each, as the SQLite store makes
    them (WAL, ``synchronous=NORMAL``, ``BEGIN IMMEDIATE``), with nothing else around."""
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    db.execute(
        "CREATE TABLE t (kind TEXT, key TEXT, value TEXT, expires_at REAL, PRIMARY KEY (kind, key)) WITHOUT ROWID"
    )

    def run(n: int) -> None:
        for i in range(n):
            db.execute("BEGIN IMMEDIATE")
            db.execute("INSERT OR REPLACE INTO t VALUES (?, ?, ?, ?)", ("k", str(i % 1000), _PAYLOAD, None))
            db.execute("COMMIT")

    return run, db


def run(server: Any, *, rounds: int, batch: int) -> FloorRun:
    """Time the cases on ``server`` (a :class:`benchmarks._redis.RedisServer`) and on a
    SQLite file of their own."""
    with tempfile.TemporaryDirectory(prefix="stepup-bench-floor-") as folder:
        return _run(server, Path(folder), rounds=rounds, batch=batch)


def _run(server: Any, folder: Path, *, rounds: int, batch: int) -> FloorRun:
    import redis

    from . import challenge_path as cp
    from .challenge_path import Fill

    cases: dict[str, Callable[[int], None]] = {}
    fills = []
    by_case: dict[str, Fill] = {}
    for db, (trail, settings) in enumerate(TRAILS.items()):
        stores = (("memory://", "memory://"), ("redis://", server.url(15 - db)),
                  ("sqlite:///", f"sqlite:///{folder / f'floor{db}.sqlite3'}"))  # fmt: skip
        for name, url in stores:
            engine, outbox = cp._engine(url, **settings)  # noqa: SLF001
            fill = Fill(0, engine, outbox)
            # Users for the warm-up round, the timed rounds, the counts after them and the recording.
            users = cp._Users(engine, base=900_000, count=(rounds + 3) * batch // 4 + 10)  # noqa: SLF001
            for user in users.names:
                challenge = engine.start(user, "sms", session="bench-login-nonce")
                engine.verify(challenge.id, outbox.code, subject=user, session="bench-login-nonce")
            cases[f"start + verify, {name}{trail}"] = cp._start_verify(fill, users)  # noqa: SLF001
            fills.append(fill)
            by_case[f"start + verify, {name}{trail}"] = fill
    sqlite_case = "start + verify, sqlite:///"
    one = cases[sqlite_case]
    recorded = record(by_case[sqlite_case].engine.store, lambda: one(1), batch, folder / "replay.sqlite3")
    cases[REPLAY] = recorded.replay
    client = redis.Redis(port=server.port, db=13)
    client.set("floor", b"x" * 600)  # about a challenge's size
    connection_store = fills[1].engine.store

    def bare_get(n: int) -> None:
        for _ in range(n):
            client.get("floor")

    def direct_get(n: int) -> None:
        for _ in range(n):
            connection_store._commands.send("GET", "floor")  # noqa: SLF001

    cases["bare redis-py GET"] = bare_get
    cases["GET on a pooled connection"] = direct_get
    cases["bare SQLite write transaction"], bare_db = _bare_transactions(folder / "bare.sqlite3")
    samples = interleave(cases, rounds=rounds, batch=batch, clock=time.perf_counter)
    bare_db.close()
    recorded.close()
    transactions = {}
    for name, fill in by_case.items():
        store = fill.engine.store
        if name.startswith("start + verify, sqlite:///"):  # the store counts its write transactions
            before = store._writes  # noqa: SLF001
            cases[name](batch)
            transactions[name] = (store._writes - before) / batch  # noqa: SLF001
    admin = redis.Redis(port=server.port)
    commands, server_time = {}, {}
    for name in [name for name in cases if name.startswith("start + verify, redis://")]:
        before = _counts(admin)
        cases[name](batch)
        after = _counts(admin)
        commands[name] = {k: (after[k][0] - before.get(k, (0, 0))[0]) / batch for k in after}
        commands[name]["info"] = 0.0
        # the server's own time in the round trips' commands (a script's includes its GETs and SETs)
        server_time[name] = (
            sum(after[k][1] - before.get(k, (0, 0))[1] for k in after if k in ("evalsha", "eval", "mget", "del"))
            / batch
            / 1e6
        )
    for fill in fills:
        fill.engine.close()
    client.close()
    admin.close()
    return FloorRun(samples, commands, server_time, _redis_benchmark(server.port), transactions, recorded.per_op)


def _counts(admin: Any) -> dict[str, tuple[int, int]]:
    """Calls and microseconds of each command so far."""
    stats = admin.info("commandstats")
    return {name.removeprefix("cmdstat_"): (int(v["calls"]), int(v["usec"])) for name, v in stats.items()}
