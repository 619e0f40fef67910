"""The shared core every group of handlers holds: the engine, the configuration, links,
page tokens, and the answers that stop a request.

The groups (the route gate, the code pages, the account pages, the admin page, the JSON
API) are separate classes, each holding one :class:`WebCore`; none inherits another.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from typing import Any, TypeVar, cast
from urllib.parse import quote

from .. import engine as flows
from .. import grants
from .._audit import request_context
from .._errors import RequestTooLarge, SignInRefused, StepUpError, Throttled
from .._i18n import T
from .._models import Approval, Binding, Challenge
from ..engine import AsyncEngine, Engine, Flow, accepts
from ._base import WebRequest, WebResult
from ._config import WebConfig
from ._locale import localized, request_locale
from ._next_step import next_event_view

__all__ = ["CONTACT_ROUTES", "ROUTES", "WebCore", "fail_closed", "problem", "signed_in"]

F = TypeVar("F", bound=Callable[..., Any])

#: (name, path under the prefix, methods). Adapters register exactly these.
ROUTES: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("choose", "/", ("GET", "POST")),
    ("code", "/code/{token}", ("GET", "POST")),
    ("resend", "/code/{token}/resend", ("POST",)),
    ("bind_phone", "/bind/phone", ("GET", "POST")),
    ("bind_email", "/bind/email", ("GET", "POST")),
    ("bind_totp", "/bind/totp", ("GET", "POST")),
    ("bind_method", "/bind/method/{method}", ("GET", "POST")),
    ("recovery", "/recovery-codes", ("GET", "POST")),
    ("account", "/account", ("GET",)),
    ("forget_browser", "/forget-browser", ("POST",)),
    ("unbind", "/account/remove/{binding_id}", ("POST",)),
    ("admin", "/admin", ("GET", "POST")),
    ("console", "/admin/support", ("GET", "POST")),
    ("forget_browsers", "/account/browsers", ("POST",)),
    ("api_status", "/api/status", ("GET",)),
    ("api_create", "/api/challenges", ("POST",)),
    ("api_verify", "/api/challenges/{token}/verify", ("POST",)),
    ("api_resend", "/api/challenges/{token}/resend", ("POST",)),
    ("api_cancel", "/api/challenges/{token}", ("DELETE",)),
    ("api_bindings", "/api/bindings", ("GET", "POST")),
    ("api_unbind", "/api/bindings/{binding_id}", ("DELETE",)),
    ("api_contact", "/api/verify", ("POST",)),
    ("static", "/static/{filename}", ("GET",)),
    ("passkey_add", "/passkeys/add", ("GET", "POST")),
    ("passkey_rename", "/passkeys/{binding_id}/rename", ("POST",)),
    ("api_passkey_options", "/api/challenges/{token}/passkey", ("GET",)),
    ("api_contact_check", "/api/verify/{request_id}/check", ("POST",)),
    ("api_contact_cancel", "/api/verify/{request_id}", ("DELETE",)),
    ("api_contact_next", "/api/verify/{request_id}/next", ("POST",)),
    ("next_step", "/code/{token}/next", ("POST",)),
    ("api_next", "/api/challenges/{token}/next", ("POST",)),
)
_PATHS = {name: path for name, path, _ in ROUTES}
#: the routes of contact verification, mounted only with ``contact_verification`` on.
CONTACT_ROUTES = frozenset({"api_contact", "api_contact_check", "api_contact_cancel", "api_contact_next"})
_PAGE_SALT = "stepup.page"
_NO_STORE = [("Cache-Control", "no-store")]
_PROBLEM = ("Content-Type", "application/problem+json")


def problem(error: StepUpError) -> WebResult:
    """An error as a JSON problem document, with ``Retry-After`` where it applies."""
    headers = [_PROBLEM]
    if isinstance(error, Throttled):
        headers.append(("Retry-After", str(error.retry_after)))
    return WebResult(status=error.status, json=error.problem(), headers=headers)


def fail_closed(handler: F) -> F:
    """Let no :class:`StepUpError` escape a handler of a group: one that does (the store or
    a sender went away in the middle of a request) is answered with its status (503 for
    those) by :meth:`WebCore.refused`, a problem document or a message page. Never a 500,
    and never the page or the protected view it guards. A request whose body was too large
    to read is answered 413 before the handler runs. The audit events fired meanwhile
    carry the request's context (client address, user agent, app, path). Pages and problem
    documents are put in the request's language (:func:`~stepup.web._locale.localized`)."""

    @functools.wraps(handler)
    def guarded(self: Any, req: WebRequest, *args: Any, **kwargs: Any) -> Flow[Any]:
        core: WebCore = self.core
        if req.too_large:  # the adapter stopped reading it: nothing here can use it
            too_large = core.refused(req, RequestTooLarge(core.settings.max_resume_body))
            return (yield from localized(core.engine, req, too_large))
        # The page, its enrolment rule and its language read the subject's record once.
        flows.read_subjects_once(True)
        try:
            with request_context(req.client, req.headers.get("user-agent"), kwargs.get("app"), req.path):
                try:
                    result = yield from handler(self, req, *args, **kwargs)
                except StepUpError as error:
                    result = core.refused(req, error)
            # In the request's language, chosen only now that there are words to show.
            return (yield from localized(core.engine, req, result))
        finally:
            flows.read_subjects_once(False)

    return cast(F, guarded)


