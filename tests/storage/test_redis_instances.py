"""Two app instances on one Redis, each remembering the values it last saw so that most
updates are one round trip: when the other instance wrote in between, an update still
applies to what Redis holds, never to the stale memory."""

from __future__ import annotations

import threading
import tracemalloc
from collections.abc import Iterator
from typing import Any

import pytest

import stepup
from stepup.stores import Record, RedisStore, _redis

THREADS = 8
ROUNDS = 40


class Missing(Exception):
    pass


def _increment(record: Record | None) -> tuple[Record, int]:
    n = (record or {"n": 0})["n"] + 1
    return {"n": n}, n


def _increment_all(records: list[Record | None]) -> tuple[list[Record | None], None]:
    return [_increment(record)[0] for record in records], None


def _use(record: Record | None) -> tuple[Record, int]:
    """A function that refuses an absent record, as a verify refuses an unknown challenge."""
    if record is None:
        raise Missing
    return {"n": record["n"] + 1}, record["n"]


@pytest.fixture
def instances(redis_url: str) -> Iterator[tuple[RedisStore, RedisStore]]:
    clock = stepup.FrozenClock()
    one, two = RedisStore(redis_url, clock), RedisStore(redis_url, clock)
    yield one, two
    one.close()
    two.close()


def test_counters_from_two_instances_add_up_exactly(instances: tuple[RedisStore, RedisStore]) -> None:
    one, two = instances
    writes = 0
    for i in range(ROUNDS):
        for store in (one, two) if i % 2 else (two, two, one):
            store.update("counter", "n", _increment)  # each finds the other's memory stale
            store.update_many([("counter", "n", None), ("counter", "m", 60.0)], _increment_all)
            writes += 1
    assert one.get_many([("counter", "n"), ("counter", "m")]) == [{"n": 2 * writes}, {"n": writes}]


