"""What a login costs the Redis store: an SMS start and its verify are one round trip each
(the policy read once and remembered), and the console's index of open challenges and the
binding's last-used date are written in those same steps, not after them."""

from __future__ import annotations

from typing import Any

import pytest

import stepup
from stepup.senders import MemorySender
from stepup.testing import code_from

SECRET = "k" * 40
NONCE = "a-login-nonce-of-some-length"


SMS = MemorySender()


@pytest.fixture
def engine(redis_url: str) -> stepup.Engine:
    # Without the stored audit trail, whose append is a round trip of its own.
    return stepup.Engine(
        secret_key=SECRET, store_url=redis_url, sms=SMS, email=MemorySender(),
        clock=stepup.FrozenClock(1_800_000_000.0), audit_retention_days=0,
    )  # fmt: skip


def _counted(engine: stepup.Engine, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    sent: list[str] = []
    commands: Any = engine.store._commands  # type: ignore[attr-defined]  # noqa: SLF001
    send = commands.send

    def counting(*args: Any) -> Any:
        sent.append(str(args[0]).upper())
        return send(*args)

    monkeypatch.setattr(commands, "send", counting)
    return sent


def test_a_start_and_its_verify_are_one_round_trip_each_with_the_index_and_the_last_use_kept(
    engine: stepup.Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine.import_binding("alice", "sms", "+44 7400 123456")
    # Warm, in another session: a pass cancels its own session's other step-ups (one more step each).
    engine.cancel(engine.start("alice", "sms", session="warm").id, subject="alice", session="warm")
    sent = _counted(engine, monkeypatch)
    challenge = engine.start("alice", "sms", session=NONCE)
    assert sent == ["EVALSHA"]
    assert [c.id for c in engine.pending_challenges("alice")][0] == challenge.id
    sent.clear()
    engine.verify(challenge.id, code_from(SMS.last), subject="alice", session=NONCE)
    assert sent == ["EVALSHA"]
    assert [b.last_used for b in engine.bindings("alice")] == [1_800_000_000.0]


def test_step_ups_one_after_another_in_a_session_cost_no_more_as_they_add_up(
    engine: stepup.Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A pass cancels the session's other pending step-ups, found in the subject's index; the
    # passed one leaves the index in the step that approves it, so the next pass neither
    # tries it again nor pays a step to take it out: each start + verify is two round trips.
    engine.import_binding("alice", "sms", "+44 7400 123456")
    sent = _counted(engine, monkeypatch)
    per_step_up = []
    for _ in range(5):  # the subject's limit: 5 challenges in 15 minutes
        sent.clear()
        challenge = engine.start("alice", "sms", session=NONCE)
        engine.verify(challenge.id, code_from(SMS.last), subject="alice", session=NONCE)
        per_step_up.append(list(sent))
        engine.clock.advance(1)
    assert per_step_up == [["EVALSHA", "EVALSHA"]] * 5
    assert engine.pending_challenges("alice") == []


def test_a_pass_that_cancels_another_leaves_the_next_step_up_at_two_round_trips(
    engine: stepup.Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Two step-ups pending in one session: the pass of the second cancels the first (a step
    # of its own), and both leave the index with the pass, so the next one is tried by nobody.
    engine.import_binding("alice", "sms", "+44 7400 123456")
    first = engine.start("alice", "sms", session=NONCE)
    second = engine.start("alice", "sms", session=NONCE)
    engine.verify(second.id, code_from(SMS.last), subject="alice", session=NONCE)
    assert engine.pending_challenges("alice") == []
    with pytest.raises(stepup.ChallengeClosed):
        engine.verify(first.id, "000000", subject="alice", session=NONCE)
    sent = _counted(engine, monkeypatch)
    third = engine.start("alice", "sms", session=NONCE)
    engine.verify(third.id, code_from(SMS.last), subject="alice", session=NONCE)
    assert sent == ["EVALSHA", "EVALSHA"]
