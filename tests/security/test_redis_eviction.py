"""A Redis that may evict keys, or that forgets its writes when it restarts, loses
bindings, and a subject whose SMS binding is gone looks like one with nothing bound. The
Redis store reads ``maxmemory-policy`` and ``appendonly`` on its first use: an evicting
policy is logged as a warning, or, with ``STEPUP_STORE_REQUIRE_NOEVICTION``, refused (503)
until it is fixed; a Redis without ``appendonly yes`` is logged as a warning."""

from __future__ import annotations

import asyncio
import logging

import pytest

import stepup
from tests.support.redis_servers import command

KEY = "redis-eviction-suite-key-0123456789abcdef"


def store_logs(caplog):
    return [r.getMessage() for r in caplog.records if r.name == "stepup.store"]


def use(kind, url, **settings):
    """Bind a phone to alice and read her bindings back, on a fresh engine of ``kind``."""
    options = {"secret_key": KEY, "store_url": url, "test_number_prefixes": ("+447700900",), **settings}
    if kind == "sync":
        engine = stepup.Engine(**options)
        try:
            engine.import_binding("alice", "sms", "+447700900001")
            return engine.bindings("alice")
        finally:
            engine.close()

    async def run():
        engine = stepup.AsyncEngine(**options)
        try:
            await engine.import_binding("alice", "sms", "+447700900001")
            return await engine.bindings("alice")
        finally:
            await engine.close()

    return asyncio.run(run())


@pytest.mark.parametrize("kind", ["sync", "async"])
@pytest.mark.parametrize("policy", ["allkeys-lru", "volatile-lfu"])
def test_a_redis_that_may_evict_is_reported_once(redis_factory, caplog, kind, policy):
    server = redis_factory("--appendonly", "yes")
    command(server.port, "CONFIG", "SET", "maxmemory-policy", policy)
    caplog.set_level(logging.WARNING, logger="stepup.store")

    bound = use(kind, server.url)

    assert [b.method for b in bound] == ["sms"]
    logs = store_logs(caplog)
    assert len(logs) == 1 and policy in logs[0] and "noeviction" in logs[0] and "appendonly" in logs[0]


@pytest.mark.parametrize("kind", ["sync", "async"])
def test_a_redis_with_noeviction_and_appendonly_is_quiet(redis_factory, caplog, kind):
    server = redis_factory("--maxmemory-policy", "noeviction", "--appendonly", "yes")
    caplog.set_level(logging.DEBUG, logger="stepup.store")

    assert [b.method for b in use(kind, server.url)] == ["sms"]
    assert store_logs(caplog) == []


@pytest.mark.parametrize("kind", ["sync", "async"])
def test_when_required_an_evicting_redis_is_refused_until_it_is_fixed(redis_factory, kind):
    server = redis_factory()
    command(server.port, "CONFIG", "SET", "maxmemory-policy", "allkeys-lru")

    with pytest.raises(stepup.StoreUnavailable) as refused:
        use(kind, server.url, store_require_noeviction=True)

    assert refused.value.status == 503 and "noeviction" in refused.value.detail
    assert command(server.port, "DBSIZE") == b":0"  # nothing was written
    command(server.port, "CONFIG", "SET", "maxmemory-policy", "noeviction")
    assert [b.method for b in use(kind, server.url, store_require_noeviction=True)] == ["sms"]


@pytest.mark.parametrize("kind", ["sync", "async"])
def test_a_redis_that_loses_its_writes_on_a_restart_is_reported_once(redis_factory, caplog, kind):
    # Without appendonly a restart forgets bindings: a subject whose phone is forgotten
    # looks like one with nothing bound. Reported, not refused (test and demo Redis run so).
    server = redis_factory("--maxmemory-policy", "noeviction")
    caplog.set_level(logging.WARNING, logger="stepup.store")

    assert [b.method for b in use(kind, server.url)] == ["sms"]
    assert [b.method for b in use(kind, server.url, store_require_noeviction=True)] == ["sms"]
    logs = store_logs(caplog)
    assert len(logs) == 2 and all("appendonly yes" in line and "restart" in line for line in logs)


def test_the_setting_is_read_from_the_environment():
    settings = stepup.Settings.from_mapping({"STEPUP_STORE_REQUIRE_NOEVICTION": "1"})
    assert settings.store_require_noeviction is True and stepup.Settings().store_require_noeviction is False
