"""Bodies larger than stepup reads: refused with 413 before more than ``max_resume_body``
bytes of them are read, whoever sends them (signed in or not) and wherever (stepup's own
pages and JSON API, a protected route that must stop the request), so that no client can
make the server hold a body of any size. The app's own routes are not stepup's to limit.

The requests are made at the WSGI and ASGI level with a body source that counts what the
app pulled from it: a test client would read the whole body before the app saw any."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from typing import Annotated, Any

import pytest
from fastapi import Depends, FastAPI, File, Form, UploadFile
from starlette import datastructures
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from werkzeug.test import EnvironBuilder, run_wsgi_app

from stepup import AsyncEngine
from stepup.asgi import StepUpMiddleware, StepUpRequired, require, routes, stepup_exception_handler
from tests.support.banks import SECRET_KEY
from tests.support.flows import signed_in
from tests.support.sites import Outboxes, StarletteSite

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


@pytest.fixture
def upload_site(outboxes: Outboxes) -> Iterator[StarletteSite]:
    """A FastAPI upload endpoint whose form FastAPI parses (spooling the file) before
    ``require()`` runs; dana signed in with her password only, so every upload stops."""
    engine = AsyncEngine(
        secret_key=SECRET_KEY, store_url="memory://", login_2fa=False, test_number_prefixes=("+447700900",),
        **outboxes.async_engine_options(),
    )  # fmt: skip
    app, done = FastAPI(), []

    @app.post("/login")
    async def login(request: Request) -> dict[str, str]:
        request.session["user_id"] = "dana"
        return {}

    @app.post("/upload", dependencies=[Depends(require(operation="upload {name}"))])
    async def upload(name: Annotated[str, Form()], doc: Annotated[UploadFile, File()]) -> dict[str, Any]:
        data = await doc.read()
        done.append((name, doc.filename, data))
        return {"name": name, "size": len(data)}

    app.router.routes.append(routes())
    app.add_exception_handler(StepUpRequired, stepup_exception_handler)
    app.add_middleware(StepUpMiddleware, engine=engine)
    app.add_middleware(SessionMiddleware, secret_key=SECRET_KEY)
    site = StarletteSite(app, outboxes)
    site.records = done
    site.call("import_binding", "dana", "sms", "+447700900001")
    yield site
    site.close()


def _multipart(data: bytes) -> tuple[bytes, str]:
    """A form of a name and a file ``data``, and its Content-Type."""
    head = (
        b'--up\r\nContent-Disposition: form-data; name="name"\r\n\r\nZo\xc3\xab\r\n'
        b'--up\r\nContent-Disposition: form-data; name="doc"; filename="scan.pdf"\r\n'
        b"Content-Type: application/pdf\r\n\r\n"
    )
    return head + data + b"\r\n--up--\r\n", "multipart/form-data; boundary=up"


@pytest.fixture
def file_reads(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The sizes of what each read of an uploaded file answered."""
    reads: list[int] = []
    read = datastructures.UploadFile.read

    async def counted(self: datastructures.UploadFile, size: int = -1) -> bytes:
        data = await read(self, size)
        reads.append(len(data))
        return data

    monkeypatch.setattr(datastructures.UploadFile, "read", counted)
    return reads


@pytest.mark.parametrize("counted", [True, False], ids=["size counted", "size not counted"])
def test_an_upload_over_the_limit_is_refused_without_reading_the_file_whole(
    upload_site, file_reads, monkeypatch, counted
):
    if not counted:  # as a parser that does not count what it spools leaves it
        init = datastructures.UploadFile.__init__

        def uncounted(self: datastructures.UploadFile, *args: Any, **kwargs: Any) -> None:
            init(self, *args, **{**kwargs, "size": None})

        monkeypatch.setattr(datastructures.UploadFile, "__init__", uncounted)
    client = upload_site.test_client
    client.post("/login")
    body, content_type = _multipart(CHUNK * 32)  # two megabytes

    refused = client.post("/upload", content=body, headers={"Content-Type": content_type, "Accept": "application/json"})

    assert refused.status_code == 413, refused.text[:300]
    assert refused.json()["code"] == "request_too_large"
    # FastAPI spooled the file; stepup read no more of it than the limit and a byte.
    assert sum(file_reads) <= LIMIT + 1, file_reads
    assert upload_site.records == [] and upload_site.sms.outbox == []


def test_an_upload_under_the_limit_runs_once_after_the_code(upload_site):
    scan = b"%PDF-1.7\r\n--u\r\n\xff\xfe" + b"7" * (LIMIT - 1024)
    body, content_type = _multipart(scan)
    browser = upload_site.browser()
    browser.post("/login")

    asked = browser.post("/upload", content=body, content_type=content_type)
    assert asked.status_code == 303 and asked.location.startswith("/stepup/?r="), (asked.status_code, asked.text)
    ran = browser.pass_challenge(browser.follow(asked), "sms")

    assert ran.status_code == 200, ran.text[:300]
    assert ran.json() == {"name": "Zoë", "size": len(scan)}
    assert upload_site.records == [("Zoë", "scan.pdf", scan)]
