"""The demo bank as a Starlette app, protected by stepup: the same routes, fields, users
and environment variables as the Flask example.

stepup touches the app in three places: ``StepUpMiddleware`` inside the session and
authentication middleware, ``routes()`` mounted at ``/stepup``, and
``@step_up_required`` on ``/``, ``/transfer``, ``/standing-order`` and ``/api/balance``.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import jinja2
from starlette.applications import Starlette
from starlette.authentication import AuthCredentials, AuthenticationBackend, SimpleUser
from starlette.middleware import Middleware
from starlette.middleware.authentication import AuthenticationMiddleware
from starlette.requests import HTTPConnection, Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.templating import Jinja2Templates

from stepup import AsyncEngine, Settings
from stepup.asgi import StepUpMiddleware, routes, state_of, step_up_required
from stepup.web import PlainForm

from .. import _bank
from .._sessions import RotatingSessionMiddleware

#: templates read once, as Flask does outside debug mode (Jinja's default checks each
#: template's file and its parents' on every render).
templates = Jinja2Templates(
    env=jinja2.Environment(
        loader=jinja2.FileSystemLoader(_bank.TEMPLATES), autoescape=jinja2.select_autoescape(), auto_reload=False
    )
)


LoginForm, TransferForm = _bank.LoginForm, _bank.TransferForm


class SessionUser(AuthenticationBackend):
    """The app's own login: the user name in the session."""

    async def authenticate(self, conn: HTTPConnection) -> tuple[AuthCredentials, SimpleUser] | None:
        username = conn.session.get("user_id")
        if username not in _bank.USERS:
            return None
        return AuthCredentials(["authenticated"]), SimpleUser(username)


async def _form(request: Request, cls: Any) -> Any:
    formdata = await request.form() if request.method == "POST" else None
    return cls.bind(formdata, request.session, state_of(request.scope).engine.keys)


def _page(request: Request, name: str, status: int = 200, **context: Any) -> Response:
    user = request.user.display_name if request.user.is_authenticated else None
    # The layout shows "Log out" (a form with its CSRF token) to a signed-in user only.
    logout_form = PlainForm.bind(None, request.session, state_of(request.scope).engine.keys) if user else None
    context = {"user": user, "logout_form": logout_form, "admins": _bank.ADMINS, **context}
    return templates.TemplateResponse(request, f"bank/{name}.html", context, status_code=status)


def login_required(endpoint: Any) -> Any:
    async def checked(request: Request) -> Response:
        if not request.user.is_authenticated:
            if "application/json" in request.headers.get("accept", ""):
                return JSONResponse({"title": "Sign in first.", "status": 401}, status_code=401)
            return RedirectResponse("/login", status_code=303)
        return await endpoint(request)  # type: ignore[no-any-return]

    return checked


async def login(request: Request) -> Response:
    form = await _form(request, LoginForm)
    error = None
    if request.method == "POST" and form.validate():
        if _bank.check_password(form.username.data, form.password.data):
            request.session.clear()
            request.session.update({"user_id": form.username.data, "auth_source": "password"})
            return RedirectResponse("/", status_code=303)
        error = "Wrong username or password."
    return _page(request, "login", 400 if request.method == "POST" else 200, form=form, error=error)


async def logout(request: Request) -> Response:
    form = await _form(request, PlainForm)
    if request.method == "POST" and form.validate():
        await state_of(request.scope).end_login(request.session)  # before the session is cleared
        request.session.clear()
        return RedirectResponse("/login", status_code=303)
    error = form.first_error() if request.method == "POST" else None
    return _page(request, "logout", 400 if error else 200, error=error, logout_form=form)


@login_required
@step_up_required(max_age=3600, app="bank")
async def home(request: Request) -> Response:
    return _page(request, "home")


@login_required
async def account(request: Request) -> Response:
    bindings = await state_of(request.scope).engine.bindings(request.user.display_name)
    return _page(request, "account", bindings=bindings, manage_url="/stepup/account")


@login_required
async def transfer_form(request: Request) -> Response:
    return _page(request, "transfer", form=await _form(request, TransferForm), error=None)


@login_required
@step_up_required(operation="transfer of {amount} to {to}", app="bank")
async def transfer(request: Request) -> Response:
    form = await _form(request, TransferForm)
    amount = form.checked_amount()
    if amount is None:
        return _page(request, "transfer", 400, form=form, error=form.first_error())
    await asyncio.to_thread(_ledger(request).add, request.user.display_name, form.to.data, amount)
    return _page(request, "transferred", to=form.to.data, amount=amount)


