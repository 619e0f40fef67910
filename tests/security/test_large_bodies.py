"""Bodies larger than stepup reads: refused with 413 before more than ``max_resume_body``
bytes of them are read, whoever sends them (signed in or not) and wherever (stepup's own
pages and JSON API, a protected route that must stop the request), so that no client can
make the server hold a body of any size. The app's own routes are not stepup's to limit.

The requests are made at the WSGI and ASGI level with a body source that counts what the
app pulled from it: a test client would read the whole body before the app saw any."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest
from werkzeug.test import EnvironBuilder, run_wsgi_app

from tests.support.flows import signed_in

LIMIT = 65536
#: ten megabytes, offered in 64 KiB chunks.
CHUNK, CHUNKS = b"7" * 65536, 160


class Source(io.RawIOBase):
    """A request body that counts the bytes the app read from it."""

    def __init__(self) -> None:
        self.pulled = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        if self.pulled >= len(CHUNK) * CHUNKS:
            return 0
        n = min(len(buffer), len(CHUNK))
        buffer[:n] = CHUNK[:n]
        self.pulled += n
        return n


def _wsgi(bank, path: str, cookie: str, declared: bool) -> tuple[int, dict[str, str], bytes, int]:
    source = Source()
    headers = {"Content-Type": "application/json", "Accept": "application/json", "Cookie": cookie}
    environ = EnvironBuilder(path=path, method="POST", headers=headers).get_environ()
    environ["wsgi.input"] = source
    if declared:
        environ["CONTENT_LENGTH"] = str(len(CHUNK) * CHUNKS)
    else:
        environ.pop("CONTENT_LENGTH", None)
        environ["wsgi.input_terminated"] = True  # a chunked body the server ends
    body, status, response_headers = run_wsgi_app(bank.app, environ, buffered=True)
    return int(status.split()[0]), dict(response_headers), b"".join(body), source.pulled


def _asgi(bank, path: str, cookie: str, declared: bool) -> tuple[int, dict[str, str], bytes, int]:
    pulled = 0
    sent: list[dict[str, Any]] = []
    headers = [(b"content-type", b"application/json"), (b"accept", b"application/json"), (b"cookie", cookie.encode())]
    if declared:
        headers.append((b"content-length", str(len(CHUNK) * CHUNKS).encode()))

    async def receive() -> dict[str, Any]:
        nonlocal pulled
        pulled += len(CHUNK)
        return {"type": "http.request", "body": CHUNK, "more_body": pulled < len(CHUNK) * CHUNKS}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    async def call() -> None:
        scope = {
            "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST", "scheme": "http",
            "path": path, "raw_path": path.encode(), "query_string": b"", "root_path": "", "headers": headers,
            "client": ("127.0.0.1", 50000), "server": ("testserver", 80),
        }  # fmt: skip
        await bank.app(scope, receive, send)

    portal = bank.test_client.portal
    portal.call(call)
    start = next(m for m in sent if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return start["status"], {k.decode(): v.decode() for k, v in start["headers"]}, body, pulled


def _cookie(browser) -> str:
    """The session cookie of ``browser`` as a Cookie header (empty for nobody)."""
    value = browser.client.cookie("session") if browser else None
    return "" if value is None else f"session={value}"


@pytest.mark.parametrize("declared", [True, False], ids=["content-length", "chunked"])
@pytest.mark.parametrize(("path", "who"), [
    ("/stepup/api/challenges", "anonymous"), ("/stepup/api/challenges", "signed in"), ("/transfer", "signed in"),
])  # fmt: skip
def test_a_body_over_the_limit_is_refused_before_it_is_read(bank, path, who, declared):
    cookie = _cookie(signed_in(bank) if who == "signed in" else None)
    post = _wsgi if bank.adapter == "flask" else _asgi

    status, headers, body, pulled = post(bank, path, cookie, declared)

    assert status == 413, (status, body[:300])
    assert headers["content-type" if bank.adapter != "flask" else "Content-Type"] == "application/problem+json"
    problem = json.loads(body)
    assert problem["code"] == "request_too_large" and "at most 64 KiB" in problem["title"]
    # Read no further than the limit (and the chunk that crossed it); nothing when declared.
    assert pulled <= (0 if declared and bank.adapter == "flask" else LIMIT + len(CHUNK)), pulled
