"""A plug-in method with a channel of its own: docs/extending.md's voice example,
installed through its entry point, binds and verifies on both engines; its channel's
sender comes from the settings or from code; a channel without one stops the engine
from starting."""

from __future__ import annotations

import asyncio
import inspect
import json
import re
from pathlib import Path
from typing import Any

import pytest

import stepup
from stepup.senders import AsyncSenderAdapter, MemorySender
from tests.support.plugins import PLUGINS, install_plugin

SECRET = "s" * 40
PHONE = "+447700900123"
#: the methods switched on: a plug-in method is off until the app names it.
METHODS = ["sms", "email", "totp", "recovery", "voice"]
DOCS = Path(__file__).resolve().parents[2] / "docs" / "extending.md"


@pytest.fixture
def voice_plugin(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    install_plugin("voice", monkeypatch, tmp_path / "site")


def _run(value: Any) -> Any:
    """A sync engine's result, or an async engine's awaited."""
    if inspect.isawaitable(value):

        async def wait() -> Any:
            return await value

        return asyncio.run(wait())
    return value


def _engine(cls: type, **options: Any) -> Any:
    kind = (lambda s: AsyncSenderAdapter(s, offload=False)) if cls is stepup.AsyncEngine else (lambda s: s)
    options.setdefault("senders", {})
    options["senders"] = {route: kind(sender) for route, sender in options["senders"].items()}
    return cls(
        secret_key=SECRET, store_url="memory://", clock=stepup.FrozenClock(), sms=kind(MemorySender()),
        email=kind(MemorySender()), test_number_prefixes=("+447700900",), **options,
    )  # fmt: skip


def _code(body: str) -> str:
    """The code a call reads out digit by digit ("1, 2, 3, 4, 5, 6"), in its first part."""
    return re.sub(r"\D", "", body.split("\n\n")[0])


@pytest.mark.parametrize("cls", [stepup.Engine, stepup.AsyncEngine])
def test_the_voice_plugin_binds_and_verifies_a_step_up_through_its_entry_point(voice_plugin, cls):
    calls = MemorySender()
    engine = _engine(cls, senders={"voice": calls}, methods=METHODS)
    try:
        assert type(engine.methods["voice"]).__module__ == "stepup_voice"  # loaded by its entry point
        started = _run(engine.begin_bind("alice", "voice", "+44 7700 900123"))
        assert calls.last.channel == "voice" and calls.last.to == PHONE
        binding = _run(engine.verify(started.challenge.id, _code(calls.last.body), subject="alice")).binding
        assert (binding.method, binding.label) == ("voice", "+44 •••• ••0123")

        challenge = _run(engine.start("alice", "voice", binding_id=binding.id))
        approval = _run(engine.verify(challenge.id, _code(calls.last.body), subject="alice"))
        assert (approval.method, approval.target) == ("voice", PHONE)
        assert len(calls.outbox) == 2
    finally:
        _run(engine.close())


@pytest.mark.parametrize("cls", [stepup.Engine, stepup.AsyncEngine])
def test_a_method_whose_channel_has_no_sender_stops_the_engine_from_starting(voice_plugin, cls):
    with pytest.raises(stepup.ConfigurationError) as refused:
        _engine(cls, methods=METHODS)

    assert "'voice'" in refused.value.message and "STEPUP_SENDER_URLS" in refused.value.message


def test_the_voice_channel_s_sender_comes_from_stepup_sender_urls(voice_plugin, tmp_path):
    outbox = tmp_path / "calls.jsonl"
    settings = stepup.Settings.from_mapping({
        "STEPUP_SECRET_KEY": SECRET, "STEPUP_STORE_URL": "memory://", "STEPUP_SMS_URL": "memory://",
        "STEPUP_EMAIL_URL": "memory://", "STEPUP_METHODS": ",".join(METHODS),
        "STEPUP_TEST_NUMBER_PREFIXES": "+447700900", "STEPUP_SENDER_URLS": json.dumps({"voice": f"file://{outbox}"}),
    })  # fmt: skip
    engine = stepup.Engine(settings)
    try:
        started = engine.begin_bind("alice", "voice", PHONE)
        call = json.loads(outbox.read_text(encoding="utf-8").splitlines()[-1])
        assert (call["channel"], call["to"]) == ("voice", PHONE)
        assert engine.verify(started.challenge.id, _code(call["body"]), subject="alice").binding is not None
    finally:
        engine.close()


class _Down:
    def send(self, message: stepup.Message) -> None:
        raise stepup.DeliveryError("The provider is down.", "voice")


def test_a_channel_s_fallback_sender_takes_the_code_when_its_first_fails(voice_plugin):
    events: list[stepup.AuditEvent] = []
    backup = MemorySender()
    senders = {"voice": _Down(), "voice:fallback": backup}
    engine = _engine(stepup.Engine, senders=senders, methods=METHODS, audit_hooks=[events.append])
    started = engine.begin_bind("alice", "voice", PHONE)

    assert backup.last.to == PHONE
    assert [e.detail for e in events if e.type == "sent"] == [
        {"channel": "voice", "provider": "memory", "locale": "en", "fallback": "voice:fallback"}
    ]
    assert engine.verify(started.challenge.id, _code(backup.last.body), subject="alice").binding is not None


def test_a_login_with_nothing_bound_may_bind_the_plugin_method(voice_plugin):
    engine = _engine(stepup.Engine, senders={"voice": MemorySender()}, methods=METHODS)

    decision = engine.login_decision("bob")

    assert decision.must_bind and decision.bind_methods == ("sms", "email", "totp", "voice")


@pytest.mark.parametrize(
    "urls",
    [{"sms": "console://"}, {"email:fallback": "console://"}, {"Voice": "console://"}, {"voice:backup": "console://"},
     {"voice": ""}],
)  # fmt: skip
def test_sender_urls_names_only_plugin_channels_and_their_fallbacks(urls):
    with pytest.raises(stepup.ConfigurationError, match="sender_urls|sms_url|email_url"):
        stepup.Settings(secret_key=SECRET, sender_urls=urls)


def test_stepup_sender_urls_must_be_a_table():
    with pytest.raises(stepup.ConfigurationError, match="table from channel to sender URL"):
        stepup.Settings.from_mapping({"STEPUP_SECRET_KEY": SECRET, "STEPUP_SENDER_URLS": '["console://"]'})


def test_a_channel_given_twice_in_code_is_refused():
    sms = MemorySender()
    with pytest.raises(stepup.ConfigurationError, match="given twice"):
        stepup.Engine(secret_key=SECRET, store_url="memory://", sms=sms, senders={"sms": sms})


def test_docs_extending_shows_the_example_plugin_as_it_is():
    source = (PLUGINS / "voice" / "stepup_voice.py").read_text(encoding="utf-8")
    pyproject = (PLUGINS / "voice" / "pyproject.toml").read_text(encoding="utf-8")
    entry = re.search(r'\[project\.entry-points\."stepup\.methods"\]\n.*\n', pyproject)
    docs = DOCS.read_text(encoding="utf-8")

    assert entry is not None and entry.group(0) in docs
    assert source in docs


def test_the_docs_example_runs_as_written(voice_plugin):
    docs = DOCS.read_text(encoding="utf-8")
    example = next(b for b in re.findall(r"```python\n(.*?)```", docs, re.S) if 'senders={"voice"' in b)

    exec(compile(example, str(DOCS), "exec"), {})


def test_a_plain_sender_for_a_plugin_channel_on_the_async_engine_delivers(voice_plugin):
    # As for sms= and email=: a plain sender of a plug-in's channel runs in a worker
    # thread, rather than failing at its first send after the challenge was started.
    calls = MemorySender()
    engine = stepup.AsyncEngine(
        secret_key=SECRET, store_url="memory://", clock=stepup.FrozenClock(), sms=MemorySender(),
        email=MemorySender(), test_number_prefixes=("+447700900",), senders={"voice": calls}, methods=METHODS,
    )  # fmt: skip
    try:
        started = _run(engine.begin_bind("alice", "voice", "+44 7700 900123"))
        assert calls.last.to == PHONE
        bound = _run(engine.verify(started.challenge.id, _code(calls.last.body), subject="alice"))
        assert bound.binding.method == "voice"
    finally:
        _run(engine.close())
