"""Real Redis servers on loopback for the store tests: one ``redis-server`` for the whole
session (emptied before each test), fresh ones a test may stop and start, and a 3-node
Redis Cluster. ``make test`` installs ``redis-server`` (and ``redis-cli``) when missing.
The servers themselves, and the ``redis_factory`` fixture, are in
:mod:`tests.support.redis_servers`.

Test modules reach everything through the ``redis_url``, ``redis_factory``,
``redis_cluster`` and ``redis_sentinel`` fixtures (conftest modules are not imported by
name).
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.support.redis_servers import RedisServer, answers, binary, command, free_port, start_cluster, wait_until


@pytest.fixture
def unused_port() -> int:
    """A loopback port where nothing listens."""
    return free_port()


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path_factory.mktemp("redis")).start()
    yield server
    server.stop()


@pytest.fixture
def redis_url(redis_server: RedisServer) -> str:
    """The session's Redis, emptied: ``redis://127.0.0.1:PORT/0``."""
    command(redis_server.port, "FLUSHALL")
    return redis_server.url


@pytest.fixture(scope="module")
def redis_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Three ``redis-server`` nodes made into one Redis Cluster (no replicas):
    ``redis+cluster://127.0.0.1:PORT,...``."""
    nodes: list[RedisServer] = []
    try:
        yield start_cluster(tmp_path_factory.mktemp("cluster"), nodes)
    finally:
        for node in nodes:
            node.stop()


@pytest.fixture
def redis_sentinel(redis_factory: Callable[..., RedisServer], tmp_path: Path) -> Iterator[str]:
    """A primary and one sentinel watching it: ``redis+sentinel://127.0.0.1:PORT/primary``."""
    primary = redis_factory()
    port = free_port()
    config = tmp_path / "sentinel.conf"  # a sentinel rewrites its file, so each gets its own
    config.write_text(f"port {port}\nbind 127.0.0.1\nsentinel monitor primary 127.0.0.1 {primary.port} 1\n")
    process = subprocess.Popen(
        [binary("redis-server"), str(config), "--sentinel"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        wait_until(lambda: answers(port), f"redis-sentinel on port {port} did not answer PING")
        yield f"redis+sentinel://127.0.0.1:{port}/primary"
    finally:
        process.terminate()
        process.wait(timeout=30)
