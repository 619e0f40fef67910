"""Every error stepup raises, under one root.

::

    StepUpError
    ├── ConfigurationError          a setting is missing, weak or unknown (at start-up)
    ├── InvalidInput                422: the caller's input cannot be used
    │   ├── InvalidPhoneNumber      with ``reason`` (invalid, premium_rate, region, ...)
    │   ├── InvalidEmail
    │   ├── RequestTooLarge         413: a body larger than stepup reads (``limit`` bytes)
    │   └── MethodNotAvailable      the method is unknown, switched off or not bound
    ├── ChallengeError              about one challenge
    │   ├── ChallengeNotFound       404: unknown or long gone
    │   ├── ChallengeForbidden      403: another subject's or session's challenge
    │   │   └── LoginEnded          403: the session's login was ended by a logout
    │   ├── WrongCode               400: with ``attempts_left``
    │   ├── ChallengeExpired        410
    │   ├── ChallengeExhausted      410: no attempts left
    │   ├── ChallengeClosed         410: already approved, used or cancelled
    │   │   └── ApprovalUsed        410: an operation approval was used already
    │   ├── RequestPending          409: a contact request to the target is pending; with ``request_id``
    │   ├── OperationMismatch       403: the approval is for another operation
    │   │   └── MethodNotAccepted   403: approved by a method the route does not accept
    │   └── NoSendsLeft             429: every send of this challenge is used
    ├── Throttled                   429: with ``retry_after`` (seconds)
    │   ├── RateLimited             a limit of the ``limits`` library was hit
    │   ├── ResendTooSoon           the resend cooldown has not passed
    │   └── TemporarilyLocked       back-off after failures, with ``locked_until``
    ├── MethodLocked                423: too many failures in a row; an admin unlocks
    ├── SignInRefused               403: no method to sign in with, none to bind; with ``reason``
    └── Unavailable                 503: nothing was charged
        ├── StoreUnavailable
        └── DeliveryError           with ``channel`` and a ``reason`` for the audit log only

Each error carries ``status`` (the HTTP status adapters answer with) and ``code`` (a
stable machine-readable name for problem documents).
"""

from __future__ import annotations

import logging
import re

from ._i18n import N_, T

#: ``user:password@`` in a URL (``redis://user:secret@host``): never logged or shown.
_CREDENTIALS = re.compile(r"(\w[\w+.-]*://)[^/@\s]*@")
_store_log = logging.getLogger("stepup.store")

__all__ = [
    "ApprovalUsed", "ChallengeClosed", "ChallengeError", "ChallengeExhausted", "ChallengeExpired",
    "ChallengeForbidden", "ChallengeNotFound", "ConfigurationError", "DeliveryError",
    "InvalidEmail", "InvalidInput", "InvalidPhoneNumber", "LoginEnded", "MethodLocked",
    "MethodNotAccepted", "MethodNotAvailable", "NoSendsLeft", "NothingToBackUp",
    "OperationMismatch", "RateLimited", "RequestPending", "ResendTooSoon", "SignInRefused", "StepUpError",
    "StoreUnavailable", "TemporarilyLocked", "Throttled", "Unavailable", "WrongCode",
]  # fmt: skip


def without_credentials(text: str) -> str:
    """``text`` with the user and password of every URL in it taken out
    (``redis://:s3cret@host`` -> ``redis://host``), for logs and printed settings."""
    return _CREDENTIALS.sub(r"\1", text)


class StepUpError(Exception):
    """The root of every error stepup raises.

    :param message: a sentence a person can act on.
    """

    status: int = 500
    code: str = "stepup_error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def problem(self) -> dict[str, object]:
        """The error as the body of a JSON problem document (RFC 9457)."""
        body: dict[str, object] = {
            "type": f"urn:stepup:error:{self.code}",
            "title": self.message,
            "status": self.status,
            "code": self.code,
        }
        for name in ("attempts_left", "retry_after", "locked_until", "reason", "request_id"):
            value = getattr(self, name, None)
            if value is not None:
                body[name] = value
        return body


