"""``stepup worker``: fires the due workflow steps of pending challenges without waiting for
a user's request (docs/workflows.md).

Any number of workers may run at once, on one machine or many, over the app's store:
each step is leased in the store before it fires (:mod:`stepup.engine`'s ``run_due``), so
it fires once. SIGTERM (or Ctrl-C) lets the step being fired finish, gives the steps
claimed but not begun back to the other workers, and exits.
"""

from __future__ import annotations

import logging
import signal
import time
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

from ._errors import Unavailable
from .engine import Engine

__all__ = ["Worker"]

logger = logging.getLogger("stepup.worker")

#: seconds between two looks at the stop flag while idle: how soon an idle worker exits.
_TICK = 0.05


class Worker:
    """A loop over :meth:`Engine.run_due` until told to stop.

    :param engine: the engine over the app's store and senders.
    :param limit: the most steps taken on per round.
    :param interval: seconds to wait when nothing is due (default: ``worker_interval``).
    """

    def __init__(self, engine: Engine, *, limit: int = 100, interval: float | None = None) -> None:
        self.engine = engine
        self.limit = limit
        self.interval = engine.settings.worker_interval if interval is None else interval
        #: steps fired since the worker started.
        self.fired = 0
        self._stopping = False

    def stop(self) -> None:
        """Ask the worker to stop after the step it is firing (safe in a signal handler)."""
        self._stopping = True

    @property
    def stopping(self) -> bool:
        """Whether the worker was asked to stop."""
        return self._stopping

    def round(self) -> int:
        """Fire what is due now, up to ``limit`` steps.

        :returns: how many fired.
        :raises StoreUnavailable: the store is down.
        """
        fired = self.engine.run_due(limit=self.limit, stop=lambda: self._stopping)
        self.fired += fired
        if fired:
            logger.info("stepup worker: %d step(s) fired", fired)
        return fired

    def run(self, *, once: bool = False) -> int:
        """Fire due steps until stopped; with ``once``, until none is due now.

        A store or sender that is down is logged and tried again after ``interval``
        (with ``once``, it ends the run with the error).

        :returns: how many steps fired in all.
        :raises Unavailable: with ``once``, the store was down.
        """
        while not self._stopping:
            try:
                fired = self.round()
            except Unavailable as error:
                if once:
                    raise
                logger.warning("stepup worker: %s", error)  # str(): for the operator (which store, what failed)
                fired = 0
            if fired >= self.limit:
                continue  # more may be due at once
            if once:
                break
            self._idle()
        return self.fired

    def _idle(self) -> None:
        """Wait ``interval`` seconds, or less when told to stop."""
        until = time.monotonic() + self.interval
        while not self._stopping and time.monotonic() < until:
            time.sleep(min(_TICK, max(0.0, until - time.monotonic())))


@contextmanager
def stopped_by_signals(worker: Worker) -> Iterator[Worker]:
    """SIGTERM and SIGINT stop ``worker`` after its step, while inside the block."""

    def handler(signum: int, frame: FrameType | None) -> None:
        worker.stop()

    before = {sig: signal.signal(sig, handler) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield worker
    finally:
        for sig, old in before.items():
            signal.signal(sig, old)
