"""3b. The Redis store against its floor, in one interleaved run.

Four cases share rounds: start + verify on memory:// and on redis:// (each with 1,000
warmed-up users), a bare redis-py ``GET`` loop, and the same store's ``GET`` on a pooled
connection without redis-py's command path. ``redis-benchmark -c 1 -t get`` runs between
the rounds' halves on the same server (the floor of one round trip from C). The target:
redis:// within 1.5× of (memory:// time + two round trips of the floor), the floor being
the bare redis-py ``GET``. Commands and round trips per start + verify are read from the
server's ``INFO commandstats`` over the timed operations: top-level commands are round
trips; ``GET`` and ``SET`` counted inside the script run on the server.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import time
from collections.abc import Callable
from typing import Any

from ._harness import Samples, interleave

__all__ = ["FloorRun", "run"]

ROUND_TRIPS = ("evalsha", "eval", "mget", "get", "del")


class FloorRun:
    """What one run measured."""

    def __init__(self, samples: Samples, commands: dict[str, float], benchmark_get: float | None) -> None:
        self.samples = samples
        #: commands per start + verify, by name (``INFO commandstats`` calls / operations).
        self.commands = commands
        #: seconds per ``GET`` from ``redis-benchmark -c 1`` (``None``: not installed).
        self.benchmark_get = benchmark_get


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


def run(server: Any, *, rounds: int, batch: int) -> FloorRun:
    """Time the four cases on ``server`` (a :class:`benchmarks._redis.RedisServer`)."""
    import redis

    from . import challenge_path as cp
    from .challenge_path import Fill

    cases: dict[str, Callable[[int], None]] = {}
    fills = []
    done: dict[str, int] = {}  # operations run per case (the harness may warm up first)
    for name, url in (("memory://", "memory://"), ("redis://", server.url(15))):
        engine, outbox = cp._engine(url)  # noqa: SLF001
        fill = Fill(0, engine, outbox)
        users = cp._Users(engine, base=900_000, count=(rounds + 1) * batch // 4 + 10)  # noqa: SLF001
        for user in users.names:
            challenge = engine.start(user, "sms", session="bench-login-nonce")
            engine.verify(challenge.id, outbox.code, subject=user, session="bench-login-nonce")
        cases[f"start + verify, {name}"] = _counted(cp._start_verify(fill, users), done, name)  # noqa: SLF001
        fills.append(fill)
    client = redis.Redis(port=server.port, db=14)
    client.set("floor", b"x" * 600)  # about a challenge's size
    connection_store = fills[1].engine.store

    def bare_get(n: int) -> None:
        for _ in range(n):
            client.get("floor")

    def direct_get(n: int) -> None:
        for _ in range(n):
            connection_store._commands.send("GET", "floor")  # noqa: SLF001

    cases["bare redis-py GET"] = _counted(bare_get, done, "gets")
    cases["GET on a pooled connection"] = _counted(direct_get, done, "gets")
    admin = redis.Redis(port=server.port)
    before = _counts(admin)
    samples = interleave(cases, rounds=rounds, batch=batch, clock=time.perf_counter)
    after = _counts(admin)
    operations = done["redis://"]
    commands = {name: (after.get(name, 0) - before.get(name, 0)) / operations for name in after}
    # the floor loops' GETs are top-level GETs too: take them out
    commands["get"] = commands.get("get", 0.0) - done["gets"] / operations
    for fill in fills:
        fill.engine.close()
    client.close()
    admin.close()
    return FloorRun(samples, commands, _redis_benchmark(server.port))


def _counted(case: Callable[[int], None], done: dict[str, int], name: str) -> Callable[[int], None]:
    def counting(n: int) -> None:
        done[name] = done.get(name, 0) + n
        case(n)

    return counting


def _counts(admin: Any) -> dict[str, int]:
    stats = admin.info("commandstats")
    return {name.removeprefix("cmdstat_"): int(v["calls"]) for name, v in stats.items()}
