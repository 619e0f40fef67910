"""The effects a flow yields: each store and sender call, typed, as a :class:`~stepup._twin.Call`.

A flow is a generator of calls (:data:`Flow`); ``record = yield from get(ctx, kind, key)``
hands the call to the engine, which makes it on its store (or awaits it) and sends the
result back, typed as the store contract types it. The store kinds live here too, so
every flow names a record the same way.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextvars import ContextVar
from typing import Any, TypeVar

from .._models import Message
from .._twin import Call, Steps
from ..stores import AfterRead, Item, ManyMutator, Mutator, Record, Write
from ..stores import update_after as _update_after
from ._context import Context

__all__ = [
    "CHALLENGE", "FAILURES", "POLICY", "SUBJECT", "Flow",
    "delete", "get", "get_many", "read_subjects_once", "send", "subject_record", "update", "update_after",
    "update_many",
]  # fmt: skip

T = TypeVar("T")

#: A flow: a generator of store and sender calls whose return value is a ``T``.
Flow = Steps[T]

#: the store kinds the challenge flows share (others live with their flows).
CHALLENGE = "challenge"
SUBJECT = "subject"
FAILURES = "failures"
POLICY = "policy"


#: The subject records read so far in one web request (:func:`read_subjects_once`), or
#: ``None`` outside one. Any write a flow asks for forgets them all.
_SUBJECTS: ContextVar[dict[str, Record | None] | None] = ContextVar("stepup_subjects_read", default=None)


def read_subjects_once(on: bool) -> None:
    """Start (``True``) or end (``False``) reading each subject's record once, in the
    current context: the web layer's request, whose page, enrolment rule and language each
    need the signed-in subject's record. Within it, :func:`subject_record` reads a subject
    once until a write; a write made meanwhile by another request is seen as if the reads
    had all come first."""
    _SUBJECTS.set({} if on else None)


def _forget_subjects() -> None:
    known = _SUBJECTS.get()
    if known:
        known.clear()


def subject_record(ctx: Context, subject: str) -> Flow[Record | None]:
    """The record ``(SUBJECT, subject)``: read from the store once in a request
    (:func:`read_subjects_once`), else on every call."""
    known = _SUBJECTS.get()
    if known is not None and subject in known:
        return known[subject]
    record = yield from get(ctx, SUBJECT, subject)
    known = _SUBJECTS.get()
    if known is not None:
        known[subject] = record
    return record


def get(ctx: Context, kind: str, key: str) -> Call[Record | None]:
    """The record ``(kind, key)`` (``store.get``)."""
    return Call(ctx.store, "get", kind, key)


def get_many(ctx: Context, items: Sequence[Item]) -> Call[list[Record | None]]:
    """Several records in one round trip (``store.get_many``)."""
    return Call(ctx.store, "get_many", items)


def update(ctx: Context, kind: str, key: str, fn: Mutator[T], ttl: float | None = None) -> Call[T]:
    """One atomic read-change-write of a record (``store.update``); the result is ``fn``'s."""
    _forget_subjects()
    return Call(ctx.store, "update", kind, key, fn, ttl)


def update_many(ctx: Context, items: Sequence[Write], fn: ManyMutator[T]) -> Call[T]:
    """One atomic step over several records (``store.update_many``)."""
    _forget_subjects()
    return Call(ctx.store, "update_many", items, fn)


def update_after(ctx: Context, reads: Sequence[Item], after: AfterRead[T]) -> Flow[T]:
    """Read ``reads`` and write what ``after`` makes of them (:func:`stepup.stores.update_after`):
    one round trip on the Redis store, a read and an ``update_many`` elsewhere."""
    _forget_subjects()
    return _update_after(ctx.store, reads, after)


def delete(ctx: Context, kind: str, key: str) -> Call[None]:
    """Remove a record (``store.delete``)."""
    _forget_subjects()
    return Call(ctx.store, "delete", kind, key)


def send(ctx: Context, route: str, message: Message) -> Call[Any]:
    """Send ``message`` by the sender of ``route`` (``sms``, ``sms:GB``, ``email``...)."""
    return Call(ctx.senders[route], "send", message)
