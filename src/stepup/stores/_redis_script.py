"""The Redis store's compare-and-set Lua script and the JSON envelopes it compares.

What an update sends to Redis, worked out without I/O. A stored value is an envelope,
``{"v": record, "e": expiry or null, "w": write id}``. An update's ARGV is three runs of
one entry per key: the values expected, the values to write and what to do with each (see
:data:`COMPARE_AND_SET`).
"""

from __future__ import annotations

import itertools
import os
import secrets
from collections.abc import Sequence
from typing import Any, TypeVar

from .._clock import Clock
from ._base import ManyMutator, Record
from ._json import dumps, loads

__all__ = ["COMPARE_AND_SET", "held", "keeping_reads", "plan", "read"]

T = TypeVar("T")

#: KEYS: the records. ARGV, three runs of #KEYS: the values expected ('' for absent), the
#: values to write, and what to do with each: 'check' (compare only), 'del', 'keep'
#: (KEEPTTL), 'none' (no expiry) or milliseconds to live. Returns 1 once written, else
#: what the keys hold ('' for absent) so the caller can try again without reading.
COMPARE_AND_SET = """
local n = #KEYS
local current, same = {}, true
for i = 1, n do
    current[i] = redis.call('GET', KEYS[i]) or ''
    if current[i] ~= ARGV[i] then same = false end
end
if not same then
    for i = 1, n do
        -- a value carrying this call's write id: a retry of a call that already landed
        if current[i] ~= '' and current[i] == ARGV[n + i] then return 1 end
    end
    return current
end
for i = 1, n do
    local value, op = ARGV[n + i], ARGV[2 * n + i]
    if op == 'del' then
        redis.call('DEL', KEYS[i])
    elseif op == 'keep' then
        redis.call('SET', KEYS[i], value, 'KEEPTTL')
    elseif op == 'none' then
        redis.call('SET', KEYS[i], value)
    elseif op ~= 'check' then
        redis.call('SET', KEYS[i], value, 'PX', op)
    end
end
return 1
"""


class _WriteIds:
    """Write ids unique to this process: a random prefix, drawn again in a forked child,
    and a counter (a draw from the OS per record written was a system call each)."""

    def __init__(self) -> None:
        self._pid = -1
        self._prefix = ""
        self._count = itertools.count()

    def __call__(self) -> str:
        if self._pid != os.getpid():
            self._pid, self._prefix, self._count = os.getpid(), secrets.token_hex(8), itertools.count()
        return f"{self._prefix}{next(self._count):x}"


_write_id = _WriteIds()


def held(args: list[Any], n: int) -> list[bytes | None]:
    """What the ``n`` keys of a script's ARGV ``args`` hold once it has written: the value
    written, ``None`` once deleted, the value expected where it only compared."""
    expected, values, ops = args[:n], args[n : 2 * n], args[2 * n :]
    return [
        (old or None) if op == "check" else (new or None) for old, new, op in zip(expected, values, ops, strict=True)
    ]


def read(raw: bytes | None, clock: Clock) -> tuple[Record | None, float | None]:
    """The live record in a stored value and its expiry (``None``: none)."""
    if raw is None:
        return None, None
    envelope = loads(raw)
    expires_at = envelope["e"]
    if expires_at is not None and expires_at <= clock():
        return None, None
    return envelope["v"], expires_at


def plan(
    raws: list[bytes | None],
    fn: ManyMutator[T],
    ttls: Sequence[float | None],
    check: bool,
    clock: Clock,
    checked: int = 0,
) -> tuple[list[Any] | None, T]:
    """The script's ARGV for applying ``fn`` to the values ``raws``, and the result to hand
    back once it has run. ``None`` when nothing is to be written, unless ``check`` (``raws``
    is only a guess, which the script must confirm). The first ``checked`` keys are only
    compared (records read for the step, not written by it)."""
    # The records only compared are not decoded: ``fn`` (:func:`keeping_reads`) hands them
    # back untouched, and the caller decoded them already to decide the step.
    records = [(None, None) if i < checked else read(raw, clock) for i, raw in enumerate(raws)]
    new, result = fn([record for record, _ in records])
    values: list[bytes] = []
    ops: list[str] = []
    for i, (raw, (record, expires_at), written, ttl) in enumerate(zip(raws, records, new, ttls, strict=True)):
        if i < checked:
            values.append(b"")
            ops.append("check")
            continue
        if written is None:
            values.append(b"")
            ops.append("check" if raw is None else "del")
            continue
        if ttl is not None:
            expires_at, op = clock() + ttl, str(max(1, int(ttl * 1000)))
        else:
            op = "keep" if record is not None and expires_at is not None else "none"
        envelope = {"v": written, "e": expires_at, "w": _write_id()}
        values.append(dumps(envelope).encode())
        ops.append(op)
    if not check and all(op == "check" for op in ops):
        return None, result
    return [*(raw or b"" for raw in raws), *values, *ops], result


def keeping_reads(n: int, fn: ManyMutator[T]) -> ManyMutator[T]:
    """``fn`` over the records after the first ``n`` (read only: handed back as they are)."""

    def many(records: list[Record | None]) -> tuple[list[Record | None], T]:
        new, result = fn(records[n:])
        return [*records[:n], *new], result

    return many
