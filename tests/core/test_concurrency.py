"""Racing submissions: however many arrive at once, a challenge evaluates at most three
wrong codes and approves a right one exactly once; in threads, in processes, in asyncio.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import threading
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import stepup
from stepup.senders import AsyncSenderAdapter, MemorySender
from stepup.testing import code_from
from tests.support.flows import run_processes

SECRET = "k" * 40
CLIENT = "203.0.113.7"
RACERS = 50
#: One client sends every racing request: its limit lets them all through. The back-off
#: after the third failure would turn late racers away before they reach the challenge;
#: these tests are about the challenge's own count, so it starts later here.
OVERRIDES: dict[str, Any] = {"limit_verifications_per_client": "1000/minute", "backoff_after": 1000}


def _wrong(code: str) -> str:
    return f"{(int(code) + 1) % 10 ** len(code):0{len(code)}d}"


def _race(count: int, call: Callable[[], Any], barrier: Any) -> list[str]:
    """Run ``call`` in ``count`` threads released together; the outcome names, sorted."""
    outcomes: list[str] = []
    lock = threading.Lock()

    def run() -> None:
        barrier.wait(timeout=60)
        try:
            name = type(call()).__name__
        except Exception as e:
            name = type(e).__name__
        with lock:
            outcomes.append(name)

    threads = [threading.Thread(target=run) for _ in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return sorted(outcomes)


def _start(engine: stepup.Engine, sms: MemorySender) -> tuple[str, str]:
    engine.import_binding("alice", "sms", "+44 7400 123456")
    challenge = engine.start("alice", "sms")
    return challenge.id, code_from(sms.last)


@pytest.fixture(params=["memory", "sqlite"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    return "memory://" if request.param == "memory" else f"sqlite:///{tmp_path}/stepup.sqlite3"


@pytest.fixture
def engine(engine_factory: Callable[..., stepup.Engine], store_url: str) -> stepup.Engine:
    return engine_factory(store_url=store_url, **OVERRIDES)


def _types(events: list[stepup.AuditEvent]) -> Counter[str]:
    return Counter(e.type for e in events)


# -- threads --------------------------------------------------------------------------


def test_racing_wrong_codes_evaluate_exactly_three(engine: stepup.Engine, sms: MemorySender, audit: list) -> None:
    challenge_id, code = _start(engine, sms)
    verify = lambda: engine.verify(challenge_id, _wrong(code), subject="alice", client=CLIENT)  # noqa: E731
    outcomes = Counter(_race(RACERS, verify, threading.Barrier(RACERS)))
    assert outcomes == {"WrongCode": 2, "ChallengeExhausted": RACERS - 2}
    assert _types(audit)["failed"] == 3
    after = engine.challenge(challenge_id, subject="alice")
    assert (after.state, after.attempts_left) == ("exhausted", 0)
    # the right code no longer helps
    with pytest.raises(stepup.ChallengeExhausted):
        engine.verify(challenge_id, code, subject="alice")


def test_racing_right_codes_approve_exactly_once(engine: stepup.Engine, sms: MemorySender, audit: list) -> None:
    challenge_id, code = _start(engine, sms)
    verify = lambda: engine.verify(challenge_id, code, subject="alice", client=CLIENT)  # noqa: E731
    outcomes = Counter(_race(RACERS, verify, threading.Barrier(RACERS)))
    assert outcomes == {"Approval": 1, "ChallengeClosed": RACERS - 1}
    assert _types(audit)["verified"] == 1


# -- processes sharing one SQLite file ------------------------------------------------------


def _verify_in_process(db: str, now: float, challenge_id: str, code: str, barrier: Any, results: Any) -> None:
    """A second app instance: its own engine on the same file, racing with threads."""
    events: list[stepup.AuditEvent] = []
    engine = stepup.Engine(
        secret_key=SECRET, store_url=f"sqlite:///{db}", sms_url="memory://", email_url="memory://",
        clock=stepup.FrozenClock(now), audit_hooks=[events.append], **OVERRIDES,
    )  # fmt: skip
    try:
        verify = lambda: engine.verify(challenge_id, code, subject="alice", client=CLIENT)  # noqa: E731
        outcomes = _race(RACERS // 2, verify, barrier)
    finally:
        engine.close()
    results.put((outcomes, dict(_types(events))))


def _race_in_processes(tmp_path: Path, wrong: bool) -> tuple[Counter[str], Counter[str], stepup.Challenge]:
    clock, sms, db = stepup.FrozenClock(), MemorySender(), tmp_path / "shared.sqlite3"
    engine = stepup.Engine(secret_key=SECRET, store_url=f"sqlite:///{db}", sms=sms, email=MemorySender(), clock=clock)
    try:
        challenge_id, code = _start(engine, sms)
        ctx = multiprocessing.get_context("spawn")
        barrier, results = ctx.Barrier(RACERS), ctx.Queue()
        code = _wrong(code) if wrong else code
        args = (str(db), clock(), challenge_id, code, barrier, results)
        processes = [ctx.Process(target=_verify_in_process, args=args) for _ in range(2)]
        reports = run_processes(processes, results)
        after = engine.challenge(challenge_id, subject="alice")
    finally:
        engine.close()
    outcomes = Counter(name for names, _ in reports for name in names)
    events = sum((Counter(types) for _, types in reports), Counter[str]())
    return outcomes, events, after


def test_processes_racing_wrong_codes_evaluate_exactly_three(tmp_path: Path) -> None:
    outcomes, events, after = _race_in_processes(tmp_path, wrong=True)
    assert outcomes == {"WrongCode": 2, "ChallengeExhausted": RACERS - 2}
    assert events["failed"] == 3
    assert (after.state, after.attempts_left) == ("exhausted", 0)


def test_processes_racing_right_codes_approve_exactly_once(tmp_path: Path) -> None:
    outcomes, events, after = _race_in_processes(tmp_path, wrong=False)
    assert outcomes == {"Approval": 1, "ChallengeClosed": RACERS - 1}
    assert events["verified"] == 1
    assert (after.state, after.attempts_left) == ("approved", 3)


# -- asyncio ----------------------------------------------------------------------------------


def _gather(store_url: str, wrong: bool) -> tuple[Counter[str], Counter[str]]:
    events: list[stepup.AuditEvent] = []
    sms = MemorySender()

    async def main() -> list[Any]:
        engine = stepup.AsyncEngine(
            secret_key=SECRET, store_url=store_url, sms=AsyncSenderAdapter(sms, offload=False),
            email=AsyncSenderAdapter(MemorySender(), offload=False), clock=stepup.FrozenClock(),
            audit_hooks=[events.append], **OVERRIDES,
        )  # fmt: skip
        try:
            await engine.import_binding("alice", "sms", "+44 7400 123456")
            challenge = await engine.start("alice", "sms")
            code = _wrong(code_from(sms.last)) if wrong else code_from(sms.last)
            calls = [engine.verify(challenge.id, code, subject="alice", client=CLIENT) for _ in range(RACERS)]
            return await asyncio.gather(*calls, return_exceptions=True)
        finally:
            await engine.close()

    return Counter(type(r).__name__ for r in asyncio.run(main())), _types(events)


def test_async_racing_wrong_codes_evaluate_exactly_three(store_url: str) -> None:
    outcomes, events = _gather(store_url, wrong=True)
    assert outcomes == {"WrongCode": 2, "ChallengeExhausted": RACERS - 2}
    assert events["failed"] == 3


def test_async_racing_right_codes_approve_exactly_once(store_url: str) -> None:
    outcomes, events = _gather(store_url, wrong=False)
    assert outcomes == {"Approval": 1, "ChallengeClosed": RACERS - 1}
    assert events["verified"] == 1
