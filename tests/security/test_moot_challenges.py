"""A workflow's steps of a challenge nobody can use any more, at the engine, on each store:
a login a logout ended, or another challenge of the same session that passed. Neither the
worker (``run_due``) nor the user's "call me instead" (``next_step``) calls anyone for it:
it is cancelled instead, audited, and gone from the due index and the console's list. A
challenge of a live login, an operation's approval and another session's login still fire.
(Over HTTP on both banks: tests/security/test_moot_challenges_web.py.)"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable, Iterator
from typing import Any

import pyotp
import pytest

import stepup
from stepup.senders import MemorySender
from stepup.stores import store_from_url
from stepup.testing import code_from
from tests.support.authenticator import SoftAuthenticator

KEY = "m" * 40
PHONE = "+447400123456"
TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
ORIGIN = "https://bank.example"
TRANSFER = "transfer of 7.77 to bob"


class _PerRecord:
    """A store atomic per record only (``get``, ``update``, ``delete``: the engine makes
    its steps over several records of them), as a Redis Cluster's steps across hash slots
    are: a pass cancels the challenges it makes moot just after its own step."""

    def __init__(self, store: Any) -> None:
        self.inner = store

    def get(self, kind: str, key: str) -> Any:
        return self.inner.get(kind, key)

    def update(self, kind: str, key: str, fn: Any, ttl: float | None = None) -> Any:
        return self.inner.update(kind, key, fn, ttl)

    def delete(self, kind: str, key: str) -> None:
        self.inner.delete(kind, key)

    def close(self) -> None:
        self.inner.close()


class Bank:
    def __init__(self, store_url: str, *, per_record: bool = False, **overrides: Any) -> None:
        self.clock = stepup.FrozenClock()
        self.sms, self.voice = MemorySender(), MemorySender()
        self.audit: list[stepup.AuditEvent] = []
        store = _PerRecord(store_from_url(store_url, self.clock)) if per_record else None
        self.engine = stepup.Engine(
            secret_key=KEY, store_url=store_url, store=store, sms=self.sms, senders={"voice": self.voice},
            clock=self.clock, workflow="sms:5,voice", audit_hooks=[self.audit.append], **overrides,
        )  # fmt: skip
        self.engine.import_binding("alice", "sms", PHONE)

    def start(self, session: str, purpose: str = "login", **options: Any) -> tuple[stepup.Challenge, str]:
        """A challenge and the code its text message carried."""
        challenge = self.engine.start("alice", "sms", purpose, session=session, **options)
        return challenge, code_from(self.sms.last)

    def pending(self) -> list[str]:
        return [c.id for c in self.engine.pending_challenges("alice")]

    def cancelled(self, reason: str) -> list[str | None]:
        return [e.challenge_id for e in self.audit if e.type == "cancelled" and e.detail.get("reason") == reason]


@pytest.fixture
def make(store_url: str) -> Iterator[Callable[..., Bank]]:
    made: list[Bank] = []

    def build(**overrides: Any) -> Bank:
        made.append(Bank(store_url, **overrides))
        return made[-1]

    yield build
    for bank in made:
        bank.engine.close()


# -- a logout ---------------------------------------------------------------------------------


def test_the_worker_calls_nobody_for_a_login_a_logout_ended(make: Callable[..., Bank]) -> None:
    bank = make()
    challenge, _ = bank.start("login-1")
    bank.engine.end_login("login-1")
    bank.clock.advance(6)

    fired = bank.engine.run_due()

    assert fired == 0 and bank.voice.outbox == []
    assert bank.pending() == [] and bank.cancelled("login_ended") == [challenge.id]
    bank.clock.advance(60)
    assert bank.engine.run_due() == 0 and bank.voice.outbox == []  # dropped from the index
    assert bank.cancelled("login_ended") == [challenge.id]  # cancelled once


def test_a_step_up_of_a_renewed_nonce_ends_with_its_login(make: Callable[..., Bank]) -> None:
    bank = make()
    bank.start("login-1.1", "step_up")  # after the login's second factor renewed its nonce
    bank.engine.end_login("login-1.1")
    bank.clock.advance(6)

    assert bank.engine.run_due() == 0 and bank.voice.outbox == []
    assert bank.pending() == []


def test_the_users_next_step_calls_nobody_for_an_ended_login(make: Callable[..., Bank]) -> None:
    bank = make()
    challenge, _ = bank.start("login-1")
    bank.engine.end_login("login-1")
    bank.clock.advance(6)

    with pytest.raises(stepup.LoginEnded):
        bank.engine.next_step(challenge.id, subject="alice", session="login-1")
    assert bank.engine.run_due() == 0 and bank.voice.outbox == []


def test_a_live_login_still_gets_its_call(make: Callable[..., Bank]) -> None:
    bank = make()
    ended, _ = bank.start("login-1")
    live, code = bank.start("login-2")
    bank.engine.end_login("login-1")
    bank.clock.advance(6)

    assert bank.engine.run_due() == 1
    assert [m.to for m in bank.voice.outbox] == [PHONE] and code in re.sub(r"\D", "", bank.voice.last.body)
    assert bank.pending() == [live.id] and bank.cancelled("login_ended") == [ended.id]
    assert bank.engine.verify(live.id, code, subject="alice", session="login-2").purpose == "login"


def test_a_key_rotated_in_after_the_start_still_ends_its_steps(make: Callable[..., Bank]) -> None:
    bank = make()
    bank.start("login-1")
    rotated = stepup.Engine(
        secret_key=[KEY, "n" * 40], store=bank.engine.store, sms=bank.sms,
        senders={"voice": bank.voice}, clock=bank.clock, workflow="sms:5,voice",
    )  # fmt: skip
    try:
        rotated.end_login("login-1")
        bank.clock.advance(6)
        assert rotated.run_due() == 0 and bank.voice.outbox == []
    finally:
        rotated.close()


# -- another challenge of the same session passed ---------------------------------------------


@pytest.mark.parametrize("purpose", ["login", "step_up"])
def test_a_passed_challenge_ends_the_sessions_others(make: Callable[..., Bank], purpose: str) -> None:
    bank = make()
    first, first_code = bank.start("login-1", purpose)
    second, second_code = bank.start("login-1", purpose)  # "Use another method", SMS again

    bank.engine.verify(second.id, second_code, subject="alice", session="login-1")
    bank.clock.advance(6)

    assert bank.engine.run_due() == 0 and bank.voice.outbox == []
    assert bank.pending() == [] and bank.cancelled("superseded") == [first.id]
    with pytest.raises(stepup.ChallengeClosed):
        bank.engine.verify(first.id, first_code, subject="alice", session="login-1")


def test_an_approved_operation_ends_the_sessions_other_challenges_of_it_alone(make: Callable[..., Bank]) -> None:
    # Two challenges for one transfer (a second method tried): once one approves it, the
    # other's code must not approve it again, nor its call go out. Another transfer's stays.
    bank = make()
    first, first_code = bank.start("login-1", "operation", operation="transfer of 7.77 to bob")
    other, _ = bank.start("login-1", "operation", operation="transfer of 9.00 to carol")
    second, second_code = bank.start("login-1", "operation", operation="transfer of 7.77 to bob")

    bank.engine.verify(second.id, second_code, subject="alice", session="login-1")
    bank.clock.advance(6)

    assert bank.pending() == [other.id] and bank.cancelled("superseded") == [first.id]
    with pytest.raises(stepup.ChallengeClosed):
        bank.engine.verify(first.id, first_code, subject="alice", session="login-1")
    assert bank.engine.run_due() == 1 and [m.to for m in bank.voice.outbox] == [bank.voice.outbox[0].to]


def test_a_sent_codes_pass_cancels_the_other_challenge_in_its_own_step(make: Callable[..., Bank]) -> None:
    # Two challenges for one transfer: the step that approves one cancels the other, so no
    # code of the other approves it too, however the request goes on (here every write
    # after that step fails: the store went away, or the request was cut off).
    bank = make()
    first, first_code = bank.start("login-1", "operation", operation="transfer of 7.77 to bob")
    second, second_code = bank.start("login-1", "operation", operation="transfer of 7.77 to bob")
    store = bank.engine.store
    step, update = store.update_after, store.update
    raced: list[Any] = []

    def approve_then_race(*args: Any) -> Any:
        done = step(*args)
        if not raced:  # a request with the other code, right after the approving step
            raced.append(None)
            try:
                raced[0] = bank.engine.verify(first.id, first_code, subject="alice", session="login-1")
            except stepup.StepUpError as refused:
                raced[0] = refused
        return done

    def down(*args: Any, **kwargs: Any) -> Any:
        raise stepup.StoreUnavailable("The store went away.")

    store.update_after, store.update = approve_then_race, down
    try:
        bank.engine.verify(second.id, second_code, subject="alice", session="login-1")
    finally:
        store.update_after, store.update = step, update

    assert isinstance(raced[0], stepup.ChallengeClosed)
    assert bank.pending() == []
    with pytest.raises(stepup.ChallengeClosed):
        bank.engine.verify(first.id, first_code, subject="alice", session="login-1")


def _holds(bank: Bank, method: str) -> Callable[[stepup.Challenge], str]:
    """Bind alice's ``method`` (an authenticator app, recovery codes, a passkey) and
    answer one of its challenges with it, as she would."""
    if method == "totp":
        bank.engine.import_binding("alice", "totp", secret=TOTP_SECRET)
        return lambda challenge: pyotp.TOTP(TOTP_SECRET).at(bank.clock())
    if method == "recovery":
        bank.engine.import_binding("alice", "totp")
        codes = bank.engine.generate_recovery_codes("alice")
        return lambda challenge: codes[0]
    device = SoftAuthenticator(ORIGIN)
    bind = bank.engine.begin_bind("alice", "passkey").challenge
    bank.engine.verify(bind.id, device.create(bank.engine.passkey_options(bind.id, subject="alice")), subject="alice")
    return lambda challenge: device.get(bank.engine.passkey_options(challenge.id, subject="alice", session="login-1"))


@contextlib.contextmanager
def _racing_the_step_approving(bank: Bank, challenge_id: str, race: Callable[[], Any]) -> Iterator[list[Any]]:
    """Make ``race`` (another request) right after the store step that approves
    ``challenge_id``, its result or error noted in the list yielded; every later write of
    the approving request fails then (the store went away, or the request was cut off)."""
    store, names = bank.engine.store, ("update", "update_many", "update_after", "delete")
    calls = {name: getattr(store, name) for name in names}
    raced: list[Any] = []
    racing = [False]

    def approved() -> bool:
        return (store.get("challenge", challenge_id) or {}).get("state") == "approved"

    def watched(name: str) -> Callable[..., Any]:
        def call(*args: Any) -> Any:
            if raced and not racing[0]:
                raise stepup.StoreUnavailable("The store went away.")
            done = calls[name](*args)
            if not raced and approved():
                raced.append(None)
                racing[0] = True
                try:
                    raced[0] = race()
                except stepup.StepUpError as refused:
                    raced[0] = refused
                racing[0] = False
            return done

        return call

    for name in names:
        setattr(store, name, watched(name))
    try:
        yield raced
    finally:
        for name in names:
            setattr(store, name, calls[name])


@pytest.mark.parametrize("method", ["totp", "recovery", "passkey"])
def test_a_held_factors_pass_cancels_the_other_challenge_in_its_own_step(
    make: Callable[..., Bank], method: str
) -> None:
    # As a sent code's: the step in which an authenticator app's code, a recovery code or
    # a passkey approves the transfer cancels the other challenge of it, so no code of the
    # other (an SMS, here) approves it too, however the request goes on.
    bank = make(
        methods={"sms", "totp", "recovery", "passkey"}, webauthn_rp_id="bank.example", webauthn_origins=(ORIGIN,)
    )
    answer = _holds(bank, method)
    first, first_code = bank.start("login-1", "operation", operation=TRANSFER)
    second = bank.engine.start("alice", method, "operation", session="login-1", operation=TRANSFER)

    def other_code() -> stepup.Approval:
        return bank.engine.verify(first.id, first_code, subject="alice", session="login-1")

    code = answer(second)
    with _racing_the_step_approving(bank, second.id, other_code) as raced:
        with contextlib.suppress(stepup.StoreUnavailable):  # a later write of the pass's request
            bank.engine.verify(second.id, code, subject="alice", session="login-1")

    assert isinstance(raced[0], stepup.ChallengeClosed)
    assert bank.pending() == []
    with pytest.raises(stepup.ChallengeClosed):
        other_code()


def test_a_challenge_whose_cancel_failed_stays_listed_for_support_to_end(make: Callable[..., Bank]) -> None:
    # On a store atomic per record only (a Redis Cluster), a pass cancels the others after
    # its own step: when that cancel fails, the other stays in the console's list, where
    # support ends it, rather than drop out of sight still able to approve the same transfer.
    bank = make(per_record=True)
    bank.engine.import_binding("alice", "totp", secret=TOTP_SECRET)
    first, first_code = bank.start("login-1", "operation", operation=TRANSFER)
    second = bank.engine.start("alice", "totp", "operation", session="login-1", operation=TRANSFER)
    store, update = bank.engine.store, bank.engine.store.update

    def cancel_fails(kind: str, key: str, *args: Any) -> Any:
        if kind == "challenge" and key == first.id:
            raise stepup.StoreUnavailable("The store went away.")
        return update(kind, key, *args)

    store.update = cancel_fails
    try:
        bank.engine.verify(second.id, pyotp.TOTP(TOTP_SECRET).at(bank.clock()), subject="alice", session="login-1")
    finally:
        store.update = update

    assert bank.pending() == [first.id]
    assert bank.engine.support_action("alice", "end_challenges", by="admin") == 1
    with pytest.raises(stepup.ChallengeClosed):
        bank.engine.verify(first.id, first_code, subject="alice", session="login-1")


def test_another_sessions_login_and_an_operation_stay(make: Callable[..., Bank]) -> None:
    bank = make()
    elsewhere, _ = bank.start("login-2")  # alice signing in on her other device
    operation, _ = bank.start("login-1", "operation", operation="transfer of 50.00 to bob")
    login, code = bank.start("login-1")

    bank.engine.verify(login.id, code, subject="alice", session="login-1")
    bank.clock.advance(6)

    assert sorted(bank.pending()) == sorted([elsewhere.id, operation.id])
    assert bank.engine.run_due() == 2 and len(bank.voice.outbox) == 2
    assert bank.cancelled("superseded") == []
