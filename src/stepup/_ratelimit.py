"""Rate limits: moving windows kept as records in the engine's own store.

Every limit a step is charged to is a record of kind ``ratelimit``; the flows charge them
with the store's ``update_many``, in the same atomic step as what they limit (a new
challenge and its five limits are one lock, one SQLite transaction, one Redis script).
Charging is all or nothing: when one limit is full, no limit is charged. Limits are read
through stepup's injected clock, like everything else, and so hold across every process
that shares the store.

A limit is written as the ``limits`` library parses it (``"5/15 minutes"``,
``"10 per hour"``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from limits import RateLimitItem, parse

from ._errors import ConfigurationError, RateLimited
from ._i18n import T

__all__ = ["KIND", "Limit", "Limits"]

#: the store kind of rate-limit records.
KIND = "ratelimit"
#: a limit of up to this many hits keeps the time of each; a larger one counts buckets.
_EXACT_UP_TO = 100
_BUCKETS = 60

Record = dict[str, Any]


class Limit:
    """One named limit.

    :param name: the setting it comes from, without ``limit_`` (e.g. ``sends_per_target``).
    :param spec: the limit in ``limits`` notation, e.g. ``"10/hour"``.
    :raises ConfigurationError: for a spec ``limits`` cannot parse.
    """

    def __init__(self, name: str, spec: str) -> None:
        try:
            self.item: RateLimitItem = parse(spec)
        except ValueError as e:
            raise ConfigurationError(f"limit_{name}: {spec!r} is not a rate limit such as '10/hour'.") from e
        self.name = name
        self.spec = spec
        self.hits = int(self.item.amount)
        self.window = int(self.item.get_expiry())

    def key(self, identifier: str) -> str:
        """The record key of this limit for one identifier."""
        return f"{self.name}:{identifier}"

    # A limit of up to _EXACT_UP_TO hits keeps the time of each hit in the window, newest
    # first: an exact moving window. A larger one counts its hits in _BUCKETS buckets per
    # window instead, so that its record stays small however busy the key: a per-country
    # SMS limit sees every SMS, and a record of a thousand times would be read and written
    # whole on each. A bucket counts while any of it is in the window, so such a limit
    # refuses at most one bucket (a sixtieth of the window) early, never late.

    def take(self, record: Record | None, now: float) -> tuple[Record, float | None]:
        """The record with one more hit, or the record pruned and the time the window
        frees a hit (``reset``) when the limit is full."""
        if self.hits == 0:  # "0/hour": nothing is allowed
            return {"t": []}, now + self.window
        if self.hits <= _EXACT_UP_TO:
            times = [t for t in (record or {}).get("t", []) if t > now - self.window]
            if len(times) >= self.hits:
                return {"t": times}, times[self.hits - 1] + self.window
            return {"t": [now, *times]}, None
        width = self.window / _BUCKETS
        buckets = [b for b in (record or {}).get("b", []) if b[0] + width > now - self.window]
        if sum(n for _, n in buckets) >= self.hits:
            return {"b": buckets}, buckets[-1][0] + width + self.window
        start = now - now % width
        if buckets and buckets[0][0] == start:
            return {"b": [[start, buckets[0][1] + 1], *buckets[1:]]}, None
        return {"b": [[start, 1], *buckets]}, None

    def give_back(self, record: Record | None, at: float) -> Record | None:
        """The record without one hit taken at ``at`` (as if it had never been taken)."""
        if not record:
            return record
        if "t" in record:
            times = list(record["t"])
            if at in times:
                times.remove(at)
            return {"t": times}
        width = self.window / _BUCKETS
        start = at - at % width
        buckets = [[b, n - 1] if b == start else [b, n] for b, n in record.get("b", [])]
        return {"b": [b for b in buckets if b[1] > 0]}


class Limits:
    """The engine's limits by name, and the plan of charging a step to some of them.

    :param limits: the limits by name.
    """

    def __init__(self, limits: dict[str, Limit]) -> None:
        self.by_name = limits

    def items(self, hits: Sequence[tuple[str, str]]) -> list[tuple[str, str, float | None]]:
        """The store writes of charging ``hits`` (``(limit name, identifier)`` pairs)."""
        limits = self.by_name
        return [(KIND, limits[name].key(identifier), float(limits[name].window)) for name, identifier in hits]

    def charge(
        self, hits: Sequence[tuple[str, str]], records: Sequence[Record | None], now: float
    ) -> tuple[list[Record | None], RateLimited | None]:
        """Charge one hit to each of ``hits``, given their records (in the order of
        :meth:`items`): the new records, or the records unchanged and the error of the
        first full limit. Pure: the store's ``update_many`` may run it more than once."""
        taken: list[Record | None] = []
        for (name, _), record in zip(hits, records, strict=True):
            limit = self.by_name[name]
            new, reset = limit.take(record, now)
            if reset is not None:
                retry = max(1, int(reset - now + 0.999))
                rate = limit.spec.replace("/", " per ")
                message = T("Too many requests ({rate}). Try again in {seconds} s.", rate=rate, seconds=retry)
                if not limit.hits:
                    message = T("Not allowed here ({rate}).", rate=rate)
                return list(records), RateLimited(message, retry, name)
            taken.append(new)
        return taken, None

    def give_back(
        self, hits: Sequence[tuple[str, str]], records: Sequence[Record | None], at: float
    ) -> list[Record | None]:
        """The records of ``hits`` (in the order of :meth:`items`) without the hit each
        took at ``at``. Pure, as :meth:`charge` is."""
        return [self.by_name[name].give_back(record, at) for (name, _), record in zip(hits, records, strict=True)]
