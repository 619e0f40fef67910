"""Redis Cluster (three nodes) and Sentinel: a whole flow and the rate limits work on both,
from the sync and the async engine."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

import stepup
from stepup.senders import AsyncSenderAdapter, MemorySender
from stepup.stores import RedisStore
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


# -- Redis Sentinel ---------------------------------------------------------------------------


def test_a_whole_flow_and_the_limits_through_sentinel(redis_sentinel: str) -> None:
    assert _sync_flow(redis_sentinel) == ["sms", "step_up", "challenges_per_subject"]


def test_the_async_engine_through_sentinel(redis_sentinel: str) -> None:
    assert _async_flow(redis_sentinel) == ["sms", "step_up", "challenges_per_subject"]
