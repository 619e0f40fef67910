"""The channel registry: the built-in channels and what each reaches, a plug-in channel
found through its entry point (``stepup.channels``) that makes its own messages and routes
by country with a fallback, plug-ins that break the contract refused; and the voice
channel's senders by setting (``voice_url``, ``voice_routes``, ``voice_fallback_url``)."""

from __future__ import annotations

import json
import socket
import sys
from pathlib import Path
from typing import Any

import pytest

import stepup
from stepup.channels import Channel, channel, channels
from stepup.senders import MemorySender
from tests.support.plugins import install_plugin

SECRET = "s" * 40
GB, US = "+447400123456", "+12025550123"
PREFIXES = ("+447700900", "+1202555")


class _Down:
    def send(self, message: stepup.Message) -> None:
        raise stepup.DeliveryError("The provider is down.", message.channel, "gateway timeout")


def _engine(methods: list[str], **options: Any) -> stepup.Engine:
    return stepup.Engine(
        secret_key=SECRET, store_url="memory://", sms=MemorySender(), email=MemorySender(),
        methods=["sms", "email", "totp", "recovery", *methods], test_number_prefixes=PREFIXES, **options,
    )  # fmt: skip


def _broken_plugin(monkeypatch: pytest.MonkeyPatch, site: Path, source: str) -> None:
    """A distribution whose ``stepup.channels`` entry point ``broken`` names
    ``stepup_broken:CHANNEL``, defined by ``source``."""
    info = site / "stepup_broken-0.1.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: stepup-broken\nVersion: 0.1\n", encoding="utf-8")
    (info / "entry_points.txt").write_text("[stepup.channels]\nbroken = stepup_broken:CHANNEL\n", encoding="utf-8")
    (site / "stepup_broken.py").write_text(source, encoding="utf-8")
    monkeypatch.delitem(sys.modules, "stepup_broken", raising=False)
    monkeypatch.syspath_prepend(str(site))


