"""The keys of stored records, named by kind so no id can reach another kind's record.

A store keeps each record under ``(kind, key)``, and the kinds (``challenge``,
``subject``, ``failures``, ``ratelimit``, ``resumes``, ``policy``) are separate in every
store. Inside a kind, a key built from several parts (a method and a subject) names what
each part is, joins the parts with ``/`` and escapes ``%``, ``/`` and ``:`` in every part,
so that a subject called ``target:+447700900001`` or a method plug-in called
``sms/subject`` is one part and never the start of another owner's key.

Failure records written before this naming (``sms:alice``, ``sms:target:+44...``) are
still read where a lock is enforced (a new challenge is refused while either key is
locked) and deleted by an unlock, so an upgrade lifts no lock: see docs/SECURITY.md. A
key of today has no ``:``, and an old one always has one, so the two never meet.
"""

from __future__ import annotations

from .._targets import limit_target

__all__ = ["failure_key", "legacy_failure_key", "part"]


def part(value: str) -> str:
    """One part of a key, with ``%``, ``/`` and ``:`` escaped so parts never run together."""
    return value.replace("%", "%25").replace("/", "%2F").replace(":", "%3A")


def failure_key(method: str, subject: str | None, target: str) -> str:
    """The key of a method's failure record: per subject (``sms/subject/alice``), or
    per target for a contact verification (``sms/target/+447700900001``), one record for
    every spelling of an address (:func:`stepup._targets.limit_target`)."""
    if subject is not None:
        return f"{part(method)}/subject/{part(subject)}"
    return f"{part(method)}/target/{part(limit_target(target))}"


def legacy_failure_key(method: str, subject: str | None, target: str) -> str:
    """The key the same record had before keys were named by kind (read for locks only)."""
    return f"{method}:{subject if subject is not None else f'target:{target}'}"
