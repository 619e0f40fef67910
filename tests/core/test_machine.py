"""The challenge state machine, through the engine and as pure functions, on a frozen clock."""

from __future__ import annotations

import dataclasses
import re
from typing import Any

import pytest

import stepup
from stepup import _machine
from stepup._models import Challenge
from tests.support.stored import raw_strings

PHONE = "+447400123456"
TRANSFER = {"to": "bob", "amount": "50.00"}
REQUEST = {"method": "POST", "path": "/transfer", "query": "", "content_type": "application/json", "body": "{}"}


@pytest.fixture
def engine(engine_factory: Any) -> stepup.Engine:
    """An engine where alice has a phone bound."""
    engine: stepup.Engine = engine_factory()
    engine.import_binding("alice", "sms", PHONE)
    return engine


def start(engine: stepup.Engine, **kwargs: Any) -> str:
    return engine.start("alice", "sms", **kwargs).id


def verify(engine: stepup.Engine, challenge_id: str, code: object, **kwargs: Any) -> stepup.Approval:
    kwargs.setdefault("subject", "alice")
    return engine.verify(challenge_id, code, **kwargs)


def wrong(code: str) -> str:
    return f"{(int(code) + 1) % 10**len(code):0{len(code)}d}"


# -- approve, wrong, exhausted, expired --------------------------------------------------


def test_right_code_approves_once(engine: stepup.Engine, sms: Any, last_code: Any) -> None:
    cid = start(engine)
    code = last_code(sms)
    approval = verify(engine, cid, code)
    assert (approval.subject, approval.method, approval.purpose) == ("alice", "sms", "step_up")
    with pytest.raises(stepup.ChallengeClosed):
        verify(engine, cid, code)


def test_three_wrong_codes_exhaust(engine: stepup.Engine, sms: Any, last_code: Any) -> None:
    cid = start(engine)
    code = last_code(sms)
    for left in (2, 1):
        with pytest.raises(stepup.WrongCode) as e:
            verify(engine, cid, wrong(code))
        assert e.value.attempts_left == left
    with pytest.raises(stepup.ChallengeExhausted):
        verify(engine, cid, wrong(code))
    with pytest.raises(stepup.ChallengeExhausted):
        verify(engine, cid, code)
    assert engine.challenge(cid, subject="alice").state == "exhausted"


def test_code_expires_after_ttl(engine: stepup.Engine, sms: Any, clock: Any, last_code: Any) -> None:
    cid = start(engine)
    code = last_code(sms)
    clock.advance(engine.settings.code_ttl)
    with pytest.raises(stepup.ChallengeExpired):
        verify(engine, cid, code)
    with pytest.raises(stepup.ChallengeExpired):
        verify(engine, cid, code)


def test_code_works_just_before_expiry(engine: stepup.Engine, sms: Any, clock: Any, last_code: Any) -> None:
    cid = start(engine)
    clock.advance(engine.settings.code_ttl - 1)
    assert verify(engine, cid, last_code(sms)).challenge_id == cid


# -- resend -----------------------------------------------------------------------------


def test_resend_waits_for_cooldown(engine: stepup.Engine, clock: Any) -> None:
    cid = start(engine)
    clock.advance(10)
    with pytest.raises(stepup.ResendTooSoon) as e:
        engine.resend(cid, subject="alice")
    assert e.value.retry_after == 20


def test_resend_sends_new_code_keeps_attempts(engine: stepup.Engine, sms: Any, clock: Any, last_code: Any) -> None:
    cid = start(engine)
    old = last_code(sms)
    with pytest.raises(stepup.WrongCode):
        verify(engine, cid, wrong(old))
    clock.advance(30)
    resent = engine.resend(cid, subject="alice")
    assert len(sms.outbox) == 2
    assert resent.attempts_left == 2
    new = last_code(sms)
    if new != old:  # one chance in a million that the new code repeats the old one
        with pytest.raises(stepup.WrongCode) as e:
            verify(engine, cid, old)
        assert e.value.attempts_left == 1
    assert verify(engine, cid, new).challenge_id == cid