@login_required
async def standing_order_form(request: Request) -> Response:
    orders = await asyncio.to_thread(_ledger(request).orders_of, request.user.display_name)
    return _page(request, "standing_order", form=await _form(request, TransferForm), orders=orders, error=None)


@login_required
@step_up_required(operation="monthly standing order of {amount} to {to}", app="bank")
async def standing_order(request: Request) -> Response:
    form = await _form(request, TransferForm)
    amount = form.checked_amount()
    if amount is None:
        orders = await asyncio.to_thread(_ledger(request).orders_of, request.user.display_name)
        return _page(request, "standing_order", 400, form=form, orders=orders, error=form.first_error())
    await asyncio.to_thread(_ledger(request).add_order, request.user.display_name, form.to.data, amount)
    return _page(request, "standing_order_set", to=form.to.data, amount=amount)


@login_required
async def transfers(request: Request) -> Response:
    rows = await asyncio.to_thread(_ledger(request).of, request.user.display_name)
    return _page(request, "transfers", transfers=rows)


@login_required
async def admin_support(request: Request) -> Response:
    return RedirectResponse("/stepup/admin/support", status_code=303)


async def admin_security(request: Request) -> Response:
    return RedirectResponse("/stepup/admin", status_code=303)


@login_required
@step_up_required(max_age=300)
async def balance(request: Request) -> Response:
    return JSONResponse({"user": request.user.display_name, "balance": "1250.00", "currency": "GBP"})


def _ledger(request: Request) -> _bank.Ledger:
    return request.app.state.ledger  # type: ignore[no-any-return]


def create_app(config: dict[str, Any] | None = None, **engine_options: Any) -> Starlette:
    """The demo bank. ``config`` overrides ``STEPUP_*`` settings; ``engine_options``
    (``clock``, ``sms``, ``email``...) go to the engine, as tests need."""
    values = {**_bank.settings_from_env("sqlite:///demo-stepup.sqlite3"), **(config or {})}
    values["STEPUP_LOGIN_EXEMPT"] = ("/login", "/logout")
    # Prometheus scrapes /metrics: counters of challenges, sends per country, failures, locks.
    metrics = _bank.metrics()
    engine = AsyncEngine(Settings.from_mapping(values), audit_hooks=[metrics], **engine_options)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        for user, method, target, secret in _bank.demo_bindings():
            if not any(b.method == method for b in await engine.bindings(user)):
                await engine.import_binding(user, method, target, secret=secret)
        yield

    app = Starlette(
        routes=[
            Route("/login", login, methods=["GET", "POST"]),
            Route("/logout", logout, methods=["GET", "POST"]),
            Route("/", home),
            Route("/account", account),
            Route("/transfer", transfer_form, methods=["GET"]),
            Route("/transfer", transfer, methods=["POST"]),
            Route("/standing-order", standing_order_form, methods=["GET"]),
            Route("/standing-order", standing_order, methods=["POST"]),
            Route("/transfers", transfers),
            Route("/admin/security", admin_security),
            Route("/admin/support", admin_support),
            Route("/metrics", lambda _: Response(metrics.render(), media_type="text/plain; version=0.0.4")),
            Mount("/api", routes=[Route("/balance", balance)]),
            routes(engine.settings.url_prefix),
        ],
        middleware=[
            Middleware(_bank.BankHeaders),
            # Lax and HttpOnly (Starlette's session cookie always is); Secure on HTTPS.
            Middleware(
                RotatingSessionMiddleware, secret_keys=_bank.secret_keys(values["STEPUP_SECRET_KEY"]), same_site="lax",
                https_only=engine.settings.secure_cookies,
            ),
            Middleware(AuthenticationMiddleware, backend=SessionUser()),
            Middleware(_bank.LanguageSwitch),
            Middleware(
                StepUpMiddleware, engine=engine, admin_check=lambda subject: subject in _bank.ADMINS,
                # stepup's pages extend the bank's layout (STEPUP_BASE_TEMPLATE), found here.
                template_dirs=[_bank.TEMPLATES],
                locale_selector=lambda scope: scope["session"].get(_bank.LANGUAGE_KEY),
                # what the layout reads beside stepup's own variables: who sees "Support".
                template_globals={"admins": _bank.ADMINS},
            ),
        ],
        lifespan=lifespan,
    )
    app.state.ledger = _bank.Ledger(values.get("DEMO_BANK_DB", _bank.ledger_path()))
    return app