@pytest.fixture
def pager(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    install_plugin("pager", monkeypatch, tmp_path / "site")


def test_the_built_in_channels_say_what_they_reach() -> None:
    found = channels()

    assert {name: ch.target for name, ch in found.items()} == {"sms": "phone", "email": "email", "voice": "phone"}
    assert channel("voice") is found["voice"] and isinstance(found["voice"], Channel)
    with pytest.raises(TypeError):
        found["fax"] = found["sms"]  # type: ignore[index]


def test_an_unknown_channel_is_refused_naming_the_known_ones() -> None:
    with pytest.raises(stepup.ConfigurationError, match="No channel is called 'fax'; stepup knows email, sms, voice"):
        channel("fax")


def test_each_built_in_channel_makes_its_own_message() -> None:
    catalog = stepup.MessageCatalog("Bank")
    made = {
        name: channel(name).code_message(catalog, to="x", purpose="login", code="493817", ttl=300, locale="de")
        for name in ("sms", "email", "voice")
    }

    assert made["email"].subject == "Ihr Bank-Anmeldecode" and made["sms"].subject == made["voice"].subject == ""
    assert "493817" in made["sms"].body and "493817" in made["email"].body
    assert "4, 9, 3, 8, 1, 7" in made["voice"].body and "493817" not in made["voice"].body
    assert {m.locale for m in made.values()} == {"de"}


def test_a_plug_in_channel_comes_through_its_entry_point_and_makes_its_own_messages(pager: None) -> None:
    assert channels()["pager"].target == "phone" and type(channel("pager")).__module__ == "stepup_pager"
    paged = MemorySender()
    engine = _engine(["pager"], senders={"pager": paged})
    try:
        started = engine.begin_bind("alice", "pager", GB)
        assert (paged.last.channel, paged.last.to) == ("pager", GB)
        app, code = paged.last.body.split()
        assert app == "stepup" and code.isdigit()
        assert engine.verify(started.challenge.id, code, subject="alice").binding is not None
    finally:
        engine.close()


def test_a_plug_in_phone_channel_routes_by_country_then_falls_back(pager: None) -> None:
    default, britain, backup, events = MemorySender(), _Down(), MemorySender(), []
    senders = {"pager": default, "pager:GB": britain, "pager:fallback": backup}
    engine = _engine(["pager"], senders=senders, audit_hooks=[events.append])
    try:
        engine.begin_bind("alice", "pager", US)
        engine.begin_bind("bob", "pager", GB)
    finally:
        engine.close()

    assert [m.to for m in default.outbox] == [US] and [m.to for m in backup.outbox] == [GB]
    assert [e.detail["via"] for e in events if e.type == "delivery_failed"] == ["pager:GB"]


def test_a_country_route_of_a_plug_in_channel_comes_from_sender_urls(pager: None, tmp_path: Path) -> None:
    urls = {"pager": f"file://{tmp_path / 'pager.jsonl'}", "pager:US": f"file://{tmp_path / 'pager-us.jsonl'}"}
    engine = _engine(["pager"], sender_urls=urls)
    try:
        engine.begin_bind("alice", "pager", US)
    finally:
        engine.close()

    assert json.loads((tmp_path / "pager-us.jsonl").read_text())["to"] == US
    assert not (tmp_path / "pager.jsonl").exists()


@pytest.mark.parametrize(
    ("source", "words"),
    [
        ("CHANNEL = object()\n", "is not a stepup channel"),
        ("class CHANNEL:\n    name = 'Fax!'\n    target = 'phone'\n    def code_message(self): ...\n", "'Fax!'"),
        ("class CHANNEL:\n    name = 'sms'\n    target = 'phone'\n    def code_message(self): ...\n", "built-in"),
    ],
)
def test_a_plug_in_that_breaks_the_channel_contract_stops_the_engine(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, source: str, words: str
) -> None:
    _broken_plugin(monkeypatch, tmp_path, source)

    with pytest.raises(stepup.ConfigurationError, match=words):
        _engine([])


# -- the voice channel's senders by setting --------------------------------------------------


@pytest.fixture
def voice_method(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    install_plugin("voice", monkeypatch, tmp_path / "site")


def _calls(path: Path) -> list[str]:
    return [json.loads(line)["to"] for line in path.read_text().splitlines()] if path.exists() else []


def test_voice_calls_go_by_the_number_s_country_and_to_the_fallback_when_a_provider_is_down(
    voice_method: None, tmp_path: Path
) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed = s.getsockname()[1]  # nothing listens here once the socket is closed
    settings = stepup.Settings.from_mapping({
        "STEPUP_SECRET_KEY": SECRET, "STEPUP_STORE_URL": "memory://", "STEPUP_SMS_URL": "memory://",
        "STEPUP_EMAIL_URL": "memory://", "STEPUP_METHODS": "sms,email,voice",
        "STEPUP_TEST_NUMBER_PREFIXES": ",".join(PREFIXES),
        "STEPUP_VOICE_URL": f"file://{tmp_path / 'calls.jsonl'}",
        "STEPUP_VOICE_ROUTES": json.dumps({
            "GB": f"twilio-voice://AC1:tok@?from=+15005550006&base_url=http://127.0.0.1:{closed}&connect_timeout=0.5",
        }),
        "STEPUP_VOICE_FALLBACK_URL": f"file://{tmp_path / 'backup.jsonl'}",
    })  # fmt: skip
    events: list[stepup.AuditEvent] = []
    engine = stepup.Engine(settings, audit_hooks=[events.append])
    try:
        engine.begin_bind("alice", "voice", US)
        engine.begin_bind("bob", "voice", GB)
    finally:
        engine.close()

    assert _calls(tmp_path / "calls.jsonl") == [US] and _calls(tmp_path / "backup.jsonl") == [GB]
    [failed] = [e.detail for e in events if e.type == "delivery_failed"]
    assert (failed["via"], failed["provider"]) == ("voice:GB", "twilio")
    assert failed["reason"] == "cannot reach Twilio (ConnectError)"
    assert [e.detail.get("fallback") for e in events if e.type == "sent"] == [None, "voice:fallback"]


def test_without_voice_url_a_voice_method_has_no_sender(voice_method: None) -> None:
    with pytest.raises(stepup.ConfigurationError, match="'voice'"):
        _engine(["voice"])


@pytest.mark.parametrize(
    ("settings", "words"),
    [
        ({"voice_routes": {"US": "console://"}}, "set voice_url too"),
        ({"voice_fallback_url": "console://"}, "set voice_url too"),
        ({"voice_url": "console://", "voice_routes": {"usa": "console://"}}, "voice_routes maps ISO regions"),
        ({"voice_url": "console://", "sender_urls": {"voice:fallback": "console://"}}, "while voice_url is set"),
        ({"sender_urls": {"voice:United": "console://"}}, "sender_urls maps channels"),
    ],
)
def test_voice_settings_that_cannot_work_are_refused(settings: dict[str, Any], words: str) -> None:
    with pytest.raises(stepup.ConfigurationError, match=words):
        stepup.Settings(secret_key=SECRET, **settings)


def test_a_method_s_channel_that_no_plug_in_registered_still_sends_with_the_sms_wording() -> None:
    from stepup.methods import BUILTIN_METHODS, SmsMethod

    class Pigeon(SmsMethod):
        name = "pigeon"
        channel = "pigeon"

    birds = MemorySender()
    settings = stepup.Settings(secret_key=SECRET, store_url="memory://", methods=frozenset({"sms", "pigeon"}))
    engine = stepup.Engine(settings, methods={**BUILTIN_METHODS, "pigeon": Pigeon()}, senders={"pigeon": birds},
                           sms=MemorySender(), email=MemorySender())  # fmt: skip
    try:
        engine.begin_bind("alice", "pigeon", GB)
    finally:
        engine.close()

    assert (birds.last.channel, birds.last.to, birds.last.subject) == ("pigeon", GB, "")
    assert "confirms this pigeon for your stepup account. It expires in 5 min." in birds.last.body


def test_an_sms_challenge_s_code_can_follow_by_a_call_to_the_same_number_in_its_language() -> None:
    # What a workflow's voice step does: the sms method's code, read out by the voice channel.
    from stepup.engine._sending import deliver

    texts, calls = MemorySender(), MemorySender()
    engine = stepup.Engine(secret_key=SECRET, store_url="memory://", sms=texts, email=MemorySender(),
                           senders={"voice": calls})  # fmt: skip
    try:
        engine.import_binding("alice", "sms", GB)
        challenge = engine.start("alice", "sms", locale="es")
        code = texts.last.body.split()[0]
        engine.run(deliver(engine.context, challenge, code, "voice"))
    finally:
        engine.close()

    assert (calls.last.channel, calls.last.to, calls.last.locale) == ("voice", GB, "es")
    assert calls.last.body.startswith(f"Tu código de verificación de stepup es: {', '.join(code)}.")  # step_up