class ConfigurationError(StepUpError):
    """A setting is missing, weak, or names something unknown."""

    code = "configuration"


class InvalidInput(StepUpError):
    """The caller's input cannot be used."""

    status = 422
    code = "invalid_input"


class RequestTooLarge(InvalidInput):
    """A request body larger than stepup reads: refused before more than ``limit`` bytes
    of it are read, so no client can make the server hold a body of any size.

    :param limit: the most bytes stepup reads of a body (``max_resume_body``).
    """

    status = 413
    code = "request_too_large"

    def __init__(self, limit: int) -> None:
        super().__init__(
            T(
                "This request is too large: at most {kib} KiB can be sent here. "
                "Send less, or split it into smaller requests.",
                kib=limit // 1024,
            )
        )
        self.limit = limit


class InvalidPhoneNumber(InvalidInput):
    """A phone number that stepup will not send to.

    :param reason: one of ``format``, ``invalid``, ``type``, ``premium_rate``,
        ``shared_cost``, ``voip``, ``region``.
    """

    code = "invalid_phone"

    def __init__(self, message: str, reason: str) -> None:
        super().__init__(message)
        self.reason = reason


class InvalidEmail(InvalidInput):
    """An email address that is not well formed."""

    code = "invalid_email"


class MethodNotAvailable(InvalidInput):
    """The method is unknown, switched off by policy, or not bound to the subject."""

    code = "method_not_available"


class NothingToBackUp(MethodNotAvailable):
    """Recovery codes were asked for a subject with no sign-in method bound: they back up
    a method, and made with a password alone they would outlast the method bound later."""

    status = 409
    code = "nothing_to_back_up"


class ChallengeError(StepUpError):
    """Something about one challenge."""

    code = "challenge"


class ChallengeNotFound(ChallengeError):
    """No such challenge (never issued, or removed after it ended)."""

    status = 404
    code = "challenge_not_found"


class ChallengeForbidden(ChallengeError):
    """The challenge, resume token or approval belongs to another subject or session."""

    status = 403
    code = "challenge_forbidden"


class LoginEnded(ChallengeForbidden):
    """The session's login was ended (a logout): nothing bound to it works any more, for
    the session or a copy of it."""

    code = "login_ended"


class WrongCode(ChallengeError):
    """The code did not match.

    :param attempts_left: how many more codes this challenge will evaluate.
    """

    status = 400
    code = "wrong_code"

    def __init__(self, message: str, attempts_left: int) -> None:
        super().__init__(message)
        self.attempts_left = attempts_left


class ChallengeExpired(ChallengeError):
    """The challenge's time ran out."""

    status = 410
    code = "challenge_expired"


class ChallengeExhausted(ChallengeError):
    """Every attempt of the challenge was used by a wrong code."""

    status = 410
    code = "challenge_exhausted"
    attempts_left = 0


class ChallengeClosed(ChallengeError):
    """The challenge was already approved, used or cancelled: codes are single use."""

    status = 410
    code = "challenge_closed"


class ApprovalUsed(ChallengeClosed):
    """An operation approval was presented again after it was used: the operation may
    have run, or its run may have been cut short (the process died after the approval was
    used), so the user is told to check rather than to try again. Its problem ``code`` is
    ``challenge_closed``, as before."""


class RequestPending(ChallengeError):
    """A contact verification of the target is pending (Vonage's status 10): ``request_id``
    names it to the caller who made it, ``None`` to anyone else (told ``retry_after``)."""

    status = 409
    code = "request_pending"

    def __init__(self, request_id: str | None, retry_after: int | None = None, *, message: str = "") -> None:
        running = T("A verification of this number or address is running. Enter its code, or cancel it.")
        super().__init__(message or running)
        self.request_id, self.retry_after = request_id, retry_after


class OperationMismatch(ChallengeError):
    """An approval was presented for an operation other than the one it approved."""

    status = 403
    code = "operation_mismatch"


