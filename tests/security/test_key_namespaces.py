"""Store keys named by kind: no subject id, target, client or app name reaches a record of
another kind, or of another owner of the same kind. One test per kind of record, on every
store; and the lock checked when a challenge is issued is read in the same store step
that writes it, so a lock that lands just before is honoured."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest

import stepup
from stepup.senders import MemorySender
from stepup.stores import store_from_url

SECRET = "n" * 40
NUMBER = "+447400123456"


@pytest.fixture
def engine(store_url: str, clock: stepup.FrozenClock, sms: MemorySender) -> Iterator[stepup.Engine]:
    made = stepup.Engine(
        secret_key=SECRET, store_url=store_url, sms=sms, email=MemorySender(), clock=clock, lockout_after=3,
        backoff_after=1000,
    )  # fmt: skip
    yield made
    made.close()


def _wrong(code: str) -> str:
    return f"{(int(code) + 1) % 10 ** len(code):0{len(code)}d}"


def _last_code(sms: MemorySender) -> str:
    match = re.search(r"(?<!\d)\d{4,10}(?!\d)", sms.last.body)
    assert match is not None, sms.last.body
    return match.group(0)


def _fail(engine: stepup.Engine, sms: MemorySender, start: Callable[[], str], times: int, **verify: Any) -> None:
    for _ in range(times):
        challenge_id = start()
        with pytest.raises(stepup.WrongCode):
            engine.verify(challenge_id, _wrong(_last_code(sms)), **verify)


def test_failures_a_subject_named_like_a_target_shares_nothing_with_that_numbers_contact_checks(engine, sms):
    tricky = f"target:{NUMBER}"  # the key the number's contact failures had
    engine.import_binding(tricky, "sms", "+44 7400 654321")
    _fail(engine, sms, lambda: engine.start(tricky, "sms").id, 3, subject=tricky)
    with pytest.raises(stepup.MethodLocked):
        engine.start(tricky, "sms")

    # The number's own contact verification is not locked by the user's failures...
    request_id = engine.contact.request("sms", NUMBER)
    assert engine.contact.check(request_id, _last_code(sms)).to == NUMBER
    # ...and an unlock of the user lifts the user's lock, nothing of the number's.
    engine.unlock(tricky)
    assert engine.start(tricky, "sms").id


def test_failures_a_plugin_method_name_with_a_colon_is_one_part(engine, sms):
    engine.import_binding("alice", "sms", NUMBER)
    _fail(engine, sms, lambda: engine.start("alice", "sms").id, 3, subject="alice")

    # "subject/alice" and "subject:alice" are names of their own, not alice's key read
    # another way (nor, with a method plug-in named "sms/subject", any other).
    engine.import_binding("subject:alice", "sms", "+44 7400 654321")
    engine.import_binding("subject/alice", "sms", "+44 7400 654322")
    assert engine.start("subject/alice", "sms").id
    assert engine.start("subject:alice", "sms").id
    with pytest.raises(stepup.MethodLocked):
        engine.start("alice", "sms")


def test_rate_limits_a_subject_named_like_a_number_or_a_client_has_limits_of_its_own(store_url, clock, sms):
    engine = stepup.Engine(
        secret_key=SECRET, store_url=store_url, sms=sms, email=MemorySender(), clock=clock,
        limit_challenges_per_subject="1/hour", limit_challenges_per_target="1/hour",
        limit_challenges_per_client="1/hour",
    )  # fmt: skip
    try:
        engine.import_binding(NUMBER, "sms", "+44 7400 654321")
        engine.import_binding("203.0.113.9", "sms", "+44 7400 777777")
        engine.contact.request("sms", NUMBER, client="198.51.100.1")  # the number's target limit

        assert engine.start(NUMBER, "sms", client="198.51.100.2").id
        assert engine.start("203.0.113.9", "sms", client="198.51.100.3").id
        assert engine.contact.request("sms", "+44 7400 888888", client="203.0.113.9")
    finally:
        engine.close()


def test_resume_a_subject_cannot_reach_another_subjects_saved_requests(engine):
    token = engine.save_resume("alice", session="s", next_url="/alice")

    for other in ("alice:", "resumes", "alice\x00", "ALICE"):
        with pytest.raises((stepup.ChallengeForbidden, stepup.ChallengeExpired)):
            engine.take_resume(token, subject=other, session="s")
    assert engine.take_resume(token, subject="alice", session="s") is None


def test_challenge_a_contact_request_id_reaches_no_subjects_challenge(engine, sms):
    engine.import_binding("alice", "sms", NUMBER)
    challenge = engine.start("alice", "sms")

    with pytest.raises(stepup.ChallengeForbidden):
        engine.contact.check(challenge.id, _last_code(sms))
    assert engine.verify(challenge.id, _last_code(sms), subject="alice").method == "sms"


def test_subject_and_policy_a_subject_named_like_a_scope_changes_no_policy(engine):
    engine.import_binding("policy", "sms", NUMBER)
    engine.set_method("sms", False, "subject", "app:admin")

    assert "sms" in engine.policy().methods(app="admin")
    assert "sms" not in engine.policy().methods(subject="app:admin")
    assert [b.method for b in engine.bindings("policy")] == ["sms"]
    assert engine.bindings("app:admin") == []


class _LockLands:
    """A store on which another instance locks alice's SMS just before the next atomic
    step (under the key every release reads), as a racing request would."""

    def __init__(self, store: Any) -> None:
        self.inner = store
        self.atomic_many = store.atomic_many
        self.armed = False
        if hasattr(store, "update_after"):  # a read and its write in one step (Redis)
            self.update_after = self._update_after

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def _land(self) -> None:
        if self.armed:
            self.armed = False
            self.inner.update("failures", "sms:alice", lambda _: ({"count": 100, "locked": True}, None), None)

    def update_many(self, items: Any, fn: Any) -> Any:
        self._land()
        return self.inner.update_many(items, fn)

    def _update_after(self, reads: Any, after: Any) -> Any:
        self._land()
        return self.inner.update_after(reads, after)


def test_a_lock_that_lands_before_a_challenge_is_written_is_honoured(store_url, clock, sms):
    store = _LockLands(store_from_url(store_url, clock))
    engine = stepup.Engine(secret_key=SECRET, store=store, sms=sms, email=MemorySender(), clock=clock)
    try:
        engine.import_binding("alice", "sms", NUMBER)
        store.armed = True

        with pytest.raises(stepup.MethodLocked):
            engine.start("alice", "sms")

        assert sms.outbox == []
        engine.unlock("alice", "sms")
        assert engine.start("alice", "sms").id
    finally:
        engine.close()


def test_ended_logins_ending_one_login_reaches_no_other(engine, sms):
    engine.import_binding("alice", "sms", NUMBER)
    engine.end_login("login-a.1")  # any renewal names its login

    with pytest.raises(stepup.LoginEnded):
        engine.start("alice", "sms", session="login-a.3")
    for other in ("login-a2", "login-a.1x", "login-b"):
        started = engine.start("alice", "sms", session=other)
        engine.verify(started.id, _last_code(sms), subject="alice", session=other)
