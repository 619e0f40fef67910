"""Challenge flows: start, verify, resend, cancel, consume, written once for both engines.

Each flow is a generator over :class:`stepup._core.Io` effects (see :mod:`stepup._core`).
Every change of a challenge goes through one atomic ``store.update`` running a pure
function of :mod:`stepup._machine`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from typing import Any

from . import _machine
from ._accepted import accepts, check_accepted
from ._channels import channel_routes
from ._charges import contact_failure_hits, issue_hits, send_hits
from ._core import Flow
from ._crypto import ascii_code, new_code, new_id
from ._delivery import GIVEN_BACK, as_delivery_error
from ._ended import ENDED, LoginEnding, ended_refused
from ._errors import (
    ChallengeForbidden,
    ChallengeNotFound,
    DeliveryError,
    InvalidInput,
    MethodLocked,
    MethodNotAvailable,
    OperationMismatch,
    RateLimited,
    StepUpError,
    StoreUnavailable,
    TemporarilyLocked,
)
from ._in_force import check_in_force
from ._keys import failure_key, legacy_failure_key
from ._models import PURPOSES, Approval, Binding, Challenge, Message
from ._policy import Policy
from ._targets import sms_region

__all__ = ["ChallengeFlows"]

_CHALLENGE = "challenge"
_SUBJECT = "subject"
_FAILURES = "failures"
_POLICY = "policy"
#: seconds a failure record is kept: long enough to count "in a row"; a success deletes it.
_FAILURES_TTL = 30 * 86400
#: the route of a code that goes to the subject's email because no SMS could be sent.
_EMAIL_FALLBACK = "email:fallback"


class ChallengeFlows(LoginEnding):
    """The flows of one challenge's life."""

    # -- reading -----------------------------------------------------------------------

    def _policy(self) -> Flow[Policy]:
        """The policy in force: as last read, or read again once ``policy_refresh`` passed
        (:mod:`stepup._policy_cache`). A store that cannot be read keeps the last one read
        in force: no change can reach the store meanwhile either."""
        cache, now = self.policy_cache, self.clock()
        policy = cache.current(now)
        if policy is not None:
            return policy
        try:
            stored = yield from self._io("store", "get", _POLICY, _POLICY)
        except StoreUnavailable:
            if cache.read_at is None:
                raise
            cache.postpone(now)
            return cache.policy
        return cache.keep(stored, now)

    def _subject(self, subject: str) -> Flow[dict[str, Any]]:
        record = yield from self._io("store", "get", _SUBJECT, subject)
        return record or {"bindings": []}

    def _load(self, challenge_id: object, subject: str | None, session: str | None) -> Flow[Challenge]:
        if not isinstance(challenge_id, str) or not 16 <= len(challenge_id) <= 64:
            raise ChallengeNotFound("No such verification. Start again.")
        # The login's end is read in the same round trip: a logout ends its challenges.
        items = [(_CHALLENGE, challenge_id)] + ([(ENDED, self._ended_key(session))] if session is not None else [])
        record, *ended = yield from self._io("store", "get_many", items)
        if record is None:
            raise ChallengeNotFound("No such verification. Start again.")
        challenge = Challenge.from_record(record)
        # Strict: a subject's challenge is theirs alone, and a contact verification (no
        # subject) is nobody's login or step-up.
        if subject != challenge.subject:
            raise ChallengeForbidden("This verification belongs to someone else.")
        if challenge.session is not None and not self._same_session(challenge.session, session):
            raise ChallengeForbidden("This verification was started in another session.")
        ended_refused(ended[0] if ended else None)
        return challenge

    def _transition(self, challenge: Challenge, step: Any, *args: Any, **kwargs: Any) -> Flow[_machine.Outcome]:
        """Run one pure transition atomically on the stored challenge."""

        def apply(record: dict[str, Any] | None) -> tuple[dict[str, Any] | None, _machine.Outcome]:
            if record is None:
                return None, _machine.Outcome(None, "", ChallengeNotFound("No such verification. Start again."))
            outcome: _machine.Outcome = step(Challenge.from_record(record), *args, **kwargs)
            new = outcome.challenge.to_record() if outcome.changed and outcome.challenge else record
            return new, outcome

        result: _machine.Outcome = yield from self._io("store", "update", _CHALLENGE, challenge.id, apply, None)
        return result

    # -- locks and limits ----------------------------------------------------------------

    @staticmethod
    def _failure_key(challenge: Challenge) -> str:
        return failure_key(challenge.method, challenge.subject, challenge.target)

    def _claim_attempt(self, key: str, *, lock: bool = True) -> Flow[tuple[dict[str, Any] | None, dict[str, Any]]]:
        """Count a code as a failure before it is evaluated, refusing it in a back-off or a
        lock, in one atomic step. A right code then clears the count; a code that was not
        evaluated after all (its challenge ended meanwhile) gives its claim back.

        Counting first is what makes the back-off and the lock hold under concurrency:
        checking them, then counting the failure after the evaluation, let any number of
        codes racing in over many sessions through the check before the first failure
        was written.

        :returns: the failure record before and after the claim.
        :raises TemporarilyLocked: in the back-off after failures.
        :raises MethodLocked: after too many failures in a row.
        """
        now = self.clock()

        def claim(record: dict[str, Any] | None) -> tuple[dict[str, Any] | None, Any]:
            error = _lock_error(record, now, backoff=True)
            if error is not None:
                return record, (record, None, error)
            new = self._one_more_failure(record, now, lock=lock)
            return new, (record, new, None)

        before, after, error = yield from self._io("store", "update", _FAILURES, key, claim, _FAILURES_TTL)
        if error is not None:
            raise error
        return before, after

    def _one_more_failure(self, record: dict[str, Any] | None, now: float, *, lock: bool = True) -> dict[str, Any]:
        """A method's failure record with one more wrong code counted.

        :param lock: whether enough failures lock it outright; a contact target's do not,
            since anyone may send its codes: it backs off only.
        """
        s = self.settings
        count = int((record or {}).get("count", 0)) + 1
        new: dict[str, Any] = {"count": count, "locked": lock and count >= s.lockout_after}
        if count >= s.backoff_after:
            new["until"] = now + min(s.backoff_max, s.backoff_base * 2 ** (count - s.backoff_after))
        return new

    def _release_attempt(self, key: str, before: dict[str, Any] | None, after: dict[str, Any]) -> Flow[None]:
        """Give back the claim of a code that was not evaluated after all."""

        def release(record: dict[str, Any] | None) -> tuple[dict[str, Any] | None, None]:
            if record == after:
                return before, None  # nothing since: as if never claimed
            if record and int(record.get("count", 0)) > 0:
                return {**record, "count": int(record["count"]) - 1}, None
            return record, None

        yield from self._io("store", "update", _FAILURES, key, release, None)

    def _audit_failure(self, challenge: Challenge, state: dict[str, Any] | None) -> None:
        """Audit the lock or back-off a wrong code's claim started, if it started one.

        :param state: the failure record the wrong code left; the atomic path types it
            optional, as an approving code leaves none.
        """
        if state is None:
            return
        if state["locked"] and state["count"] == self.settings.lockout_after:
            self._emit("locked", challenge, detail={"failures": state["count"]})
        elif "until" in state:
            self._emit("locked", challenge, detail={"failures": state["count"], "until": state["until"]})

    def _hit(
        self,
        hits: list[tuple[str, str]],
        challenge: Challenge | None = None,
        *,
        create: float | None = None,
        locks: tuple[str, ...] = (),
        **audit: Any,
    ) -> Flow[float]:
        """Charge one hit to each ``(limit, identifier)`` of ``hits``, all or none, in one
        atomic store step; with ``create`` (a TTL), also write ``challenge`` as a new
        record in that step, if every limit took its hit.

        :param locks: keys of failure records read in the same step: when one is locked
            outright, nothing is charged or written (a lock that lands meanwhile holds).
        :returns: the time the hits were taken at (to give one back: :meth:`_withdraw`).
        :raises RateLimited: a limit is full; nothing was charged or written.
        :raises MethodLocked: a record of ``locks`` is locked.
        """
        items = self.limits.items(hits)
        limits, now, n, m = self.limits, self.clock(), len(hits), len(locks)
        items += [(_FAILURES, key, None) for key in locks]
        if create is not None and challenge is not None:
            items.append((_CHALLENGE, challenge.id, create))
            record = challenge.to_record()
        if not items:
            return now

        def charge(records: list[dict[str, Any] | None]) -> tuple[list[dict[str, Any] | None], StepUpError | None]:
            locked = next((e for r in records[n : n + m] if (e := _lock_error(r, now, backoff=False))), None)
            new, limited = limits.charge(hits, records[:n], now)
            error: StepUpError | None = limited
            if locked is not None:
                new, error = list(records[:n]), locked
            new += records[n : n + m]
            if len(records) > n + m:
                new.append(record if error is None else records[n + m])
            return new, error

        error = yield from self._io("store", "update_many", items, charge)
        if isinstance(error, MethodLocked):
            raise error
        if error is not None:
            self._emit("rate_limited", challenge, detail={"limit": error.limit}, **audit)
            raise error
        return now

    def _withdraw(self, challenge: Challenge, hits: list[tuple[str, str]], at: float) -> Flow[None]:
        """Remove a challenge whose code could not be sent, and give back the hits of
        ``hits`` (taken at ``at``) that a failed send does not cost (the rule is
        :data:`stepup._delivery.GIVEN_BACK`), in one atomic step."""
        back = [hit for hit in hits if hit[0] in GIVEN_BACK]
        items = [*self.limits.items(back), (_CHALLENGE, challenge.id, None)]
        limits = self.limits

        def withdraw(records: list[dict[str, Any] | None]) -> tuple[list[dict[str, Any] | None], None]:
            return [*limits.give_back(back, records[:-1], at), None], None

        yield from self._io("store", "update_many", items, withdraw)

    def _send_hits(self, method_name: str, target: str, purpose: str) -> list[tuple[str, str]]:
        return send_hits(method_name, target, purpose, self.settings.sms_prefix_digits)

    # -- delivery --------------------------------------------------------------------------

    def _routes(self, challenge: Challenge) -> list[str]:
        """The senders to try in turn: the channel's own (for SMS, the provider of the
        number's country, or the default one), its fallback, then for SMS the subject's
        email (:mod:`stepup._channels`)."""
        channel = self.method(challenge.method).channel or ""
        if channel != "sms":
            return channel_routes(channel, self.senders)
        region = sms_region(challenge.target)
        first = f"sms:{region}" if region in self.settings.sms_routes else None
        routes = channel_routes("sms", self.senders, first=first)
        if challenge.fallback:
            routes.append(_EMAIL_FALLBACK)
        return routes

    def _message(self, challenge: Challenge, code: str) -> Message:
        channel = self.method(challenge.method).channel or ""
        subject, body = self.messages.code_message(
            challenge.purpose, channel, code, challenge.expires_at - self.clock(), challenge.operation
        )
        return Message(channel, challenge.target, body, subject if channel == "email" else "", challenge.purpose)

    def _deliver(self, challenge: Challenge, code: str) -> Flow[Challenge]:
        """Send the code by each route in turn until one takes it.

        Every failure is audited (``delivery_failed``), and the send that worked after one
        says which fallback it was (``sent`` with ``{"fallback": "sms:fallback"}`` or
        ``{"fallback": "email"}``).

        :returns: the challenge as delivered: moved to email when the code went there.
        :raises DeliveryError: every route failed (whatever each sender raised); nothing
            is charged by this flow.
        """
        failures: list[DeliveryError] = []
        for route in self._routes(challenge):
            current, sender = challenge, route
            if route == _EMAIL_FALLBACK:
                moved = yield from self._to_email(challenge)
                if moved is None:
                    continue
                current, sender = moved, "email"
            message = self._message(current, code)
            try:
                yield from self._io(sender, "send", message)
            except Exception as error:  # whatever a sender raises is a failed send
                e = as_delivery_error(error, message.channel, route)
                self._emit("delivery_failed", current, detail={"reason": e.reason or e.message, "via": route})
                failures.append(e)
                continue
            self._emit("sent", current, detail={"fallback": sender} if failures else {})
            return current
        raise _undelivered(failures)

    def _to_email(self, challenge: Challenge) -> Flow[Challenge | None]:
        """Move a challenge whose SMS failed to the subject's email (``None`` when the
        address's own send limit is full)."""
        address = challenge.fallback or ""
        try:
            yield from self._hit(self._send_hits("email", address, challenge.purpose), challenge)
        except RateLimited:
            return None
        notice = self.messages.fallback_notice("sms", "email", self.method("email").label(address))
        outcome = yield from self._transition(
            challenge, _machine.redirect, "email", address, notice, challenge.code_digest
        )
        if outcome.error is not None:
            raise outcome.error
        return outcome.challenge

    def _code_length(self, channel: str, purpose: str) -> int:
        table = self.settings.contact_code_length if purpose == "contact" else self.settings.code_length
        return int(table.get(channel, 6))

    # -- start -----------------------------------------------------------------------------

    def _issue(
        self,
        *,
        subject: str | None,
        method_name: str,
        purpose: str,
        target: str,
        pending: dict[str, Any] | None = None,
        operation: str | None = None,
        operation_digest: str | None = None,
        request: dict[str, Any] | None = None,
        session: str | None = None,
        app: str | None = None,
        route: str | None = None,
        client: str | None = None,
        fallback: str | None = None,
        accepted: list[str] | None = None,
    ) -> Flow[Challenge]:
        """Make a challenge, check its method's lock, charge its limits and store it in
        one step, and send its code.

        :param client: the client's address: charged for every challenge it starts.
        """
        method = self.method(method_name)
        yield from self._refuse_ended(session)  # a logout ends the login's new challenges too
        s, now = self.settings, self.clock()
        challenge_id, code = new_id(), ""
        if method.channel:
            code = new_code(self._code_length(method.channel, purpose))
        challenge = Challenge(
            id=challenge_id,
            subject=subject,
            method=method.name,
            target=target,
            purpose=purpose,  # type: ignore[arg-type]
            created_at=now,
            expires_at=now + min(s.code_ttl, s.challenge_lifetime),
            attempts_left=s.max_attempts,
            sends_left=s.max_sends - 1 if method.channel else 0,
            code_digest=self.keys.digest(challenge_id, code) if method.channel else None,
            last_sent_at=now if method.channel else None,
            operation=operation,
            operation_digest=operation_digest,
            request=request,
            session=self._session_digest(session),
            pending=pending,
            app=app,
            route=route,
            fallback=fallback,
            accepts=accepted,
        )
        hits = issue_hits(
            subject=subject, client=client, purpose=purpose, channel=method.channel, target=target,
            send_hits=self._send_hits(method.name, target, purpose) if method.channel else [],
            session=challenge.session,
        )  # fmt: skip
        # A new challenge is refused only for a method locked outright (under its key or
        # the one before keys were named by kind): the back-off gates the codes, so a user
        # who just used up a challenge can ask for a new one at once.
        locks = (failure_key(method.name, subject, target), legacy_failure_key(method.name, subject, target))
        at = yield from self._hit(hits, challenge, create=s.challenge_lifetime + s.challenge_retention, locks=locks)
        self._emit("issued", challenge)
        if method.channel:
            try:
                challenge = yield from self._deliver(challenge, code)
            except DeliveryError:
                # The challenge never existed; its sends stay charged (stepup._delivery).
                yield from self._withdraw(challenge, hits, at)
                raise
        return _public(challenge)

    def _start(
        self,
        subject: str,
        method: str,
        purpose: str = "step_up",
        *,
        binding_id: str | None = None,
        operation: str | None = None,
        operation_data: Any = None,
        request: dict[str, Any] | None = None,
        session: str | None = None,
        app: str | None = None,
        route: str | None = None,
        client: str | None = None,
        methods: Iterable[str] | None = None,
    ) -> Flow[Challenge]:
        """Start a challenge for a subject's bound method and send its code.

        :param subject: the app's user id.
        :param method: ``sms``, ``email``, ``totp``, ``recovery`` or a plug-in's name.
        :param purpose: ``login``, ``step_up`` or ``operation``.
        :param binding_id: which binding when the subject has several of the method.
        :param operation: for ``operation``: what is approved, in words; it is in the message.
        :param operation_data: what the approval is bound to (JSON-able); defaults to
            ``operation``.
        :param request: the original request to replay once after approval.
        :param session: an identifier of the caller's session (a per-login nonce); only
            the same session may verify.
        :param app: the app (blueprint, mount) asking, for policy.
        :param route: the route asking, for policy.
        :param client: the client's address, for rate limits.
        :param methods: the methods the route accepts (``None``: any): the challenge is of
            one of them and its code falls back only to another of them.
        :raises MethodNotAvailable: unknown, switched off, not bound, or not accepted here.
        :raises RateLimited: a limit is full; ``retry_after`` says when to retry.
        :raises TemporarilyLocked: recent failures; ``locked_until`` says until when.
        :raises MethodLocked: too many failures in a row.
        :raises LoginEnded: the session's login was ended by a logout.
        :raises DeliveryError: the message could not be sent, by any fallback either;
            no challenge is left, and only the send limits are charged
            (:mod:`stepup._delivery`). When a fallback sent it, the challenge says so in
            ``notice`` (and ``fallback_from`` when it went by email instead).
        :raises StoreUnavailable: the store is down.
        """
        if purpose not in PURPOSES - {"bind", "contact"}:
            raise InvalidInput(f"purpose must be login, step_up or operation, not {purpose!r}.")
        if purpose == "operation" and not operation:
            raise InvalidInput("An operation challenge needs an operation description.")
        m = self.method(method)
        accepted = None if methods is None else sorted(set(methods))
        if not accepts(accepted, m.name):
            raise MethodNotAvailable(f"{m.name} is not accepted here. Choose another method.")
        stored, record = yield from self._io("store", "get_many", [(_POLICY, _POLICY), (_SUBJECT, subject)])
        allowed = self.policy_cache.keep(stored, self.clock()).methods(app=app, route=route, subject=subject)
        if m.name not in allowed:
            raise MethodNotAvailable(f"{m.name} is switched off here. Choose another method.")
        record = record or {"bindings": []}
        binding = _find_binding(record, m.name, binding_id)
        if binding is None:
            raise MethodNotAvailable(f"Nothing is bound for {m.name}. Choose another method or add one.")
        # Only to a method this route accepts, so the grant never says more than was proved.
        fits = "email" in allowed and "email" in self.methods and accepts(accepted, "email")
        email = _find_binding(record, "email", None) if fits else None
        fallback = email["target"] if email and m.name == "sms" and self.settings.fallback_to_email else None
        digest = None
        if purpose == "operation":
            digest = self.operation_digest(operation if operation_data is None else operation_data)
        return (
            yield from self._issue(
                subject=subject,
                method_name=m.name,
                purpose=purpose,
                target=binding["target"] if m.channel else binding["id"],
                operation=operation,
                operation_digest=digest,
                request=request,
                session=session,
                app=app,
                route=route,
                client=client,
                fallback=fallback,
                accepted=accepted,
            )
        )

    # -- verify ------------------------------------------------------------------------------

    def _verify(
        self,
        challenge_id: str,
        code: object,
        *,
        subject: str | None = None,
        session: str | None = None,
        client: str | None = None,
    ) -> Flow[Approval]:
        """Check a code against a challenge.

        A right code approves the challenge once; a wrong one uses an attempt; the last
        wrong one exhausts it. Codes that are not ASCII digits are wrong codes.

        :param challenge_id: from :meth:`start`.
        :param code: what the user typed.
        :param subject: the caller's subject; must own the challenge.
        :param session: the caller's session identifier; must match the one that started it.
        :param client: the client's address, for rate limits.
        :raises WrongCode: with ``attempts_left``.
        :raises ChallengeExhausted: the last attempt was wrong.
        :raises ChallengeExpired: too late.
        :raises ChallengeClosed: already approved, used or cancelled.
        :raises ChallengeForbidden: another subject's or session's challenge.
        :raises LoginEnded: the session's login was ended by a logout.
        :raises ChallengeNotFound: no such challenge.
        :raises TemporarilyLocked: back-off after failures.
        :raises MethodLocked: too many failures in a row.
        :raises RateLimited: too many verifications from this client.
        :raises MethodNotAvailable: its method is switched off where it was started, now.
        """
        try:
            challenge = yield from self._load(challenge_id, subject, session)
        except ChallengeNotFound:
            # Charged only once found unknown, under a limit of its own: guessing ids
            # never uses up the verifications of a client address others share.
            if client is not None:
                yield from self._hit([("unknown_ids_per_client", client)])
            raise
        closed = _machine.closed_error(challenge, self.clock())
        if closed is not None and challenge.state != "pending":
            raise closed
        # Before anything is charged: a method switched off since the start takes no code.
        check_in_force((yield from self._policy()), challenge)
        if client is not None:
            yield from self._hit([("verifications_per_client", client)], challenge)
        key, counted = self._failure_key(challenge), contact_failure_hits(challenge.subject, client)
        if self.method(challenge.method).channel and self.store_atomic:
            outcome, failures = yield from self._evaluate_sent(challenge, code, key, counted)
            claimed: tuple[dict[str, Any] | None, dict[str, Any]] | None = None
        else:
            if counted:
                yield from self._hit(counted, challenge)  # without an atomic store: every code counts
            claimed = yield from self._claim_attempt(key, lock=challenge.subject is not None)
            failures = claimed[1]
            try:
                outcome = yield from self._evaluate(challenge, code, closed is None)
            except StepUpError:
                yield from self._release_attempt(key, *claimed)
                raise
        after = outcome.challenge or challenge
        # Only the transition that approved approves: a racing call that finds the
        # challenge approved already gets its error (the verdict names the state).
        if outcome.verdict == "approved" and outcome.error is None:
            if claimed is not None:
                yield from self._io("store", "delete", _FAILURES, key)
            self._emit("verified", after)
            binding = None
            if after.purpose == "bind":
                binding = yield from self._bind_from(after)
            return Approval(
                challenge_id=after.id,
                subject=after.subject,
                method=after.method,
                purpose=after.purpose,
                approved_at=after.approved_at or self.clock(),
                target=after.target,
                operation_digest=after.operation_digest,
                has_request=after.request is not None,
                binding=binding,
            )
        if outcome.changed and outcome.verdict in {"wrong", "exhausted"}:
            self._audit_failure(after, failures)
            self._emit("failed", after, detail={"attempts_left": after.attempts_left})
            if outcome.verdict == "exhausted":
                self._emit("exhausted", after)
        else:
            if claimed is not None:
                yield from self._release_attempt(key, *claimed)
            if outcome.changed and outcome.verdict == "expired":
                self._emit("expired", after)
        raise outcome.error or ChallengeNotFound("No such verification. Start again.")

    def _evaluate_sent(
        self, challenge: Challenge, code: object, key: str, counted: list[tuple[str, str]]
    ) -> Flow[tuple[_machine.Outcome, dict[str, Any] | None]]:
        """Check a sent code (SMS, email) in one atomic step over the challenge and the
        method's failure record, on a store atomic across records: the back-off and the
        lock are checked, the code evaluated and the failure counted (or the count
        cleared by a right code) together, so codes racing in from many sessions are
        counted one after the other, as :meth:`_claim_attempt` does in three steps.

        :param counted: limits a wrong code is charged to (a contact check's client),
            refused before the code is evaluated when full.
        :returns: the outcome and the failure record it left.
        :raises TemporarilyLocked: in the back-off after failures.
        :raises MethodLocked: after too many failures in a row.
        :raises RateLimited: a limit of ``counted`` is full.
        """
        digits, keys, now, limits = ascii_code(code), self.keys, self.clock(), self.limits

        def step(records: list[dict[str, Any] | None]) -> tuple[list[dict[str, Any] | None], Any]:
            failures, record, *limited = records
            charged, refused = limits.charge(counted, limited, now)
            error = refused or _lock_error(failures, now, backoff=True)
            if record is None or error is not None:
                missing = ChallengeNotFound("No such verification. Start again.")
                return records, (_machine.Outcome(None, "", error or missing), failures)
            ch = Challenge.from_record(record)
            ok = digits is not None and ch.code_digest is not None and keys.matches(ch.code_digest, ch.id, digits)
            outcome = _machine.evaluate(ch, ok, now)
            left = failures
            if outcome.verdict == "approved" and outcome.error is None:
                left = None
            elif outcome.changed and outcome.verdict in {"wrong", "exhausted"}:
                left = self._one_more_failure(failures, now, lock=ch.subject is not None)
                limited = charged
            new = outcome.challenge.to_record() if outcome.changed and outcome.challenge else record
            return [left, new, *limited], (outcome, left)

        items = [(_FAILURES, key, _FAILURES_TTL), (_CHALLENGE, challenge.id, None), *limits.items(counted)]
        outcome, left = yield from self._io("store", "update_many", items, step)
        if outcome.challenge is None and outcome.error is not None:
            raise outcome.error
        return outcome, left

    def _evaluate(self, challenge: Challenge, code: object, open_: bool) -> Flow[_machine.Outcome]:
        """Apply one code to the stored challenge, atomically."""
        method = self.method(challenge.method)
        keys, s = self.keys, self.settings

        if method.channel:
            digits = ascii_code(code)

            def step(ch: Challenge, now: float) -> _machine.Outcome:
                ok = digits is not None and ch.code_digest is not None and keys.matches(ch.code_digest, ch.id, digits)
                return _machine.evaluate(ch, ok, now)

        elif challenge.purpose == "bind":
            # A secret being enrolled waits in the challenge; its first code is checked there.
            def step(ch: Challenge, now: float) -> _machine.Outcome:
                data = method.check(ch.pending or {}, str(code), now, s, keys) if isinstance(code, str) else None
                outcome = _machine.evaluate(ch, data is not None, now)
                if data is not None and outcome.challenge is not None and outcome.verdict == "approved":
                    return dataclasses.replace(outcome, challenge=outcome.challenge.evolve(pending=data))
                return outcome

        else:
            matched = open_ and (yield from self._check_held(challenge, code))

            def step(ch: Challenge, now: float) -> _machine.Outcome:
                return _machine.evaluate(ch, matched, now)

        return (yield from self._transition(challenge, step, self.clock()))

    def _check_held(self, challenge: Challenge, code: object) -> Flow[bool]:
        """Check a TOTP or recovery code against the subject's binding, atomically marking
        it used (the TOTP step, the recovery code) when it matches."""
        if not isinstance(code, str) or challenge.subject is None:
            return False
        method, keys, s, now = self.method(challenge.method), self.keys, self.settings, self.clock()

        def check(record: dict[str, Any] | None) -> tuple[dict[str, Any] | None, bool]:
            bindings = (record or {}).get("bindings", [])
            for i, b in enumerate(bindings):
                if b["id"] == challenge.target:
                    data = method.check(b, code, now, s, keys)
                    if data is None:
                        return record, False
                    return {**(record or {}), "bindings": [*bindings[:i], data, *bindings[i + 1 :]]}, True
            return record, False

        passed: bool = yield from self._io("store", "update", _SUBJECT, challenge.subject, check, None)
        return passed

    def _bind_from(self, challenge: Challenge) -> Flow[Binding]:
        raise NotImplementedError  # provided by the binding flows

    # -- resend, cancel, consume, read -----------------------------------------------------

    def _resend(
        self, challenge_id: str, *, subject: str | None = None, session: str | None = None
    ) -> Flow[Challenge]:
        """Send a new code for a pending challenge; it replaces the old one and the
        attempts left carry over.

        :raises ResendTooSoon: the cooldown has not passed; ``retry_after`` says how long.
        :raises NoSendsLeft: every send of this challenge is used.
        :raises MethodNotAvailable: its method is switched off where it was started, now.
        :raises RateLimited: too many sends to this target.
        :raises DeliveryError: the send failed; the challenge's send is given back and the
            old code still works (the send limits stay charged: :mod:`stepup._delivery`).
        """
        challenge = yield from self._load(challenge_id, subject, session)
        method = self.method(challenge.method)
        if not method.channel:
            raise InvalidInput(f"{method.name} codes are not sent; there is nothing to resend.")
        check_in_force((yield from self._policy()), challenge)
        s = self.settings
        code = new_code(self._code_length(method.channel, challenge.purpose))
        digest = self.keys.digest(challenge.id, code)
        outcome = yield from self._transition(
            challenge, _machine.reserve_send, digest, self.clock(),
            cooldown=s.resend_cooldown, code_ttl=s.code_ttl, lifetime=s.challenge_lifetime,
        )  # fmt: skip
        if outcome.error is not None:
            if outcome.changed and outcome.verdict == "expired":
                self._emit("expired", outcome.challenge)
            raise outcome.error
        before = challenge
        reserved = outcome.challenge or challenge
        try:
            yield from self._hit(self._send_hits(method.name, reserved.target, reserved.purpose), reserved)
            reserved = yield from self._deliver(reserved, code)
        except (RateLimited, DeliveryError):
            yield from self._transition(challenge, _machine.refund_send, before, digest)
            raise
        return _public(reserved)

    def _cancel(self, challenge_id: str, *, subject: str | None = None, session: str | None = None) -> Flow[None]:
        """End a pending challenge; its code stops working.

        :raises ChallengeClosed: it had already ended.
        """
        challenge = yield from self._load(challenge_id, subject, session)
        outcome = yield from self._transition(challenge, _machine.cancel, self.clock())
        if outcome.error is not None:
            raise outcome.error
        self._emit("cancelled", outcome.challenge)

    def _consume(
        self,
        challenge_id: str,
        *,
        subject: str | None = None,
        session: str | None = None,
        operation_data: Any = None,
        methods: Iterable[str] | None = None,
    ) -> Flow[dict[str, Any] | None]:
        """Use an approval once and hand back the saved request to replay, if any.

        Only a challenge started for an operation (purpose ``operation``) approves one,
        and only the operation whose digest it holds: a login or step-up code, verified in
        the same session, approves nothing.

        :param operation_data: the operation about to run; it must be the one approved.
        :param methods: the methods the route running it accepts (``None``: any); the
            method that approved must be one of them, and of those the challenge was
            started for.
        :raises OperationMismatch: the challenge approves no operation, or another one.
        :raises MethodNotAccepted: it was approved by a method the route does not accept,
            or that the policy no longer allows where it was started.
        :raises ApprovalUsed: the approval was used already.
        :raises LoginEnded: the session's login was ended by a logout.
        :raises ChallengeClosed: not approved.
        """
        challenge = yield from self._load(challenge_id, subject, session)
        if challenge.purpose != "operation" or challenge.operation_digest is None:
            raise OperationMismatch("This verification approves no operation. Approve this one first.")
        if operation_data is None or not self._operation_matches(challenge.operation_digest, operation_data):
            raise OperationMismatch("This approval is for a different operation. Approve this one.")
        check_accepted(None if methods is None else frozenset(methods), challenge.method)
        check_accepted(challenge.accepts, challenge.method)
        check_in_force((yield from self._policy()), challenge, used=True)
        outcome = yield from self._transition(challenge, _machine.consume)
        if outcome.error is not None:
            raise outcome.error
        return outcome.released

    def _challenge(
        self, challenge_id: str, *, subject: str | None = None, session: str | None = None
    ) -> Flow[Challenge]:
        """The challenge as it stands (an expired one shows ``expired``).

        :raises ChallengeNotFound: no such challenge.
        :raises ChallengeForbidden: another subject's or session's challenge.
        """
        challenge = yield from self._load(challenge_id, subject, session)
        if challenge.state == "pending" and self.clock() >= challenge.expires_at:
            challenge = challenge.evolve(state="expired")
        return _public(challenge)