class MethodNotAccepted(OperationMismatch):
    """An approval was given by a method the protected route does not accept (its
    ``methods=``), e.g. by email after a fallback on a route that takes only SMS.

    :param method: the method that approved.
    :param accepted: the methods the route accepts.
    """

    code = "method_not_accepted"

    def __init__(self, message: str, *, method: str, accepted: tuple[str, ...]) -> None:
        super().__init__(message)
        self.method = method
        self.accepted = accepted


class NoSendsLeft(ChallengeError):
    """Every send of this challenge is used; start a new one."""

    status = 429
    code = "no_sends_left"


class Throttled(StepUpError):
    """Too many requests; try again later.

    :param retry_after: whole seconds until a retry can succeed.
    """

    status = 429
    code = "throttled"

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class RateLimited(Throttled):
    """A rate limit was reached.

    :param limit: the name of the limit, e.g. ``sends_per_target``.
    """

    code = "rate_limited"

    def __init__(self, message: str, retry_after: int, limit: str) -> None:
        super().__init__(message, retry_after)
        self.limit = limit


class ResendTooSoon(Throttled):
    """The resend cooldown of the challenge has not passed yet."""

    code = "resend_too_soon"


class TemporarilyLocked(Throttled):
    """Recent failures lock the method with a growing back-off.

    :param locked_until: the Unix time at which codes are evaluated again.
    """

    code = "locked"

    def __init__(self, message: str, retry_after: int, locked_until: float) -> None:
        super().__init__(message, retry_after)
        self.locked_until = locked_until


class MethodLocked(StepUpError):
    """Too many failures in a row: the method stays locked until an admin unlocks it."""

    status = 423
    code = "method_locked"


class SignInRefused(StepUpError):
    """A login that needs a second factor, of a subject who has none to use and may not
    bind one with a password alone: support has to help.

    :param reason: ``methods_off`` (every bound sign-in method is switched off) or
        ``nothing_bound`` (nothing is bound and binding at first login is off).
    """

    status = 403
    code = "sign_in_refused"

    _MESSAGES = {
        "methods_off": N_("Your sign-in methods are switched off; contact support."),
        "nothing_bound": N_(
            "You have no second factor, and one cannot be added with a password alone; contact support."
        ),
    }

    def __init__(self, reason: str) -> None:
        super().__init__(T(self._MESSAGES.get(reason, N_("You cannot sign in here; contact support."))))
        self.reason = reason


class Unavailable(StepUpError):
    """A dependency is down; nothing was charged and nothing was approved."""

    status = 503
    code = "unavailable"


class StoreUnavailable(Unavailable):
    """The store cannot be reached or answered with an error.

    What anyone may be told is :attr:`message`, the same plain sentence for every store
    and fault: pages and problem documents show it to visitors, who must not learn the
    store's address or its driver's error. Which store and what went wrong is
    :attr:`detail` (and ``str()``), for the operator: it goes to the ``stepup.store``
    log when the error is made, with any credentials in a URL stripped.

    :param detail: which store, and what its driver said.
    """

    code = "store_unavailable"
    #: what a visitor is told, whatever the fault.
    public_message = T("This service is temporarily unavailable. Please try again in a minute.")

    def __init__(self, detail: str = "") -> None:
        super().__init__(self.public_message)
        self.detail = without_credentials(detail)
        self.args = (self.detail or self.message,)
        _store_log.warning("stepup store unavailable: %s", self.detail or "(no detail)")


class DeliveryError(Unavailable):
    """A message could not be delivered.

    :param channel: ``sms`` or ``email``.
    :param reason: what went wrong, never containing credentials or the code.
    """

    code = "delivery_failed"

    def __init__(self, message: str, channel: str, reason: str = "") -> None:
        super().__init__(message)
        self.channel = channel
        self.reason = reason or None

    def problem(self) -> dict[str, object]:
        """The problem document without :attr:`reason`: what a provider or mail server
        said (its host, its account, its error) is for the audit log, not for visitors."""
        body = super().problem()
        body.pop("reason", None)
        return body
