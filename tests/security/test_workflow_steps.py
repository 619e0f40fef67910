"""Attacks on a workflow's steps, at the engine (the web layer's routes call these flows):
firing someone else's step, firing one before it is due, racing requests for one step,
pumping calls to numbers not yet verified, and a store that is down. A refused request
sends nothing and charges nothing; each step fires once and never past the send cap."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest

import stepup
from stepup.senders import MemorySender

KEY = "w" * 40
PHONE = "+447400123456"


class Bank:
    def __init__(self, store_url: str, **overrides: Any) -> None:
        self.clock = stepup.FrozenClock()
        self.sms, self.voice = MemorySender(), MemorySender()
        options: dict[str, Any] = {"workflow": "sms:120,voice:180,voice", **overrides}
        self.engine = stepup.Engine(secret_key=KEY, store_url=store_url, sms=self.sms, senders={"voice": self.voice},
                                    clock=self.clock, **options)  # fmt: skip
        self.engine.import_binding("alice", "sms", PHONE)

    def login(self, session: str | None = None) -> stepup.Challenge:
        return self.engine.start("alice", "sms", "login", session=session)


@pytest.fixture
def bank_factory(store_url: str) -> Iterator[Callable[..., Bank]]:
    made: list[Bank] = []

    def make(**overrides: Any) -> Bank:
        made.append(Bank(store_url, **overrides))
        return made[-1]

    yield make
    for bank in made:
        bank.engine.close()


def test_another_subjects_or_sessions_step_is_refused(bank_factory: Callable[..., Bank]) -> None:
    bank = bank_factory()
    bank.engine.import_binding("mallory", "sms", "+447400123457")
    challenge = bank.login(session="alice-login")
    bank.clock.advance(120)
    with pytest.raises(stepup.ChallengeForbidden):
        bank.engine.next_step(challenge.id, subject="mallory", session="alice-login")
    with pytest.raises(stepup.ChallengeForbidden):
        bank.engine.next_step(challenge.id, subject="alice", session="mallory-login")
    for made_up in ("x" * 24, "", "../../challenge", 42):
        with pytest.raises(stepup.ChallengeNotFound):
            bank.engine.next_step(made_up, subject="alice")  # type: ignore[arg-type]
    assert bank.voice.outbox == []
    bank.engine.next_step(challenge.id, subject="alice", session="alice-login")
    assert [m.to for m in bank.voice.outbox] == [PHONE]


def test_a_step_before_its_time_sends_and_charges_nothing(bank_factory: Callable[..., Bank]) -> None:
    bank = bank_factory(limit_challenges_per_client="1/hour")
    challenge = bank.login()
    for _ in range(5):
        with pytest.raises(stepup.StepNotDue) as caught:
            bank.engine.next_step(challenge.id, subject="alice", client="198.51.100.7")
    assert caught.value.status == 429 and caught.value.problem()["retry_after"] == 120
    assert bank.voice.outbox == []
    bank.clock.advance(120)
    bank.engine.next_step(challenge.id, subject="alice", client="198.51.100.7")  # its one charge
    assert len(bank.voice.outbox) == 1


def test_a_client_asking_for_steps_is_limited(bank_factory: Callable[..., Bank]) -> None:
    bank = bank_factory(limit_challenges_per_client="2/hour", limit_bound_challenges_per_target="10/hour")
    challenges = [bank.login() for _ in range(3)]
    for challenge in challenges[:2]:
        bank.engine.next_step(challenge.id, subject="alice", client="198.51.100.7", early=True)
    with pytest.raises(stepup.RateLimited) as caught:
        bank.engine.next_step(challenges[2].id, subject="alice", client="198.51.100.7", early=True)
    assert caught.value.limit == "challenges_per_client" and len(bank.voice.outbox) == 2


def test_racing_requests_fire_each_step_once_within_the_cap(bank_factory: Callable[..., Bank]) -> None:
    bank = bank_factory()
    challenge = bank.login()
    barrier = threading.Barrier(8)
    errors: list[BaseException] = []

    def ask() -> None:
        barrier.wait()
        try:
            bank.engine.next_step(challenge.id, subject="alice", early=True)
        except stepup.StepUpError as e:  # NoStepLeft, NoSendsLeft once both steps fired
            errors.append(e)

    threads = [threading.Thread(target=ask) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    fired = bank.engine.challenge(challenge.id, subject="alice").step
    assert len(bank.voice.outbox) == fired <= 2, "one message per step taken, two steps at most"
    assert all(isinstance(e, stepup.NoStepLeft | stepup.NoSendsLeft) for e in errors)
    bank.clock.advance(400)  # a step the race left fires at its time, once
    assert bank.engine.run_due() == 2 - fired and len(bank.voice.outbox) == 2


def test_calls_to_numbers_not_yet_verified_count_against_the_pumping_limits(bank_factory: Callable[..., Bank]) -> None:
    bank = bank_factory(workflows_by_purpose={"bind": "sms:60,voice"}, limit_sms_per_prefix="1/day")
    started = bank.engine.begin_bind("bob", "sms", "+447400999001").challenge  # the text takes the prefix's one
    with pytest.raises(stepup.RateLimited) as caught:
        bank.engine.next_step(started.id, subject="bob", early=True)
    assert caught.value.limit == "sms_per_prefix"
    bank.clock.advance(60)
    assert bank.engine.run_due() == 0 and bank.voice.outbox == []


def test_a_store_that_is_down_fires_nothing(redis_factory: Callable[..., Any]) -> None:
    server = redis_factory()
    bank = Bank(server.url)
    try:
        challenge = bank.login()
        bank.clock.advance(120)
        server.stop()
        with pytest.raises(stepup.StoreUnavailable):
            bank.engine.next_step(challenge.id, subject="alice")
        with pytest.raises(stepup.StoreUnavailable):
            bank.engine.run_due()
        assert bank.voice.outbox == []
    finally:
        bank.engine.close()
