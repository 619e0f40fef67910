"""Engines on a shared Redis: app instances in separate processes behave as one, the
async engine runs natively, rate limits (records in the same Redis) hold across
instances, and a Redis that goes away mid-flow fails closed and comes back."""

from __future__ import annotations

import asyncio
import multiprocessing
import threading
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest

import stepup
from stepup.senders import AsyncSenderAdapter, MemorySender
from stepup.testing import code_from
from tests.support.flows import run_processes

SECRET = "k" * 40
PHONE = "+44 7400 123456"
CLIENT = "203.0.113.7"
RACERS = 50
#: one client sends every racing request; the back-off would turn late racers away before
#: they reach the challenge, and these tests are about the challenge's own count.
OVERRIDES: dict[str, Any] = {"limit_verifications_per_client": "1000/minute", "backoff_after": 1000}


def _engine(url: str, sms: MemorySender, clock: stepup.FrozenClock, **overrides: Any) -> stepup.Engine:
    return stepup.Engine(
        secret_key=SECRET, store_url=url, sms=sms, email=MemorySender(), clock=clock, **{**OVERRIDES, **overrides}
    )


def _async_engine(url: str, sms: MemorySender, clock: stepup.FrozenClock, **overrides: Any) -> stepup.AsyncEngine:
    senders = {"sms": sms, "email": MemorySender()}
    senders = {name: AsyncSenderAdapter(sender, offload=False) for name, sender in senders.items()}
    return stepup.AsyncEngine(secret_key=SECRET, store_url=url, clock=clock, **senders, **{**OVERRIDES, **overrides})


def _wrong(code: str) -> str:
    return f"{(int(code) + 1) % 10 ** len(code):0{len(code)}d}"


# -- processes ------------------------------------------------------------------------------


def _verify_in_process(url: str, now: float, challenge_id: str, code: str, racers: int, barrier: Any, out: Any) -> None:
    """Another app instance: its own engine on the same Redis, racing with threads."""
    engine = _engine(url, MemorySender(), stepup.FrozenClock(now))
    outcomes: list[str] = []
    lock = threading.Lock()

    def run() -> None:
        barrier.wait(timeout=60)
        try:
            name = type(engine.verify(challenge_id, code, subject="alice", client=CLIENT)).__name__
        except Exception as e:
            name = type(e).__name__
        with lock:
            outcomes.append(name)

    threads = [threading.Thread(target=run) for _ in range(racers)]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        engine.close()
    out.put(outcomes)


def _in_processes(url: str, challenge_id: str, code: str, now: float, racers: int) -> Counter[str]:
    """``racers`` verifications split across two processes, released together."""
    ctx = multiprocessing.get_context("spawn")
    barrier, out = ctx.Barrier(racers), ctx.Queue()
    each = racers // 2
    processes = [
        ctx.Process(target=_verify_in_process, args=(url, now, challenge_id, code, n, barrier, out))
        for n in (each, racers - each)
    ]
    reports = run_processes(processes, out)
    return Counter(name for names in reports for name in names)


@pytest.fixture
def started(redis_url: str) -> Any:
    """A step-up challenge started by this process's engine: (engine, challenge id, code)."""
    clock, sms = stepup.FrozenClock(), MemorySender()
    engine = _engine(redis_url, sms, clock)
    engine.import_binding("alice", "sms", PHONE)
    challenge = engine.start("alice", "sms")
    yield engine, challenge.id, code_from(sms.last), clock()
    engine.close()


def test_a_challenge_started_in_one_process_is_verified_in_another(redis_url: str, started: Any) -> None:
    engine, challenge_id, code, now = started
    assert _in_processes(redis_url, challenge_id, code, now, 2) == {"Approval": 1, "ChallengeClosed": 1}
    assert engine.challenge(challenge_id, subject="alice").state == "approved"


def test_processes_racing_wrong_codes_evaluate_exactly_three(redis_url: str, started: Any) -> None:
    engine, challenge_id, code, now = started
    outcomes = _in_processes(redis_url, challenge_id, _wrong(code), now, RACERS)
    assert outcomes == {"WrongCode": 2, "ChallengeExhausted": RACERS - 2}
    after = engine.challenge(challenge_id, subject="alice")
    assert (after.state, after.attempts_left) == ("exhausted", 0)


def test_processes_racing_right_codes_approve_exactly_once(redis_url: str, started: Any) -> None:
    engine, challenge_id, code, now = started
    outcomes = _in_processes(redis_url, challenge_id, code, now, RACERS)
    assert outcomes == {"Approval": 1, "ChallengeClosed": RACERS - 1}
    after = engine.challenge(challenge_id, subject="alice")
    assert (after.state, after.attempts_left) == ("approved", 3)


# -- rate limits ------------------------------------------------------------------------------


