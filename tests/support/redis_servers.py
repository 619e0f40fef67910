"""Real ``redis-server`` processes on loopback, stoppable and restartable on their port: the
store tests and the fault tests of the security suite share them. Loaded as a pytest plugin
by ``tests/conftest.py`` (fixture ``redis_factory``). ``make test`` installs
``redis-server`` (and ``redis-cli``) when missing.
"""

from __future__ import annotations

import contextlib
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

#: how long a server may take to answer its first PING.
_START_TIMEOUT = 20.0


def binary(name: str) -> str:
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


def answers(port: int) -> bool:
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
            [binary("redis-server"), "--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.directory),
             "--save", "", "--appendonly", "no", *self.args],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        wait_until(lambda: answers(self.port), f"redis-server on port {self.port} did not answer PING")
        return self

    def stop(self) -> None:
        if self._process is not None:
            self._process.terminate()
            self._process.wait(timeout=30)
            self._process = None

    @contextlib.contextmanager
    def paused(self) -> Iterator[None]:
        """The server stopped (``SIGSTOP``) for the block: it takes commands and answers
        them only once the block ends."""
        assert self._process is not None
        self._process.send_signal(signal.SIGSTOP)
        try:
            yield
        finally:
            self._process.send_signal(signal.SIGCONT)


def start_cluster(base: Path, nodes: list[RedisServer]) -> str:
    """Three ``redis-server`` nodes under ``base`` made into one Redis Cluster (no
    replicas), each appended to ``nodes`` once started (for the caller to stop):
    ``redis+cluster://127.0.0.1:PORT,...``."""
    for i in range(3):
        node = RedisServer(
            base / f"node-{i}", "--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf",
            "--cluster-node-timeout", "5000", with_bus=True,
        )  # fmt: skip
        nodes.append(node.start())
    addresses = [f"127.0.0.1:{n.port}" for n in nodes]
    subprocess.run(
        [binary("redis-cli"), "--cluster", "create", *addresses, "--cluster-replicas", "0", "--cluster-yes"],
        check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=60,
    )  # fmt: skip
    for node in nodes:
        wait_until(
            lambda node=node: b"cluster_state:ok" in command(node.port, "CLUSTER", "INFO"),  # type: ignore[misc]
            f"cluster node {node.port} did not reach cluster_state:ok",
        )
    return "redis+cluster://" + ",".join(addresses)


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