def test_threads_in_two_instances_add_up_exactly(instances: tuple[RedisStore, RedisStore]) -> None:
    barrier = threading.Barrier(2 * THREADS, timeout=30)
    errors: list[BaseException] = []

    def work(store: RedisStore) -> None:
        try:
            barrier.wait()
            for _ in range(ROUNDS):
                store.update("counter", "n", _increment)
                store.update_many([("counter", "m", None), ("counter", "n", None)], _increment_all)
        except BaseException as e:  # reported by the main thread
            errors.append(e)

    threads = [threading.Thread(target=work, args=(store,)) for store in instances for _ in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    total = 2 * THREADS * ROUNDS
    assert instances[0].get_many([("counter", "n"), ("counter", "m")]) == [{"n": 2 * total}, {"n": total}]


def test_an_instance_that_never_saw_a_record_updates_what_the_other_made(
    instances: tuple[RedisStore, RedisStore],
) -> None:
    one, two = instances
    assert two.get("challenge", "c") is None
    one.update("challenge", "c", lambda r: ({"n": 3}, None), ttl=60)
    assert two.get("challenge", "c") == {"n": 3}  # a read always asks Redis
    one.update("challenge", "x", lambda r: ({"n": 5}, None), ttl=60)
    # two never saw "x" and expects it absent: a function that writes nothing for an
    # absent record must not take that guess for the truth
    seen = two.update("challenge", "x", lambda r: (None if r is None else {"n": r["n"] - 1}, r))
    assert seen == {"n": 5}
    assert one.get("challenge", "x") == {"n": 4}


def test_a_function_refusing_a_stale_record_runs_again_on_what_redis_holds(
    instances: tuple[RedisStore, RedisStore],
) -> None:
    one, two = instances
    with pytest.raises(Missing):
        one.update("subject", "alice", _use)  # truly absent
    two.update("subject", "alice", lambda r: ({"n": 1}, None))
    assert one.update("subject", "alice", _use) == 1  # one remembered it absent
    two.delete("subject", "alice")
    with pytest.raises(Missing):
        one.update("subject", "alice", _use)  # one remembered {"n": 2}
    assert one.get("subject", "alice") is None

    two.update("subject", "bob", lambda r: ({"n": 7}, None))

    def use_both(records: list[Record | None]) -> tuple[list[Record | None], Any]:
        (bob, seen), (carol, _) = _use(records[0]), _increment(records[1])
        return [bob, carol], seen

    assert one.update_many([("subject", "bob", None), ("subject", "carol", None)], use_both) == 7
    assert two.get_many([("subject", "bob"), ("subject", "carol")]) == [{"n": 8}, {"n": 1}]


# -- round trips ------------------------------------------------------------------------------


@pytest.fixture
def commands(instances: tuple[RedisStore, RedisStore], monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The commands the first instance sends, one round trip each."""
    sent: list[str] = []
    commands = instances[0]._commands  # noqa: SLF001
    send = commands.send

    def counting(*args: Any) -> Any:
        sent.append(str(args[0]).upper())
        return send(*args)

    monkeypatch.setattr(commands, "send", counting)
    instances[0].update("warm", "up", lambda r: (None, None))  # loads the script
    sent.clear()
    return sent


def test_an_update_is_one_round_trip_when_the_memory_is_right(
    instances: tuple[RedisStore, RedisStore], commands: list[str]
) -> None:
    one, two = instances
    one.update("challenge", "new", lambda r: ({"n": 1}, None), ttl=60)  # a new record
    one.update("challenge", "new", _increment)  # one that this instance wrote
    assert one.get_many([("subject", "alice"), ("policy", "policy"), ("failures", "alice")]) == [None] * 3
    one.update_many([("subject", "alice", None), *[("ratelimit", str(i), 60.0) for i in range(5)]], _increment_all)
    assert commands == ["EVALSHA", "EVALSHA", "MGET", "EVALSHA"]
    commands.clear()
    two.update("challenge", "new", _increment)
    assert one.update("challenge", "new", _increment) == 4  # stale: refused, then written
    assert commands == ["EVALSHA", "EVALSHA"]


def test_large_records_do_not_grow_what_an_instance_remembers_past_a_few_mebibytes(
    instances: tuple[RedisStore, RedisStore],
) -> None:
    one, _ = instances
    body = "x" * 256 * 1024  # a saved request body, as large as an app may allow
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for i in range(40):  # 10 MiB of records
            one.update("challenge", str(i), lambda r: ({"request": body}, None), ttl=60)
        grown = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert grown < 6 * 2**20
    assert one.update("challenge", "0", lambda r: (None, r == {"request": body})) is True  # forgotten, not lost


def test_past_its_bound_an_instance_forgets_the_keys_seen_longest_ago_not_those_in_use(
    instances: tuple[RedisStore, RedisStore], commands: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    one, _ = instances
    monkeypatch.setattr(_redis, "_REMEMBERED", 20)
    one.update("policy", "policy", lambda r: ({"n": 1}, None))
    commands.clear()
    for i in range(30):  # new challenges: the bound is passed on the way, more than once
        one.update("challenge", str(i), lambda r: ({"n": 1}, None), ttl=60)
        if i % 4 == 3:
            one.update("policy", "policy", _increment)  # read and written all along: in use
    updates = 30 + 7

    assert one.get("policy", "policy") == {"n": 8}
    # One script per update: none refused for a memory emptied under the key in use.
    assert commands == ["EVALSHA"] * updates + ["GET"]


# -- update_after: what a step writes depends on what it read -----------------------------------


def _count_at(records: list[Record | None]) -> tuple[list[tuple[str, str, float | None]], Any]:
    """Writes a counter named by the record read, as a verify charges a challenge's target."""
    if records[0] is None:
        raise Missing
    return [("counter", records[0]["target"], 60.0)], _increment_all


def test_a_step_that_reads_then_writes_is_one_round_trip_and_sees_the_other_instances_change(
    instances: tuple[RedisStore, RedisStore], commands: list[str]
) -> None:
    one, two = instances
    one.update("binding", "alice", lambda r: ({"target": "a"}, None))
    commands.clear()
    one.update_after([("binding", "alice")], _count_at)
    assert commands == ["EVALSHA"]
    two.update("binding", "alice", lambda r: ({"target": "b"}, None))
    commands.clear()
    one.update_after([("binding", "alice")], _count_at)  # its memory says "a": refused, then "b"
    assert commands == ["EVALSHA", "EVALSHA"]
    assert one.get_many([("counter", "a"), ("counter", "b")]) == [{"n": 1}, {"n": 1}]


def test_a_step_refused_on_a_remembered_record_is_refused_only_once_redis_confirms_it(
    instances: tuple[RedisStore, RedisStore],
) -> None:
    one, two = instances
    with pytest.raises(Missing):
        one.update_after([("binding", "bob")], _count_at)
    two.update("binding", "bob", lambda r: ({"target": "c"}, None))  # one remembers it absent
    one.update_after([("binding", "bob")], _count_at)
    assert two.get("counter", "c") == {"n": 1}
    two.delete("binding", "bob")
    with pytest.raises(Missing):  # one remembers it there: the script refuses, the error stands
        one.update_after([("binding", "bob")], _count_at)
    assert two.get("counter", "c") == {"n": 1}
