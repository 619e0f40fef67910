"""A JSON API on FastAPI: sign in with a password, then step up through stepup's JSON API
before ``GET /api/balance``.

::

    POST /login                        {"username": "alice", "password": "alice-password"}
    GET  /api/balance                  401, WWW-Authenticate: StepUp error="insufficient_user_authentication"
    POST /stepup/api/challenges        {"method": "sms"}            -> {"id": ..., "verify_url": ...}
    POST /stepup/api/challenges/ID/verify  {"code": "123456"}
    GET  /api/balance                  200
    POST /logout                       204
"""

from __future__ import annotations

from typing import Any

from fastapi import Depends, FastAPI, HTTPException, Request
from pydantic import BaseModel

from stepup import AsyncEngine, Settings
from stepup.asgi import StepUpMiddleware, StepUpRequired, require, routes, state_of, stepup_exception_handler

from .. import _bank
from .._sessions import RotatingSessionMiddleware


class Credentials(BaseModel):
    username: str
    password: str


def create_app(config: dict[str, Any] | None = None, **engine_options: Any) -> FastAPI:
    """The API. ``config`` overrides ``STEPUP_*`` settings; ``engine_options`` go to the engine."""
    values = {**_bank.settings_from_env("sqlite:///demo-stepup.sqlite3"), **(config or {})}
    # A login waiting for its second factor may still sign in again (as someone else) or out.
    values.setdefault("STEPUP_LOGIN_EXEMPT", ("/login", "/logout"))
    engine = AsyncEngine(Settings.from_mapping(values), **engine_options)
    app = FastAPI(title="Demo Bank API")

    @app.post("/login")
    async def login(credentials: Credentials, request: Request) -> dict[str, str]:
        if not _bank.check_password(credentials.username, credentials.password):
            raise HTTPException(status_code=401, detail="Wrong username or password.")
        request.session.clear()
        request.session.update({"user_id": credentials.username, "auth_source": "password"})
        for user, method, target, secret in _bank.demo_bindings():
            if user == credentials.username and not any(b.method == method for b in await engine.bindings(user)):
                await engine.import_binding(user, method, target, secret=secret)
        return {"user": credentials.username}

    @app.post("/logout", status_code=204)
    async def logout(request: Request) -> None:
        # Before the session is cleared (it names the login): the login's pending challenges
        # and approvals end for every copy of the session cookie too.
        await state_of(request.scope).end_login(request.session)
        request.session.clear()

    @app.get("/api/balance", dependencies=[Depends(require(max_age=300))])
    async def balance(request: Request) -> dict[str, str]:
        return {"user": request.session["user_id"], "balance": "1250.00", "currency": "GBP"}

    app.router.routes.append(routes(engine.settings.url_prefix))
    app.add_exception_handler(StepUpRequired, stepup_exception_handler)
    # Middleware added last runs first: the session must be there before stepup reads it.
    app.add_middleware(
        StepUpMiddleware, engine=engine, user_loader=lambda scope: scope.get("session", {}).get("user_id"),
        template_dirs=[_bank.TEMPLATES],  # stepup's pages extend the bank's layout (STEPUP_BASE_TEMPLATE)
    )  # fmt: skip
    app.add_middleware(
        RotatingSessionMiddleware, secret_keys=_bank.secret_keys(values["STEPUP_SECRET_KEY"]), same_site="lax",
        https_only=engine.settings.secure_cookies,
    )
    app.add_middleware(_bank.BankHeaders)
    return app