def test_rate_limits_are_shared_by_every_instance(redis_url: str) -> None:
    clock, sms = stepup.FrozenClock(), MemorySender()
    one = _engine(redis_url, sms, clock, limit_challenges_per_subject="3/15 minutes")
    two = _engine(redis_url, sms, clock, limit_challenges_per_subject="3/15 minutes")
    try:
        one.import_binding("alice", "totp")
        for engine in (one, two, one):
            engine.start("alice", "totp")
        with pytest.raises(stepup.RateLimited) as caught:
            two.start("alice", "totp")
        assert caught.value.limit == "challenges_per_subject"
        assert 1 <= caught.value.retry_after <= 15 * 60
    finally:
        one.close()
        two.close()


# -- asyncio ----------------------------------------------------------------------------------


def test_the_async_engine_runs_on_redis_natively(redis_url: str) -> None:
    sms = MemorySender()

    async def main() -> tuple[Counter[str], Any, Any, str]:
        # a bind and two starts fit in the limit; a third start does not
        engine = _async_engine(redis_url, sms, stepup.FrozenClock(), limit_challenges_per_subject="3/15 minutes")
        try:
            start = await engine.begin_bind("alice", "sms", PHONE)
            await engine.verify(start.challenge.id, code_from(sms.last), subject="alice")
            challenge = await engine.start("alice", "sms")
            wrong = _wrong(code_from(sms.last))
            calls = [engine.verify(challenge.id, wrong, subject="alice", client=CLIENT) for _ in range(RACERS)]
            outcomes = Counter(type(r).__name__ for r in await asyncio.gather(*calls, return_exceptions=True))
            again = await engine.start("alice", "sms")
            approval = await engine.verify(again.id, code_from(sms.last), subject="alice")
            with pytest.raises(stepup.RateLimited) as caught:
                await engine.start("alice", "sms")
            return outcomes, approval, caught.value, type(engine.store).__name__
        finally:
            await engine.close()

    outcomes, approval, limited, store = asyncio.run(main())
    assert store == "AsyncRedisStore"
    assert outcomes == {"WrongCode": 2, "ChallengeExhausted": RACERS - 2}
    assert (approval.purpose, approval.subject) == ("step_up", "alice")
    assert limited.limit == "challenges_per_subject"


# -- Redis going away -------------------------------------------------------------------------


def _while_down(calls: list[Callable[[], Any]]) -> list[str]:
    messages = []
    for call in calls:
        with pytest.raises(stepup.StoreUnavailable) as caught:
            call()
        messages.append(caught.value.detail)
    return messages


def test_redis_stopped_mid_flow_fails_closed_and_the_flow_goes_on_once_it_is_back(
    redis_factory: Callable[..., Any],
) -> None:
    # An append-only file keeps the challenge across the restart, as a production Redis would.
    server = redis_factory("--appendonly", "yes", "--appendfsync", "always")
    clock, sms = stepup.FrozenClock(), MemorySender()
    engine = _engine(server.url, sms, clock)
    try:
        engine.import_binding("alice", "sms", PHONE)
        challenge = engine.start("alice", "sms")
        code = code_from(sms.last)
        server.stop()
        messages = _while_down([
            lambda: engine.verify(challenge.id, code, subject="alice", client=CLIENT),
            lambda: engine.verify(challenge.id, code, subject="alice"),
            lambda: engine.verify(challenge.id, _wrong(code), subject="alice"),
            lambda: engine.start("alice", "sms"),
        ])  # fmt: skip
        # rate limits are records in the same Redis: every message names it
        assert all(f"The Redis store at {server.url} is unavailable" in m for m in messages), messages
        server.start()
        after = engine.challenge(challenge.id, subject="alice")
        assert (after.state, after.attempts_left) == ("pending", 3)  # nothing approved, nothing charged
        approval = engine.verify(challenge.id, code, subject="alice", client=CLIENT)
        assert approval.challenge_id == challenge.id
    finally:
        engine.close()


def test_the_async_engine_fails_closed_too_and_recovers(redis_factory: Callable[..., Any]) -> None:
    server = redis_factory("--appendonly", "yes", "--appendfsync", "always")
    sms = MemorySender()

    async def main() -> tuple[list[str], Any, Any]:
        engine = _async_engine(server.url, sms, stepup.FrozenClock())
        try:
            await engine.import_binding("alice", "sms", PHONE)
            challenge = await engine.start("alice", "sms")
            code = code_from(sms.last)
            server.stop()
            messages = []
            for call in (
                engine.verify(challenge.id, code, subject="alice", client=CLIENT),
                engine.verify(challenge.id, code, subject="alice"),
            ):
                with pytest.raises(stepup.StoreUnavailable) as caught:
                    await call
                messages.append(caught.value.message)
            server.start()
            after = await engine.challenge(challenge.id, subject="alice")
            return messages, after, await engine.verify(challenge.id, code, subject="alice", client=CLIENT)
        finally:
            await engine.close()

    messages, after, approval = asyncio.run(main())
    assert all("unavailable" in m for m in messages), messages
    assert (after.state, after.attempts_left) == ("pending", 3)
    assert approval.purpose == "step_up"