def test_three_sends_then_no_sends_left(engine: stepup.Engine, sms: Any, clock: Any) -> None:
    cid = start(engine)
    for left in (1, 0):
        clock.advance(30)
        assert engine.resend(cid, subject="alice").sends_left == left
    clock.advance(30)
    with pytest.raises(stepup.NoSendsLeft):
        engine.resend(cid, subject="alice")
    assert len(sms.outbox) == 3


def test_cancel_closes(engine: stepup.Engine, sms: Any, last_code: Any) -> None:
    cid = start(engine)
    engine.cancel(cid, subject="alice")
    with pytest.raises(stepup.ChallengeClosed):
        verify(engine, cid, last_code(sms))
    with pytest.raises(stepup.ChallengeClosed):
        engine.cancel(cid, subject="alice")


# -- odd input ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "garbage",
    ["１２３４５６", "٠١٢٣٤٥", "abcdef", "", None, 123456, "1" * 1_000_000, "12\x0034", "\x00" * 6],
    ids=["fullwidth", "arabic-indic", "letters", "empty", "none", "int", "1MB", "nul", "nuls"],
)
def test_garbage_is_a_wrong_code(engine: stepup.Engine, sms: Any, last_code: Any, garbage: object) -> None:
    cid = start(engine)
    with pytest.raises(stepup.WrongCode) as e:
        verify(engine, cid, garbage)
    assert e.value.attempts_left == 2
    assert verify(engine, cid, last_code(sms)).challenge_id == cid


def test_int_of_the_right_code_is_wrong(engine: stepup.Engine, sms: Any, last_code: Any) -> None:
    cid = start(engine)
    with pytest.raises(stepup.WrongCode):
        verify(engine, cid, int("1" + last_code(sms)))


def test_spaces_and_hyphens_are_ignored(engine: stepup.Engine, sms: Any, last_code: Any) -> None:
    cid = start(engine)
    code = last_code(sms)
    assert verify(engine, cid, f" {code[:3]}-{code[3:]} ").challenge_id == cid


# -- whose challenge ---------------------------------------------------------------------


def test_another_subjects_challenge_is_forbidden(engine: stepup.Engine, sms: Any, last_code: Any) -> None:
    cid = start(engine)
    code = last_code(sms)
    for intruder in ("mallory", None):
        with pytest.raises(stepup.ChallengeForbidden):
            engine.verify(cid, code, subject=intruder)
    assert engine.challenge(cid, subject="alice").attempts_left == 3
    assert verify(engine, cid, code).challenge_id == cid


def test_another_sessions_challenge_is_forbidden(engine: stepup.Engine, sms: Any, last_code: Any) -> None:
    cid = start(engine, session="s1")
    code = last_code(sms)
    for other in ("s2", None):
        with pytest.raises(stepup.ChallengeForbidden):
            verify(engine, cid, code, session=other)
    assert verify(engine, cid, code, session="s1").challenge_id == cid


@pytest.mark.parametrize("cid", ["A" * 24, "", "x", None, 42, "A" * 10_000, "../../etc/passwd\x00000000"])
def test_unknown_challenge_is_not_found(engine: stepup.Engine, cid: object) -> None:
    with pytest.raises(stepup.ChallengeNotFound):
        verify(engine, cid, "123456")  # type: ignore[arg-type]


# -- operations ---------------------------------------------------------------------------


def start_transfer(engine: stepup.Engine) -> str:
    return engine.start(
        "alice", "sms", "operation", operation="transfer of 50.00 to bob", operation_data=TRANSFER, request=REQUEST
    ).id


def test_operation_message_names_the_operation(engine: stepup.Engine, sms: Any, last_code: Any) -> None:
    start_transfer(engine)
    assert f"Code {last_code(sms)} approves transfer of 50.00 to bob" in sms.last.body


