"""Configuration refused at start-up, settings from STEPUP_* strings, local senders, keys."""

from __future__ import annotations

import json
import re
import threading

import pytest

import stepup
from stepup._crypto import Keyring, Secret
from stepup.senders import FileSender, sender_from_url

SECRET = "s" * 40
OLD, NEW = "o" * 40, "n" * 40


@pytest.mark.parametrize("key", ["", "too-short", [], ["s" * 40, "short"]])
def test_a_missing_or_weak_key_is_refused(key):
    with pytest.raises(stepup.ConfigurationError) as caught:
        stepup.Engine(secret_key=key, store_url="memory://")
    assert "stepup secret" in caught.value.message


def test_an_engine_without_a_key_does_not_start():
    with pytest.raises(stepup.ConfigurationError) as caught:
        stepup.Engine(store_url="memory://")
    assert "stepup secret" in caught.value.message


def test_the_key_never_shows_in_the_settings_repr():
    settings = stepup.Settings(secret_key=SECRET)
    assert SECRET not in repr(settings)
    assert "s" * 10 not in repr(Keyring(SECRET))


def test_unknown_store_scheme_names_the_known_ones():
    with pytest.raises(stepup.ConfigurationError) as caught:
        stepup.Engine(secret_key=SECRET, store_url="postgres://db/stepup")
    assert "memory://" in caught.value.message and "sqlite://" in caught.value.message


def test_unknown_sender_scheme_names_the_known_ones():
    with pytest.raises(stepup.ConfigurationError) as caught:
        stepup.Engine(secret_key=SECRET, store_url="memory://", sms_url="carrier-pigeon://loft")
    assert "console://" in caught.value.message and "file://" in caught.value.message


def test_settings_from_stepup_strings():
    settings = stepup.Settings.from_mapping({
        "STEPUP_SECRET_KEY": SECRET,
        "STEPUP_CODE_TTL": "120",
        "STEPUP_BACKOFF_BASE": "0.5",
        "STEPUP_SMS_REFUSE_VOIP": "yes",
        "STEPUP_LOGIN_2FA": "false",
        "STEPUP_SMS_ALLOWED_REGIONS": "GB, IE",
        "STEPUP_TEST_NUMBER_PREFIXES": "+447700900",
        "STEPUP_CODE_LENGTH": '{"sms": 4, "email": 8}',
        "STEPUP_IDENTITY_SOURCES": '{"sso": false}',
        "STEPUP_LIMIT_SENDS_PER_TARGET": "3/hour",
        "OTHER_APP_SETTING": "ignored",
    })  # fmt: skip
    assert settings.code_ttl == 120 and settings.backoff_base == 0.5
    assert settings.sms_refuse_voip is True and settings.login_2fa is False
    assert settings.sms_allowed_regions == frozenset({"GB", "IE"})
    assert settings.test_number_prefixes == ("+447700900",)
    assert settings.code_length == {"sms": 4, "email": 8}
    assert settings.identity_sources == {"sso": False}
    assert settings.limit_sends_per_target == "3/hour"


@pytest.mark.parametrize("mapping", [{"STEPUP_CODE_TTL": "five minutes"}, {"STEPUP_CODE_LENGTH": "{sms: 4"}])
def test_unreadable_strings_are_refused(mapping):
    with pytest.raises(stepup.ConfigurationError) as caught:
        stepup.Settings.from_mapping(mapping)
    assert next(iter(mapping)) in caught.value.message


def test_a_bad_limit_is_refused():
    with pytest.raises(stepup.ConfigurationError) as caught:
        stepup.Engine(secret_key=SECRET, store_url="memory://", limit_sms_per_country="lots a day")
    assert "limit_sms_per_country" in caught.value.message
    with pytest.raises(stepup.ConfigurationError):
        stepup.Settings.from_mapping({"STEPUP_LIMIT_CHALLENGES_PER_SUBJECT": "many"})


def test_file_sender_writes_json_lines(tmp_path):
    path = tmp_path / "out.jsonl"
    engine = stepup.Engine(secret_key=SECRET, store_url="memory://", sms_url="file:///" + str(path),
                           email_url="file:///" + str(path))  # fmt: skip
    try:
        engine.begin_bind("alice", "sms", "+44 7400 123456")
        engine.contact.request("email", "kim@example.com")
    finally:
        engine.close()
    lines = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    assert [(m["channel"], m["to"]) for m in lines] == [("sms", "+447400123456"), ("email", "kim@example.com")]
    assert all(set(m) == {"channel", "to", "subject", "body"} for m in lines)
    assert lines[0]["subject"] == "" and lines[1]["subject"]
    assert all(re.search(r"\d{6}", m["body"]) for m in lines)


def test_file_sender_from_url(tmp_path):
    sender = sender_from_url("file:///" + str(tmp_path / "box" / "out.jsonl"))
    sender.send(stepup.Message("sms", "+447400123456", "123456 is your code"))
    assert (tmp_path / "box" / "out.jsonl").read_text().count("\n") == 1


def test_a_file_outbox_read_while_it_is_written_gives_whole_messages(tmp_path):
    path = tmp_path / "out.jsonl"
    writer, reader = FileSender(path), FileSender(path)
    body = "Your code is 123456. " * 5000  # 100 KB: more than one write to the file
    done = threading.Event()

    def send_all() -> None:
        for n in range(100):
            writer.send(stepup.Message("sms", f"+4474001{n:05d}", body))
        done.set()

    thread = threading.Thread(target=send_all)
    thread.start()
    try:
        seen = 0
        while not done.is_set():
            messages = reader.messages()  # raised on a half-written line
            assert all(m["body"] == body for m in messages) and len(messages) >= seen
            seen = len(messages)
    finally:
        thread.join()
    assert len(reader.messages()) == 100


