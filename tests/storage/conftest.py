"""Real Redis servers on loopback for the store tests: one ``redis-server`` for the whole
session (emptied before each test), fresh ones a test may stop and start, and a 3-node
Redis Cluster. ``make test`` installs ``redis-server`` (and ``redis-cli``) when missing.

Test modules reach everything through the ``redis_url``, ``redis_factory``,
``redis_cluster`` and ``redis_sentinel`` fixtures (conftest modules are not imported by
name).
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

#: how long a server may take to answer its first PING.
_START_TIMEOUT = 20.0


def _binary(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise RuntimeError(f"{name} is not installed: `make test` installs it (apt-get install redis-server).")
    return path


def free_port(*, with_bus: bool = False) -> int:
    """A loopback TCP port nobody listens on; ``with_bus`` also needs port + 10000 free
    (a cluster node's bus)."""
    while True:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port: int = s.getsockname()[1]
        if not with_bus:
            return port
        if port + 10000 < 65536:
            with socket.socket() as s:
                try:
                    s.bind(("127.0.0.1", port + 10000))
                except OSError:
                    continue
            return port


def command(port: int, *args: str) -> bytes:
    """Send one command to a Redis server: a status reply (``+OK``) or a bulk string's data."""
    payload = f"*{len(args)}\r\n".encode() + b"".join(f"${len(a.encode())}\r\n{a}\r\n".encode() for a in args)
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        s.sendall(payload)
        buffer = b""
        while b"\r\n" not in buffer:
            chunk = s.recv(65536)
            if not chunk:
                raise ConnectionError("Redis closed the connection")
            buffer += chunk
        head, _, rest = buffer.partition(b"\r\n")
        if not head.startswith(b"$") or int(head[1:]) < 0:
            return head
        size = int(head[1:]) + 2
        while len(rest) < size:
            rest += s.recv(65536)
        return rest[: size - 2]


def _answers(port: int) -> bool:
    try:
        return command(port, "PING").startswith(b"+PONG")
    except OSError:
        return False


def wait_until(check: Callable[[], bool], what: str) -> None:
    """Poll ``check`` until it holds (a server coming up), or fail after a while."""
    deadline = time.monotonic() + _START_TIMEOUT
    while not check():
        if time.monotonic() > deadline:
            raise RuntimeError(f"{what} within {_START_TIMEOUT:g} s")
        time.sleep(0.02)


class RedisServer:
    """One ``redis-server`` process on a loopback port, stoppable and restartable there.

    :param directory: its working folder (append-only files, cluster state).
    :param args: extra ``redis-server`` options.
    """

    def __init__(self, directory: Path, *args: str, port: int | None = None, with_bus: bool = False) -> None:
        self.port = port or free_port(with_bus=with_bus)
        self.directory = directory
        self.args = args
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> RedisServer:
        self.directory.mkdir(parents=True, exist_ok=True)
        self._process = subprocess.Popen(
            [_binary("redis-server"), "--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.directory),
             "--save", "", "--appendonly", "no", *self.args],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        wait_until(lambda: _answers(self.port), f"redis-server on port {self.port} did not answer PING")
        return self

    def stop(self) -> None:
        if self._process is not None:
            self._process.terminate()
            self._process.wait(timeout=30)
            self._process = None


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


@pytest.fixture
def redis_factory(tmp_path: Path) -> Iterator[Callable[..., RedisServer]]:
    """``make(*args)`` starts a Redis of this test's own (stopped at teardown); the test
    may stop and start it again on the same port."""
    made: list[RedisServer] = []

    def make(*args: str) -> RedisServer:
        server = RedisServer(tmp_path / f"redis-{len(made)}", *args).start()
        made.append(server)
        return server

    yield make
    for server in made:
        server.stop()


@pytest.fixture(scope="module")
def redis_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Three ``redis-server`` nodes made into one Redis Cluster (no replicas):
    ``redis+cluster://127.0.0.1:PORT,...``."""
    base = tmp_path_factory.mktemp("cluster")
    nodes: list[RedisServer] = []
    try:
        for i in range(3):
            node = RedisServer(
                base / f"node-{i}", "--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf",
                "--cluster-node-timeout", "5000", with_bus=True,
            )  # fmt: skip
            nodes.append(node.start())
        addresses = [f"127.0.0.1:{n.port}" for n in nodes]
        subprocess.run(
            [_binary("redis-cli"), "--cluster", "create", *addresses, "--cluster-replicas", "0", "--cluster-yes"],
            check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=60,
        )  # fmt: skip
        for node in nodes:
            wait_until(
                lambda node=node: b"cluster_state:ok" in command(node.port, "CLUSTER", "INFO"),  # type: ignore[misc]
                f"cluster node {node.port} did not reach cluster_state:ok",
            )
        yield "redis+cluster://" + ",".join(addresses)
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
        [_binary("redis-server"), str(config), "--sentinel"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        wait_until(lambda: _answers(port), f"redis-sentinel on port {port} did not answer PING")
        yield f"redis+sentinel://127.0.0.1:{port}/primary"
    finally:
        process.terminate()
        process.wait(timeout=30)