def test_operation_approval_is_consumed_once(engine: stepup.Engine, sms: Any, last_code: Any) -> None:
    cid = start_transfer(engine)
    approval = verify(engine, cid, last_code(sms))
    assert approval.has_request and approval.operation_digest
    assert engine.consume(cid, subject="alice", operation_data=dict(TRANSFER)) == REQUEST
    with pytest.raises(stepup.ChallengeClosed):
        engine.consume(cid, subject="alice", operation_data=TRANSFER)


@pytest.mark.parametrize("changed", [{"amount": "5000.00"}, {"to": "mallory"}, {"extra": "1"}])
def test_operation_mismatch(engine: stepup.Engine, sms: Any, last_code: Any, changed: dict[str, str]) -> None:
    cid = start_transfer(engine)
    verify(engine, cid, last_code(sms))
    with pytest.raises(stepup.OperationMismatch):
        engine.consume(cid, subject="alice", operation_data={**TRANSFER, **changed})
    with pytest.raises(stepup.OperationMismatch):
        engine.consume(cid, subject="alice")
    assert engine.consume(cid, subject="alice", operation_data=TRANSFER) == REQUEST


def test_consume_before_approval_is_closed(engine: stepup.Engine, sms: Any, last_code: Any) -> None:
    cid = start_transfer(engine)
    with pytest.raises(stepup.ChallengeClosed):
        engine.consume(cid, subject="alice", operation_data=TRANSFER)
    verify(engine, cid, last_code(sms))
    assert engine.consume(cid, subject="alice", operation_data=TRANSFER) == REQUEST


def test_consume_by_another_subject_is_forbidden(engine: stepup.Engine, sms: Any, last_code: Any) -> None:
    cid = start_transfer(engine)
    verify(engine, cid, last_code(sms))
    with pytest.raises(stepup.ChallengeForbidden):
        engine.consume(cid, subject="mallory", operation_data=TRANSFER)
    assert engine.consume(cid, subject="alice", operation_data=TRANSFER) == REQUEST


# -- delivery failures ----------------------------------------------------------------------


def test_failed_delivery_on_start_leaves_no_challenge(engine: stepup.Engine, sms: Any, audit: list[Any]) -> None:
    sms.fail_with = stepup.DeliveryError("The SMS could not be sent.", "sms", "gateway timeout")
    with pytest.raises(stepup.DeliveryError):
        start(engine)
    issued = [e.challenge_id for e in audit if e.type == "issued"]
    assert len(issued) == 1
    with pytest.raises(stepup.ChallengeNotFound):
        engine.challenge(issued[0], subject="alice")
    assert [e.type for e in audit][-1] == "delivery_failed"


def test_failed_delivery_on_resend_charges_nothing(engine: stepup.Engine, sms: Any, clock: Any, last_code: Any) -> None:
    cid = start(engine)
    old = last_code(sms)
    clock.advance(30)
    sms.fail_with = stepup.DeliveryError("The SMS could not be sent.", "sms", "gateway timeout")
    with pytest.raises(stepup.DeliveryError):
        engine.resend(cid, subject="alice")
    assert engine.challenge(cid, subject="alice").sends_left == 2
    sms.fail_with = None
    assert verify(engine, cid, old).challenge_id == cid


# -- storage --------------------------------------------------------------------------------


def test_code_is_stored_only_as_a_digest(engine: stepup.Engine, sms: Any, last_code: Any) -> None:
    cid = start(engine)
    code = last_code(sms)
    record = engine.store.get("challenge", cid)
    assert record is not None and re.fullmatch(r"[0-9a-f]{64}", record["code_digest"])
    hexes = re.compile(r"[0-9a-f]{64}")
    assert not [s for s in raw_strings(engine) if code in s and not hexes.fullmatch(s)]
    assert engine.challenge(cid, subject="alice").code_digest is None


