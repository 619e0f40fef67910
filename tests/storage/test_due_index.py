"""The due index of workflow steps over every store (memory, SQLite, Redis, Redis
Cluster): engines sharing a store, running ``run_due`` at the same time from several
threads, fire each due step once; a step claimed by a worker that died before firing it
waits for its lease to expire, then another worker fires it; the index holds nothing once
the workflows are done."""

from __future__ import annotations

import asyncio
import collections
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import stepup
from stepup.senders import MemorySender

KEY = "d" * 40
COUNT = 40


class _Killed(Exception):
    """A worker's death, between claiming steps and firing them."""


@pytest.fixture(params=["memory", "sqlite", "redis", "redis-cluster"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "memory":
        return "memory://"
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/stepup.sqlite3"
    if request.param == "redis":
        return str(request.getfixturevalue("redis_url"))
    return f"{request.getfixturevalue('redis_cluster')}?prefix=t{uuid.uuid4().hex[:12]}"


class Shared:
    """Engines over one store (one store object for ``memory://``, which lives in it)."""

    def __init__(self, store_url: str) -> None:
        self.clock = stepup.FrozenClock()
        self.voice = MemorySender()
        self.store_url = store_url
        self.engines: list[stepup.Engine] = []
        self.first = self.engine()

    def engine(self) -> stepup.Engine:
        options: dict[str, Any] = {"store": self.first.store} if self.engines else {"store_url": self.store_url}
        made = stepup.Engine(secret_key=KEY, sms=MemorySender(), senders={"voice": self.voice}, clock=self.clock,
                             workflow="sms:60,voice:60,voice", limit_bound_sms_total="10000/hour",
                             **options)  # fmt: skip
        self.engines.append(made)
        return made

    def start(self, count: int) -> list[str]:
        ids = []
        for i in range(count):
            self.first.import_binding(f"u{i}", "sms", f"+4474001{i:05d}")
            ids.append(self.first.start(f"u{i}", "sms", "login").id)
        return ids

    def close(self) -> None:
        for made in reversed(self.engines):
            made.close()


@pytest.fixture
def shared(store_url: str) -> Iterator[Shared]:
    made = Shared(store_url)
    yield made
    made.close()


def run_together(engines: list[stepup.Engine], **options: Any) -> int:
    """``run_due`` on each engine at once, from one thread each: the steps fired in all."""
    fired: list[int] = []
    errors: list[BaseException] = []
    barrier = threading.Barrier(len(engines))

    def work(engine: stepup.Engine) -> None:
        try:
            barrier.wait()
            fired.append(engine.run_due(**options))
        except BaseException as e:  # handed to the test's thread
            errors.append(e)

    threads = [threading.Thread(target=work, args=(e,)) for e in engines]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise errors[0]
    return sum(fired)


def test_workers_at_once_fire_each_due_step_once(shared: Shared) -> None:
    shared.start(COUNT)
    workers = [shared.engine() for _ in range(3)]
    shared.clock.advance(59)
    assert run_together(workers) == 0
    shared.clock.advance(1)
    assert run_together(workers) == COUNT
    assert run_together(workers) == 0
    shared.clock.advance(60)
    assert run_together(workers, limit=7) == 3 * 7, "each takes on at most its limit"
    assert run_together(workers) == COUNT - 21
    calls = collections.Counter(m.to for m in shared.voice.outbox)
    assert len(calls) == COUNT and set(calls.values()) == {2}
    shared.clock.advance(600)
    assert run_together(workers) == 0 and len(shared.voice.outbox) == 2 * COUNT


def test_a_step_claimed_by_a_dead_worker_fires_once_its_lease_expires(shared: Shared) -> None:
    shared.start(5)
    shared.clock.advance(60)

    def die() -> bool:
        raise _Killed

    with pytest.raises(_Killed):  # it dies with the steps of the first shard it read claimed
        shared.engine().run_due(stop=die)
    assert shared.voice.outbox == []
    other = shared.engine()
    shared.clock.advance(29)  # worker_lease is 30 s
    free = other.run_due()
    assert free < 5, "the dead worker's lease still holds"
    assert other.run_due() == 0
    shared.clock.advance(1)
    assert other.run_due() == 5 - free
    assert collections.Counter(m.to for m in shared.voice.outbox) == collections.Counter(
        f"+4474001{i:05d}" for i in range(5)
    )


def test_a_worker_told_to_stop_gives_its_steps_back(shared: Shared) -> None:
    shared.start(5)
    shared.clock.advance(60)
    asked: list[bool] = []

    def stop() -> bool:
        asked.append(True)
        return len(asked) > 2

    assert shared.engine().run_due(stop=stop) <= 2
    fired = len(shared.voice.outbox)
    assert shared.engine().run_due() == 5 - fired, "the steps it did not fire are free at once"
    assert len({m.to for m in shared.voice.outbox}) == 5


def test_the_index_is_empty_once_every_workflow_is_done(shared: Shared) -> None:
    ids = shared.start(10)
    for challenge_id, i in zip(ids[:5], range(5), strict=True):
        shared.first.cancel(challenge_id, subject=f"u{i}")
    shared.clock.advance(60)
    assert shared.first.run_due() == 5
    shared.clock.advance(60)
    assert shared.first.run_due() == 5
    store = shared.first.store
    assert all(store.get("due", f"{i:02d}") is None for i in range(16))


def test_the_async_engine_shares_the_index(shared: Shared, store_url: str) -> None:
    shared.start(3)
    shared.clock.advance(60)
    options: dict[str, Any] = {"store_url": store_url} if store_url != "memory://" else {"store": shared.first.store}
    voice = MemorySender()

    async def run() -> int:
        engine = stepup.AsyncEngine(secret_key=KEY, sms=MemorySender(), senders={"voice": voice}, clock=shared.clock,
                                    workflow="sms:60,voice:60,voice", **options)  # fmt: skip
        try:
            return await engine.run_due()
        finally:
            await engine.close()

    assert asyncio.run(run()) == 3 and len(voice.outbox) == 3
    assert shared.first.run_due() == 0