def signed_in(handler: F) -> F:
    """The sign-in guard of stepup's pages, one for all of them: a stranger (no subject) is
    answered with a 401 page that asks them to sign in, and the handler does not run.
    Put it under :func:`fail_closed`."""

    @functools.wraps(handler)
    def guarded(self: Any, req: WebRequest, *args: Any, **kwargs: Any) -> Flow[Any]:
        if req.subject is None:
            return self.core.message(req, T("Please sign in"), T("Sign in first, then come back to this page."), 401)
        return (yield from handler(self, req, *args, **kwargs))

    return cast(F, guarded)


def when(at: float | None) -> str:
    """A time as the pages show it: ``2026-12-06 10:15 UTC`` (``never``, marked for the
    page's language, for none)."""
    return T("never") if at is None else time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(at))


class WebCore:
    """What every group of handlers shares, held by each of them.

    :param engine: the adapter's engine (sync or async; the handlers are flows).
    :param config: the adapter's web configuration.
    """

    def __init__(self, engine: Engine | AsyncEngine, config: WebConfig) -> None:
        self.engine = engine
        self.config = config
        self.settings = engine.settings

    def url(self, name: str, **params: str) -> str:
        """The path of one of stepup's routes."""
        return self.config.prefix.rstrip("/") + _PATHS[name].format(**params)

    def locale(self, req: WebRequest) -> Flow[str]:
        """The request's locale: the one its messages go in unless the subject chose one."""
        return request_locale(self.engine, req)

    def nonce(self, req: WebRequest) -> str | None:
        """The per-login nonce challenges and resume tokens are bound to."""
        return grants.session_nonce(req.session, req.subject)

    def page_token(self, challenge_id: str, resume: str | None, next_url: str, *, others: bool = True) -> str:
        """The signed token in a code page's URL.

        :param others: the subject has other methods to offer ("Use another method").
        """
        value: dict[str, Any] = {"c": challenge_id, "r": resume, "n": next_url}
        if not others:
            value["o"] = 0
        return self.engine.keys.sign(_PAGE_SALT, value)

    def read_page_token(self, token: str) -> dict[str, Any] | None:
        """The challenge id, resume token and next URL of a code page, or ``None`` when the
        token is forged, tampered with or too old."""
        s = self.settings
        value = self.engine.keys.unsign(_PAGE_SALT, token, s.challenge_lifetime + s.challenge_retention)
        return value if isinstance(value, dict) and isinstance(value.get("c"), str) else None

    def usable(
        self, subject: str, *, app: str | None, route: str | None, methods: list[str] | None
    ) -> Flow[list[Binding]]:
        """The subject's bindings that policy and the route allow now."""
        e = self.engine
        policy = yield from flows.policy(e.context)
        allowed = policy.methods(app=app, route=route, subject=subject)
        bindings = yield from flows.bindings(e.context, subject)
        return [
            b for b in bindings if b.method in allowed and accepts(methods, b.method) and b.remaining != 0
        ]  # fmt: skip

    def challenge_view(self, challenge: Challenge) -> dict[str, Any]:
        """What the code page and the JSON API show of a challenge."""
        e = self.engine
        now = e.clock()
        method = e.methods.get(challenge.method)
        return {
            "method": challenge.method,
            "purpose": challenge.purpose,
            "target": method.label(challenge.target) if method and method.channel else None,
            "state": challenge.state,
            "attempts_left": challenge.attempts_left,
            "sends_left": challenge.sends_left,
            "expires_in": challenge.seconds_left(now),
            "resend_in": challenge.resend_in(now, self.settings.resend_cooldown) if challenge.sends_left else None,
            "operation": challenge.operation,
            "delivered": bool(method and method.channel),
            # Set when the code could not go the usual way and went by a fallback.
            "notice": challenge.notice,
            # A workflow's next step ("call me instead") and when it is due, or None.
            "next_event": next_event_view(challenge, now),
        }

    def record_factor(self, req: WebRequest, approval: Approval) -> None:
        """Record an approved factor in the session (an operation's approval records none).
        A held login lifted by its first binding passed its login too: audited as
        ``login_passed``, as a login challenge's approval is by the engine."""
        if approval.purpose == "operation":
            return
        subject, e = req.subject or "", self.engine
        if approval.purpose == "bind" and grants.is_held(req.session, subject):
            e.context.emit("login_passed", None, subject=subject, method=approval.method, purpose="bind")
        grants.record_factor(req.session, subject, approval.method, e.clock())

    def device_cookie(self, token: str, *, max_age: int | None = None) -> tuple[str, str]:
        """The ``Set-Cookie`` header of a remembered browser (``max_age=0`` expires it)."""
        if max_age is None:
            max_age = self.settings.trusted_device_days * 86400
        secure = "; Secure" if self.config.secure_cookies else ""
        value = f"{self.settings.device_cookie}={token}; Max-Age={max_age}; Path=/; HttpOnly; SameSite=Lax{secure}"
        return ("Set-Cookie", value)

    # -- pages ---------------------------------------------------------------------------

    def page(self, req: WebRequest, template: str, status: int = 200, **context: Any) -> WebResult:
        """One of stepup's pages, ``stepup/<template>``, never cached."""
        context.setdefault("title", T("Verification"))
        context.update(
            app_name=self.settings.app_name,
            prefix=self.config.prefix,
            url=self.url,
            subject=req.subject,
            held=req.subject is not None and grants.is_held(req.session, req.subject),
            home=self.config.home,
            logout_url=self.config.logout,
            when=when,
        )
        return WebResult(status=status, template=f"stepup/{template}", context=context, headers=list(_NO_STORE))

    def message(self, req: WebRequest, title: str, message: str, status: int, **extra: Any) -> WebResult:
        """A page that says one thing (an error, mostly)."""
        return self.page(req, "message.html", status, title=title, message=message, **extra)

    def form(self, req: WebRequest, cls: Any, **kwargs: Any) -> Any:
        """A form of ``cls`` bound to the request: to its fields on a POST, else empty."""
        formdata = req.form if req.method == "POST" else None
        return cls.bind(formdata, req.session, self.engine.keys, **kwargs)

    # -- answers that stop a request -----------------------------------------------------

    def refused(self, req: WebRequest, error: StepUpError) -> WebResult:
        """A request stopped by an error: its problem document for JSON clients, a message
        page with its status for browsers."""
        if req.wants_json:
            return problem(error)
        title = T("Temporarily unavailable") if error.status == 503 else T("Cannot continue")
        return self.stopped(req, error.status, error.code, title, error.message)

    def sign_in_refused(self, req: WebRequest, error: SignInRefused) -> WebResult:
        """A problem document for JSON clients; for browsers a page that says who can help."""
        return (
            problem(error) if req.wants_json else self.message(req, T("Contact support"), error.message, error.status)
        )

    def stopped(self, req: WebRequest, status: int, code: str, title: str, message: str) -> WebResult:
        """A request stopped before any challenge: a problem document for JSON clients, a
        message page for browsers."""
        if req.wants_json:
            body = {"type": f"urn:stepup:error:{code}", "title": message, "status": status, "code": code}
            return WebResult(status=status, json=body, headers=[_PROBLEM])
        context = {
            "title": title, "message": message, "app_name": self.settings.app_name,
            "home": self.config.home, "url": self.url,
        }  # fmt: skip
        return WebResult(status=status, template="stepup/message.html", context=context, headers=list(_NO_STORE))

    def finish_login(self, req: WebRequest) -> WebResult:
        """Where a held login is sent instead of what it asked: its second factor on the
        choose page, or a 401 for JSON clients. Nothing is saved or charged for it."""
        if req.wants_json:
            return self.unauthorized(max_age=0, resume=None, login=True)
        next_url = req.full_path if req.method in ("GET", "HEAD") else self.config.home
        return WebResult(status=303, redirect=f"{self.url('choose')}?next={quote(next_url, safe='/')}")

    def unauthorized(self, *, max_age: float, resume: str | None, login: bool) -> WebResult:
        """The 401 a JSON client gets for a second factor: at login, or a step-up (with the
        ``resume`` token of what it asked)."""
        description = T("A second factor is needed to sign in.") if login else T("A recent second factor is needed.")
        header = (
            f'StepUp realm="stepup", error="insufficient_user_authentication", '
            f'error_description="{description}", max_age="{int(max_age)}"'
        )
        body = {
            "type": "urn:stepup:error:insufficient_user_authentication",
            "title": description,
            "status": 401,
            "code": "insufficient_user_authentication",
            "max_age": int(max_age),
            "challenges_url": self.url("api_create"),
            "status_url": self.url("api_status"),
        }
        if resume:
            body["resume"] = resume
        return WebResult(status=401, json=body, headers=[("WWW-Authenticate", header), _PROBLEM])
