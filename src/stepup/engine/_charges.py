"""What a step is charged to: the limits of a new challenge and of a contact check.

Kept apart from the flows so the plan of charges reads in one place. Every hit is a
``(limit name, identifier)`` pair of :mod:`stepup._ratelimit`, charged by the flows in
the same atomic store step as what it limits.

Sends are charged by what they go to (docs/policy.md has the table):

- a target not yet verified (``bind``, ``contact``): anyone who can type a number may
  cause one, so these carry the SMS-pumping limits (per number prefix, per country, in
  all) and the per-target limits ``challenges_per_target`` and ``sends_per_target``;
- a subject's bound target (``login``, ``step_up``, ``operation``, and the email fallback
  of one): only the subject causes these, so they have per-target limits of their own
  (``bound_*``) and a total of their own, which no send of the first kind can use up. An
  outsider who texts a user's number, or every number of its range, leaves the user's
  sign-in alone; an attacker with many accounts is bounded still, since each number had
  to be bound by a send of the first kind and each bound number has its own cap.
"""

from __future__ import annotations

from .._targets import limit_target, sms_region

__all__ = ["UNVERIFIED", "contact_failure_hits", "issue_hits", "send_hits"]

Hit = tuple[str, str]

#: the purposes whose code goes to a target the subject has not proved yet.
UNVERIFIED = frozenset({"bind", "contact"})


def send_hits(method: str, target: str, purpose: str, prefix_digits: int) -> list[Hit]:
    """The limits of one message to ``target`` (a first send or a resend).

    :param method: ``sms``, ``email`` or a plug-in's name (charged per target only).
    :param target: the number or address (keyed by :func:`stepup._targets.limit_target`).
    :param purpose: the challenge's purpose: ``bind`` and ``contact`` go to targets not
        yet verified, the others to the subject's bound target.
    :param prefix_digits: digits after the + that make an SMS prefix.
    """
    key = limit_target(target)
    if purpose not in UNVERIFIED:
        return [("bound_sends_per_target", key), *([("bound_sms_total", "all")] if method == "sms" else [])]
    hits = [("sends_per_target", key)]
    if method == "sms":
        hits += [
            ("sms_total", "all"),
            ("sms_per_country", sms_region(target)),
            ("sms_per_prefix", target[: 1 + prefix_digits]),
        ]
    elif method == "email":
        hits.append(("email_total", "all"))
    return hits


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
    :param send_hits: the limits of one send to ``target`` (:func:`send_hits`).
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
        per_target = "challenges_per_target" if purpose in UNVERIFIED else "bound_challenges_per_target"
        hits.append((per_target, limit_target(target)))
        hits += send_hits
    return hits


def contact_failure_hits(subject: str | None, client: str | None) -> list[Hit]:
    """The limit a wrong contact-verification code is charged to: its client's, checked
    before the code counts against the target, so one client cannot make a number back
    off (a subject's own codes are limited by the subject's failure record)."""
    return [("contact_failures_per_client", client)] if subject is None and client is not None else []
