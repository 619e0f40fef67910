"""``StepUpMiddleware``: pure ASGI, never Starlette's BaseHTTPMiddleware.

Unprotected requests go straight through (a few dictionary look-ups), and so do their
responses, streamed as they come. The middleware puts its state in ``scope["stepup"]``,
holds fresh logins until their second factor passes, and replays an interrupted request
once after its approval. It must sit inside SessionMiddleware (and
AuthenticationMiddleware, when that gives the user), so the replay sees the session with
the new grant and the session cookie is written once, for the replay's response.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, MutableMapping
from typing import Any

from starlette.requests import Request

from .._config import Settings
from .._engine import AsyncEngine
from .._models import AuditEvent
from ..web import login_settled
from ._state import StepUpState

__all__ = ["StepUpMiddleware"]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


class StepUpMiddleware:
    """Adds stepup to an ASGI app.

    :param app: the app (its routes include :func:`stepup.asgi.routes`).
    :param settings: a :class:`stepup.Settings`, or keyword fields of it.
    :param engine: an :class:`stepup.AsyncEngine` to share instead.
    :param user_loader: ``scope -> subject``; default ``scope["user"]``.
    :param identity_source_loader: ``scope -> source``.
    :param admin_check: ``subject -> bool``.
    :param template_dirs: the app's template folders (to override stepup's pages).
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
        audit_hooks: Iterable[Callable[[AuditEvent], None]] = (),
        **engine_options: Any,
    ) -> None:
        self.app = app
        engine = engine or AsyncEngine(settings, audit_hooks=audit_hooks, **engine_options)
        self.state = StepUpState(
            engine, user_loader=user_loader, identity_source_loader=identity_source_loader,
            admin_check=admin_check, template_dirs=template_dirs,
        )  # fmt: skip
        self._code_path = engine.settings.url_prefix + "/code/"
        self._prefix = engine.settings.url_prefix + "/"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        st = self.state
        scope["stepup"] = st
        session = scope.get("session")
        subject = st.subject(scope)  # type: ignore[arg-type]
        if session is not None and not login_settled(session, subject):
            stop = await self._login(scope, receive, subject)
            if stop is not None:
                await stop(scope, receive, send)
                return
        if scope["method"] == "POST" and scope["path"].startswith(self._code_path):
            await self._approving(scope, receive, send)
            return
        await self.app(scope, receive, send)

    async def _login(self, scope: Scope, receive: Receive, subject: str | None) -> Any:
        st = self.state
        path: str = scope["path"]
        exempt = path.startswith(self._prefix) or any(path.startswith(p) for p in st.exempt)
        request = Request(scope, receive)
        req = await st.web_request(request, subject, read_body=False)
        device = request.cookies.get(st.settings.device_cookie)
        result = await st.engine._run(
            st.web(scope).login(req, exempt=exempt, identity_source=st.identity_source(scope), device_token=device)  # type: ignore[arg-type]
        )
        return None if result is None else st.respond(result, scope)  # type: ignore[arg-type]

    async def _approving(self, scope: Scope, receive: Receive, send: Send) -> None:
        """A code form's POST: hold its small response back until it is known whether the
        approval replays a saved request instead."""
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
        headers = [(k, v) for k, v in scope["headers"] if k not in (b"content-type", b"content-length")]
        headers += [(b"content-type", (saved.get("content_type") or "").encode("latin-1")), (b"content-length", str(len(body)).encode())]
        path: str = saved["path"]
        replay_scope = {
            **{k: v for k, v in scope.items() if not k.startswith("stepup.") and k not in ("endpoint", "path_params", "route")},
            "method": saved["method"],
            "path": path,
            "raw_path": path.encode(),
            "query_string": (saved.get("query") or "").encode("latin-1"),
            "headers": headers,
            "stepup.replay_grant": grant,
        }
        await self.app(replay_scope, _body_receive(body), send)


def _body_receive(body: bytes) -> Receive:
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return {"type": "http.disconnect"}

    return receive