def _lock_error(record: dict[str, Any] | None, now: float, *, backoff: bool) -> StepUpError | None:
    """Why a method's failure record refuses codes now (locked, or in its back-off), if it does."""
    if not record:
        return None
    if record.get("locked"):
        return MethodLocked(
            "This method is locked after too many wrong codes. Use another method or ask an administrator."
        )
    locked_until = float(record.get("until", 0))
    if backoff and locked_until > now:
        wait = max(1, int(locked_until - now + 0.999))
        return TemporarilyLocked(
            f"Too many wrong codes. Try again in {wait} s.", retry_after=wait, locked_until=locked_until
        )
    return None


def _public(challenge: Challenge) -> Challenge:
    """The challenge without its code digest, pending secret, saved request body or
    fallback address."""
    return challenge.evolve(code_digest=None, pending=None, request=None, fallback=None)


def _undelivered(failures: list[DeliveryError]) -> DeliveryError:
    """One error for a code no route could send."""
    if len(failures) == 1:
        return failures[0]
    reasons = "; ".join(e.reason or e.message for e in failures)
    return DeliveryError(
        "The code could not be sent, by any of the ways tried. Try again in a few minutes or choose another method.",
        failures[0].channel,
        reasons,
    )


def _find_binding(record: dict[str, Any], method: str, binding_id: str | None) -> dict[str, Any] | None:
    for b in record.get("bindings", []):
        if b["method"] == method and (binding_id is None or b["id"] == binding_id):
            if method == "recovery" and not b.get("codes"):
                continue
            return dict(b)
    return None
