"""``twilio-voice://`` and ``vonage-voice://`` against fake provider APIs on loopback: the
exact call each documents (Twilio's form with inline TwiML, Vonage's NCCO with an
application JWT verified with the public key), the code read digit by digit, twice, in the
subject's language; errors as clear delivery errors; sync and async."""

from __future__ import annotations

import asyncio
import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import jwt
import pytest

import stepup
from stepup.senders import MemorySender, async_sender_from_url, sender_from_url
from tests.support.plugins import install_plugin

SECRET = "s" * 40
PHONE = "+447700900123"
#: the voice method is the example plug-in's; the voice channel and its senders are stepup's.
METHODS = ["sms", "email", "totp", "recovery", "voice"]
CALL = stepup.Message("voice", PHONE, "Your code is: 1, 2, 3.\n\nOnce more, your code is: 1, 2, 3.", locale="de")


@pytest.fixture
def voice_method(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    install_plugin("voice", monkeypatch, tmp_path / "site")


def _engine(url: str, **options: Any) -> stepup.Engine:
    return stepup.Engine(
        secret_key=SECRET, store_url="memory://", sms=MemorySender(), email=MemorySender(), voice_url=url,
        methods=METHODS, test_number_prefixes=("+447700900",), **options,
    )  # fmt: skip


def _digits(text: str) -> str:
    return re.sub(r"\D", "", text)


def _send(url: str, message: stepup.Message = CALL, *, asynchronous: bool = False) -> None:
    if asynchronous:
        asyncio.run(async_sender_from_url(url).send(message))
    else:
        sender_from_url(url).send(message)


def _refused(url: str, message: stepup.Message = CALL, *, asynchronous: bool = False) -> stepup.DeliveryError:
    with pytest.raises(stepup.DeliveryError) as caught:
        _send(url, message, asynchronous=asynchronous)
    error = caught.value
    assert error.channel == "voice" and error.status == 503
    return error


# -- Twilio --------------------------------------------------------------------------------------


def test_a_code_is_read_out_by_twilio_digit_by_digit_twice_with_a_pause(
    voice_method: None, twilio_voice: Any, voice_urls: dict[str, str]
) -> None:
    engine = _engine(voice_urls["twilio"])
    try:
        started = engine.begin_bind("alice", "voice", "+44 7700 900123")
        [seen] = twilio_voice.requests
        sid, token = twilio_voice.credentials
        assert (seen.method, seen.path, seen.auth) == ("POST", f"/2010-04-01/Accounts/{sid}/Calls.json", (sid, token))
        assert seen.content_type == "application/x-www-form-urlencoded"
        assert set(seen.form) == {"To", "From", "Twiml"}
        assert (seen.form["To"], seen.form["From"]) == (PHONE, "+15005550006")
        twiml = ET.fromstring(seen.form["Twiml"])
        assert twiml.tag == "Response"
        assert [(verb.tag, verb.attrib) for verb in twiml] == [
            ("Say", {"language": "en-US"}), ("Pause", {"length": "1"}), ("Say", {"language": "en-US"}),
        ]  # fmt: skip
        first, again = twiml[0].text or "", twiml[2].text or ""
        code = _digits(first)
        assert len(code) == 6 and _digits(again) == code
        assert ", ".join(code) in first and ", ".join(code) in again  # one digit at a time, never "123456"
        bound = engine.verify(started.challenge.id, code, subject="alice")
        assert bound.binding is not None and bound.binding.method == "voice"
    finally:
        engine.close()


def test_twilio_says_the_code_in_the_subject_s_language(
    voice_method: None, twilio_voice: Any, voice_urls: dict[str, str]
) -> None:
    engine = _engine(voice_urls["twilio"])
    try:
        engine.begin_bind("alice", "voice", PHONE, locale="ja")
        twiml = ET.fromstring(twilio_voice.requests[0].form["Twiml"])
        assert {verb.get("language") for verb in twiml if verb.tag == "Say"} == {"ja-JP"}
        assert "stepup でこの電話番号を確認するコードは" in (twiml[0].text or "")
        assert "、".join(_digits(twiml[0].text or "")) in (twiml[0].text or "")
    finally:
        engine.close()


def test_a_voice_for_every_call_and_xml_in_the_words_is_escaped(twilio_voice: Any, voice_urls: dict[str, str]) -> None:
    message = stepup.Message("voice", PHONE, "Approve <transfer> & more: 1, 2.\n\nOnce more: 1, 2.", locale="pt_BR")
    _send(voice_urls["twilio"] + "&voice=Polly.Camila", message)
    twiml = ET.fromstring(twilio_voice.requests[0].form["Twiml"])
    assert twiml[0].attrib == {"language": "pt-BR", "voice": "Polly.Camila"}
    assert twiml[0].text == "Approve <transfer> & more: 1, 2."


@pytest.mark.parametrize("asynchronous", [False, True], ids=["sync", "async"])
def test_twilio_s_invalid_number_is_a_clear_delivery_error(
    twilio_voice: Any, voice_urls: dict[str, str], asynchronous: bool
) -> None:
    message = stepup.Message("voice", "+15005550001", CALL.body)
    error = _refused(voice_urls["twilio"], message, asynchronous=asynchronous)
    assert error.message == "The call could not be made (Twilio)."
    assert error.reason == "Twilio error 21211: Invalid 'To' Phone Number: +15005550001 (HTTP 400)"
    assert len(twilio_voice.requests) == 1  # a 4xx is not retried
    assert twilio_voice.credentials[1] not in f"{error.message} {error.reason}"


def test_a_wrong_twilio_token_is_refused_without_showing_it(twilio_voice: Any, voice_urls: dict[str, str]) -> None:
    url = voice_urls["twilio"].replace(twilio_voice.credentials[1], "not-the-token")
    error = _refused(url)
    assert error.reason == "Twilio error 20003: Authenticate (HTTP 401)"
    assert "not-the-token" not in f"{error.message} {error.reason}"


@pytest.mark.parametrize("asynchronous", [False, True], ids=["sync", "async"])
def test_a_call_that_may_have_been_placed_is_never_placed_twice(
    twilio_voice: Any, voice_urls: dict[str, str], asynchronous: bool
) -> None:
    twilio_voice.next = ["hang"]
    error = _refused(voice_urls["twilio"], asynchronous=asynchronous)
    assert error.reason == "Twilio did not answer within 0.5 s (read timeout)"
    assert len(twilio_voice.requests) == 1

    twilio_voice.requests.clear()
    twilio_voice.next = ["500"]  # a 5xx: the call was not placed, one more try
    _send(voice_urls["twilio"], asynchronous=asynchronous)
    assert len(twilio_voice.requests) == 2


# -- Vonage --------------------------------------------------------------------------------------


@pytest.mark.parametrize("asynchronous", [False, True], ids=["sync", "async"])
def test_a_code_is_read_out_by_vonage_through_an_ncco_talk_action(
    vonage_voice: Any, voice_urls: dict[str, str], asynchronous: bool
) -> None:
    _send(voice_urls["vonage"], asynchronous=asynchronous)
    [seen] = vonage_voice.requests
    assert (seen.method, seen.path, seen.auth) == ("POST", "/v1/calls", None)
    assert seen.content_type == "application/json"
    assert json.loads(seen.body) == {
        "to": [{"type": "phone", "number": "447700900123"}],
        "from": {"type": "phone", "number": "447700900000"},
        "ncco": [
            {"action": "talk", "text": "<speak>Your code is: 1, 2, 3.</speak>", "language": "de-DE"},
            {"action": "talk", "text": '<speak><break time="1s"/>Once more, your code is: 1, 2, 3.</speak>',
             "language": "de-DE"},
        ],
    }  # fmt: skip


def test_vonage_s_application_jwt_is_signed_with_the_application_s_key(
    vonage_voice: Any, vonage_app: Any, voice_urls: dict[str, str]
) -> None:
    _send(voice_urls["vonage"])
    _send(voice_urls["vonage"])
    tokens = [seen.authorization.removeprefix("Bearer ") for seen in vonage_voice.requests]
    assert all(seen.authorization.startswith("Bearer ") for seen in vonage_voice.requests)
    assert {jwt.get_unverified_header(t)["alg"] for t in tokens} == {"RS256"}
    first, second = (jwt.decode(t, vonage_app.public_pem, algorithms=["RS256"]) for t in tokens)
    assert set(first) == {"application_id", "iat", "exp", "jti"}
    assert first["application_id"] == vonage_app.application_id
    assert 0 < first["exp"] - first["iat"] <= 900  # short-lived: one call's request
    assert first["jti"] != second["jti"]  # a fresh token per call


def test_the_jwt_s_times_come_from_the_clock_it_is_given(vonage_app: Any) -> None:
    from stepup.senders import VonageVoiceApi

    api = VonageVoiceApi(vonage_app.application_id, vonage_app.private_pem, sender="+447700900000",
                         clock=lambda: 1_700_000_000.7)  # fmt: skip
    claims = jwt.decode(api.token(), vonage_app.public_pem, algorithms=["RS256"], options={"verify_exp": False})
    assert (claims["iat"], claims["exp"]) == (1_700_000_000, 1_700_000_300)


@pytest.mark.parametrize("asynchronous", [False, True], ids=["sync", "async"])
def test_a_jwt_signed_with_another_key_is_a_clear_delivery_error(
    vonage_voice: Any, voice_urls: dict[str, str], tmp_path: Path, asynchronous: bool
) -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    key_file = tmp_path / "other.key"
    key_file.write_bytes(other.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                             serialization.NoEncryption()))  # fmt: skip
    url = re.sub(r"private_key=[^&]+", f"private_key={key_file}", voice_urls["vonage"])
    error = _refused(url, asynchronous=asynchronous)
    assert error.message == "The call could not be made (Vonage)."
    assert error.reason == "Vonage error: Unauthorized: You did not provide correct credentials. (HTTP 401)"
    assert "PRIVATE KEY" not in f"{error.message} {error.reason}"


