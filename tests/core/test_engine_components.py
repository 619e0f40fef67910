"""The store and senders an engine is given: a plain (sync) one works on the async engine
from worker threads, and an engine refuses, at construction, one it could not use."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path
from typing import Any

import pytest

import stepup
from stepup.senders import AsyncSenderAdapter, MemorySender
from stepup.stores import AsyncStoreAdapter, MemoryStore, SQLiteStore

SECRET = "s" * 40
PHONE = "+44 7400 123456"


class ThreadNotingSender(MemorySender):
    """A plain sender that notes the thread each message was sent from."""

    def __init__(self) -> None:
        super().__init__()
        self.threads: list[int] = []

    def send(self, message: stepup.Message) -> None:
        self.threads.append(threading.get_ident())
        super().send(message)


class HalfAsyncStore:
    """A store written half-way from plain to async."""

    def __init__(self, clock: stepup.FrozenClock) -> None:
        self.inner = MemoryStore(clock)

    async def get(self, kind: str, key: str) -> Any:
        return self.inner.get(kind, key)

    def update(self, kind: str, key: str, fn: Any, ttl: float | None = None) -> Any:
        return self.inner.update(kind, key, fn, ttl)

    def delete(self, kind: str, key: str) -> None:
        self.inner.delete(kind, key)


def _code(sender: MemorySender) -> str:
    return "".join(c for c in sender.last.body if c.isdigit())[:6]


def test_a_plain_sender_on_the_async_engine_delivers_each_code_from_a_worker_thread():
    sms, email = ThreadNotingSender(), ThreadNotingSender()

    async def bind() -> tuple[str, int]:
        engine = stepup.AsyncEngine(secret_key=SECRET, store_url="memory://", sms=sms, email=email)
        try:
            start = await engine.begin_bind("alice", "sms", PHONE)
            result = await engine.verify(start.challenge.id, _code(sms), subject="alice")
            assert result.binding is not None
            await engine.begin_bind("alice", "email", "alice@example.com")
            return result.binding.label, threading.get_ident()
        finally:
            await engine.close()

    label, loop_thread = asyncio.run(bind())

    assert label == "+44 •••• ••3456"
    assert [m.to for m in sms.outbox] == ["+447400123456"] and [m.to for m in email.outbox] == ["alice@example.com"]
    # Never on the event loop's thread: a plain sender may block (SMTP, an HTTP call).
    assert loop_thread not in sms.threads + email.threads


def test_a_plain_store_on_the_async_engine_keeps_what_the_engine_writes(tmp_path: Path):
    clock = stepup.FrozenClock()
    store = SQLiteStore(str(tmp_path / "plain.sqlite3"), clock)
    sms = MemorySender()

    async def bind() -> list[str]:
        engine = stepup.AsyncEngine(
            secret_key=SECRET, store=store, clock=clock, sms=AsyncSenderAdapter(sms, offload=False),
            email=AsyncSenderAdapter(MemorySender(), offload=False),
        )  # fmt: skip
        start = await engine.begin_bind("alice", "sms", PHONE)
        await engine.verify(start.challenge.id, _code(sms), subject="alice")
        return [b.label for b in await engine.bindings("alice")]

    assert asyncio.run(bind()) == ["+44 •••• ••3456"]
    # The records are in the plain store itself, where a sync Engine reads them.
    engine = stepup.Engine(secret_key=SECRET, store=store, clock=clock, sms=MemorySender(), email=MemorySender())
    try:
        assert [b.label for b in engine.bindings("alice")] == ["+44 •••• ••3456"]
    finally:
        engine.close()


def test_the_sync_engine_refuses_an_async_sender_or_store_at_construction():
    clock = stepup.FrozenClock()
    async_sms = AsyncSenderAdapter(MemorySender(), offload=False)

    with pytest.raises(stepup.ConfigurationError, match="sms sender AsyncSenderAdapter is async.*AsyncEngine"):
        stepup.Engine(secret_key=SECRET, store_url="memory://", sms=async_sms, email=MemorySender())
    with pytest.raises(stepup.ConfigurationError, match="store AsyncStoreAdapter is async.*AsyncEngine"):
        stepup.Engine(
            secret_key=SECRET, store=AsyncStoreAdapter(MemoryStore(clock), offload=False), sms=MemorySender(),
            email=MemorySender(),
        )  # fmt: skip


@pytest.mark.parametrize("engine_class", [stepup.Engine, stepup.AsyncEngine])
def test_a_store_or_sender_without_the_protocol_is_refused_at_construction(engine_class: type):
    clock = stepup.FrozenClock()

    with pytest.raises(stepup.ConfigurationError, match="mixes async and plain methods \\(get async\\)"):
        engine_class(secret_key=SECRET, store=HalfAsyncStore(clock), sms=MemorySender(), email=MemorySender())
    with pytest.raises(stepup.ConfigurationError, match="email sender object has no send\\(message\\) method"):
        engine_class(secret_key=SECRET, store_url="memory://", sms=MemorySender(), email=object())


def test_a_request_reads_a_subject_once_and_sees_its_own_change(clock: stepup.FrozenClock) -> None:
    from stepup import engine as flows

    store = MemoryStore(clock)
    reads: list[str] = []
    original = store.get

    def get(kind: str, key: str) -> object:
        reads.append(f"{kind}:{key}")
        return original(kind, key)

    store.get = get  # type: ignore[method-assign]
    engine = stepup.Engine(secret_key=SECRET, store=store, sms=MemorySender(), clock=clock)
    ctx = engine.context
    flows.read_subjects_once(True)
    try:
        assert engine.run(flows.locale_of(ctx, "alice")) is None
        assert engine.run(flows.locale_of(ctx, "alice")) is None
        assert reads.count("subject:alice") == 1
        engine.run(flows.set_locale(ctx, "alice", "fr"))
        assert engine.run(flows.locale_of(ctx, "alice")) == "fr"
    finally:
        flows.read_subjects_once(False)
    reads.clear()
    engine.run(flows.locale_of(ctx, "alice"))
    engine.run(flows.locale_of(ctx, "alice"))
    assert reads.count("subject:alice") == 2  # outside a request, every call reads


def test_a_request_cut_off_leaves_no_subject_read_behind_on_its_thread(clock: stepup.FrozenClock) -> None:
    # A server's timeout or a cancelled task (a BaseException) stops a request in the
    # middle of a store call: the app's next engine call on that thread reads the store.
    from stepup import engine as flows
    from stepup._twin import Call

    class CutOff(BaseException):
        pass

    class Stalls:
        def get(self, kind: str, key: str) -> None:
            raise CutOff

    engine = stepup.Engine(secret_key=SECRET, store=MemoryStore(clock), sms=MemorySender(), clock=clock)
    ctx = engine.context

    def request() -> Any:
        flows.read_subjects_once(True)
        try:
            yield from flows.locale_of(ctx, "alice")
            yield Call(Stalls(), "get", "subject", "alice")
        finally:
            flows.read_subjects_once(False)

    kept = []
    try:
        engine.run(request())
    except CutOff as e:
        kept.append(e)  # a server or an error reporter keeps the exception, and its frames
    # Another process changes alice's record meanwhile; this thread must see it.
    engine.store.update("subject", "alice", lambda record: ({**(record or {}), "locale": "fr"}, None))
    assert engine.run(flows.locale_of(ctx, "alice")) == "fr"