def test_console_sender_prints_the_code(capsys):
    engine = stepup.Engine(secret_key=SECRET, store_url="memory://", sms_url="console://")
    try:
        start = engine.begin_bind("alice", "sms", "+44 7400 123456")
        out = capsys.readouterr().out
        assert "[stepup sms to +447400123456]" in out
        code = re.findall(r"(?<!\d)\d{6}(?!\d)", out)[0]
        assert engine.verify(start.challenge.id, code, subject="alice").binding is not None
    finally:
        engine.close()


def test_secret_repr_hides_the_value():
    secret = Secret("hunter2-hunter2")
    assert "hunter2" not in repr(secret) and "hunter2" not in str(secret)
    assert secret.reveal() == "hunter2-hunter2"


def test_unsign_rejects_tampered_foreign_and_odd_tokens():
    keys = Keyring(SECRET)
    token = keys.sign("stepup.test", {"s": "alice"})
    assert keys.unsign("stepup.test", token, None) == {"s": "alice"}
    i = len(token) - 5  # inside the signature, a character whose every bit counts
    tampered = token[:i] + ("A" if token[i] != "A" else "B") + token[i + 1 :]
    assert keys.unsign("stepup.test", tampered, None) is None
    assert keys.unsign("stepup.other-purpose", token, None) is None
    assert keys.unsign("stepup.test", token.encode(), None) is None
    assert keys.unsign("stepup.test", None, None) is None
    assert Keyring("x" * 40).unsign("stepup.test", token, None) is None


def test_old_key_still_verifies_after_rotation():
    old = Keyring(OLD)
    token = old.sign("stepup.test", "value")
    digest = old.digest("challenge-id", "123456")
    rotated = Keyring([OLD, NEW])
    assert rotated.unsign("stepup.test", token, None) == "value"
    assert rotated.matches(digest, "challenge-id", "123456")
    assert not rotated.matches(digest, "challenge-id", "654321")
    # The newest key signs; once the old one is dropped its tokens stop working.
    assert Keyring(NEW).unsign("stepup.test", token, None) is None
    assert Keyring(NEW).unsign("stepup.test", rotated.sign("stepup.test", "v"), None) == "v"


def test_a_token_compressed_before_still_reads():
    """Tokens are no longer compressed; one made compressed before an upgrade (a page left
    open, a resume link) reads as before, and only with its signature intact."""
    from itsdangerous import URLSafeTimedSerializer

    value = {"page": "x" * 200}
    compressed = URLSafeTimedSerializer(SECRET, salt="stepup.test").dumps(value)
    assert compressed.startswith(".")
    keys = Keyring(SECRET)
    assert keys.unsign("stepup.test", compressed, None) == value
    assert keys.unsign("stepup.test", keys.sign("stepup.test", value), None) == value
    assert keys.unsign("stepup.test", compressed[:-3] + "AAA", None) is None


@pytest.mark.parametrize("url", ["/report?q=" + '"' * 1500, "/" + "é" * 2000, "/" + "報告" * 1000])
def test_a_long_value_makes_a_token_that_still_reads(url):
    """A page token carries its return URL (up to 2,048 characters); JSON writes a quote
    or an accent in two to six bytes, so a long one is compressed to stay readable."""
    keys = Keyring(SECRET)
    token = keys.sign("stepup.page", {"next": url})
    assert keys.unsign("stepup.page", token, None) == {"next": url}


def test_a_short_value_is_not_compressed_and_each_purpose_signs_its_own():
    clock = stepup.FrozenClock()
    keys = Keyring(SECRET, clock)
    csrf, page = keys.sign("stepup.csrf", "same-value"), keys.sign("stepup.page", "same-value")
    assert not csrf.startswith(".") and csrf != page  # in the same second, one value
    assert keys.unsign("stepup.page", csrf, None) is None and keys.unsign("stepup.csrf", page, None) is None
    assert keys.unsign("stepup.csrf", csrf, None) == keys.unsign("stepup.page", page, None) == "same-value"


def test_the_tokens_kept_for_a_second_are_capped_and_start_again_each_second():
    """A page's forms share one token for their CSRF value (signed once a second, not once a
    form), but what many sessions in one second make a keyring keep is capped."""
    clock = stepup.FrozenClock()
    keys = Keyring(SECRET, clock)
    first = keys.sign("stepup.test", "session-0")
    assert keys.sign("stepup.test", "session-0") == first
    for n in range(5000):
        keys.sign("stepup.test", f"session-{n}")
        assert len(keys._signed) <= 1024
    clock.advance(1)
    later = keys.sign("stepup.test", "session-0")
    assert later != first and len(keys._signed) == 1
    assert keys.unsign("stepup.test", first, None) == keys.unsign("stepup.test", later, None) == "session-0"


def test_tokens_age_on_the_engine_clock():
    clock = stepup.FrozenClock()
    keys = Keyring(SECRET, clock)
    token = keys.sign("stepup.test", "value")
    clock.advance(60)
    assert keys.unsign("stepup.test", token, 60) == "value"
    clock.advance(1)
    assert keys.unsign("stepup.test", token, 60) is None
