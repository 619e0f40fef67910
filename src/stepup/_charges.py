"""What a step is charged to: the limits of a new challenge and of a contact check.

Kept apart from the flows so the plan of charges reads in one place. Every hit is a
``(limit name, identifier)`` pair of :mod:`stepup._ratelimit`, charged by the flows in
the same atomic store step as what it limits.
"""

from __future__ import annotations

__all__ = ["contact_failure_hits", "issue_hits"]

Hit = tuple[str, str]


def issue_hits(
    *,
    subject: str | None,
    client: str | None,
    purpose: str,
    channel: str | None,
    target: str,
    send_hits: list[Hit],
    session: str | None = None,
) -> list[Hit]:
    """The limits a new challenge is charged to.

    A client is charged for every challenge it starts, of any purpose, and once more for
    a contact request (the one a caller who is not signed in may make), so a client that
    cannot be told apart by subject is still limited.

    :param subject: whose challenge (``None`` for contact verification).
    :param client: the client's address, or ``None`` when the caller has none (the CLI).
    :param purpose: the challenge's purpose.
    :param channel: ``sms``, ``email``, or ``None`` for a method that sends nothing.
    :param target: the phone number or address a code goes to.
    :param send_hits: the limits of one send to ``target``.
    :param session: the digest of the login's nonce. A login's own challenges (those of a
        held session, which has only the password) are charged to it first, with a
        smaller limit than the subject's: one held login cannot spend the subject's
        whole budget and keep the user from their own codes.
    """
    hits: list[Hit] = []
    if purpose == "login" and session is not None:
        hits.append(("challenges_per_login", session))
    if subject is not None:
        hits.append(("challenges_per_subject", subject))
    if client is not None:
        hits.append(("challenges_per_client", client))
        if purpose == "contact":
            hits.append(("contact_requests_per_client", client))
    if channel:
        hits.append(("challenges_per_target", target))
        hits += send_hits
    return hits


def contact_failure_hits(subject: str | None, client: str | None) -> list[Hit]:
    """The limit a wrong contact-verification code is charged to: its client's, checked
    before the code counts against the target, so one client cannot make a number back
    off (a subject's own codes are limited by the subject's failure record)."""
    return [("contact_failures_per_client", client)] if subject is None and client is not None else []
