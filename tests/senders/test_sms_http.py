"""``twilio://`` and ``vonage://`` against fake provider APIs on loopback: the exact request
each documents, their success and error answers, one retry, timeouts, sync and async."""

from __future__ import annotations

import asyncio
import re
from typing import Any

import pytest

import stepup
from stepup.senders import MemorySender, async_sender_from_url, sender_from_url

SECRET = "s" * 40
PHONE = "+447400123456"
MESSAGE = stepup.Message("sms", PHONE, "123456 is your Bank verification code.")


def _code(body: str) -> str:
    return re.findall(r"\b\d{6}\b", body)[0]


def _send(url: str, message: stepup.Message = MESSAGE, *, asynchronous: bool = False) -> None:
    if asynchronous:
        asyncio.run(async_sender_from_url(url).send(message))
    else:
        sender_from_url(url).send(message)


def _refused(url: str, message: stepup.Message = MESSAGE, *, asynchronous: bool = False) -> stepup.DeliveryError:
    with pytest.raises(stepup.DeliveryError) as caught:
        _send(url, message, asynchronous=asynchronous)
    error = caught.value
    assert error.channel == "sms" and error.status == 503
    return error


def _leaks(error: stepup.DeliveryError, provider: Any) -> bool:
    text = f"{error.message} {error.reason}"
    return provider.credentials[1] in text


# -- Twilio ------------------------------------------------------------------------------------


def test_a_code_goes_through_twilios_messages_resource(twilio: Any, provider_urls: dict[str, str]) -> None:
    url = provider_urls["twilio"]
    engine = stepup.Engine(secret_key=SECRET, store_url="memory://", sms_url=url, email=MemorySender())
    try:
        start = engine.begin_bind("alice", "sms", "+44 7400 123456")
        [seen] = twilio.requests
        sid, token = twilio.credentials
        assert (seen.method, seen.path) == ("POST", f"/2010-04-01/Accounts/{sid}/Messages.json")
        assert seen.auth == (sid, token)
        assert seen.content_type == "application/x-www-form-urlencoded"
        assert set(seen.form) == {"To", "From", "Body"}
        assert (seen.form["To"], seen.form["From"]) == (PHONE, "+15005550006")
        bound = engine.verify(start.challenge.id, _code(seen.form["Body"]), subject="alice")
        assert bound.binding is not None and bound.binding.method == "sms"
    finally:
        engine.close()


@pytest.mark.parametrize("asynchronous", [False, True], ids=["sync", "async"])
def test_a_messaging_service_replaces_from(twilio: Any, asynchronous: bool) -> None:
    sid, token = twilio.credentials
    _send(f"twilio://{sid}:{token}@?messaging_service_sid=MG0123&base_url={twilio.base_url}", asynchronous=asynchronous)
    assert twilio.requests[0].form == {"To": PHONE, "MessagingServiceSid": "MG0123", "Body": MESSAGE.body}


@pytest.mark.parametrize("asynchronous", [False, True], ids=["sync", "async"])
def test_twilios_invalid_number_error_says_what_went_wrong(
    twilio: Any, provider_urls: dict[str, str], asynchronous: bool
) -> None:
    message = stepup.Message("sms", "+15005550001", MESSAGE.body)
    error = _refused(provider_urls["twilio"], message, asynchronous=asynchronous)
    assert error.reason == "Twilio error 21211: The 'To' number +15005550001 is not a valid phone number. (HTTP 400)"
    assert error.message == "The SMS could not be sent (Twilio)."
    assert len(twilio.requests) == 1  # a 4xx is not retried
    assert not _leaks(error, twilio)


def test_a_wrong_twilio_token_is_refused_without_showing_it(twilio: Any) -> None:
    sid, _ = twilio.credentials
    error = _refused(f"twilio://{sid}:not-the-token@?from=+15005550006&base_url={twilio.base_url}")
    assert error.reason == "Twilio error 20003: Authenticate (HTTP 401)"
    assert "not-the-token" not in f"{error.message} {error.reason}"


@pytest.mark.parametrize("asynchronous", [False, True], ids=["sync", "async"])
def test_one_5xx_is_retried_once(twilio: Any, provider_urls: dict[str, str], asynchronous: bool) -> None:
    twilio.next = ["500"]
    _send(provider_urls["twilio"], asynchronous=asynchronous)
    assert [r.form["To"] for r in twilio.requests] == [PHONE, PHONE]

    twilio.requests.clear()
    twilio.next = ["500", "500"]
    error = _refused(provider_urls["twilio"], asynchronous=asynchronous)
    assert error.reason == "Twilio answered HTTP 500"
    assert len(twilio.requests) == 2  # one retry, no more


@pytest.mark.parametrize("asynchronous", [False, True], ids=["sync", "async"])
def test_a_provider_that_hangs_hits_the_read_timeout(
    twilio: Any, provider_urls: dict[str, str], asynchronous: bool
) -> None:
    twilio.next = ["hang"]
    error = _refused(provider_urls["twilio"], asynchronous=asynchronous)
    assert error.reason == "Twilio did not answer within 0.5 s (read timeout)"
    # it may have taken the message: no second try that could send the code twice
    assert len(twilio.requests) == 1


