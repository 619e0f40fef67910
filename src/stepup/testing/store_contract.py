"""The store contract as a pytest suite, for every store stepup ships and any you write.

Subclass :class:`StoreContract` in a test module, name the subclass ``Test...`` and give
it a ``make_store`` fixture that returns a factory: a callable taking a clock (a
:class:`stepup.FrozenClock`) and returning a fresh, empty sync :class:`stepup.stores.Store`
that reads time from that clock::

    class TestRedisStore(StoreContract):
        @pytest.fixture
        def make_store(self, redis_url):
            return lambda clock: RedisStore(redis_url, clock=clock)

The base class has no ``Test`` prefix, so pytest collects only the subclasses.
"""

from __future__ import annotations

import dataclasses
import datetime
import enum
import functools
import re
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from .._clock import FrozenClock
from .._models import Message
from ..engine import Engine
from ..senders import MemorySender
from ..stores import Record, Store

__all__ = ["StoreContract", "StoreFactory", "code_from"]

#: what ``make_store`` returns: a clock in, a fresh empty store out.
StoreFactory = Callable[[FrozenClock], Store]

_THREADS = 20
_INCREMENTS = 50


def code_from(message: Message) -> str:
    """The code a message carries (the first run of 4 to 10 digits standing alone).

    :param message: a message a :class:`stepup.senders.MemorySender` kept.
    :raises LookupError: when the message holds no code.
    """
    found = re.search(r"\b\d{4,10}\b", message.body)
    if found is None:
        raise LookupError(f"no code in {message.body!r}")
    return found.group()


