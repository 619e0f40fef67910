"""Engine and AsyncEngine are twins: the same methods, the same signatures, the same results."""

from __future__ import annotations

import asyncio
import inspect
import re
from typing import Any

import pytest

import stepup
from stepup.senders import AsyncSenderAdapter, MemorySender

SECRET = "s" * 40
OPERATION = {"to": "bob", "amount": "50.00"}
REQUEST = {"method": "POST", "path": "/transfer", "content_type": "application/x-www-form-urlencoded",
           "body": "to=bob&amount=50.00"}  # fmt: skip


#: the methods that do no I/O, plain calls on both twins.
PURE = {"method", "operation_digest"}


def _public(engine: Any) -> dict[str, Any]:
    """The public methods of an engine (not its public attributes, such as ``clock``)."""
    return {
        name: getattr(engine, name)
        for name in dir(type(engine))
        if not name.startswith("_") and name not in vars(engine) and callable(getattr(engine, name))
    }


def _make(cls: type, store_url: str = "memory://", **settings: Any) -> tuple[Any, MemorySender]:
    sms = MemorySender()
    senders: dict[str, Any] = {"sms": sms, "email": MemorySender()}
    if cls is stepup.AsyncEngine:
        senders = {k: AsyncSenderAdapter(v, offload=False) for k, v in senders.items()}
    engine = cls(secret_key=SECRET, store_url=store_url, clock=stepup.FrozenClock(), **senders, **settings)
    return engine, sms


async def do(result: Any) -> Any:
    """``result``, awaited when the engine's method answered an awaitable."""
    return await result if inspect.isawaitable(result) else result


def _code(sms: MemorySender) -> str:
    return re.findall(r"(?<!\d)\d{6}(?!\d)", sms.last.body)[0]


async def _close(engine: Any) -> None:
    closing = engine.close()
    if inspect.isawaitable(closing):
        await closing


def test_the_twins_have_the_same_public_methods_with_the_same_signatures():
    sync, _ = _make(stepup.Engine)
    async_, _ = _make(stepup.AsyncEngine)
    try:
        methods, async_methods = _public(sync), _public(async_)
        assert len(methods) > 20 and set(methods) == set(async_methods)
        assert {"start", "verify", "consume", "begin_bind", "set_method", "take_resume"} <= set(methods)
        for name, method in methods.items():
            assert inspect.signature(method) == inspect.signature(async_methods[name]), name
            assert not inspect.iscoroutinefunction(method), name
            assert inspect.iscoroutinefunction(async_methods[name]) == (name not in PURE), name
    finally:
        asyncio.run(_close(sync))
        asyncio.run(_close(async_))


@pytest.mark.parametrize("cls", [stepup.Engine, stepup.AsyncEngine])
def test_every_public_method_has_a_docstring(cls):
    engine, _ = _make(cls)
    try:
        for name, member in _public(engine).items():
            assert (inspect.getdoc(member) or "").strip(), f"{cls.__name__}.{name} has no docstring"
    finally:
        asyncio.run(_close(engine))


async def _scenario(engine: Any, sms: MemorySender) -> list[Any]:
    """Bind a phone, step up, approve an operation; the results without random ids."""

    def code() -> str:
        return _code(sms)

    seen: list[Any] = []
    try:
        start = await do(engine.begin_bind("alice", "sms", "+44 7400 123456"))
        bound = await do(engine.verify(start.challenge.id, code(), subject="alice"))
        seen += [bound.purpose, bound.target, bound.binding.label]
        seen += [[b.label for b in await do(engine.bindings("alice"))]]

        step_up = await do(engine.start("alice", "sms"))
        with pytest.raises(stepup.WrongCode) as wrong:
            await do(engine.verify(step_up.id, "12345678", subject="alice"))
        approval = await do(engine.verify(step_up.id, code(), subject="alice"))
        seen += [wrong.value.attempts_left, approval.purpose, approval.method, approval.approved_at]

        op = await do(engine.start("alice", "sms", "operation", operation="transfer of 50.00 to Bob",
                                   operation_data=OPERATION, request=REQUEST))  # fmt: skip
        seen += ["transfer of 50.00 to Bob" in sms.last.body]
        approval = await do(engine.verify(op.id, code(), subject="alice"))
        seen += [approval.has_request, approval.operation_digest is not None]
        with pytest.raises(stepup.OperationMismatch):
            await do(engine.consume(op.id, subject="alice", operation_data={**OPERATION, "to": "eve"}))
        seen += [await do(engine.consume(op.id, subject="alice", operation_data=OPERATION))]
        with pytest.raises(stepup.ChallengeClosed):
            await do(engine.consume(op.id, subject="alice", operation_data=OPERATION))
        seen += [[m.purpose for m in sms.outbox]]
    finally:
        await _close(engine)
    return seen


