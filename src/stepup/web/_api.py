"""The JSON API for single-page apps and API clients.

Errors are RFC 9457 problem documents (``application/problem+json``) with the status of
the error and ``attempts_left``, ``retry_after`` or ``locked_until`` where they apply.
State-changing calls take a JSON body: a cross-site HTML form cannot send one, which is
what keeps these endpoints safe from CSRF without a token.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from .. import engine as flows
from .. import grants
from .._errors import ChallengeNotFound, InvalidInput, MethodNotAvailable, RequestTooLarge, StepUpError
from .._i18n import T
from ..engine import Flow
from ._base import WebRequest, WebResult, is_json_type, safe_next
from ._common import WebCore, problem
from ._guards import Guards
from ._locale import localized
from ._passkey_pages import request_rp

__all__ = ["Api"]


class Api:
    """The ``/api/...`` handlers.

    :param core: the shared core of the handlers.
    :param guards: the checks shared with the pages (a fresh second factor, the first
        binding of a login, the last method).
    """

    def __init__(self, core: WebCore, guards: Guards) -> None:
        self.core = core
        self.guards = guards

    def _json_body(self, req: WebRequest) -> dict[str, Any]:
        if not is_json_type(req.media_type):
            raise _BadRequest(T("Send a JSON body with Content-Type: application/json."), 415)
        if req.json_error or not isinstance(req.json, dict):
            raise _BadRequest(T("The body must be a JSON object."), 400)
        return req.json

    def _string(self, body: dict[str, Any], name: str, *, required: bool = True, limit: int = 256) -> str | None:
        value = body.get(name)
        if value is None and not required:
            return None
        if not isinstance(value, str) or not value or len(value) > limit:
            raise InvalidInput(
                T("'{field}' must be a non-empty string of at most {limit} characters.", field=name, limit=limit)
            )
        return value

    def _run(
        self, req: WebRequest, handler: Callable[..., Flow[WebResult]], *args: Any, anonymous: bool = False
    ) -> Flow[WebResult]:
        """Run one handler, turning stepup's errors into problem documents.

        :param anonymous: the endpoint serves callers who are not signed in (contact
            verification at registration).
        """
        try:
            if req.too_large:  # not read: the adapter stopped at the limit
                raise RequestTooLarge(self.core.settings.max_resume_body)
            if req.subject is None and not anonymous:
                result = self._unauthorized_login()
            else:
                result = yield from handler(req, *args)
        except _BadRequest as bad:
            result = WebResult(
                status=bad.status, json={"title": bad.message, "status": bad.status, "code": "bad_request"},
                headers=[("Content-Type", "application/problem+json")],
            )  # fmt: skip
        except StepUpError as error:
            result = problem(error)
        return (yield from localized(self.core.engine, req, result)) or result

    @staticmethod
    def _unauthorized_login() -> WebResult:
        body = {"title": T("Sign in first."), "status": 401, "code": "not_signed_in"}
        return WebResult(status=401, json=body, headers=[("Content-Type", "application/problem+json")])

    # -- handlers ------------------------------------------------------------------------

    def api_status(self, req: WebRequest) -> Flow[WebResult]:
        """Whether a step-up would be needed (``?max_age=300``) and what the subject has."""
        return (yield from self._run(req, self._status))

    def _status(self, req: WebRequest) -> Flow[WebResult]:
        core = self.core
        subject, e = req.subject or "", core.engine
        raw = req.args.get("max_age", "300")
        try:
            max_age = int(raw) if raw.isascii() else None  # int() would read full-width digits too
        except ValueError:
            max_age = None
        if max_age is None:
            raise InvalidInput(T("max_age must be a whole number of seconds."))
        now = e.clock()
        bindings = yield from core.usable(subject, app=None, route=None, methods=None)
        last = grants.last_verified(req.session, subject)
        fresh = grants.satisfies(req.session, subject, max_age=max_age, now=now, grace=e.settings.grant_grace)
        body = {
            "subject": subject,
            "held": grants.is_held(req.session, subject),
            "last_verified_at": last,
            "step_up_required": not fresh,
            "max_age": max_age,
            "methods": [{"id": b.id, "method": b.method, "label": b.label} for b in bindings],
        }
        return WebResult(json=body)

    def api_create(self, req: WebRequest) -> Flow[WebResult]:
        """Start a challenge: ``{"method": "sms"}`` or ``{"binding_id": ...}``, with the
        ``resume`` token a 401 handed out for an operation or a saved request."""
        return (yield from self._run(req, self._create))

    def _create(self, req: WebRequest) -> Flow[WebResult]:
        body = self._json_body(req)
        core = self.core
        subject, e = req.subject or "", core.engine
        resume_token = self._string(body, "resume", required=False, limit=512)
        resume = None
        if resume_token:
            resume = yield from flows.load_resume(e.context, resume_token, subject=subject, session=core.nonce(req))
        binding_id = self._string(body, "binding_id", required=False)
        method = self._string(body, "method", required=binding_id is None, limit=32)
        usable = yield from core.usable(
            subject,
            app=resume["app"] if resume else None,
            route=resume["route"] if resume else None,
            methods=resume["methods"] if resume else None,
        )
        purpose = resume["purpose"] if resume else ("login" if grants.is_held(req.session, subject) else "step_up")
        if purpose == "login" and (yield from self.guards.bind_first(req, usable)) is not None:
            raise MethodNotAvailable(T("Bind a phone, an email address or an authenticator app first."))
        binding = next(
            (b for b in usable if (binding_id and b.id == binding_id) or (not binding_id and b.method == method)), None
        )
        if binding is None:
            raise MethodNotAvailable(
                T("That method is not available to you here. GET the status URL for the ones that are.")
            )
        challenge = yield from flows.start(e.context, 
            subject, binding.method, purpose, binding_id=binding.id,
            operation=resume["op"] if resume else None, operation_data=resume["opd"] if resume else None,
            session=core.nonce(req), app=resume["app"] if resume else None,
            route=resume["route"] if resume else None, client=req.client,
            methods=resume["methods"] if resume else None, locale=(yield from core.locale(req)),
        )  # fmt: skip
        next_url = resume["next"] if resume else core.config.home
        token = core.page_token(challenge.id, resume_token, next_url)
        view = {"id": token, **core.challenge_view(challenge), "verify_url": core.url("api_verify", token=token)}
        return WebResult(status=201, json=view, headers=[("Location", core.url("api_verify", token=token))])

    def api_verify(self, req: WebRequest, token: str) -> Flow[WebResult]:
        """Check ``{"code": "123456"}`` (or ``{"credential": {...}}``, a passkey's response
        to the options of ``.../passkey``); on success the session holds the grant and, for an
        operation, ``approval`` is the value of the ``Stepup-Approval`` header that lets the
        original request through once."""
        return (yield from self._run(req, self._verify_api, token))

    def _page_or_404(self, token: str) -> dict[str, Any]:
        page = self.core.read_page_token(token)
        if page is None:
            raise ChallengeNotFound(T("No such challenge. Start again."))
        return page

    def _verify_api(self, req: WebRequest, token: str) -> Flow[WebResult]:
        body = self._json_body(req)
        page = self._page_or_404(token)
        code = body.get("code")
        if isinstance(body.get("credential"), dict):  # a passkey's response, as the browser made it
            code = json.dumps(body["credential"])
        elif not isinstance(code, str):
            raise InvalidInput(T("'code' must be a string of digits, or 'credential' a passkey's response."))
        core = self.core
        subject, e = req.subject or "", core.engine
        approval = yield from flows.verify(
            e.context, page["c"], code, subject=subject, session=core.nonce(req), client=req.client,
            relying_party=request_rp(core, req),
        )  # fmt: skip
        core.record_factor(req, approval)
        result: dict[str, Any] = {"approved": True, "method": approval.method, "purpose": approval.purpose}
        if approval.purpose == "operation":
            result["approval"] = token
        if approval.binding is not None:
            b = approval.binding
            result["binding"] = {"id": b.id, "method": b.method, "label": b.label}
        result["next"] = safe_next(page["n"], core.config.home)
        return WebResult(json=result)

    def api_resend(self, req: WebRequest, token: str) -> Flow[WebResult]:
        """Send a new code for a challenge."""
        return (yield from self._run(req, self._resend_api, token))

    def _resend_api(self, req: WebRequest, token: str) -> Flow[WebResult]:
        if req.body:  # no body is needed; the signed token in the URL is the capability
            self._json_body(req)
        page = self._page_or_404(token)
        challenge = yield from flows.resend(
            self.core.engine.context, page["c"], subject=req.subject, session=self.core.nonce(req)
        )
        return WebResult(json={"id": token, **self.core.challenge_view(challenge)})

    def api_next(self, req: WebRequest, token: str) -> Flow[WebResult]:
        """Fire the challenge's next workflow step now ("call me instead"), once it is
        due (429 with ``Retry-After`` before); the answer is the challenge with its new
        ``next_event``. A JSON body or none, with ``Content-Type: application/json``."""
        return (yield from self._run(req, self._next_api, token))

    def _next_api(self, req: WebRequest, token: str) -> Flow[WebResult]:
        self._json_only(req)
        page = self._page_or_404(token)
        core = self.core
        challenge = yield from flows.next_step(
            core.engine.context, page["c"], subject=req.subject, session=core.nonce(req), client=req.client
        )
        return WebResult(json={"id": token, **core.challenge_view(challenge)})

    def _json_only(self, req: WebRequest) -> None:
        """Refuse a call that is not JSON (415), even with no body: another site's form
        cannot send one, which keeps a call that sends messages safe from CSRF."""
        if not is_json_type(req.media_type):
            raise _BadRequest(T("Send a JSON body with Content-Type: application/json."), 415)
        if req.body:
            self._json_body(req)

    def api_cancel(self, req: WebRequest, token: str) -> Flow[WebResult]:
        """Cancel a challenge."""
        return (yield from self._run(req, self._cancel_api, token))

    def _cancel_api(self, req: WebRequest, token: str) -> Flow[WebResult]:
        page = self._page_or_404(token)
        yield from flows.cancel(self.core.engine.context, page["c"], subject=req.subject, session=self.core.nonce(req))
        return WebResult(status=204)

    def api_bindings(self, req: WebRequest) -> Flow[WebResult]:
        """``GET``: the subject's bindings. ``POST {"method": "sms", "target": "+44..."}``
        starts binding one (a fresh step-up first, unless nothing is bound yet); verify its
        code at ``verify_url``. For ``totp`` the answer carries the secret, its
        ``otpauth://`` URI and a QR code, once."""
        return (yield from self._run(req, self._bindings_api))

    def _bindings_api(self, req: WebRequest) -> Flow[WebResult]:
        core = self.core
        subject, e = req.subject or "", core.engine
        if req.method in ("GET", "HEAD"):
            if grants.is_held(req.session, subject):
                return core.finish_login(req)  # a held login's methods: the status URL's, masked
            bindings = yield from flows.bindings(e.context, subject)
            rows = [{"id": b.id, "method": b.method, "label": b.label, "remaining": b.remaining} for b in bindings]
            return WebResult(json={"bindings": rows})
        body = self._json_body(req)
        method = self._string(body, "method", limit=32)
        # A method whose codes stepup delivers (a plug-in's too) is bound to a target.
        delivered = method in e.methods and bool(e.methods[method].channel)
        target = self._string(body, "target", required=delivered, limit=320)
        if (stop := (yield from self.guards.fresh_enough(req, csrf=False))) is not None:
            return stop
        started = yield from flows.begin_bind(
            e.context,
            subject,
            method or "",
            target,
            session=core.nonce(req),
            client=req.client,
            locale=(yield from self.core.locale(req)),
        )
        next_url = core.config.home if grants.is_held(req.session, subject) else core.url("account")
        token = core.page_token(started.challenge.id, None, next_url)
        view: dict[str, Any] = {
            "id": token,
            **core.challenge_view(started.challenge),
            "verify_url": core.url("api_verify", token=token),
        }
        if started.secret is not None:
            view.update(secret=started.secret, provisioning_uri=started.provisioning_uri, qr_svg=started.qr_svg)
        headers = [("Location", view["verify_url"]), ("Cache-Control", "no-store")]
        return WebResult(status=201, json=view, headers=headers)

    def api_unbind(self, req: WebRequest, binding_id: str) -> Flow[WebResult]:
        """Remove a binding (a fresh step-up first); the last sign-in method stays (409)."""
        return (yield from self._run(req, self._unbind_api, binding_id))

    def _unbind_api(self, req: WebRequest, binding_id: str) -> Flow[WebResult]:
        if (stop := (yield from self.guards.fresh_enough(req, csrf=False))) is not None:
            return stop
        yield from self.guards.remove(req.subject or "", binding_id)
        return WebResult(status=204)


class _BadRequest(Exception):
    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
