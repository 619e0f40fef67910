"""Redis Cluster (three nodes) and Sentinel: a whole flow and the rate limits work on both,
from the sync and the async engine; on a cluster, several records change in one script
when they share a hash slot, and one by one when they do not."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from redis.crc import key_slot

import stepup
from stepup.senders import AsyncSenderAdapter, MemorySender
from stepup.stores import Record, RedisStore
from stepup.testing import code_from

SECRET = "k" * 40
OPERATION = {"to": "bob", "amount": "50.00"}
LIMITS: dict[str, Any] = {"limit_challenges_per_subject": "4/15 minutes"}


def _sync_flow(url: str) -> list[Any]:
    """Bind a phone, step up, approve an operation once; then the subject's limit is full."""
    sms = MemorySender()
    engine = stepup.Engine(secret_key=SECRET, store_url=url, sms=sms, email=MemorySender(), **LIMITS)
    try:
        start = engine.begin_bind("alice", "sms", "+44 7400 123456")
        bound = engine.verify(start.challenge.id, code_from(sms.last), subject="alice")
        step_up = engine.start("alice", "sms")
        with pytest.raises(stepup.WrongCode):
            engine.verify(step_up.id, "00000000", subject="alice")
        approved = engine.verify(step_up.id, code_from(sms.last), subject="alice")
        op = engine.start("alice", "sms", "operation", operation="transfer of 50.00 to bob", operation_data=OPERATION)
        engine.verify(op.id, code_from(sms.last), subject="alice")
        engine.consume(op.id, subject="alice", operation_data=OPERATION)
        with pytest.raises(stepup.ChallengeClosed):
            engine.consume(op.id, subject="alice", operation_data=OPERATION)
        engine.start("alice", "sms")
        with pytest.raises(stepup.RateLimited) as limited:
            engine.start("alice", "sms")
        return [bound.binding and bound.binding.method, approved.purpose, limited.value.limit]
    finally:
        engine.close()


def _async_flow(url: str) -> list[Any]:
    sms = MemorySender()

    async def main() -> list[Any]:
        engine = stepup.AsyncEngine(
            secret_key=SECRET, store_url=url, sms=AsyncSenderAdapter(sms, offload=False),
            email=AsyncSenderAdapter(MemorySender(), offload=False), **LIMITS,
        )  # fmt: skip
        try:
            start = await engine.begin_bind("bob", "sms", "+44 7400 654321")
            bound = await engine.verify(start.challenge.id, code_from(sms.last), subject="bob")
            challenge = await engine.start("bob", "sms")
            approved = await engine.verify(challenge.id, code_from(sms.last), subject="bob")
            await engine.start("bob", "sms")
            await engine.start("bob", "sms")
            with pytest.raises(stepup.RateLimited) as limited:
                await engine.start("bob", "sms")
            return [bound.binding and bound.binding.method, approved.purpose, limited.value.limit]
        finally:
            await engine.close()

    return asyncio.run(main())


# -- Redis Cluster ----------------------------------------------------------------------------


def test_a_whole_flow_and_the_limits_on_a_cluster(redis_cluster: str) -> None:
    assert _sync_flow(redis_cluster) == ["sms", "step_up", "challenges_per_subject"]


def test_the_async_engine_on_a_cluster(redis_cluster: str) -> None:
    assert _async_flow(redis_cluster) == ["sms", "step_up", "challenges_per_subject"]


def test_records_spread_over_the_nodes_each_whole_on_one(redis_cluster: str) -> None:
    store = RedisStore(redis_cluster)
    try:
        for i in range(30):
            store.update("challenge", f"c{i}", lambda r, i=i: ({"n": i}, None), ttl=60)  # type: ignore[misc]
        assert [store.get("challenge", f"c{i}") for i in range(30)] == [{"n": i} for i in range(30)]
        nodes = {n.name for n in store._client.get_nodes()}  # noqa: SLF001
        used = {store._client.get_node_from_key(f"stepup:{{challenge:c{i}}}").name for i in range(30)}  # noqa: SLF001
        assert used == nodes and len(nodes) == 3
    finally:
        store.close()


@pytest.fixture
def cluster_store(redis_cluster: str) -> Iterator[RedisStore]:
    store = RedisStore(f"{redis_cluster}?prefix=t{uuid.uuid4().hex[:12]}")
    yield store
    store.close()