def test_vonage_s_invalid_parameters_are_named(vonage_voice: Any, voice_urls: dict[str, str]) -> None:
    vonage_voice.next = [(400, {"type": "https://developer.nexmo.com/api-errors#bad-request", "title": "Bad Request",
                                "detail": "The request failed due to validation errors",
                                "invalid_parameters": [{"name": "to", "reason": "Invalid number"}]})]  # fmt: skip
    error = _refused(voice_urls["vonage"])
    assert error.reason == (
        "Vonage error: Bad Request: The request failed due to validation errors; "
        "invalid: to (Invalid number) (HTTP 400)"
    )


def test_the_async_engine_calls_through_vonage_natively(
    voice_method: None, vonage_voice: Any, voice_urls: dict[str, str]
) -> None:
    async def main() -> Any:
        engine = stepup.AsyncEngine(
            secret_key=SECRET, store_url="memory://", sms=MemorySender(), email=MemorySender(),
            voice_url=voice_urls["vonage"], methods=METHODS, test_number_prefixes=("+447700900",),
        )  # fmt: skip
        try:
            started = await engine.begin_bind("alice", "voice", PHONE, locale="fr")
            ncco = json.loads(vonage_voice.requests[0].body)["ncco"]
            code = _digits(ncco[0]["text"])
            bound = await engine.verify(started.challenge.id, code, subject="alice")
            return type(engine.senders["voice"]).__name__, ncco, bound
        finally:
            await engine.close()

    sender, ncco, bound = asyncio.run(main())
    assert sender == "AsyncHttpVoiceSender"
    assert [a["language"] for a in ncco] == ["fr-FR", "fr-FR"] and "Votre code" in ncco[0]["text"]
    assert bound.binding.method == "voice"


