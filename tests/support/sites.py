"""The sites under test: an app, its engine, outboxes and clock, behind one interface
whichever framework serves it.

A Flask site gives each browser its own Flask test client. A Starlette site runs its app
in one ``TestClient`` (httpx in process, lifespan run, one event loop in a portal thread)
and gives each browser its own cookie jar on it. A browser given a ``script_root`` reaches
the app under that prefix: WSGI's ``SCRIPT_NAME``, ASGI's ``root_path``.

The engine is an :class:`stepup.Engine` on Flask and an :class:`stepup.AsyncEngine` on
Starlette: :meth:`Site.call` runs either's methods and answers their result, awaited on
the app's own event loop.
"""

from __future__ import annotations

import contextlib
import inspect
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from starlette.testclient import TestClient

import stepup
from stepup._otp import totp_at_step
from stepup.asgi import StepUpMiddleware
from stepup.flask import state
from stepup.senders import AsyncSenderAdapter, MemorySender, async_sender_from_url, sender_from_url
from stepup.stores import AsyncStoreAdapter, Store

from .browser import Browser
from .pages import Page

_CODE = re.compile(r"(?<!\d)(\d{6})(?!\d)")

Login = Callable[[Browser, str, "str | None", str], Page]
Logout = Callable[[Browser], Page]


@dataclass(frozen=True)
class Outboxes:
    """The clock and the in-memory SMS, email and voice outboxes a site's engine is given
    (a workflow's calls go to ``voice``)."""

    clock: stepup.FrozenClock
    sms: MemorySender
    email: MemorySender
    voice: MemorySender = field(default_factory=MemorySender)

    def engine_options(
        self, *, store: Store | None = None, sms_url: str | None = None, voice: bool = True
    ) -> dict[str, Any]:
        """For an :class:`stepup.Engine` (or Flask's ``StepUp``).

        :param store: a store object instead of the app's ``STEPUP_STORE_URL`` (a faulty one).
        :param sms_url: a real SMS sender instead of the SMS outbox (a fake provider).
        :param voice: calls go to the voice outbox (not when the app names its own sender).
        """
        options: dict[str, Any] = {"clock": self.clock, "email": self.email}
        if voice:
            options["senders"] = {"voice": self.voice}
        options["sms"] = self.sms if sms_url is None else sender_from_url(sms_url)
        if store is not None:
            options["store"] = store
        return options

    def async_engine_options(
        self, *, store: Store | None = None, sms_url: str | None = None, voice: bool = True
    ) -> dict[str, Any]:
        """For an :class:`stepup.AsyncEngine`: the same outboxes behind the async protocol;
        a sync ``store`` runs in worker threads, an ``sms_url`` gets its native async sender."""
        options: dict[str, Any] = {"clock": self.clock, "email": AsyncSenderAdapter(self.email, offload=False)}
        if voice:
            options["senders"] = {"voice": AsyncSenderAdapter(self.voice, offload=False)}
        sms = AsyncSenderAdapter(self.sms, offload=False) if sms_url is None else async_sender_from_url(sms_url)
        options["sms"] = sms
        if store is not None:
            options["store"] = AsyncStoreAdapter(store, offload=True)
        return options


