"""Protected endpoints read their own bodies: forms, multipart uploads, JSON and no body at
all, under FastAPI's ``Depends(require(...))`` (which runs after FastAPI has read the body)
and Starlette's ``@step_up_required`` (which runs before the endpoint reads it). stepup
stops the request, and after the code the endpoint runs once on the very body sent."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from typing import Annotated, Any

import httpx
import pytest
import uvicorn
from fastapi import Depends, FastAPI, Form, UploadFile
from pydantic import BaseModel
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from stepup import AsyncEngine
from stepup.asgi import StepUpMiddleware, StepUpRequired, require, routes, step_up_required, stepup_exception_handler
from stepup.asgi._body import body_of
from tests.support.browser import PAGE_ACCEPT
from tests.support.servers import free_port
from tests.support.sites import StarletteSite

SESSION_KEY = "session-key-of-the-body-tests-0123456789"
JSON = {"Accept": "application/json"}
BOUNDARY = "form-boundary-4f2a"
#: a multipart upload: a text field, and a file whose bytes hold CR LF, dashes and non-UTF-8.
SCAN = b"%PDF-1.7\r\n--form-boundary\r\n\xff\xfe end"
MULTIPART = (
    (
        f"--{BOUNDARY}\r\n"
        'Content-Disposition: form-data; name="title"\r\n\r\n'
        "Zoë's passport\r\n"
        f"--{BOUNDARY}\r\n"
        'Content-Disposition: form-data; name="scan"; filename="passport scan.pdf"\r\n'
        "Content-Type: application/pdf\r\n\r\n"
    ).encode()
    + SCAN
    + f"\r\n--{BOUNDARY}--\r\n".encode()
)
MULTIPART_TYPE = f"multipart/form-data; boundary={BOUNDARY}"


class Payment(BaseModel):
    to: str
    amount: str


def fastapi_app(engine: AsyncEngine, done: list[Any]) -> FastAPI:
    """Endpoints whose bodies FastAPI reads: forms, an upload, JSON, nothing."""
    app = FastAPI()

    @app.post("/login")
    async def login(request: Request) -> dict[str, str]:
        request.session["user_id"] = "dana"
        return {}

    @app.post("/pay", dependencies=[Depends(require(operation="payment of {amount} to {to}"))])
    async def pay(to: Annotated[str, Form()], amount: Annotated[str, Form()]) -> dict[str, str]:
        done.append(("pay", to, amount))
        return {"paid": amount, "to": to}

    @app.post("/note", dependencies=[Depends(require(max_age=60))])
    async def note(text: Annotated[str, Form()]) -> dict[str, str]:
        done.append(("note", text))
        return {"noted": text}

    @app.post("/upload", dependencies=[Depends(require(operation="upload of {title}"))])
    async def upload(title: Annotated[str, Form()], scan: UploadFile) -> dict[str, Any]:
        data = await scan.read()
        done.append(("upload", title, scan.filename, data))
        return {"title": title, "filename": scan.filename, "type": scan.content_type, "size": len(data)}

    @app.post("/pay-json", dependencies=[Depends(require(operation="payment of {amount} to {to}"))])
    async def pay_json(payment: Payment) -> dict[str, str]:
        done.append(("pay", payment.to, payment.amount))
        return {"paid": payment.amount, "to": payment.to}

    @app.post("/ping", dependencies=[Depends(require(max_age=60))])
    async def ping() -> dict[str, str]:
        done.append(("ping",))
        return {"pong": "yes"}

    app.router.routes.append(routes())
    app.add_exception_handler(StepUpRequired, stepup_exception_handler)
    app.add_middleware(StepUpMiddleware, engine=engine)
    app.add_middleware(SessionMiddleware, secret_key=SESSION_KEY)
    return app


def starlette_app(engine: AsyncEngine, done: list[Any]) -> Starlette:
    """The same endpoints on Starlette, each reading its own body after stepup (a form as
    Starlette's documentation reads one, closing its files when done)."""

    async def login(request: Request) -> Response:
        request.session["user_id"] = "dana"
        return JSONResponse({})

    @step_up_required(operation="payment of {amount} to {to}")
    async def pay(request: Request) -> Response:
        async with request.form() as form:
            done.append(("pay", form["to"], form["amount"]))
        return JSONResponse({"paid": form["amount"], "to": form["to"]})

    @step_up_required(max_age=60)
    async def note(request: Request) -> Response:
        async with request.form() as form:
            text = form["text"]
        done.append(("note", text))
        return JSONResponse({"noted": text})

    @step_up_required(operation="upload of {title}")
    async def upload(request: Request) -> Response:
        async with request.form() as form:
            title, scan = form["title"], form["scan"]
            assert not isinstance(scan, str)
            data = await scan.read()
        done.append(("upload", title, scan.filename, data))
        answer = {"title": title, "filename": scan.filename, "type": scan.content_type, "size": len(data)}
        return JSONResponse(answer)

    @step_up_required(operation="payment of {amount} to {to}")
    async def pay_json(request: Request) -> Response:
        payment = await request.json()
        done.append(("pay", payment["to"], payment["amount"]))
        return JSONResponse({"paid": payment["amount"], "to": payment["to"]})

    @step_up_required(max_age=60)
    async def ping(request: Request) -> Response:
        done.append(("ping",))
        return JSONResponse({"pong": "yes"})

    endpoints = {"/login": login, "/pay": pay, "/note": note, "/upload": upload, "/pay-json": pay_json, "/ping": ping}
    return Starlette(
        routes=[*(Route(path, endpoint, methods=["POST"]) for path, endpoint in endpoints.items()), routes()],
        middleware=[Middleware(SessionMiddleware, secret_key=SESSION_KEY), Middleware(StepUpMiddleware, engine=engine)],
    )


@pytest.fixture(params=["fastapi", "starlette"])
def site(
    request: pytest.FixtureRequest, serve: Callable[..., StarletteSite], engine_options: dict[str, Any]
) -> StarletteSite:
    """An app of each framework; dana signed in with her password only, a phone bound, no
    second factor passed yet (so every protected endpoint stops her)."""
    engine = AsyncEngine(**engine_options, login_2fa=False, test_number_prefixes=("+447700900",))
    done: list[Any] = []
    build = fastapi_app if request.param == "fastapi" else starlette_app
    served = serve(build(engine, done))
    served.records = done
    served.call("import_binding", "dana", "sms", "+447700900001")
    return served


#: (path, how the body is sent, what the endpoint answers, what it did) for each kind of body.
BODIES: dict[str, tuple[str, dict[str, Any], dict[str, Any], tuple[Any, ...]]] = {
    "form, operation": (
        "/pay", {"data": {"to": "Zoë", "amount": "12.50"}}, {"paid": "12.50", "to": "Zoë"}, ("pay", "Zoë", "12.50"),
    ),
    "form, max_age": ("/note", {"data": {"text": "call back"}}, {"noted": "call back"}, ("note", "call back")),
    "multipart with a file": (
        "/upload", {"content": MULTIPART, "content_type": MULTIPART_TYPE},
        {"title": "Zoë's passport", "filename": "passport scan.pdf", "type": "application/pdf", "size": len(SCAN)},
        ("upload", "Zoë's passport", "passport scan.pdf", SCAN),
    ),
    "json": (
        "/pay-json", {"json": {"to": "Zoë", "amount": "12.50"}, "headers": {"Accept": PAGE_ACCEPT}},
        {"paid": "12.50", "to": "Zoë"}, ("pay", "Zoë", "12.50"),
    ),
    "no body": ("/ping", {}, {"pong": "yes"}, ("ping",)),
}  # fmt: skip


@pytest.mark.parametrize("kind", list(BODIES))
def test_a_stopped_request_runs_once_on_its_own_body_after_the_code(site, kind):
    path, body, answer, did = BODIES[kind]
    browser = site.browser()
    browser.post("/login")

    asked = browser.post(path, **body)
    assert asked.status_code == 303 and asked.location.startswith("/stepup/?r="), (asked.status_code, asked.text)
    ran = browser.pass_challenge(browser.follow(asked), "sms")

    assert ran.status_code == 200, ran.text
    assert ran.json() == answer
    assert site.records == [did]


def test_a_json_client_steps_up_for_a_form_endpoint_and_sends_it_again(site):
    client = site.test_client
    client.post("/login")

    asked = client.post("/note", data={"text": "call back"}, headers=JSON)
    assert asked.status_code == 401 and asked.json()["code"] == "insufficient_user_authentication"
    created = client.post("/stepup/api/challenges", json={"method": "sms", "resume": asked.json()["resume"]}).json()
    assert client.post(created["verify_url"], json={"code": site.code("sms")}).json()["approved"] is True
    again = client.post("/note", data={"text": "call back"}, headers=JSON)

    assert again.status_code == 200 and again.json() == {"noted": "call back"}
    assert site.records == [("note", "call back")]


@pytest.mark.parametrize("kind", ["form, operation", "multipart with a file"])
def test_a_form_operation_runs_with_its_approval_header(site, kind):
    path, body, answer, did = BODIES[kind]
    client = site.test_client
    client.post("/login")
    sent = {"data": body.get("data"), "content": body.get("content")}
    headers = {**JSON, **({"Content-Type": body["content_type"]} if "content_type" in body else {})}

    asked = client.post(path, **sent, headers=headers)
    assert asked.status_code == 401, asked.text
    created = client.post("/stepup/api/challenges", json={"method": "sms", "resume": asked.json()["resume"]}).json()
    approval = client.post(created["verify_url"], json={"code": site.code("sms")}).json()["approval"]
    ran = client.post(path, **sent, headers={**headers, "Stepup-Approval": approval})

    assert ran.status_code == 200 and ran.json() == answer
    assert site.records == [did]


@pytest.fixture
def served_by_uvicorn(engine_options: dict[str, Any]) -> Iterator[str]:
    """The FastAPI app behind a real uvicorn on loopback, in a thread; its base URL."""
    engine = AsyncEngine(**engine_options, login_2fa=False)
    server = uvicorn.Server(uvicorn.Config(fastapi_app(engine, []), port=free_port(), log_level="critical"))
    thread = threading.Thread(target=server.run)
    thread.start()
    for _ in range(500):  # until it listens (it starts in well under a second)
        if server.started or not thread.is_alive():
            break
        time.sleep(0.01)
    assert server.started
    yield f"http://127.0.0.1:{server.config.port}"
    server.should_exit = True
    thread.join()


def test_a_stopped_form_leaves_the_connection_open_for_the_next_request(served_by_uvicorn):
    with httpx.Client(base_url=served_by_uvicorn) as client:
        client.post("/login")

        stopped = client.post("/note", data={"text": "call back"}, headers=JSON)
        # The same keep-alive connection carries the next request.
        next_one = client.post("/ping", headers=JSON)

    assert stopped.status_code == 401 and stopped.json()["code"] == "insufficient_user_authentication"
    assert next_one.status_code == 401 and "resume" in next_one.json()


def _part(head: bytes, data: bytes) -> bytes:
    return b"--B\r\n" + head + b"\r\n\r\n" + data + b"\r\n"


#: form bodies as clients send them, by what makes each hard to write out again.
FORMS = {
    "urlencoded": (
        "application/x-www-form-urlencoded",
        b"to=Zo%C3%AB+%26+Bob&amount=12.50&note=a%2Bb%3Dc&note=%E2%82%AC&raw=\xe9",
    ),
    "names with quotes and backslashes": (
        "multipart/form-data; boundary=B",
        _part(b'Content-Disposition: form-data; name="say \\"hi\\" \\\\ bye"', "Zoë".encode())
        + _part(b'Content-Disposition: form-data; name="doc"; filename="a.txt"\r\nContent-Type: text/plain', b"\r\n--X")
        + b"--B--\r\n",
    ),
    "latin-1 charset": (
        "multipart/form-data; boundary=B; charset=latin-1",
        _part(b'Content-Disposition: form-data; name="caf\xe9"', b"cr\xe8me") + b"--B--\r\n",
    ),
    # In UTF-16 a value can hold the delimiter's bytes once written again: a new boundary.
    "utf-16 charset": (
        "multipart/form-data; boundary=B; charset=utf-16-le",
        _part(b'Content-Disposition: form-data; name="n\x00"', "\u0a0d\u2d2dB!".encode("utf-16-le")) + b"--B--\r\n",
    ),
}


async def _parsed(content_type: str, body: bytes) -> tuple[Request, list[tuple[str, Any]]]:
    """A request of this body with its form parsed from the stream, as FastAPI parses one
    (its files left open, as FastAPI leaves them until the response); and its fields, a file
    as its name, type and bytes."""
    sent = [{"type": "http.request", "body": body, "more_body": False}]

    async def receive() -> dict[str, Any]:
        return sent.pop(0)

    scope = {"type": "http", "method": "POST", "headers": [(b"content-type", content_type.encode("latin-1"))]}
    request = Request(scope, receive)
    fields: list[tuple[str, Any]] = []
    for name, value in (await request.form()).multi_items():
        if isinstance(value, str):
            fields.append((name, value))
        else:
            fields.append((name, (value.filename, value.content_type, await value.read())))
            await value.seek(0)
    return request, fields


@pytest.mark.anyio
@pytest.mark.parametrize("kind", list(FORMS))
async def test_a_form_parsed_before_stepup_is_written_out_to_a_body_with_the_same_fields(kind):
    content_type, body = FORMS[kind]
    request, fields = await _parsed(content_type, body)

    written, written_type = await body_of(request, 1 << 20)
    again, read_again = await _parsed(written_type, written)
    # The request's own Content-Type still describes the body: kept where Starlette keeps one.
    later_read = await request.body() if written_type == content_type else None
    await request.close()
    await again.close()

    assert len(fields) >= 1 and read_again == fields
    if kind == "utf-16 charset":
        assert written_type != content_type and "charset=utf-16-le" in written_type
    else:
        assert written_type == content_type and later_read == written
