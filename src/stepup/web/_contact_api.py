"""Contact verification over the JSON API, as Vonage Verify's request and check: request a
code to a number or address, check it, cancel it, or send its workflow's next step now.

Mounted only when the app switches ``contact_verification`` on; for signed-in subjects
unless ``contact_verification_anonymous`` lets callers who are not signed in use it. Every
call is charged to the caller's address (:mod:`stepup.engine._charges`); the request id is
the capability, as Vonage's is, and a wrong or guessed one is charged as a guess.

A request belongs to the browser session that made it: a random token stepup keeps in the
session (:func:`_contact_session`) is passed to the engine, which keeps its keyed digest
with the request. Only that session gets the pending request's id back in a 409, and only
it may check, cancel or call (403 for any other); a caller who knows only the number
cannot take over or end someone else's request.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, MutableMapping
from typing import Any

from .. import engine as flows
from .. import grants
from .._errors import InvalidInput, RequestPending
from .._i18n import T
from ..engine import Flow
from ._api import Api
from ._base import WebRequest, WebResult
from ._common import WebCore, problem
from ._locale import localized

__all__ = ["ContactApi"]

_PROBLEM = ("Content-Type", "application/problem+json")
#: the session key of the token that makes a browser session the owner of its requests.
_SESSION_KEY = "_stepup_contact"


def _contact_session(session: MutableMapping[str, Any], *, create: bool = False) -> str:
    """The session's contact token: never ``None``, which the engine reads as the app's
    own code, trusted with every pending id. A request (``create``) stores one on first
    use; a check, cancel or next step from a session without one gets a token of its own
    that owns nothing, and leaves the session (and its cookie) as it was."""
    token = session.get(_SESSION_KEY)
    if isinstance(token, str) and len(token) >= 16:
        return token
    token = secrets.token_urlsafe(24)
    if create:
        session[_SESSION_KEY] = token
    return token


class ContactApi:
    """The ``/api/verify...`` handlers.

    :param core: the shared core of the handlers.
    :param api: the JSON API, whose body parsing and error answers these share.
    """

    def __init__(self, core: WebCore, api: Api) -> None:
        self.core = core
        self.api = api

    def _contact_run(self, req: WebRequest, handler: Callable[..., Flow[WebResult]], *args: Any) -> Flow[WebResult]:
        """Contact verification is there only when the app switches it on, and for
        signed-in subjects (a login that is not held) only unless the app lets anonymous
        callers use it."""
        s = self.core.settings
        if not s.contact_verification:
            result = WebResult(status=404, json={"title": T("Not found"), "status": 404, "code": "not_found"},
                               headers=[_PROBLEM])  # fmt: skip
            return (yield from localized(self.core.engine, req, result)) or result
        held = req.subject is not None and grants.is_held(req.session, req.subject)
        if held and not s.contact_verification_anonymous:
            result = self.core.unauthorized(max_age=0, resume=None, login=True)  # a password alone is not signed in
            return (yield from localized(self.core.engine, req, result)) or result
        return (yield from self.api._run(req, self._live, handler, *args, anonymous=s.contact_verification_anonymous))

    def _live(self, req: WebRequest, handler: Callable[..., Flow[WebResult]], *args: Any) -> Flow[WebResult]:
        """``handler``, for a session whose login a logout has not ended: a copy of the
        cookie taken before the logout sends, checks and cancels nothing (403)."""
        if req.subject is not None:
            yield from flows.refuse_ended(self.core.engine.context, self.core.nonce(req))
        return (yield from handler(req, *args))

    def _urls(self, request_id: str) -> dict[str, str]:
        """Where a client takes a request next."""
        url = self.core.url
        return {
            "check_url": url("api_contact_check", request_id=request_id),
            "cancel_url": url("api_contact_cancel", request_id=request_id),
            "next_url": url("api_contact_next", request_id=request_id),
        }

    def api_contact(self, req: WebRequest) -> Flow[WebResult]:
        """Contact verification: ``{"channel": "sms", "to": "+44..."}`` → ``request_id``.
        A target with a request pending answers 409: with that request's ``request_id``
        and URLs to the session that made it, with ``Retry-After`` alone to anyone else."""
        return (yield from self._contact_run(req, self._contact))

    def _contact(self, req: WebRequest) -> Flow[WebResult]:
        body = self.api._json_body(req)
        channel = self.api._string(body, "channel", limit=16)
        to = self.api._string(body, "to", limit=320)
        try:
            locale = yield from self.core.locale(req)
            request_id = yield from flows.request_contact(
                self.core.engine.context, channel or "", to, client=req.client, locale=locale,
                session=_contact_session(req.session, create=True),
            )  # fmt: skip
        except RequestPending as pending:
            refused = problem(pending)
            if pending.request_id is not None:  # the caller's own request
                refused.json = {**(refused.json or {}), **self._urls(pending.request_id)}
            if pending.retry_after is not None:
                refused.headers.append(("Retry-After", str(pending.retry_after)))
            return refused
        return WebResult(status=201, json={"request_id": request_id, **self._urls(request_id)})

    def api_contact_check(self, req: WebRequest, request_id: str) -> Flow[WebResult]:
        """Check the code of a contact verification: ``{"code": "1234"}``."""
        return (yield from self._contact_run(req, self._contact_check, request_id))

    def _contact_check(self, req: WebRequest, request_id: str) -> Flow[WebResult]:
        body = self.api._json_body(req)
        code = body.get("code")
        if not isinstance(code, str):
            raise InvalidInput(T("'code' must be a string of digits."))
        result = yield from flows.check_contact(
            self.core.engine.context, request_id, code, client=req.client, session=_contact_session(req.session)
        )
        return WebResult(json={"verified": True, "channel": result.channel, "to": result.to})

    def api_contact_cancel(self, req: WebRequest, request_id: str) -> Flow[WebResult]:
        """Cancel a contact verification (``DELETE``): its code stops working, and the
        target may be asked again at once."""
        return (yield from self._contact_run(req, self._contact_cancel, request_id))

    def _contact_cancel(self, req: WebRequest, request_id: str) -> Flow[WebResult]:
        session = _contact_session(req.session)
        yield from flows.cancel_contact(self.core.engine.context, request_id, client=req.client, session=session)
        return WebResult(status=204)

    def api_contact_next(self, req: WebRequest, request_id: str) -> Flow[WebResult]:
        """Send a contact verification's next step now (``POST`` with a JSON body, ``{}``
        will do): its workflow's next channel, the same code."""
        return (yield from self._contact_run(req, self._contact_next, request_id))

    def _contact_next(self, req: WebRequest, request_id: str) -> Flow[WebResult]:
        self.api._json_only(req)
        ctx, session = self.core.engine.context, _contact_session(req.session)
        challenge = yield from flows.next_contact(ctx, request_id, client=req.client, session=session)
        view = self.core.challenge_view(challenge)
        return WebResult(json={"request_id": request_id, **view, **self._urls(request_id)})