# -- URLs ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("twilio-voice://AC1:tok@", "needs from="),
        ("twilio-voice://AC1@?from=+1555", "Account SID and Auth Token"),
        ("twilio-voice://AC1:tok@api.twilio.com?from=+1555", "base_url="),
        ("twilio-voice://AC1:tok@?from=+1555&messaging_service_sid=MG1", "does not take messaging_service_sid"),
        ("vonage-voice://APP@?from=+1555", "path of its private key"),
        ("vonage-voice://APP:secret@?private_key=/k&from=+1555", "path of its private key"),
        ("vonage-voice://APP@?private_key=/nowhere/private.key&from=+1555", "cannot be read"),
        ("vonage-voice://@?private_key=KEY&from=+1555", "application id"),
        ("vonage-voice://APP@?private_key=KEY", "needs from="),
        ("vonage-voice://APP@?private_key=GARBAGE&from=+1555", "not a PEM private key"),
    ],
)
def test_unusable_voice_urls_are_refused_at_start_up(url: str, words: str, vonage_app: Any, tmp_path: Path) -> None:
    garbage = tmp_path / "garbage.key"
    garbage.write_text("not a key")
    url = url.replace("private_key=KEY", f"private_key={vonage_app.key_file}").replace("GARBAGE", str(garbage))
    with pytest.raises(stepup.ConfigurationError, match=words) as caught:
        sender_from_url(url)
    assert "tok" not in caught.value.message.replace("token", "").replace("Token", "")
    assert "secret" not in caught.value.message


def test_the_sync_and_async_voice_senders_are_twins() -> None:
    import inspect

    from stepup.senders import AsyncHttpVoiceSender, HttpVoiceSender

    assert inspect.signature(HttpVoiceSender.send) == inspect.signature(AsyncHttpVoiceSender.send)
    assert inspect.signature(HttpVoiceSender.__init__) == inspect.signature(AsyncHttpVoiceSender.__init__)
    assert inspect.iscoroutinefunction(AsyncHttpVoiceSender.send)
    assert not inspect.iscoroutinefunction(HttpVoiceSender.send)


def test_a_voice_sender_s_repr_shows_neither_token_nor_key(voice_urls: dict[str, str], vonage_app: Any) -> None:
    twilio, vonage = repr(sender_from_url(voice_urls["twilio"])), repr(sender_from_url(voice_urls["vonage"]))

    assert twilio.startswith("HttpVoiceSender(TwilioVoiceApi(") and "twilio-token" not in twilio
    assert vonage.startswith("HttpVoiceSender(VonageVoiceApi(") and vonage_app.application_id in vonage
    assert "PRIVATE" not in vonage and str(vonage_app.key_file) not in vonage
