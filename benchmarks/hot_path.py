"""1. Hot path, in process, and 2. the peer: per-request time of one trivial route.

Flask apps are called as bare WSGI (one prepared environ, copied per call); Starlette apps
as raw ASGI (one prepared scope, copied per call, inside one running event loop). Each
app is checked once before timing: the route answers 200 ``ok``, and stepup's set-ups do
not re-sign the session cookie (Flask-Security-Too's fresh route does, to slide its grace
period; it is reported).

The set-ups, the same route in each:

- ``alone``: the framework and the route.
- ``session``: the app's session and login machinery (Flask-Login; Starlette's session
  and authentication middleware), the route requires login; no stepup.
- ``stepup, unprotected``: stepup installed (extension or middleware, its routes, the
  login hold), the same login-only route.
- ``stepup, protected``: ``step_up_required(max_age=300)`` on the route, the session
  holding a valid grant.
"""

from __future__ import annotations

import asyncio
import base64
import json
import time
from collections.abc import Callable
from typing import Any

from ._harness import Samples, interleave

__all__ = ["flask_setups", "peer_setups", "starlette_setups"]

SECRET = "bench-secret-key-0123456789-abcdefghijklmnop"
USER = "alice"
UA = "stepup-bench"


# -- Flask -----------------------------------------------------------------------------------


def _flask_base(name: str, *, login: bool) -> Any:
    from flask import Flask

    app = Flask(name)
    app.config.update(SECRET_KEY=SECRET, STEPUP_SECRET_KEY=SECRET, STEPUP_STORE_URL="memory://", TESTING=False)
    if login:
        from flask_login import LoginManager, UserMixin, login_user

        class User(UserMixin):
            def __init__(self, uid: str) -> None:
                self.id = uid

        manager = LoginManager(app)
        manager.user_loader(lambda uid: User(uid) if uid == USER else None)

        @app.post("/login")
        def do_login() -> str:
            login_user(User(USER))
            return "in"

    return app


def _wsgi_caller(app: Any, path: str, cookie: str | None) -> Callable[[int], None]:
    """A batch function calling ``app`` as bare WSGI, and a check of one response."""
    from werkzeug.test import EnvironBuilder

    headers = {"Cookie": cookie} if cookie else {}
    base = EnvironBuilder(
        path=path, headers=headers, environ_base={"REMOTE_ADDR": "127.0.0.1", "HTTP_USER_AGENT": UA}
    ).get_environ()
    seen: list[Any] = []

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> None:
        seen[:] = [status, headers]

    def call() -> tuple[str, list[tuple[str, str]], bytes]:
        body = app(dict(base), start_response)
        data = b"".join(body)
        if hasattr(body, "close"):
            body.close()
        return seen[0], seen[1], data

    def run(n: int) -> None:
        for _ in range(n):
            body = app(dict(base), start_response)
            for _chunk in body:
                pass
            if hasattr(body, "close"):
                body.close()

    run.check = call  # type: ignore[attr-defined]
    return run


def _flask_cookie(app: Any, *, grant: bool) -> str:
    """Log in through the app's own login view; with ``grant``, also record a second factor."""
    from flask import session

    client = app.test_client()
    client.environ_base.update({"REMOTE_ADDR": "127.0.0.1", "HTTP_USER_AGENT": UA})
    assert client.post("/login").status_code == 200
    if grant:
        from stepup import grants

        with client.session_transaction() as s:
            grants.begin_login(s, USER, identity_source="password", hold=False)
            grants.record_factor(s, USER, "sms", time.time())
    del session  # only imported to fail early when Flask is missing
    cookie = client.get_cookie("session")
    assert cookie is not None
    return f"session={cookie.value}"