def test_update_many_across_nodes_writes_every_record(cluster_store: RedisStore) -> None:
    items = [("ratelimit", f"r{i}", 60.0) for i in range(12)]
    nodes = {cluster_store._client.get_node_from_key(cluster_store._name(k, key)).name for k, key, _ in items}  # noqa: SLF001
    assert len(nodes) == 3

    def count(records: list[Record | None]) -> tuple[list[Record | None], list[Record | None]]:
        return [{"n": (r or {"n": 0})["n"] + i} for i, r in enumerate(records)], records

    assert cluster_store.update_many(items, count) == [None] * 12
    assert cluster_store.update_many(items, count) == [{"n": i} for i in range(12)]
    assert cluster_store.get_many([(kind, key) for kind, key, _ in items]) == [{"n": 2 * i} for i in range(12)]


def test_records_sharing_a_hash_slot_change_in_one_script(
    cluster_store: RedisStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    slots: dict[int, str] = {}
    for i in range(100_000):  # two keys of one slot, as the birthday problem promises
        key = f"k{i}"
        other = slots.setdefault(key_slot(f"{{ratelimit:{key}}}".encode()), key)
        if other != key:
            break
    cluster_store.update("ratelimit", other, lambda r: ({"n": 0}, None))  # the node has the script now
    sent: list[str] = []
    execute = cluster_store._client.execute_command  # noqa: SLF001
    monkeypatch.setattr(
        cluster_store._client,  # noqa: SLF001
        "execute_command",
        lambda *args, **options: sent.append(str(args[0]).upper()) or execute(*args, **options),
    )
    items = [("ratelimit", other, 60.0), ("ratelimit", key, None)]
    cluster_store.update_many(items, lambda records: ([{"n": 1}, {"n": 2}], None))
    assert sent.count("EVALSHA") == 1 and "GET" not in sent
    assert cluster_store.get_many([("ratelimit", other), ("ratelimit", key)]) == [{"n": 1}, {"n": 2}]


class _HeldBetween(RedisStore):
    """A cluster store on which ``between`` runs once, before the next write of bob's trail
    head, and on which writes of a sealed trail chunk fail while ``chunks_fail``."""

    between: Any = None
    chunks_fail = False

    def update(self, kind: str, key: str, fn: Any, ttl: float | None = None) -> Any:
        if kind == "audit" and key == "s/bob" and self.between is not None:
            between, self.between = self.between, None
            between()
        if self.chunks_fail and kind == "audit" and key.count("/") == 2:
            raise stepup.StoreUnavailable("the node is down")
        return super().update(kind, key, fn, ttl)


def test_a_trail_head_sealed_on_a_cluster_loses_no_event(redis_cluster: str) -> None:
    """A trail's head and its chunks sit in different hash slots, so a seal writes them one
    by one: a chunk that cannot be written leaves the head where it was, and another
    process's append between the seal's read and its writes is kept."""
    url, clock = f"{redis_cluster}?prefix=t{uuid.uuid4().hex[:12]}", stepup.FrozenClock()
    stores = [_HeldBetween(url, clock), RedisStore(url, clock)]
    one, two = (
        stepup.Engine(secret_key=SECRET, store=store, sms=MemorySender(), email=MemorySender(), clock=clock)
        for store in stores
    )
    methods = ["sms", "email", "totp", "recovery"] * 3
    try:
        for method in methods[:10]:
            one.unlock("bob", method)
            clock.advance(400)  # past the window in which a repeat is only counted
        stores[0].chunks_fail = True
        one.unlock("bob", "sms")  # lost from the trail only (the logger had it)
        assert [e.method for e in one.audit_events("bob")] == methods[:10]

        stores[0].chunks_fail = False
        stores[0].between = lambda: two.unlock("bob", "totp")
        clock.advance(400)
        one.unlock("bob", "email")
        assert [e.method for e in two.audit_events("bob")] == [*methods[:10], "totp", "email"]
    finally:
        one.close()
        two.close()


# -- Redis Sentinel ---------------------------------------------------------------------------


def test_a_whole_flow_and_the_limits_through_sentinel(redis_sentinel: str) -> None:
    assert _sync_flow(redis_sentinel) == ["sms", "step_up", "challenges_per_subject"]


def test_the_async_engine_through_sentinel(redis_sentinel: str) -> None:
    assert _async_flow(redis_sentinel) == ["sms", "step_up", "challenges_per_subject"]