def _in_threads(work: Callable[[], None]) -> list[BaseException]:
    """Run ``work`` in ``_THREADS`` threads released together; what they raised."""
    barrier = threading.Barrier(_THREADS, timeout=30)
    errors: list[BaseException] = []

    def run() -> None:
        try:
            barrier.wait()
            work()
        except BaseException as e:  # reported by the caller
            errors.append(e)

    threads = [threading.Thread(target=run) for _ in range(_THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return errors


def _put(record: Record | None, value: Record | None) -> tuple[Record | None, Any]:
    return value, record


@dataclasses.dataclass
class _Point:
    """A value JSON has no word for (as a date has none)."""

    x: int
    y: int


class StoreContract:
    """What every :class:`stepup.stores.Store` must do. Subclasses provide ``make_store``."""

    @pytest.fixture
    def make_store(self) -> StoreFactory:
        """Override: return a callable that makes a fresh store from a clock."""
        raise NotImplementedError("a StoreContract subclass must define a make_store fixture")

    @pytest.fixture
    def clock(self) -> FrozenClock:
        """The frozen clock the store reads."""
        return FrozenClock()

    @pytest.fixture
    def store(self, make_store: StoreFactory, clock: FrozenClock) -> Iterator[Store]:
        """A fresh store, closed after the test."""
        store = make_store(clock)
        try:
            yield store
        finally:
            store.close()

    # -- get, update, delete -------------------------------------------------------------

    def test_get_of_a_missing_record_is_none(self, store: Store) -> None:
        assert store.get("challenge", "nothing-here") is None

    def test_update_creates_the_record_and_returns_the_result(self, store: Store) -> None:
        result = store.update("subject", "alice", lambda r: ({"n": 1}, ("made", r)))
        assert result == ("made", None)
        assert store.get("subject", "alice") == {"n": 1}

    def test_update_hands_fn_the_stored_record(self, store: Store) -> None:
        store.update("subject", "alice", lambda r: _put(r, {"n": 1}))
        seen = store.update("subject", "alice", lambda r: _put(r, {"n": 2}))
        assert seen == {"n": 1}
        assert store.get("subject", "alice") == {"n": 2}

    def test_update_returning_none_deletes(self, store: Store) -> None:
        store.update("subject", "alice", lambda r: _put(r, {"n": 1}))
        assert store.update("subject", "alice", lambda r: (None, "gone")) == "gone"
        assert store.get("subject", "alice") is None
        assert store.update("subject", "alice", lambda r: _put(r, None)) is None

    def test_delete(self, store: Store) -> None:
        store.update("subject", "alice", lambda r: _put(r, {"n": 1}))
        store.delete("subject", "alice")
        assert store.get("subject", "alice") is None
        store.delete("subject", "alice")  # deleting what is absent is harmless

    def test_kinds_are_separate_namespaces(self, store: Store) -> None:
        store.update("challenge", "k", lambda r: _put(r, {"kind": "challenge"}))
        store.update("subject", "k", lambda r: _put(r, {"kind": "subject"}))
        store.delete("challenge", "k")
        assert store.get("challenge", "k") is None
        assert store.get("subject", "k") == {"kind": "subject"}

    def test_records_round_trip_json(self, store: Store) -> None:
        record = {
            "nested": {"list": [1, 2.5, None, True, "x"], "empty": {}},
            "float": 1_700_000_000.125,
            "none": None,
            "unicode": "Zoë 📱 日本語",
            "lone surrogate": "a\ud800b",
            "int": -3,
        }
        store.update("subject", "ünï", lambda r: _put(r, record))
        assert store.get("subject", "ünï") == record

    def test_str_and_int_subclasses_are_stored_as_their_values(self, store: Store) -> None:
        class Purpose(enum.StrEnum):
            STEP_UP = "step_up"

        class Level(enum.IntEnum):
            HIGH = 2

        store.update("subject", "alice", lambda r: _put(r, {"purpose": Purpose.STEP_UP, "level": [Level.HIGH]}))
        got = store.get("subject", "alice")
        assert got == {"purpose": "step_up", "level": [2]}
        assert type(got["purpose"]) is str and type(got["level"][0]) is int

    def test_a_record_json_cannot_write_is_a_type_error_and_writes_nothing(self, store: Store) -> None:
        store.update("subject", "alice", lambda r: _put(r, {"n": 1}))
        items = [("subject", "alice", None), ("subject", "bob", None)]
        with pytest.raises(TypeError):
            store.update_many(items, lambda records: ([{"n": 2}, {"when": object()}], None))
        for unwritable in (object(), datetime.datetime(2026, 1, 1), _Point(1, 2)):
            with pytest.raises(TypeError):
                store.update("subject", "alice", functools.partial(_put, value={"n": unwritable}))
        assert store.get_many([("subject", "alice"), ("subject", "bob")]) == [{"n": 1}, None]

    def test_a_returned_record_is_a_copy(self, store: Store) -> None:
        store.update("subject", "alice", lambda r: _put(r, {"bindings": []}))
        got = store.get("subject", "alice")
        assert got is not None
        got["bindings"].append("intruder")
        assert store.get("subject", "alice") == {"bindings": []}

    def test_an_error_in_fn_writes_nothing_and_propagates(self, store: Store) -> None:
        store.update("subject", "alice", lambda r: _put(r, {"n": 1}))

        class Boom(Exception):
            pass

        def explode(record: Record | None) -> tuple[Record | None, None]:
            raise Boom

        for key in ("alice", "bob"):
            with pytest.raises(Boom):
                store.update("subject", key, explode, ttl=5)
        assert store.get("subject", "alice") == {"n": 1}
        assert store.get("subject", "bob") is None
        # the store still works after the failed update
        store.update("subject", "bob", lambda r: _put(r, {"n": 2}))
        assert store.get("subject", "bob") == {"n": 2}

    # -- several records at once --------------------------------------------------------

    def test_get_many_reads_records_in_the_order_asked(self, store: Store) -> None:
        store.update("subject", "alice", lambda r: _put(r, {"n": 1}))
        store.update("policy", "policy", lambda r: _put(r, {"p": True}))
        assert store.get_many([("policy", "policy"), ("subject", "nobody"), ("subject", "alice")]) == [
            {"p": True}, None, {"n": 1},
        ]  # fmt: skip
        assert store.get_many([]) == []

    def test_update_many_hands_fn_every_record_and_writes_what_it_returns(self, store: Store) -> None:
        store.update("subject", "alice", lambda r: _put(r, {"n": 1}))
        store.update("ratelimit", "old", lambda r: _put(r, {"t": [1]}))
        items = [("subject", "alice", None), ("challenge", "new", 60.0), ("ratelimit", "old", None)]

        def fn(records: list[Record | None]) -> tuple[list[Record | None], Any]:
            return [{"n": 2}, {"state": "pending"}, None], list(records)

        assert store.update_many(items, fn) == [{"n": 1}, None, {"t": [1]}]
        assert store.get_many([(kind, key) for kind, key, _ in items]) == [{"n": 2}, {"state": "pending"}, None]

    def test_update_many_with_a_record_too_few_or_too_many_writes_nothing(self, store: Store) -> None:
        items = [("subject", "alice", None), ("subject", "bob", None)]
        for count in (1, 3):

            def miscounted(records: list[Record | None], count: int = count) -> tuple[list[Record | None], None]:
                return [{"n": n} for n in range(count)], None

            with pytest.raises(ValueError):
                store.update_many(items, miscounted)
        assert store.get_many([("subject", "alice"), ("subject", "bob")]) == [None, None]

    def test_update_many_of_no_records_runs_fn_and_writes_nothing(self, store: Store) -> None:
        assert store.update_many([], lambda records: ([], ("ran on", records))) == ("ran on", [])

    def test_update_many_gives_each_record_its_own_ttl(self, store: Store, clock: FrozenClock) -> None:
        store.update("ratelimit", "kept", lambda r: _put(r, {"n": 0}), ttl=100)
        items = [("challenge", "short", 10.0), ("ratelimit", "long", 1000.0), ("ratelimit", "kept", None)]
        store.update_many(items, lambda records: ([{"n": 1}, {"n": 2}, {"n": 3}], None))
        clock.advance(50)
        assert store.get_many([("challenge", "short"), ("ratelimit", "long"), ("ratelimit", "kept")]) == [
            None, {"n": 2}, {"n": 3},
        ]  # fmt: skip
        clock.advance(50)
        assert store.get("ratelimit", "kept") is None
        assert store.get("ratelimit", "long") == {"n": 2}

    def test_an_error_in_update_many_fn_writes_nothing(self, store: Store) -> None:
        store.update("subject", "alice", lambda r: _put(r, {"n": 1}))

        def explode(records: list[Record | None]) -> tuple[list[Record | None], None]:
            raise ValueError("no")

        with pytest.raises(ValueError):
            store.update_many([("subject", "alice", None), ("subject", "bob", None)], explode)
        assert store.get_many([("subject", "alice"), ("subject", "bob")]) == [{"n": 1}, None]

    def test_concurrent_update_many_calls_are_atomic_per_record(self, store: Store) -> None:
        items = [("counter", "a", None), ("counter", "b", None)]

        def increment(records: list[Record | None]) -> tuple[list[Record | None], None]:
            return [{"n": (r or {"n": 0})["n"] + 1} for r in records], None

        def work() -> None:
            for _ in range(_INCREMENTS):
                store.update_many(items, increment)
                store.update("counter", "a", lambda r: ({"n": (r or {"n": 0})["n"] + 1}, None))

        assert _in_threads(work) == []
        assert store.get_many([("counter", "a"), ("counter", "b")]) == [
            {"n": 2 * _THREADS * _INCREMENTS}, {"n": _THREADS * _INCREMENTS},
        ]  # fmt: skip

    # -- expiry ---------------------------------------------------------------------------

    def test_a_record_expires_after_its_ttl(self, store: Store, clock: FrozenClock) -> None:
        store.update("challenge", "c", lambda r: _put(r, {"n": 1}), ttl=10)
        clock.advance(9.5)
        assert store.get("challenge", "c") == {"n": 1}
        clock.advance(0.5)
        assert store.get("challenge", "c") is None
        assert store.update("challenge", "c", lambda r: _put(r, {"n": 2})) is None

    def test_a_record_without_ttl_does_not_expire(self, store: Store, clock: FrozenClock) -> None:
        store.update("subject", "alice", lambda r: _put(r, {"n": 1}))
        clock.advance(10 * 365 * 86400)
        assert store.get("subject", "alice") == {"n": 1}

    def test_ttl_none_keeps_the_existing_expiry(self, store: Store, clock: FrozenClock) -> None:
        store.update("challenge", "c", lambda r: _put(r, {"n": 1}), ttl=10)
        clock.advance(6)
        store.update("challenge", "c", lambda r: _put(r, {"n": 2}), ttl=None)
        clock.advance(3)
        assert store.get("challenge", "c") == {"n": 2}
        clock.advance(1)
        assert store.get("challenge", "c") is None

    def test_a_new_ttl_replaces_the_old_one(self, store: Store, clock: FrozenClock) -> None:
        store.update("challenge", "c", lambda r: _put(r, {"n": 1}), ttl=10)
        clock.advance(8)
        store.update("challenge", "c", lambda r: _put(r, {"n": 2}), ttl=10)
        clock.advance(8)
        assert store.get("challenge", "c") == {"n": 2}

    # -- atomicity ------------------------------------------------------------------------

    def test_concurrent_updates_are_atomic(self, store: Store) -> None:

        def increment(record: Record | None) -> tuple[Record, None]:
            return {"n": (record or {"n": 0})["n"] + 1}, None

        def work() -> None:
            for _ in range(_INCREMENTS):
                store.update("counter", "hits", increment)

        assert _in_threads(work) == []
        assert store.get("counter", "hits") == {"n": _THREADS * _INCREMENTS}

    # -- with the engine ------------------------------------------------------------------

    def test_an_engine_binds_and_steps_up_on_this_store(self, store: Store, clock: FrozenClock) -> None:
        sms = MemorySender()
        # The store belongs to the fixture, which closes it; the engine holds nothing else.
        engine = Engine(secret_key="k" * 40, store=store, sms=sms, email=MemorySender(), clock=clock)
        start = engine.begin_bind("alice", "sms", "+44 7400 123456")
        approval = engine.verify(start.challenge.id, code_from(sms.last), subject="alice")
        assert approval.binding is not None and approval.binding.method == "sms"
        assert [b.method for b in engine.bindings("alice")] == ["sms"]
        assert sms.last.to == "+447400123456"

        challenge = engine.start("alice", "sms")
        approval = engine.verify(challenge.id, code_from(sms.last), subject="alice")
        assert (approval.purpose, approval.subject) == ("step_up", "alice")
        assert engine.challenge(challenge.id, subject="alice").state == "approved"