def flask_setups() -> dict[str, Callable[[int], None]]:
    """The four Flask set-ups, as batch functions."""
    from flask_login import login_required

    from stepup.flask import StepUp, step_up_required

    alone = _flask_base("bench_alone", login=False)
    alone.add_url_rule("/r", "r", lambda: "ok")

    session_app = _flask_base("bench_session", login=True)
    session_app.add_url_rule("/r", "r", login_required(lambda: "ok"))

    # Two apps rather than two routes of one, so that the route is found as fast in each.
    open_app = _flask_base("bench_stepup_open", login=True)
    open_app.add_url_rule("/r", "r", login_required(lambda: "ok"))
    StepUp(open_app)
    protected_app = _flask_base("bench_stepup_protected", login=True)
    protected_app.add_url_rule("/r", "r", login_required(step_up_required(max_age=300)(lambda: "ok")))
    StepUp(protected_app)

    return {
        "alone": _wsgi_caller(alone, "/r", None),
        "session": _wsgi_caller(session_app, "/r", _flask_cookie(session_app, grant=False)),
        "stepup, unprotected": _wsgi_caller(open_app, "/r", _flask_cookie(open_app, grant=True)),
        "stepup, protected": _wsgi_caller(protected_app, "/r", _flask_cookie(protected_app, grant=True)),
    }


# -- the peer: Flask-Security-Too ----------------------------------------------------------


def peer_setups() -> dict[str, Callable[[int], None]]:
    """Flask-Security-Too's ``auth_required`` with and without ``within``, and stepup's
    ``login_required`` and ``step_up_required`` on the same route, as batch functions."""
    from flask_security import auth_required, login_user

    from ._fst import fst_app

    app, db, datastore, _ = fst_app("bench_fst", "sqlite://")

    @app.post("/bench-login")
    def bench_login() -> str:
        login_user(datastore.find_user(email="alice@example.com"))
        datastore.commit()
        return "in"

    app.add_url_rule("/auth", "auth", auth_required("session")(lambda: "ok"))
    app.add_url_rule("/fresh", "fresh", auth_required("session", within=5)(lambda: "ok"))

    with app.app_context():
        datastore.create_user(email="alice@example.com", password="alice-password")
        datastore.commit()
        client = app.test_client()
        client.environ_base.update({"REMOTE_ADDR": "127.0.0.1", "HTTP_USER_AGENT": UA})
        assert client.post("/bench-login").status_code == 200
        cookie = client.get_cookie("session")
        assert cookie is not None
    fst_cookie = f"session={cookie.value}"

    stepup_cases = flask_setups()
    return {
        "Flask-Security-Too auth_required": _wsgi_caller(app, "/auth", fst_cookie),
        "Flask-Security-Too auth_required(within=5)": _wsgi_caller(app, "/fresh", fst_cookie),
        "stepup login_required": stepup_cases["stepup, unprotected"],
        "stepup step_up_required(max_age=300)": stepup_cases["stepup, protected"],
    }


# -- Starlette -------------------------------------------------------------------------------


class _Loop:
    """One event loop for every ASGI batch, so no batch pays for starting a loop."""

    loop: asyncio.AbstractEventLoop | None = None

    @classmethod
    def run(cls, coro: Any) -> Any:
        if cls.loop is None:
            cls.loop = asyncio.new_event_loop()
        return cls.loop.run_until_complete(coro)


def _starlette_cookie(data: dict[str, Any]) -> str:
    """A cookie as Starlette's SessionMiddleware signs it."""
    from itsdangerous import TimestampSigner

    payload = base64.b64encode(json.dumps(data).encode())
    return "session=" + TimestampSigner(SECRET).sign(payload).decode()


def _asgi_caller(app: Any, path: str, cookie: str | None) -> Callable[[int], None]:
    headers = [(b"host", b"testserver"), (b"user-agent", UA.encode())]
    if cookie:
        headers.append((b"cookie", cookie.encode()))
    base = {
        "type": "http", "asgi": {"version": "3.0", "spec_version": "2.3"}, "http_version": "1.1",
        "method": "GET", "scheme": "http", "path": path, "raw_path": path.encode(), "root_path": "",
        "query_string": b"", "headers": headers, "client": ("127.0.0.1", 50000), "server": ("testserver", 80),
        "state": {},
    }  # fmt: skip
    request = {"type": "http.request", "body": b"", "more_body": False}

    async def receive() -> dict[str, Any]:
        return request

    async def discard(message: dict[str, Any]) -> None:
        pass

    async def batch(n: int) -> None:
        for _ in range(n):
            scope = dict(base)
            scope["state"] = {}
            await app(scope, receive, discard)

    async def one() -> tuple[int, list[tuple[bytes, bytes]], bytes]:
        messages: list[dict[str, Any]] = []

        async def keep(message: dict[str, Any]) -> None:
            messages.append(message)

        scope = dict(base)
        scope["state"] = {}
        await app(scope, receive, keep)
        start = messages[0]
        body = b"".join(m.get("body", b"") for m in messages[1:])
        return start["status"], start["headers"], body

    def run(n: int) -> None:
        _Loop.run(batch(n))

    def check() -> tuple[str, list[tuple[str, str]], bytes]:
        status, raw, body = _Loop.run(one())
        return str(status), [(k.decode(), v.decode()) for k, v in raw], body

    run.check = check  # type: ignore[attr-defined]
    return run


