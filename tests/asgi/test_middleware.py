"""StepUpMiddleware as ASGI middleware: what it leaves alone (lifespan, websockets of a
settled login, unprotected requests and their streamed bodies) and how it refuses a wrong
order."""

from __future__ import annotations

import asyncio
import contextlib

import anyio
import pytest
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.responses import PlainTextResponse, StreamingResponse
from starlette.routing import Route, WebSocketRoute

from stepup import AsyncEngine, ConfigurationError
from stepup.asgi import StepUpMiddleware, routes

SESSION_KEY = "asgi-suite-session-key-0123456789abcdef"


class Inner:
    """An ASGI app that keeps what it was called with."""

    def __init__(self) -> None:
        self.calls: list[tuple[dict, object, object]] = []

    async def __call__(self, scope, receive, send) -> None:
        self.calls.append((scope, receive, send))


async def receive_nothing():
    return {"type": "http.disconnect"}


async def send_nowhere(message) -> None:
    pass


@pytest.mark.anyio
async def test_lifespan_scopes_pass_through_untouched(engine_options) -> None:
    inner = Inner()
    engine = AsyncEngine(**engine_options)
    scope = {"type": "lifespan", "asgi": {"version": "3.0"}}
    original = dict(scope)

    await StepUpMiddleware(inner, engine=engine)(scope, receive_nothing, send_nowhere)
    await engine.close()

    assert inner.calls == [(scope, receive_nothing, send_nowhere)]
    assert scope == original  # no session needed, nothing added


@pytest.mark.anyio
async def test_a_websocket_without_a_session_is_refused_as_a_request_is(engine_options) -> None:
    """WebSocket handshakes pass the login hold (tests/security/test_websocket_hold.py),
    which needs the session: without it, nothing is let through unchecked."""
    inner = Inner()
    engine = AsyncEngine(**engine_options)

    with pytest.raises(ConfigurationError):
        scope = {"type": "websocket", "path": "/ws", "headers": []}
        await StepUpMiddleware(inner, engine=engine)(scope, receive_nothing, send_nowhere)
    await engine.close()

    assert inner.calls == []


@pytest.mark.anyio
async def test_an_unprotected_request_reaches_the_app_with_its_own_receive_and_send(engine_options) -> None:
    inner = Inner()
    engine = AsyncEngine(**engine_options)
    scope = {"type": "http", "method": "GET", "path": "/news", "headers": [], "query_string": b"", "session": {}}

    await StepUpMiddleware(inner, engine=engine)(scope, receive_nothing, send_nowhere)
    await engine.close()

    [(seen, receive, send)] = inner.calls
    assert seen is scope and receive is receive_nothing and send is send_nowhere


def test_lifespan_and_websockets_work_through_the_middleware(serve, engine_options) -> None:
    events: list[str] = []

    @contextlib.asynccontextmanager
    async def lifespan(app):
        events.append("startup")
        yield
        events.append("shutdown")

    async def echo(websocket) -> None:
        await websocket.accept()
        await websocket.send_text(f"echo: {await websocket.receive_text()}")
        await websocket.close()

    engine = AsyncEngine(**engine_options)
    app = Starlette(
        routes=[WebSocketRoute("/ws", echo), routes()],
        middleware=[Middleware(SessionMiddleware, secret_key=SESSION_KEY), Middleware(StepUpMiddleware, engine=engine)],
        lifespan=lifespan,
    )
    site = serve(app)
    assert events == ["startup"]

    with site.test_client.websocket_connect("/ws") as ws:
        ws.send_text("hello")
        assert ws.receive_text() == "echo: hello"
    site.close()

    assert events == ["startup", "shutdown"]


@pytest.mark.anyio
async def test_a_streamed_response_reaches_the_client_chunk_by_chunk(engine_options) -> None:
    first_sent = asyncio.Event()

    async def feed(request):
        async def chunks():
            yield b"first\n"
            await first_sent.wait()  # the second chunk comes only once the first has left
            yield b"second\n"

        return StreamingResponse(chunks(), media_type="text/plain")

    engine = AsyncEngine(**engine_options)
    app = Starlette(
        routes=[Route("/feed", feed), routes()],
        middleware=[Middleware(SessionMiddleware, secret_key=SESSION_KEY), Middleware(StepUpMiddleware, engine=engine)],
    )
    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET", "scheme": "http",
        "path": "/feed", "raw_path": b"/feed", "root_path": "", "query_string": b"", "headers": [(b"host", b"bank")],
        "client": ("127.0.0.1", 50000), "server": ("bank", 80),
    }  # fmt: skip
    bodies: list[bytes] = []

    async def receive():
        await first_sent.wait()  # a client that stays connected
        await asyncio.Event().wait()

    async def send(message) -> None:
        if message["type"] == "http.response.body":
            bodies.append(message.get("body", b""))
            if message.get("body") == b"first\n":
                first_sent.set()

    with anyio.fail_after(10):  # a middleware that buffered would wait here for ever
        await app(scope, receive, send)
    await engine.close()

    assert bodies[:2] == [b"first\n", b"second\n"] and b"".join(bodies) == b"first\nsecond\n"


def test_the_middleware_outside_the_session_middleware_says_so(serve, engine_options) -> None:
    engine = AsyncEngine(**engine_options)

    async def home(request):
        return PlainTextResponse("Home")

    app = Starlette(
        routes=[Route("/", home), routes()],
        middleware=[Middleware(StepUpMiddleware, engine=engine), Middleware(SessionMiddleware, secret_key=SESSION_KEY)],
    )
    client = serve(app).test_client

    with pytest.raises(ConfigurationError, match="must sit inside SessionMiddleware"):
        client.get("/")
