"""Faults to inject into a site's engine: a store that goes down or hangs on command.

A :class:`FaultyStore` wraps a real store (the site's SQLite file) and, while ``down`` is
set, answers every call with :class:`stepup.StoreUnavailable`, as a store whose server went
away does. While ``stalled`` is set, calls wait for :meth:`FaultyStore.resume` and then go
through, as a slow store does; ``waiting`` says how many are held, so a test can wait for
them (bounded) instead of sleeping.
"""

from __future__ import annotations

import threading
import time
from typing import Any, TypeVar

import stepup
from stepup.stores import Mutator, Record, Store

__all__ = ["FaultyStore", "wait_for"]

T = TypeVar("T")


def wait_for(check: Any, what: str, timeout: float = 10.0) -> None:
    """Poll ``check()`` until it holds, failing after ``timeout`` seconds (for a request
    that a server thread or event loop picks up at its own pace)."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.005)


class FaultyStore:
    """A store that fails or stalls on command.

    :param store: the real store every call goes to when nothing is wrong.
    """

    def __init__(self, store: Store) -> None:
        self.store = store
        #: every call raises StoreUnavailable while set.
        self.down = False
        #: what the store's driver says while down (the error's detail, for the log).
        self.fault = "The store is unavailable (a fault injected by the test)."
        self._go = threading.Event()
        self._go.set()
        self._lock = threading.Lock()
        #: calls held by a stall right now.
        self.waiting = 0
        #: calls made, failed or not.
        self.calls = 0

    def stall(self) -> None:
        """Hold every call from now on until :meth:`resume`."""
        self._go.clear()

    def resume(self) -> None:
        """Let held and later calls through."""
        self._go.set()

    def _enter(self) -> None:
        with self._lock:
            self.calls += 1
            self.waiting += 1
        try:
            if not self._go.wait(timeout=30):
                raise stepup.StoreUnavailable("The test store was stalled for too long.")
        finally:
            with self._lock:
                self.waiting -= 1
        if self.down:
            raise stepup.StoreUnavailable(self.fault)

    def get(self, kind: str, key: str) -> Record | None:
        self._enter()
        return self.store.get(kind, key)

    def update(self, kind: str, key: str, fn: Mutator[T], ttl: float | None = None) -> T:
        self._enter()
        return self.store.update(kind, key, fn, ttl)

    def delete(self, kind: str, key: str) -> None:
        self._enter()
        self.store.delete(kind, key)

    def close(self) -> None:
        self.store.close()