# -- the pure functions -----------------------------------------------------------------------


def pending(**changes: Any) -> Challenge:
    values: dict[str, Any] = {
        "id": "c" * 24, "subject": "alice", "method": "sms", "target": PHONE, "purpose": "step_up",
        "created_at": 1000.0, "expires_at": 1300.0, "attempts_left": 3, "sends_left": 2,
        "code_digest": "d1", "last_sent_at": 1000.0,
    }  # fmt: skip
    values.update(changes)
    return Challenge(**values)


def test_evaluate_transitions() -> None:
    approved = _machine.evaluate(pending(), True, 1100.0)
    assert approved.verdict == "approved" and approved.changed and approved.error is None
    assert approved.challenge is not None and approved.challenge.approved_at == 1100.0
    assert approved.challenge.code_digest is None
    wrong_once = _machine.evaluate(pending(), False, 1100.0)
    assert isinstance(wrong_once.error, stepup.WrongCode) and wrong_once.error.attempts_left == 2
    last = _machine.evaluate(pending(attempts_left=1), False, 1100.0)
    assert last.verdict == "exhausted" and isinstance(last.error, stepup.ChallengeExhausted)
    assert last.challenge is not None and last.challenge.code_digest is None


def test_evaluate_after_expiry_and_end() -> None:
    late = _machine.evaluate(pending(), True, 1300.0)
    assert late.verdict == "expired" and late.changed and isinstance(late.error, stepup.ChallengeExpired)
    again = _machine.evaluate(pending(state="approved"), True, 1100.0)
    assert not again.changed and isinstance(again.error, stepup.ChallengeClosed)


def test_closed_error_by_state() -> None:
    assert _machine.closed_error(pending(), 1299.0) is None
    for state, error in [("expired", stepup.ChallengeExpired), ("exhausted", stepup.ChallengeExhausted),
                         ("cancelled", stepup.ChallengeClosed), ("approved", stepup.ChallengeClosed)]:  # fmt: skip
        assert isinstance(_machine.closed_error(pending(state=state), 1100.0), error)


def test_reserve_and_refund_send() -> None:
    before = pending()
    soon = _machine.reserve_send(before, "d2", 1010.0, cooldown=30, code_ttl=300, lifetime=900)
    assert isinstance(soon.error, stepup.ResendTooSoon) and soon.error.retry_after == 20 and not soon.changed
    done = _machine.reserve_send(before, "d2", 1030.0, cooldown=30, code_ttl=300, lifetime=900)
    assert done.challenge is not None
    assert (done.challenge.code_digest, done.challenge.sends_left, done.challenge.expires_at) == ("d2", 1, 1330.0)
    capped = _machine.reserve_send(before, "d2", 1030.0, cooldown=30, code_ttl=300, lifetime=310)
    assert capped.challenge is not None and capped.challenge.expires_at == 1310.0
    refunded = _machine.refund_send(done.challenge, before, "d2")
    assert refunded.challenge == before
    untouched = _machine.refund_send(dataclasses.replace(done.challenge, code_digest="d3"), before, "d2")
    assert not untouched.changed
    empty = _machine.reserve_send(pending(sends_left=0), "d2", 1100.0, cooldown=30, code_ttl=300, lifetime=900)
    assert isinstance(empty.error, stepup.NoSendsLeft)


def test_cancel_and_consume() -> None:
    cancelled = _machine.cancel(pending(), 1100.0)
    assert cancelled.challenge is not None and cancelled.challenge.state == "cancelled"
    assert isinstance(_machine.consume(pending()).error, stepup.ChallengeClosed)
    approved = pending(state="approved", request=REQUEST)
    used = _machine.consume(approved)
    assert used.released == REQUEST and used.challenge is not None and used.challenge.request is None
    assert isinstance(_machine.consume(used.challenge).error, stepup.ChallengeClosed)