def test_the_twins_give_the_same_results():
    sync = asyncio.run(_scenario(*_make(stepup.Engine)))
    async_ = asyncio.run(_scenario(*_make(stepup.AsyncEngine)))
    assert async_ == sync
    assert sync[-2] == REQUEST  # the saved request came back once


def test_async_engine_on_sqlite(tmp_path):
    url = f"sqlite:///{tmp_path / 'stepup.db'}"
    reference = asyncio.run(_scenario(*_make(stepup.Engine)))
    assert asyncio.run(_scenario(*_make(stepup.AsyncEngine, url))) == reference

    async def bindings_after_restart() -> list[str]:
        engine, _ = _make(stepup.AsyncEngine, url)
        try:
            return [b.label for b in await engine.bindings("alice")]
        finally:
            await engine.close()

    assert asyncio.run(bindings_after_restart()) == ["+44 •••• ••3456"]


async def _families(engine: Any, sms: MemorySender) -> list[Any]:
    """One run through each other family of flows: policy, remembered browsers, contact
    verification, saved requests, and the admin's binding changes; the results without
    random ids."""

    def code() -> str:
        return _code(sms)

    seen: list[Any] = []
    try:
        await do(engine.import_binding("alice", "sms", "+447400123456"))
        # policy
        await do(engine.set_method("email", False, "app", "admin"))
        policy = await do(engine.policy())
        decision = await do(engine.login_decision("alice", identity_source="password"))
        seen += [sorted(policy.methods(app="admin")), sorted(policy.methods()), decision.required]
        # remembered browsers
        token = await do(engine.remember_device("alice", methods=["sms"], user_agent="Firefox on Linux"))
        seen += [await do(engine.is_trusted_device("alice", token)), len(await do(engine.devices("alice")))]
        await do(engine.forget_devices("alice"))
        seen += [await do(engine.is_trusted_device("alice", token))]
        # contact verification
        request_id = await do(engine.request_contact("sms", "+447400654321"))
        with pytest.raises(stepup.WrongCode):
            await do(engine.check_contact(request_id, "000000" if code() != "000000" else "111111"))
        seen += [(await do(engine.check_contact(request_id, code()))).to]
        # saved requests
        resume = await do(engine.save_resume("alice", session="s", next_url="/transfer", request=REQUEST))
        seen += [(await do(engine.load_resume(resume, subject="alice", session="s")))["next"]]
        seen += [dict(await do(engine.take_resume(resume, subject="alice", session="s")))["path"]]
        with pytest.raises(stepup.ChallengeExpired):
            await do(engine.take_resume(resume, subject="alice", session="s"))
        # the admin's binding changes
        with pytest.raises(stepup.WrongCode):
            started = await do(engine.start("alice", "sms"))
            await do(engine.verify(started.id, "12345678", subject="alice"))
        await do(engine.unlock("alice"))
        seen += [await do(engine.reset("alice")), [b.method for b in await do(engine.bindings("alice"))]]
    finally:
        await _close(engine)
    return seen


def test_every_family_of_flows_gives_the_same_results_on_both_twins():
    sync = asyncio.run(_families(*_make(stepup.Engine, trusted_device_days=30)))
    async_ = asyncio.run(_families(*_make(stepup.AsyncEngine, trusted_device_days=30)))
    assert async_ == sync
    assert sync[:3] == [["recovery", "sms", "totp"], ["email", "recovery", "sms", "totp"], True]
    assert sync[3:] == [True, 1, False, "+447400654321", "/transfer", "/transfer", 1, []]