@pytest.mark.parametrize("asynchronous", [False, True], ids=["sync", "async"])
def test_a_provider_that_cannot_be_reached_is_tried_twice(asynchronous: bool) -> None:
    from socket import socket

    with socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    error = _refused(
        f"twilio://AC1:tok-secret@?from=+15005550006&base_url=http://127.0.0.1:{port}&connect_timeout=0.5",
        asynchronous=asynchronous,
    )
    assert error.reason == "cannot reach Twilio (ConnectError)"
    assert "tok-secret" not in f"{error.message} {error.reason}"


# -- Vonage ------------------------------------------------------------------------------------


@pytest.mark.parametrize("asynchronous", [False, True], ids=["sync", "async"])
def test_a_code_goes_through_vonages_sms_api(vonage: Any, provider_urls: dict[str, str], asynchronous: bool) -> None:
    _send(provider_urls["vonage"], asynchronous=asynchronous)
    [seen] = vonage.requests
    key, secret = vonage.credentials
    assert (seen.method, seen.path, seen.auth) == ("POST", "/sms/json", None)
    assert seen.content_type == "application/x-www-form-urlencoded"
    assert seen.form == {"api_key": key, "api_secret": secret, "from": "DemoBank", "to": "447400123456",
                         "text": MESSAGE.body}  # fmt: skip


@pytest.mark.parametrize("asynchronous", [False, True], ids=["sync", "async"])
def test_vonages_throttled_status_says_what_went_wrong(
    vonage: Any, provider_urls: dict[str, str], asynchronous: bool
) -> None:
    vonage.next = [(200, {"message-count": "1", "messages": [{"status": "1", "error-text": "Throttled"}]})]
    error = _refused(provider_urls["vonage"], asynchronous=asynchronous)
    assert error.reason == "Vonage status 1: Throttled"
    assert error.message == "The SMS could not be sent (Vonage)."
    assert not _leaks(error, vonage)


def test_a_wrong_vonage_secret_is_refused_without_showing_it(vonage: Any) -> None:
    key, _ = vonage.credentials
    error = _refused(f"vonage://{key}:not-the-secret@?from=DemoBank&base_url={vonage.base_url}")
    assert error.reason == "Vonage status 4: Bad Credentials"
    assert "not-the-secret" not in f"{error.message} {error.reason}"


def test_text_beyond_ascii_goes_as_unicode(vonage: Any, provider_urls: dict[str, str]) -> None:
    _send(provider_urls["vonage"], stepup.Message("sms", PHONE, "Code 123456 approves transfer to Zoë"))
    assert vonage.requests[0].form["type"] == "unicode"


def test_the_async_engine_sends_through_vonage_natively(vonage: Any, provider_urls: dict[str, str]) -> None:
    async def main() -> Any:
        engine = stepup.AsyncEngine(secret_key=SECRET, store_url="memory://", sms_url=provider_urls["vonage"])
        try:
            start = await engine.begin_bind("alice", "sms", "+44 7400 123456")
            approval = await engine.verify(start.challenge.id, _code(vonage.requests[0].form["text"]), subject="alice")
            return type(engine.sms).__name__, approval
        finally:
            await engine.close()

    sender, approval = asyncio.run(main())
    assert sender == "AsyncHttpSmsSender"
    assert approval.binding.method == "sms"


# -- URLs ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("twilio://AC1:tok@", "from= .* or messaging_service_sid="),
        ("twilio://AC1:tok@?from=+1555&messaging_service_sid=MG1", "one of from="),
        ("twilio://AC1@?from=+1555", "Account SID and Auth Token"),
        ("twilio://AC1:tok@api.twilio.com?from=+1555", "base_url="),
        ("twilio://AC1:tok@?from=+1555&region=ie1", "does not take region"),
        ("twilio://AC1:tok@?from=+1555&timeout=soon", "not a number"),
        ("vonage://key:secret@", "needs a sender"),
        ("vonage://key@?from=Bank", "API key and secret"),
    ],
)
def test_unusable_sms_urls_are_refused_at_start_up(url: str, words: str) -> None:
    with pytest.raises(stepup.ConfigurationError, match=words) as caught:
        sender_from_url(url)
    assert "tok" not in caught.value.message.replace("token", "") and "secret@" not in caught.value.message


def test_the_sync_and_async_senders_are_twins() -> None:
    import inspect

    from stepup.senders import AsyncHttpSmsSender, HttpSmsSender

    assert inspect.signature(HttpSmsSender.send) == inspect.signature(AsyncHttpSmsSender.send)
    assert inspect.signature(HttpSmsSender.__init__) == inspect.signature(AsyncHttpSmsSender.__init__)
    assert inspect.iscoroutinefunction(AsyncHttpSmsSender.send) and not inspect.iscoroutinefunction(HttpSmsSender.send)
