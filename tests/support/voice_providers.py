"""Fake voice provider APIs on loopback, as :mod:`tests.support.providers` has for SMS:
Twilio's Calls resource (a form with inline TwiML) and Vonage's Voice API (a JSON call with
an NCCO, authenticated by an application JWT the fake verifies with the application's
public key). Loaded as a pytest plugin by ``tests/conftest.py`` (fixtures ``twilio_voice``,
``vonage_voice``, ``vonage_app``, ``voice_urls``).
"""

from __future__ import annotations

import json
import secrets
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.support.providers import INVALID_TO, TWILIO_SID, TWILIO_TOKEN, FakeProvider, Seen, _twilio_error

VONAGE_APPLICATION = "aaaaaaaa-bbbb-cccc-dddd-0123456789ab"
#: the caller ids the fakes accept.
TWILIO_CALLER = "+15005550006"
VONAGE_CALLER = "447700900000"


@dataclass(frozen=True)
class VonageApp:
    """A Vonage application: its id, its key pair, the private key's file."""

    application_id: str
    private_pem: bytes
    public_pem: bytes
    key_file: Path


def _pem_pair() -> tuple[bytes, bytes]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    public = key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    return private, public


def twilio_calls_answer(seen: Seen) -> tuple[int, dict[str, Any]]:
    """What Twilio's Calls resource answers (the documented shapes)."""
    if seen.method != "POST" or seen.path != f"/2010-04-01/Accounts/{TWILIO_SID}/Calls.json":
        return _twilio_error(20404, f"The requested resource {seen.path} was not found", 404)
    if seen.auth != (TWILIO_SID, TWILIO_TOKEN):
        return _twilio_error(20003, "Authenticate", 401)
    form = seen.form
    if seen.content_type != "application/x-www-form-urlencoded" or not form.get("To") or not form.get("From"):
        return _twilio_error(21201, "No 'To' or 'From' number is specified", 400)
    if not (form.get("Twiml") or form.get("Url")):
        return _twilio_error(21205, "Url, Twiml or ApplicationSid is required", 400)
    try:
        if ET.fromstring(form.get("Twiml", "<Response/>")).tag != "Response":
            raise ET.ParseError("not a Response")
    except ET.ParseError:
        return _twilio_error(12100, "Document parse failure", 400)
    if form["To"] == INVALID_TO:
        return _twilio_error(21211, f"Invalid 'To' Phone Number: {form['To']}", 400)
    sid = "CA" + secrets.token_hex(16)
    return 201, {
        "account_sid": TWILIO_SID, "api_version": "2010-04-01", "direction": "outbound-api",
        "from": form["From"], "to": form["To"], "sid": sid, "status": "queued",
        "uri": f"/2010-04-01/Accounts/{TWILIO_SID}/Calls/{sid}.json",
    }  # fmt: skip


def _vonage_error(status: int, title: str, detail: str, **more: Any) -> tuple[int, dict[str, Any]]:
    kind = title.lower().replace(" ", "-")
    return status, {"type": f"https://developer.nexmo.com/api-errors#{kind}", "title": title, "detail": detail,
                    "instance": str(uuid.uuid4()), **more}  # fmt: skip


def vonage_calls_answer(app: VonageApp) -> Any:
    """What Vonage's Voice API answers ``POST /v1/calls`` with (the documented shapes),
    the JWT checked with ``app``'s public key."""

    def answer(seen: Seen) -> tuple[int, dict[str, Any]]:
        if seen.method != "POST" or seen.path != "/v1/calls":
            return _vonage_error(404, "Not Found", f"{seen.path} was not found")
        try:
            token = seen.authorization.removeprefix("Bearer ")
            claims = jwt.decode(
                token, app.public_pem, algorithms=["RS256"],
                options={"require": ["application_id", "iat", "exp", "jti"]},
            )  # fmt: skip
            if claims["application_id"] != app.application_id:
                raise jwt.InvalidTokenError("another application")
        except jwt.InvalidTokenError:
            return _vonage_error(401, "Unauthorized", "You did not provide correct credentials.")
        try:
            call = json.loads(seen.body) if seen.content_type == "application/json" else None
        except ValueError:
            call = None
        to = call.get("to") if isinstance(call, dict) else None
        if not isinstance(to, list) or not to or not str(to[0].get("number", "")).isdigit():
            return _vonage_error(400, "Bad Request", "The request failed due to validation errors",
                                 invalid_parameters=[{"name": "to", "reason": "Invalid number"}])  # fmt: skip
        ncco = call.get("ncco")  # type: ignore[union-attr]
        if not isinstance(ncco, list) or not all(a.get("action") == "talk" and a.get("text") for a in ncco):
            return _vonage_error(400, "Bad Request", "The request failed due to validation errors",
                                 invalid_parameters=[{"name": "ncco", "reason": "Invalid NCCO"}])  # fmt: skip
        return 201, {"uuid": str(uuid.uuid4()), "status": "started", "direction": "outbound",
                     "conversation_uuid": f"CON-{uuid.uuid4()}"}  # fmt: skip

    return answer


@pytest.fixture(scope="session")
def vonage_app(tmp_path_factory: pytest.TempPathFactory) -> VonageApp:
    """A Vonage application with a fresh RSA key pair, its private key in a file."""
    private, public = _pem_pair()
    key_file = tmp_path_factory.mktemp("vonage") / "private.key"
    key_file.write_bytes(private)
    return VonageApp(VONAGE_APPLICATION, private, public, key_file)


@pytest.fixture
def twilio_voice() -> Iterator[FakeProvider]:
    """A fake Twilio Calls resource on loopback."""
    provider = FakeProvider(twilio_calls_answer, (TWILIO_SID, TWILIO_TOKEN))
    yield provider
    provider.close()


@pytest.fixture
def vonage_voice(vonage_app: VonageApp) -> Iterator[FakeProvider]:
    """A fake Vonage Voice API on loopback that knows ``vonage_app``."""
    provider = FakeProvider(vonage_calls_answer(vonage_app), (vonage_app.application_id, ""))
    yield provider
    provider.close()


@pytest.fixture
def voice_urls(twilio_voice: FakeProvider, vonage_voice: FakeProvider, vonage_app: VonageApp) -> dict[str, str]:
    """Voice sender URLs for the fakes, with a short read timeout (a hang ends the test fast)."""
    return {
        "twilio": f"twilio-voice://{TWILIO_SID}:{TWILIO_TOKEN}@?from={TWILIO_CALLER}"
        f"&base_url={twilio_voice.base_url}&timeout=0.5",
        "vonage": f"vonage-voice://{vonage_app.application_id}@?private_key={vonage_app.key_file}"
        f"&from=+{VONAGE_CALLER}&base_url={vonage_voice.base_url}&timeout=0.5",
    }
