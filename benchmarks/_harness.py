"""Timing helpers shared by the benchmarks: interleaved rounds, medians, the machine.

Every comparison runs its sides in one process, round after round, in alternating order
(A B C D, then D C B A, ...), so that a drift of the machine (a noisy neighbour, a CPU
frequency change) falls on every side alike. Each side's figure is the median of its
rounds; a ratio is the median of the two sides' ratios within each round.
"""

from __future__ import annotations

import datetime
import gc
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable, Mapping

__all__ = ["REFERENCE", "Samples", "fmt_ratio", "fmt_us", "interleave", "machine", "median", "reference"]

#: ``run(n)`` performs ``n`` operations (requests, start + verify pairs...).
Batch = Callable[[int], object]


class Samples:
    """Seconds per operation of each case, one value per round.

    :ivar per_round: case -> its value in each round, in round order.
    """

    def __init__(self, per_round: dict[str, list[float]]) -> None:
        self.per_round = per_round

    def median(self, case: str) -> float:
        """The case's median seconds per operation."""
        return statistics.median(self.per_round[case])

    def ratio(self, case: str, reference: str) -> float:
        """How many times slower ``case`` is than ``reference``: the median of the ratios
        of the two within each round. Pairing within a round cancels what changed between
        rounds (the machine's speed, other processes), which the ratio of the two medians
        would keep."""
        pairs = zip(self.per_round[case], self.per_round[reference], strict=True)
        return statistics.median(a / b for a, b in pairs)

    def difference(self, case: str, reference: str) -> float:
        """The seconds ``case`` adds to ``reference`` per operation: the median of the
        differences within each round, paired as :meth:`ratio` pairs them."""
        pairs = zip(self.per_round[case], self.per_round[reference], strict=True)
        return statistics.median(a - b for a, b in pairs)


def interleave(
    cases: Mapping[str, Batch],
    *,
    rounds: int,
    batch: int,
    warmup: int = 1,
    clock: Callable[[], float] = time.thread_time,
) -> Samples:
    """Time each case over ``rounds`` interleaved rounds.

    Garbage collection is off while a batch is timed (as ``timeit`` does) and runs
    between batches, so that one side does not pay for another side's garbage. The
    default clock is the thread's CPU time: what an operation costs this process, not
    what other processes on the machine happened to take from it meanwhile.

    :param cases: name -> batch function.
    :param rounds: timed rounds; each runs every case once.
    :param batch: operations per case per round.
    :param warmup: untimed rounds first (imports, caches, the first request's set-up).
    :param clock: what to read before and after each batch.
    """
    names = list(cases)
    for _ in range(warmup):
        for name in names:
            cases[name](batch)
    samples: dict[str, list[float]] = {name: [] for name in names}
    for r in range(rounds):
        order = names if r % 2 == 0 else names[::-1]
        for name in order:
            gc.collect()
            gc.disable()
            try:
                start = clock()
                cases[name](batch)
                elapsed = clock() - start
            finally:
                gc.enable()
            samples[name].append(elapsed / batch)
    return Samples(samples)


#: the case name of :func:`reference` among a comparison's cases.
REFERENCE = "reference loop"


def reference(n: int) -> None:
    """A fixed pure-Python workload, timed in the same rounds as a throughput figure.

    A shared machine's speed changes from one minute to the next (on the 2-core machine
    these figures come from, this loop's time varies by half), and a throughput in
    operations per second moves with it, where a ratio of interleaved sides does not. The
    loop's time beside a figure says how fast the machine was while it was taken, so that
    figures of two runs can be compared.

    :param n: how many times to run the loop (ten thousand integer multiply-adds each).
    """
    for _ in range(n):
        total = 0
        for i in range(10_000):
            total += i * i


def median(values: list[float]) -> float:
    """The median (``nan`` for no values)."""
    return statistics.median(values) if values else float("nan")


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def machine() -> dict[str, str]:
    """What the figures were measured on."""
    return {
        "cpu": _cpu_model(),
        "cores": str(os.cpu_count()),
        "python": f"{platform.python_implementation()} {sys.version.split()[0]}",
        "os": f"{platform.system()} {platform.release()}",
        "date": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"),
    }


def fmt_us(seconds: float) -> str:
    """``12.3 µs``."""
    us = seconds * 1e6
    return f"{us:,.1f} µs" if us < 100 else f"{us:,.0f} µs"


def fmt_ratio(ratio: float) -> str:
    """``1.03×`` (``+3.0%``)."""
    return f"{ratio:.3f}× ({(ratio - 1) * 100:+.1f}%)"
