"""The lab on Starlette: a ``Mount`` whose every endpoint is protected stands for the
Flask blueprint, a pure ASGI middleware inside StepUpMiddleware for ``before_request``, and
an exception handler for ``errorhandler``. See :mod:`.labs` for what it offers."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Mount, Route, WebSocketRoute
from starlette.staticfiles import StaticFiles
from starlette.websockets import WebSocket

from stepup import AsyncEngine, Settings
from stepup.asgi import StepUpMiddleware, routes, step_up_required

from .labs import ADMIN, ItemLocked, LabRecords, static_folder

Scope = MutableMapping[str, Any]
ASGIApp = Callable[[Scope, Any, Any], Awaitable[None]]


class Recorder:
    """The app's own request hook: notes ``METHOD /path`` of every HTTP request it sees."""

    def __init__(self, app: ASGIApp, records: LabRecords) -> None:
        self.app = app
        self.records = records

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] == "http":  # the path within the app, as Flask's request.path
            self.records.seen.append(f"{scope['method']} {scope['path'].removeprefix(scope.get('root_path', ''))}")
        await self.app(scope, receive, send)


def build(tmp_path: Path, records: LabRecords, settings: dict[str, Any], **engine_options: Any) -> Starlette:
    """The Starlette lab; ``settings`` and ``engine_options`` make its :class:`AsyncEngine`."""
    engine = AsyncEngine(Settings.from_mapping(settings), **engine_options)

    async def login(request: Request) -> Response:
        request.session.clear()
        request.session["user_id"] = request.path_params["user"]
        request.session["auth_source"] = request.query_params.get("source", "password")
        return RedirectResponse("/", status_code=302)

    async def logout(request: Request) -> Response:
        request.session.pop("user_id", None)
        return RedirectResponse("/", status_code=302)

    async def home(request: Request) -> Response:
        return HTMLResponse(f"Home of {request.session.get('user_id')}")

    def page(text: str) -> Callable[[Request], Awaitable[Response]]:
        async def endpoint(request: Request) -> Response:
            return HTMLResponse(text)

        return endpoint

    @step_up_required(operation="update of {name}", fields=["name", "colour"])
    async def update_item(request: Request) -> Response:
        item = request.path_params["item"]
        records.items[item] = {**records.items.get(item, {}), **await request.json()}
        return JSONResponse({"item": item, **records.items[item]})

    @step_up_required(max_age=60)
    async def delete_item(request: Request) -> Response:
        item = request.path_params["item"]
        if item == "locked":
            raise ItemLocked(item)
        records.items.pop(item, None)
        return JSONResponse({"deleted": item})

    @step_up_required(operation="payment of {amount} to {to}")
    async def pay(request: Request) -> Response:
        is_json = request.headers.get("content-type", "").startswith("application/json")
        data = await request.json() if is_json else await request.form()
        records.payments.append((data["to"], data["amount"]))
        return JSONResponse({"paid": data["amount"], "to": data["to"]})

    @step_up_required(operation="payment of {amount} to {to}", methods=["sms"])
    async def pay_by_sms(request: Request) -> Response:
        is_json = request.headers.get("content-type", "").startswith("application/json")
        data = await request.json() if is_json else await request.form()
        records.payments.append((data["to"], data["amount"]))
        return JSONResponse({"paid": data["amount"], "to": data["to"]})

    async def feed(websocket: WebSocket) -> None:
        await websocket.accept()
        await websocket.send_text(f"Feed of {websocket.session.get('user_id')}")
        await websocket.close()

    async def locked(request: Request, error: Exception) -> Response:
        return JSONResponse({"error": "This item is locked."}, status_code=423)

    vault = step_up_required(max_age=60)  # every endpoint of the mount
    return Starlette(
        routes=[
            Route("/login/{user}", login, methods=["POST"]),
            Route("/logout", logout, methods=["POST"]),
            Route("/logout-history", page("Where you signed out")),
            Route("/", home),
            WebSocketRoute("/feed", feed),
            Route("/report", step_up_required(max_age=60)(page("The quarterly report"))),
            Route("/email-only", step_up_required(max_age=60, methods=["email"])(page("Verified by email"))),
            Route("/passkey-only", step_up_required(max_age=60, methods=["passkey"])(page("Verified by passkey"))),
            Route("/items/{item}", update_item, methods=["PUT", "PATCH"]),
            Route("/items/{item}", delete_item, methods=["DELETE"]),
            Route("/pay", pay, methods=["POST"]),
            Route("/pay-by-sms", pay_by_sms, methods=["POST"]),
            Mount("/vault", routes=[Route("/", vault(page("The vault"))), Route("/keys", vault(page("The keys")))]),
            Mount("/lobby", routes=[
                Route("/", page("The lobby")),
                Route("/report", step_up_required(max_age=60)(page("The lobby report"))),
            ]),  # fmt: skip
            Mount("/static", StaticFiles(directory=static_folder(tmp_path)), name="static"),
            routes(engine.settings.url_prefix),
        ],
        middleware=[
            Middleware(SessionMiddleware, secret_key=settings["STEPUP_SECRET_KEY"]),
            Middleware(StepUpMiddleware, engine=engine, admin_check=lambda subject: subject == ADMIN),
            Middleware(Recorder, records=records),
        ],
        exception_handlers={ItemLocked: locked},
    )
