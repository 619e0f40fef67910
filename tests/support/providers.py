"""Fake SMS provider APIs on loopback (http.server in a thread): Twilio and Vonage, each
checking requests the way the real ones do and answering with the bodies their
documentation shows, or with what a test scripts (an error, a hang, garbage). The sender
tests and the fault tests of the security suite share them; loaded as a pytest plugin by
``tests/conftest.py`` (fixtures ``twilio``, ``vonage``, ``provider_urls``).
"""

from __future__ import annotations

import base64
import json
import secrets
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

import pytest

TWILIO_SID = "AC" + "0123456789abcdef" * 2
TWILIO_TOKEN = "twilio-token-9f8e7d6c5b4a"
VONAGE_KEY = "a1b2c3d4"
VONAGE_SECRET = "vonage-secret-XyZ123"
#: a number the fake Twilio calls invalid (error 21211), as the real one does for its magic number
INVALID_TO = "+15005550001"


@dataclass
class Seen:
    """One request as the fake provider saw it."""

    method: str
    path: str
    auth: tuple[str, str] | None
    content_type: str
    form: dict[str, str]
    #: the raw body (a JSON document for Vonage's Voice API) and the Authorization header.
    body: str = ""
    authorization: str = ""


class FakeProvider:
    """A provider API on loopback. ``next`` holds what the coming requests get instead of
    the normal answer: ``"500"``, ``"hang"`` (no answer until the test ends), or a
    ``(status, body)`` pair, the body a JSON-able value or raw ``bytes`` (garbage).

    :ivar requests: every request seen, oldest first.
    """

    def __init__(self, answer: Callable[[Seen], tuple[int, dict[str, Any]]], credentials: tuple[str, str]) -> None:
        #: the account's (user, secret): Twilio's SID and token, Vonage's key and secret.
        self.credentials = credentials
        self.requests: list[Seen] = []
        self.next: list[Any] = []
        self._answer = answer
        self._release = threading.Event()
        provider = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                provider._handle(self)

            def do_GET(self) -> None:  # noqa: N802
                provider._handle(self)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.base_url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.02})
        self._thread.start()

    def _handle(self, request: BaseHTTPRequestHandler) -> None:
        length = int(request.headers.get("Content-Length") or 0)
        body = request.rfile.read(length).decode()
        auth = None
        header = request.headers.get("Authorization", "")
        if header.startswith("Basic "):
            user, _, password = base64.b64decode(header[6:]).decode().partition(":")
            auth = (user, password)
        form = {k: v[0] for k, v in parse_qs(body, keep_blank_values=True).items()}
        seen = Seen(request.command, request.path, auth, request.headers.get("Content-Type", ""), form, body, header)
        self.requests.append(seen)
        scripted = self.next.pop(0) if self.next else None
        if scripted == "hang":
            self._release.wait(timeout=60)
            return
        if scripted == "500":
            status, answer = 500, {"message": "Internal Server Error"}
        elif scripted is not None:
            status, answer = scripted
        else:
            status, answer = self._answer(seen)
        raw = isinstance(answer, bytes)
        data = answer if raw else json.dumps(answer).encode()
        request.send_response(status)
        request.send_header("Content-Type", "text/html" if raw else "application/json")
        request.send_header("Content-Length", str(len(data)))
        request.end_headers()
        request.wfile.write(data)

    def close(self) -> None:
        self._release.set()  # a hanging answer ends with the test
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()


def _twilio_error(code: int, message: str, status: int) -> tuple[int, dict[str, Any]]:
    return status, {"code": code, "message": message, "more_info": f"https://www.twilio.com/docs/errors/{code}",
                    "status": status}  # fmt: skip


