"""``stepup worker`` as real processes over one SQLite file and over one real redis-server:
every due workflow step of a few hundred challenges fires exactly once (counted in a
``file://`` outbox), a worker killed with SIGKILL mid-run loses and doubles nothing, and
SIGTERM ends a worker within a second or two.

A worker fires a step by taking it in the store, then sending its message: a kill in the
instant between the two loses that one message (delivery is at most once, so a crash never
sends a code twice or past the send cap; docs/workflows.md). The kill test therefore kills
a worker while it waits on a store write, holding leases, which covers every other point
of a step.

The challenges are started by an engine whose frozen clock stands 100 s in the past, so
their steps are due at once for the workers, which run on the system clock. Every wait is
a poll with a deadline, never a fixed sleep.
"""

from __future__ import annotations

import collections
import contextlib
import json
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

import stepup
from stepup._worker import Worker
from stepup.senders import MemorySender
from stepup.stores import MemoryStore
from tests.support.faults import FaultyStore
from tests.support.redis_servers import command, free_port

#: challenges started for each test (each gets two voice steps: sms:10,voice:1,voice).
COUNT = 300
#: how long the workers may take to fire every step, on a loaded machine.
DEADLINE = 180.0
KEY = "worker-test-secret-key-0123456789abcdef"
_RUN = "import sys; from stepup._cli import main; sys.exit(main())"


def wait_for(check: Callable[[], bool], what: str, deadline: float = DEADLINE) -> None:
    """Poll ``check`` until it holds, or fail naming ``what`` after ``deadline`` seconds."""
    until = time.monotonic() + deadline
    while not check():
        if time.monotonic() > until:
            raise AssertionError(f"{what} within {deadline:g} s")
        time.sleep(0.05)


def _toml(value: Any) -> str:
    """A TOML value of a setting: a table as its JSON text (as the environment holds it)."""
    return json.dumps(json.dumps(value) if isinstance(value, dict) else value)


class Fleet:
    """A store with ``COUNT`` challenges whose steps are due, a config file naming it, its
    outboxes, and the worker processes started over it."""

    def __init__(self, store_url: str, folder: Path) -> None:
        self.folder = folder
        self.sms, self.voice = folder / "sms.jsonl", folder / "voice.jsonl"
        self.settings: dict[str, Any] = {
            "secret_key": KEY, "store_url": store_url, "sms_url": f"file://{self.sms}",
            "sender_urls": {"voice": f"file://{self.voice}"}, "workflow": "sms:10,voice:1,voice",
            "test_number_prefixes": ("+447700900",), "worker_lease": 2.0, "worker_interval": 0.2,
            "limit_bound_sms_total": "100000/hour",
        }  # fmt: skip
        self.config = folder / "stepup.toml"
        self.config.write_text(
            "".join(f"STEPUP_{name.upper()} = {_toml(value)}\n" for name, value in self.settings.items()),
            encoding="utf-8",
        )
        self.numbers = [f"+447700900{i:03d}" for i in range(COUNT)]
        self.workers: list[subprocess.Popen[bytes]] = []
        self.ids: list[str] = []

    def seed(self) -> None:
        """Start one login challenge per number, 100 s ago."""
        engine = stepup.Engine(**self.settings, clock=stepup.FrozenClock(time.time() - 100))
        try:
            for i, number in enumerate(self.numbers):
                engine.import_binding(f"user-{i}", "sms", number)
                self.ids.append(engine.start(f"user-{i}", "sms", "login").id)
        finally:
            engine.close()

    def worker(self, *options: str) -> subprocess.Popen[bytes]:
        """Start one ``stepup worker`` process."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("STEPUP_")}
        process = subprocess.Popen(
            [sys.executable, "-c", _RUN, "--config", str(self.config), "worker", *options],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
        )  # fmt: skip
        self.workers.append(process)
        return process

    def calls(self) -> collections.Counter[str]:
        """Voice messages per number (a worker that died on an error fails the test at once)."""
        for process in self.workers:
            if process.poll() not in (None, 0, -signal.SIGKILL):
                raise AssertionError(f"a worker failed: {process.communicate()[1].decode()[-2000:]}")
        if not self.voice.exists():
            return collections.Counter()
        # A line a worker is writing right now has no line end yet: it is not counted.
        lines = self.voice.read_text(encoding="utf-8").split("\n")[:-1]
        return collections.Counter(json.loads(line)["to"] for line in lines if line.strip())

    def all_fired(self) -> bool:
        """Whether every challenge's workflow has fired its last step (read from the store)."""
        self.calls()
        engine = stepup.Engine(**self.settings)
        try:
            return all(engine.challenge(cid, subject=f"user-{i}").step == 2 for i, cid in enumerate(self.ids))
        finally:
            engine.close()

    def fired_in_store(self) -> int:
        """The voice steps the store records as fired (the first step of each is its SMS)."""
        engine = stepup.Engine(**self.settings)
        try:
            return sum(engine.challenge(cid, subject=f"user-{i}").step for i, cid in enumerate(self.ids))
        finally:
            engine.close()

    @contextlib.contextmanager
    def writes_held(self) -> Iterator[None]:
        """No worker writes to the store inside the block (reads go on): SQLite's write
        lock held by this test, or a Redis server pausing its writes."""
        url = self.settings["store_url"]
        if url.startswith("sqlite:///"):
            lock = sqlite3.connect(url.removeprefix("sqlite:///"), isolation_level=None, timeout=30)
            lock.execute("BEGIN IMMEDIATE")
            try:
                yield
            finally:
                lock.execute("ROLLBACK")
                lock.close()
            return
        port = int(url.rsplit(":", 1)[1].split("/")[0])
        command(port, "CLIENT", "PAUSE", "60000", "WRITE")
        try:
            yield
        finally:
            command(port, "CLIENT", "UNPAUSE")

    def stop(self, process: subprocess.Popen[bytes]) -> tuple[int, str]:
        """SIGTERM a worker and wait for it: its status and what it wrote."""
        process.send_signal(signal.SIGTERM)
        _, err = process.communicate(timeout=30)
        return process.returncode, err.decode()

    def close(self) -> None:
        for process in self.workers:
            if process.poll() is None:
                process.kill()
                process.communicate(timeout=30)