def starlette_setups() -> dict[str, Callable[[int], None]]:
    """The four Starlette set-ups, as batch functions."""
    from starlette.applications import Starlette
    from starlette.authentication import AuthCredentials, AuthenticationBackend, SimpleUser
    from starlette.middleware import Middleware
    from starlette.middleware.authentication import AuthenticationMiddleware
    from starlette.middleware.sessions import SessionMiddleware
    from starlette.requests import HTTPConnection, Request
    from starlette.responses import PlainTextResponse, Response
    from starlette.routing import Route

    from stepup import AsyncEngine, grants
    from stepup.asgi import StepUpMiddleware, routes, step_up_required

    class SessionUser(AuthenticationBackend):
        async def authenticate(self, conn: HTTPConnection) -> tuple[AuthCredentials, SimpleUser] | None:
            username = conn.session.get("user_id")
            return None if username != USER else (AuthCredentials(["authenticated"]), SimpleUser(username))

    def login_required(endpoint: Any) -> Any:
        async def checked(request: Request) -> Response:
            if not request.user.is_authenticated:
                return PlainTextResponse("sign in", status_code=401)
            return await endpoint(request)  # type: ignore[no-any-return]

        return checked

    async def ok(request: Request) -> Response:
        return PlainTextResponse("ok")

    session_middleware = [
        Middleware(SessionMiddleware, secret_key=SECRET, same_site="lax"),
        Middleware(AuthenticationMiddleware, backend=SessionUser()),
    ]
    alone = Starlette(routes=[Route("/r", ok)])
    session_app = Starlette(routes=[Route("/r", login_required(ok))], middleware=session_middleware)

    def with_stepup(endpoint: Any) -> Starlette:
        engine = AsyncEngine(secret_key=SECRET, store_url="memory://")
        return Starlette(
            routes=[Route("/r", endpoint), routes()],
            middleware=[*session_middleware, Middleware(StepUpMiddleware, engine=engine)],
        )

    plain: dict[str, Any] = {"user_id": USER}
    granted: dict[str, Any] = {"user_id": USER}
    grants.begin_login(granted, USER, identity_source="password", hold=False)
    grants.record_factor(granted, USER, "sms", time.time())
    return {
        "alone": _asgi_caller(alone, "/r", None),
        "session": _asgi_caller(session_app, "/r", _starlette_cookie(plain)),
        "stepup, unprotected": _asgi_caller(with_stepup(login_required(ok)), "/r", _starlette_cookie(granted)),
        "stepup, protected": _asgi_caller(
            with_stepup(login_required(step_up_required(max_age=300)(ok))), "/r", _starlette_cookie(granted)
        ),
    }


# -- running ---------------------------------------------------------------------------------


def check(cases: dict[str, Callable[[int], None]], may_set_cookie: Callable[[str], bool]) -> dict[str, bool]:
    """Call each case once: it must answer 200 ``ok``. Returns whether each set a cookie.

    :raises RuntimeError: when a set-up does not do what it is meant to.
    """
    cookies: dict[str, bool] = {}
    for name, run in cases.items():
        status, headers, body = run.check()  # type: ignore[attr-defined]
        if not str(status).startswith("200") or body != b"ok":
            raise RuntimeError(f"{name}: expected 200 ok, got {status} {body[:200]!r}")
        sets = any(k.lower() == "set-cookie" for k, _ in headers)
        if sets and not may_set_cookie(name):
            raise RuntimeError(f"{name}: the response re-signs the session cookie: {headers}")
        cookies[name] = sets
    return cookies


def measure(cases: dict[str, Callable[[int], None]], *, rounds: int, batch: int) -> Samples:
    """Seconds per request of each case, interleaved."""
    return interleave(cases, rounds=rounds, batch=batch)