class Site:
    """An app under test.

    :param adapter: ``"flask"`` or ``"starlette"``.
    :param totp_secrets: user -> authenticator secret, to compute their codes.
    :param login: how a browser signs in with the app's own login (first factor), if
        the app has one.
    :param logout: how a browser signs out, if it can.
    :param records: what a lab app saw and did (``None`` for the banks).
    """

    adapter: str

    def __init__(
        self,
        app: Any,
        engine: stepup.Engine | stepup.AsyncEngine,
        outboxes: Outboxes,
        *,
        totp_secrets: dict[str, str] | None = None,
        login: Login | None = None,
        logout: Logout | None = None,
        records: Any = None,
    ) -> None:
        self.app = app
        self.engine = engine
        self.sms, self.email, self.clock = outboxes.sms, outboxes.email, outboxes.clock
        self.voice = outboxes.voice
        self.totp_secrets = totp_secrets or {}
        self._login, self._logout = login, logout
        self.records = records

    # -- what each framework does its own way ------------------------------------------

    def _client(self, script_root: str) -> Any:
        raise NotImplementedError

    def _resolve(self, value: Any) -> Any:
        """``value``, awaited first when the engine's method answered an awaitable."""
        return value

    def close(self) -> None:
        raise NotImplementedError

    # -- the same for every site --------------------------------------------------------

    def login(self, browser: Browser, user: str, password: str | None, source: str) -> Page:
        """Sign ``browser`` in with the app's own login."""
        assert self._login is not None, "this site has no login"
        return self._login(browser, user, password, source)

    def logout(self, browser: Browser) -> Page:
        """Sign ``browser`` out with the app's own logout."""
        assert self._logout is not None, "this site has no logout"
        return self._logout(browser)

    def browser(self, script_root: str = "") -> Browser:
        """A new browser with empty cookies (on the app mounted at ``script_root``)."""
        return Browser(self, self._client(script_root), script_root)

    def twin(self, browser: Browser) -> Browser:
        """Another client with a copy of ``browser``'s cookies (the same session), which
        may send requests from its own thread while other twins send theirs: for races."""
        return Browser(self, self._twin_client(browser.client), browser.script_root)

    def _twin_client(self, client: Any) -> Any:
        raise NotImplementedError

    def call(self, name: str, *args: Any, **kwargs: Any) -> Any:
        """Run the engine's method ``name`` (sync or async) and answer its result."""
        return self._resolve(getattr(self.engine, name)(*args, **kwargs))

    def bindings(self, user: str) -> list[stepup.Binding]:
        """A user's bound methods, oldest first."""
        return self.call("bindings", user)  # type: ignore[no-any-return]

    def policy(self) -> Any:
        """The policy in force."""
        return self.call("policy")

    def code(self, method: str, user: str | None = None) -> str:
        """The newest code a user would read: from the outbox, or their authenticator app."""
        if method == "totp":
            secret = self.totp_secrets[user] if user else next(iter(self.totp_secrets.values()))
            return totp_at_step(secret, int(self.clock() // 30), 6)
        outbox = {"sms": self.sms, "email": self.email}[method]
        match = _CODE.search(outbox.last.body)
        assert match is not None, outbox.last.body
        return match.group(1)

    def next_totp_step(self) -> None:
        """Move to the next TOTP time step (each step's code is accepted once)."""
        self.clock.advance(30 - self.clock() % 30)


# -- Flask -------------------------------------------------------------------------------


class _FlaskClient:
    """One browser's Flask test client: its own cookies."""

    def __init__(self, app: Any, script_root: str) -> None:
        self.client = app.test_client()
        self.script_root = script_root

    def request(self, method: str, url: str, *, data: Any, json: Any, content: Any, params: Any, headers: Any) -> Page:
        options: dict[str, Any] = {"method": method, "headers": headers, "query_string": params}
        if self.script_root:
            assert url.startswith(self.script_root + "/"), url
            url, options["base_url"] = url.removeprefix(self.script_root), f"http://localhost{self.script_root}/"
        if json is not None:
            options["json"] = json
        elif content is not None:
            options["data"] = content
        elif data is not None:
            options["data"] = data
        return Page.from_werkzeug(self.client.open(url, **options))

    def cookie(self, name: str) -> str | None:
        found = self.client.get_cookie(name)
        return None if found is None else str(found.value)

    def set_cookie(self, name: str, value: str) -> None:
        self.client.set_cookie(name, value)


class FlaskSite(Site):
    """A Flask app; its engine is the one ``StepUp`` made."""

    adapter = "flask"

    def __init__(self, app: Any, outboxes: Outboxes, **options: Any) -> None:
        super().__init__(app, state(app).engine, outboxes, **options)

    def _client(self, script_root: str) -> _FlaskClient:
        return _FlaskClient(self.app, script_root)

    def _twin_client(self, client: _FlaskClient) -> _FlaskClient:
        twin = _FlaskClient(self.app, client.script_root)
        for cookie in client.client._cookies.values():
            twin.client.set_cookie(cookie.key, cookie.value, domain=cookie.domain, path=cookie.path)
        return twin

    def close(self) -> None:
        self.engine.close()


# -- Starlette ---------------------------------------------------------------------------


class _StarletteClient:
    """One browser on a Starlette site: the site's ``TestClient`` with this browser's
    own cookie jar."""

    def __init__(self, client: TestClient) -> None:
        self.client = client
        self.cookies = type(client.cookies)()

    def request(self, method: str, url: str, *, data: Any, json: Any, content: Any, params: Any, headers: Any) -> Page:
        self.client.cookies = self.cookies.jar  # the jar itself, shared, not a copy
        response = self.client.request(
            method, url, data=data, json=json, content=content, params=params, headers=headers
        )
        return Page.from_httpx(response)

    def cookie(self, name: str) -> str | None:
        return next((c.value for c in self.cookies.jar if c.name == name), None)

    def set_cookie(self, name: str, value: str) -> None:
        for c in self.cookies.jar:
            if c.name == name:
                c.value = value
                return
        domain = next((c.domain for c in self.cookies.jar), "testserver.local")
        self.cookies.set(name, value, domain=domain)


async def _awaited(value: Any) -> Any:
    return await value


def engine_of(app: Any) -> stepup.AsyncEngine:
    """The engine an ASGI app gave its StepUpMiddleware."""
    for middleware in app.user_middleware:
        if middleware.cls is StepUpMiddleware:
            return middleware.kwargs["engine"]  # type: ignore[no-any-return]
    raise LookupError("the app has no StepUpMiddleware with an engine")


class _ServerRoot:
    """Stands for a server started with a root path (``uvicorn --root-path /shop`` behind a
    proxy that keeps the prefix) for the requests under one of ``roots``: the ASGI twin of
    a WSGI ``SCRIPT_NAME``."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.roots: set[str] = set()

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "lifespan":
            root = next((r for r in self.roots if scope["path"].startswith(r + "/")), "")
            scope = {**scope, "root_path": root} if root else scope
        await self.app(scope, receive, send)


class StarletteSite(Site):
    """A Starlette (or FastAPI) app, served in process with its lifespan running."""

    adapter = "starlette"

    def __init__(self, app: Any, outboxes: Outboxes, **options: Any) -> None:
        super().__init__(app, engine_of(app), outboxes, **options)
        self._stack = contextlib.ExitStack()
        self._server = _ServerRoot(app)
        self.test_client = self._stack.enter_context(TestClient(self._server, follow_redirects=False))

    def _client(self, script_root: str) -> _StarletteClient:
        if script_root:
            self._server.roots.add(script_root)
        return _StarletteClient(self.test_client)

    def _twin_client(self, client: _StarletteClient) -> _StarletteClient:
        # A TestClient of its own, not entered: each request runs on an event loop of its
        # own thread, so twins in several threads reach the app at the same time.
        own = TestClient(self._server, follow_redirects=False)
        self._stack.callback(own.close)
        twin = _StarletteClient(own)
        for cookie in client.cookies.jar:
            twin.cookies.jar.set_cookie(cookie)
        return twin

    def _resolve(self, value: Any) -> Any:
        if not inspect.isawaitable(value):
            return value
        portal = self.test_client.portal
        assert portal is not None
        return portal.call(_awaited, value)

    def close(self) -> None:
        """Close the engine on the app's loop, then the client (the lifespan ends); once."""
        if self.test_client.portal is not None:
            with self._stack:
                self.call("close")