def twilio_answer(seen: Seen) -> tuple[int, dict[str, Any]]:
    """What Twilio's Messages resource answers (the documented shapes)."""
    if seen.method != "POST" or seen.path != f"/2010-04-01/Accounts/{TWILIO_SID}/Messages.json":
        return _twilio_error(20404, f"The requested resource {seen.path} was not found", 404)
    if seen.auth != (TWILIO_SID, TWILIO_TOKEN):
        return _twilio_error(20003, "Authenticate", 401)
    form = seen.form
    if seen.content_type != "application/x-www-form-urlencoded" or "To" not in form:
        return _twilio_error(21604, "A 'To' phone number is required.", 400)
    if ("From" in form) == ("MessagingServiceSid" in form):
        return _twilio_error(21603, "A 'From' phone number is required.", 400)
    if not form.get("Body"):
        return _twilio_error(21602, "Message body is required.", 400)
    if form["To"] == INVALID_TO:
        return _twilio_error(21211, f"The 'To' number {form['To']} is not a valid phone number.", 400)
    sid = "SM" + secrets.token_hex(16)
    return 201, {
        "account_sid": TWILIO_SID, "api_version": "2010-04-01", "body": form["Body"],
        "date_created": "Thu, 24 Aug 2023 05:01:45 +0000", "date_sent": None,
        "date_updated": "Thu, 24 Aug 2023 05:01:45 +0000", "direction": "outbound-api", "error_code": None,
        "error_message": None, "from": form.get("From"), "messaging_service_sid": form.get("MessagingServiceSid"),
        "num_media": "0", "num_segments": "1", "price": None, "price_unit": "USD", "sid": sid, "status": "queued",
        "subresource_uris": {"media": f"/2010-04-01/Accounts/{TWILIO_SID}/Messages/{sid}/Media.json"},
        "to": form["To"], "uri": f"/2010-04-01/Accounts/{TWILIO_SID}/Messages/{sid}.json",
    }  # fmt: skip


def vonage_error(status: str, text: str) -> tuple[int, dict[str, Any]]:
    """A refusal in the SMS API's shape: HTTP 200, a non-zero status in the message."""
    return 200, {"message-count": "1", "messages": [{"status": status, "error-text": text}]}


def vonage_answer(seen: Seen) -> tuple[int, dict[str, Any]]:
    """What Vonage's SMS API answers (the documented shapes)."""
    if seen.method != "POST" or seen.path != "/sms/json":
        return 404, {"type": "https://developer.vonage.com/api-errors#not-found", "title": "Not Found"}
    form = seen.form
    for name in ("api_key", "api_secret", "from", "to", "text"):
        if not form.get(name):
            return vonage_error("2", f"Missing {name} param")
    if (form["api_key"], form["api_secret"]) != (VONAGE_KEY, VONAGE_SECRET):
        return vonage_error("4", "Bad Credentials")
    if not form["to"].isdigit():
        return vonage_error("3", "Invalid to param")
    return 200, {"message-count": "1", "messages": [{
        "to": form["to"], "message-id": secrets.token_hex(8).upper(), "status": "0",
        "remaining-balance": "15.53590000", "message-price": "0.03330000", "network": "23410",
    }]}  # fmt: skip


@pytest.fixture
def twilio() -> Iterator[FakeProvider]:
    """A fake Twilio Messages API on loopback."""
    provider = FakeProvider(twilio_answer, (TWILIO_SID, TWILIO_TOKEN))
    yield provider
    provider.close()


@pytest.fixture
def vonage() -> Iterator[FakeProvider]:
    """A fake Vonage SMS API on loopback."""
    provider = FakeProvider(vonage_answer, (VONAGE_KEY, VONAGE_SECRET))
    yield provider
    provider.close()


@pytest.fixture
def provider_urls(twilio: FakeProvider, vonage: FakeProvider) -> dict[str, str]:
    """Sender URLs for the fakes, with a short read timeout (a hang ends the test fast)."""
    return {
        "twilio": f"twilio://{TWILIO_SID}:{TWILIO_TOKEN}@?from=+15005550006&base_url={twilio.base_url}&timeout=0.5",
        "vonage": f"vonage://{VONAGE_KEY}:{VONAGE_SECRET}@?from=DemoBank&base_url={vonage.base_url}&timeout=0.5",
    }