@pytest.fixture
def fleet(store_url: str, tmp_path: Path) -> Iterator[Fleet]:
    made = Fleet(store_url, tmp_path)
    made.seed()
    yield made
    made.close()


def assert_each_step_once(fleet: Fleet) -> None:
    calls = fleet.calls()
    assert sum(calls.values()) == 2 * COUNT, f"{sum(calls.values())} calls for {2 * COUNT} steps"
    assert set(calls) == set(fleet.numbers)
    assert {n for n, c in calls.items() if c != 2} == set(), "every number gets each of its two calls once"
    assert len(fleet.sms.read_text(encoding="utf-8").splitlines()) == COUNT


def test_two_workers_fire_every_due_step_exactly_once(fleet: Fleet) -> None:
    workers = [fleet.worker(), fleet.worker()]
    wait_for(lambda: sum(fleet.calls().values()) >= 2 * COUNT, "the workers did not fire every step")
    wait_for(fleet.all_fired, "the store does not show every step fired")
    for process in workers:
        status, err = fleet.stop(process)
        assert status == 0 and "stopped" in err, err
    assert_each_step_once(fleet)


def test_a_worker_killed_mid_run_loses_and_doubles_nothing(fleet: Fleet) -> None:
    doomed, other = fleet.worker(), fleet.worker()
    wait_for(lambda: sum(fleet.calls().values()) >= COUNT // 2, "the workers did not start firing")
    # Kill it mid-step: while the store takes no writes, each worker stops at its next
    # write (a claim, a limit's charge, a step taken, a step's index entry after its
    # message went), holding leases. Once every step the store records as fired is in
    # the outbox, no message is on its way, and the kill lands at one of those points.
    with fleet.writes_held():
        wait_for(lambda: fleet.fired_in_store() == sum(fleet.calls().values()), "a message stayed on its way")
        doomed.kill()  # SIGKILL: no handler runs, its leases stay in the store until they expire
        doomed.communicate(timeout=30)
    assert doomed.returncode == -signal.SIGKILL
    wait_for(fleet.all_fired, "the other worker did not take over the killed one's steps")
    status, err = fleet.stop(other)
    assert status == 0, err
    assert_each_step_once(fleet)


def test_sigterm_ends_a_busy_worker_within_two_seconds_and_another_finishes(fleet: Fleet) -> None:
    first = fleet.worker()
    wait_for(lambda: sum(fleet.calls().values()) >= COUNT // 3, "the worker did not start firing")
    first.send_signal(signal.SIGTERM)
    first.communicate(timeout=2)  # raises TimeoutExpired past two seconds
    assert first.returncode == 0
    fleet.worker()
    wait_for(fleet.all_fired, "the second worker did not fire the rest")
    assert_each_step_once(fleet)


def test_an_idle_worker_exits_on_sigterm(fleet: Fleet) -> None:
    idle = fleet.worker()
    wait_for(fleet.all_fired, "the worker did not fire every step")
    idle.send_signal(signal.SIGTERM)
    _, err = idle.communicate(timeout=2)
    assert idle.returncode == 0 and f"{2 * COUNT} step(s) fired; stopped." in err.decode()
    assert_each_step_once(fleet)


def test_once_fires_what_is_due_and_exits(fleet: Fleet, cli: Callable[..., Any]) -> None:
    # One round takes on every step due when it starts: each number's first call, not
    # its second (due a second after the first).
    ran = cli("--config", str(fleet.config), "worker", "--once", "--limit", str(2 * COUNT))
    assert ran.status == 0 and ran.err.endswith(f"stepup worker: {COUNT} step(s) fired; stopped.\n")
    assert fleet.calls() == collections.Counter(fleet.numbers)


def test_once_with_the_store_down_says_so(cli: Callable[..., Any]) -> None:
    down = f"redis://127.0.0.1:{free_port()}/0"
    ran = cli("--store", down, "--secret-key", KEY, "worker", "--once")
    assert ran.status == 2 and "temporarily unavailable" in ran.err


def test_a_worker_rides_out_a_store_outage() -> None:
    clock, voice = stepup.FrozenClock(), MemorySender()
    store = FaultyStore(MemoryStore(clock))
    engine = stepup.Engine(secret_key=KEY, store=store, sms=MemorySender(), senders={"voice": voice}, clock=clock,
                           workflow="sms:60,voice", worker_interval=0.01)  # fmt: skip
    engine.import_binding("alice", "sms", "+447400123456")
    engine.start("alice", "sms", "login")
    clock.advance(60)
    store.down = True
    worker = Worker(engine)
    thread = threading.Thread(target=worker.run)
    thread.start()
    try:
        wait_for(lambda: store.calls >= 3, "the worker did not try again", deadline=30)
        assert voice.outbox == []
        store.down = False
        wait_for(lambda: len(voice.outbox) == 1, "the worker did not fire once the store was back", deadline=30)
    finally:
        worker.stop()
        thread.join(timeout=30)
        engine.close()
    assert not thread.is_alive() and worker.fired == 1
