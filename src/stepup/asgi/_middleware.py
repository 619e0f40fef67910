"""``StepUpMiddleware``: pure ASGI, never Starlette's BaseHTTPMiddleware.

Unprotected requests go straight through (a few dictionary look-ups), and so do their
responses, streamed as they come. The middleware puts its state in ``scope["stepup"]``,
holds fresh logins (and their WebSocket handshakes) until their second factor passes,
and replays an interrupted request once after its approval. It must sit inside SessionMiddleware (and
AuthenticationMiddleware, when that gives the user), so the replay sees the session with
the new grant and the session cookie is written once, for the replay's response.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import Any

from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .. import grants
from .._config import Settings
from .._errors import ConfigurationError
from .._models import AuditEvent
from ..engine import AsyncEngine
from ._apps import app_names, app_of, routes_of
from ._state import StepUpState

__all__ = ["StepUpMiddleware"]

_NO_SESSION = (
    "StepUpMiddleware found no session in the request: it must sit inside SessionMiddleware "
    "(after it in Starlette(middleware=[...]); with app.add_middleware, add SessionMiddleware last)."
)

_HELD_SOCKET = "A second factor is needed to sign in."


class StepUpMiddleware:
    """Adds stepup to an ASGI app.

    :param app: the app (its routes include :func:`stepup.asgi.routes`).
    :param settings: a :class:`stepup.Settings`, or keyword fields of it.
    :param engine: an :class:`stepup.AsyncEngine` to share instead.
    :param user_loader: ``scope -> subject``; default ``scope["user"]``, else the session
        key ``STEPUP_SESSION_USER_KEY`` (``user_id``).
    :param identity_source_loader: ``scope -> source``.
    :param admin_check: ``subject -> bool``.
    :param template_dirs: the app's template folders (to override stepup's pages, and
        where the layout ``STEPUP_BASE_TEMPLATE`` names is found).
    :param locale_selector: ``scope -> locale`` for stepup's pages and messages, or
        ``None`` to leave it to the subject's preference and ``Accept-Language``.
    :param template_globals: names every stepup page's template sees, for your layout
        (``STEPUP_BASE_TEMPLATE``): what a Flask context processor would give it.
    :param engine_options: for a new engine: ``clock``, ``store``, ``sms``, ``email``...
    """

    def __init__(
        self,
        app: ASGIApp,
        settings: Settings | None = None,
        *,
        engine: AsyncEngine | None = None,
        user_loader: Callable[[Any], str | None] | None = None,
        identity_source_loader: Callable[[Any], str | None] | None = None,
        admin_check: Callable[[str], bool] | None = None,
        template_dirs: Iterable[str] = (),
        locale_selector: Callable[[Any], object] | None = None,
        template_globals: Mapping[str, Any] | None = None,
        audit_hooks: Iterable[Callable[[AuditEvent], None]] = (),
        **engine_options: Any,
    ) -> None:
        self.app = app
        engine = engine or AsyncEngine(settings, audit_hooks=audit_hooks, **engine_options)
        self.state = StepUpState(
            engine, user_loader=user_loader, identity_source_loader=identity_source_loader,
            admin_check=admin_check, template_dirs=template_dirs, locale_selector=locale_selector,
            template_globals=template_globals,
        )  # fmt: skip
        self._code_path = engine.settings.url_prefix + "/code/"
        self._prefix = engine.settings.url_prefix + "/"
        # The app's routes, read when first needed (Starlette builds its middleware after
        # the routes): the hold and the admin page find the policy's apps in them.
        self.state.discover = lambda: app_names(routes_of(self.app))

    def __call__(self, scope: Scope, receive: Receive, send: Send) -> Awaitable[None]:
        # Plain code, no coroutine of its own: a request that goes through is handed on
        # as it is (the server awaits the inner app's coroutine), and only one that must
        # be held or replayed enters one of the coroutines below. Every request pays for
        # this layer, most of them for nothing else.
        if scope["type"] != "http":
            if scope["type"] == "websocket":
                return self._websocket(scope, receive, send)
            return self.app(scope, receive, send)
        try:
            session = scope["session"]
        except KeyError:
            session = None
        if session is None:
            # Without the session there are no grants and no login hold: fail closed, loudly.
            raise ConfigurationError(_NO_SESSION)
        st = scope["stepup"] = self.state
        subject = st.subject(scope)
        if not grants.login_settled(session, subject):
            return self._holding(scope, receive, send, subject)
        if scope["method"] == "POST" and _app_path(scope).startswith(self._code_path):
            return self._approving(scope, receive, send)
        return self.app(scope, receive, send)

    async def _websocket(self, scope: Scope, receive: Receive, send: Send) -> None:
        """A WebSocket handshake: held like any page, by the same login hold, so a session
        that passed only a password gets no data over a socket either. A held one is closed
        before it is accepted (1008, policy violation), which servers answer with 403."""
        session = scope.get("session")
        if session is None:
            raise ConfigurationError(_NO_SESSION)
        st = scope["stepup"] = self.state
        subject = st.subject(scope)
        if not grants.login_settled(session, subject):
            # The handshake is a GET of its path: the hold decides it as it decides a page.
            stop = await self._login({**scope, "type": "http", "method": "GET"}, receive, subject)
            if stop is not None:
                message = await receive()
                if message["type"] == "websocket.connect":
                    await send({"type": "websocket.close", "code": 1008, "reason": _HELD_SOCKET})
                return
        await self.app(scope, receive, send)

    async def _holding(self, scope: Scope, receive: Receive, send: Send, subject: str | None) -> None:
        """A request whose login is not settled: a new login, a logout, or a held login."""
        stop = await self._login(scope, receive, subject)
        if stop is not None:
            await stop(scope, receive, send)
        elif scope["method"] == "POST" and _app_path(scope).startswith(self._code_path):
            await self._approving(scope, receive, send)
        else:
            await self.app(scope, receive, send)

    async def _login(self, scope: Scope, receive: Receive, subject: str | None) -> Any:
        st = self.state
        path = _app_path(scope)
        exempt = path.startswith(self._prefix) or any(_under(path, p) for p in st.exempt)
        if exempt and grants.login_begun(scope["session"], subject):
            return None  # as Gate.login decides: a begun login's exempt requests go on
        request = Request(scope, receive)
        req = await st.web_request(request, subject, read_body=False)
        # The router has not run yet: the request's app is found by matching its routes.
        app = None if exempt else app_of(routes_of(self.app), dict(scope))
        login = st.web(scope).gate.login(req, exempt=exempt, identity_source=st.identity_source(scope), app=app)
        result = await st.engine.run(login)
        return None if result is None else st.respond(result, scope)

    async def _approving(self, scope: Scope, receive: Receive, send: Send) -> None:
        """A code form's POST: hold its small response back until it is known whether the
        approval replays a saved request instead."""
        # The router writes the mount it matched into the scope (root_path, endpoint...):
        # the replay starts from the scope as it came in, as a new request would.
        original = dict(scope)
        box: dict[str, Any] = {}
        scope["stepup.box"] = box
        held: list[Message] = []

        async def hold(message: Message) -> None:
            held.append(message)

        await self.app(scope, receive, hold)
        replay = box.get("replay")
        if replay is None:
            for message in held:
                await send(message)
            return
        saved, grant = replay
        body: bytes = saved.body
        headers = [(k, v) for k, v in original["headers"] if k not in (b"content-type", b"content-length")]
        headers += [
            (b"content-type", (saved.get("content_type") or "").encode("latin-1")),
            (b"content-length", str(len(body)).encode()),
        ]
        path: str = saved["path"]
        replay_scope = {
            **original,
            "method": saved["method"],
            "path": path,
            "raw_path": path.encode(),
            "query_string": (saved.get("query") or "").encode("latin-1"),
            "headers": headers,
            "stepup.replay_grant": grant,
        }
        await self.app(replay_scope, _body_receive(body), send)


def _app_path(scope: Scope) -> str:
    """The path within the app: without the root path a server was started with
    (``--root-path``), which ASGI servers put in front of ``path``."""
    path: str = scope["path"]
    root: str = scope.get("root_path", "").rstrip("/")
    return path[len(root) :] or "/" if root and _under(path, root) else path


def _under(path: str, prefix: str) -> bool:
    """Whether ``path`` is ``prefix`` or below it (``/static`` holds ``/static/app.css``,
    not ``/staticky``)."""
    return path == prefix or path.startswith(prefix if prefix.endswith("/") else prefix + "/")


def _body_receive(body: bytes) -> Receive:
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return {"type": "http.disconnect"}

    return receive
