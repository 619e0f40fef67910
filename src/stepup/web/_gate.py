"""Route protection and 2FA at login: what the adapters run before an app's own views.

The checks a request passes on its way (a valid grant, a login that is not on hold) are
plain functions of the session, without I/O. Only a request that must be stopped runs a
flow: it saves what it needs to resume and answers with a redirect or a 401.
"""

from __future__ import annotations

from collections.abc import Callable, MutableMapping
from typing import Any, TypeVar

from .. import engine as flows
from .. import grants
from .._errors import ChallengeForbidden, SignInRefused, StepUpError, StoreUnavailable
from .._i18n import T
from ..engine import AsyncEngine, Engine, Flow
from ..grants import login_settled
from ._base import WebRequest, WebResult
from ._common import WebCore, fail_closed, problem
from ._operations import Operation, read_operation

__all__ = ["Gate", "end_login", "grant_holds", "login_settled"]

_APPROVAL_HEADER = "stepup-approval"
C = TypeVar("C")


def grant_holds(
    engine: Any,
    session: MutableMapping[str, Any],
    subject: str,
    max_age: float,
    methods: frozenset[str] | None,
    where: Callable[[C], tuple[str | None, str | None]],
    context: C,
) -> bool:
    """The hot path of a protected route: whether the session holds a grant fresh enough,
    by a method the route accepts and its app allows now. No I/O: the policy is the one
    the engine keeps in memory; when that is due to be read again, ``False`` sends the
    request down the slow path (:meth:`Gate.protect`), which reads it. Positional, as
    every request of a protected route calls it.

    :param engine: the app's engine.
    :param max_age: seconds since the last second factor that the route accepts.
    :param methods: the methods the route accepts (``None``: any).
    :param where: ``context -> (app, route)``; called only when the policy switches
        methods per app, route or subject.
    """
    now = engine.clock()
    cache = engine.policy_cache
    until, allowed = cache.fast
    if now < until:  # the same methods allowed everywhere, and read recently enough
        return grants.satisfies(
            session, subject, max_age=max_age, now=now, methods=methods, grace=engine.grace, allowed=allowed
        )
    read_at = cache.read_at
    if read_at is None or now - read_at >= cache.refresh:
        return False
    view = cache.view
    allowed = view.uniform
    if allowed is None:
        app, route = where(context)
        allowed = view.allowed(app, route, subject)
    return grants.satisfies(
        session, subject, max_age=max_age, now=now, methods=methods, grace=engine.grace, allowed=allowed
    )


class Gate:
    """The slow paths of route protection and of the login hold.

    :param core: the shared core of the handlers.
    """

    def __init__(self, core: WebCore) -> None:
        self.core = core
        #: the choose page's answer at once (:meth:`CodePages.at_once`), which a held login's
        #: browser gets instead of a redirect to the page; set by the web layer once the
        #: code pages exist (they reach this gate through the guards).
        self.at_once: Callable[[WebRequest, str, WebResult], Flow[WebResult]] | None = None

    @fail_closed
    def login(
        self, req: WebRequest, *, exempt: bool, identity_source: str | None, app: str | None = None,
    ) -> Flow[WebResult | None]:  # fmt: skip
        """Track logins and logouts; hold a fresh login until its second factor passes.

        A login is held when the policy asks a second factor at login anywhere (globally or
        in one app); each request of a held login is then stopped only when the policy asks
        one for the request's own app (``app``; for a request of no app, the global
        setting). One second factor lifts the hold for every app.

        :param exempt: the request is for stepup's own pages, static files or logout.
        :param app: the app (blueprint, mount) the request belongs to, if any.
        :param identity_source: how the subject logged in (``password``, ``sso``...).
        """
        session, subject, e = req.session, req.subject, self.core.engine
        if subject is None:
            if grants.SESSION_KEY in session:
                # A logout the app did not tell stepup of: end the login here.
                yield from end_login(e, session)
            return None
        refused: str | None = None
        if grants.login_subject(session) != subject:
            decision = yield from flows.login_somewhere(e.context, subject, identity_source=identity_source)
            hold = decision.required
            if hold and req.device_token:
                hold = not (yield from flows.is_trusted_device(e.context, subject, req.device_token))
                if not hold and decision.refused is None:  # the login passed, by its browser
                    e.context.emit("login_passed", None, subject=subject, detail={"by": "remembered_browser"})
            if decision.refused is not None:
                hold = True  # not even a remembered browser: it stood for a method now off
            grants.begin_login(session, subject, identity_source=identity_source, hold=hold)
            if not hold:
                return None
            refused = decision.refused
            if refused is not None:
                e.context.emit("login_refused", None, subject=subject, detail={"reason": refused})
        elif not grants.is_held(session, subject):
            return None
        if exempt:  # the adapters skip this call when the login had begun (grants.login_begun)
            return None
        # The policy as kept in memory (read again at most every policy_refresh seconds).
        policy = yield from flows.policy(e.context)
        if not policy.login_2fa(subject=subject, app=app, identity_source=identity_source):
            return None  # this app asks no second factor at login: the held login goes on here
        if refused is not None:
            error = SignInRefused(refused)
            if req.wants_json:
                return problem(error)
            return self.core.stopped(req, error.status, error.code, T("Contact support"), error.message)
        return (yield from self._hold_login(req))

    @fail_closed
    def protect(
        self,
        req: WebRequest,
        *,
        max_age: float,
        methods: frozenset[str] | None,
        operation: Operation | None,
        app: str | None,
        route: str | None,
        replay_grant: dict[str, Any] | None,
    ) -> Flow[WebResult | None]:
        """Let a request to a protected route through, or stop it for a second factor.

        :param replay_grant: set by the adapter on a request it replays after approval.
        :returns: ``None`` to run the view, or the answer that stops it.
        """
        subject = req.subject
        if subject is None:
            return self.core.stopped(
                req, 401, "not_signed_in", T("Please sign in"), T("Sign in first, then try again.")
            )
        description: str | None = None
        data: dict[str, Any] | None = None
        if operation is None:
            if (yield from self._fresh(req, subject, max_age, methods, app, route)):
                return None
        else:
            # The fields are read (or the request refused, 415 or 400) before any approval
            # is used or challenge started; the approval is bound to them with the
            # operation's text, app, route, method and path.
            description, data = read_operation(req, operation, app=app, route=route)
            # The replay of a request approved on the code page, or a request bearing the
            # approval header: either way the approval is used up here, atomically and for
            # this very operation, so one approval runs one operation once.
            replayed = replay_grant is not None and replay_grant.get("subject") == subject
            approval = req.headers.get(_APPROVAL_HEADER)
            if replayed or approval:
                grant = replay_grant if replayed else None
                return (yield from self._use_approval(req, subject, grant, approval, data, methods))
        if grants.is_held(req.session, subject) and (yield from self._held_in(subject, app)):
            # A login that passed only its password saves nothing for the subject: its
            # requests could push the user's own saved ones out (see stepup.engine._resume). In an
            # app that asks no second factor at login it is signed in there, and steps up.
            return (yield from self._hold_login(req))
        purpose = "operation" if operation is not None else "step_up"
        return (yield from self._stop(req, subject, max_age, methods, purpose, description, data, app, route))

    def _fresh(
        self, req: WebRequest, subject: str, max_age: float, methods: frozenset[str] | None, app: str | None,
        route: str | None,
    ) -> Flow[bool]:  # fmt: skip
        """Whether the session's grant lets the request through. The policy is read again
        here when it was due: a grant counts only for the methods the route's app allows now."""
        e = self.core.engine
        policy = yield from flows.policy(e.context)
        allowed = policy.methods(app=app, route=route, subject=subject)
        return grants.satisfies(
            req.session, subject, max_age=max_age, now=e.clock(), methods=methods, grace=e.settings.grant_grace,
            allowed=allowed,
        )  # fmt: skip

    def _use_approval(
        self, req: WebRequest, subject: str, replay_grant: dict[str, Any] | None, approval: str | None,
        data: dict[str, Any], methods: frozenset[str] | None,
    ) -> Flow[WebResult | None]:  # fmt: skip
        """Use up the approval a replayed request carries (``replay_grant``) or the one its
        ``Stepup-Approval`` header names: ``None`` lets the request run."""
        if replay_grant is not None:
            token: dict[str, Any] | None = {"c": replay_grant.get("challenge")}
        else:
            token = self.core.read_page_token(approval or "")
        if token is None:
            return problem(ChallengeForbidden(T("The approval token is not valid.")))
        try:
            yield from flows.consume(
                self.core.engine.context,
                token["c"],
                subject=subject,
                session=self.core.nonce(req),
                operation_data=data,
                methods=methods,
            )
        except StepUpError as error:
            return self.core.refused(req, error) if replay_grant is not None else problem(error)
        return None

    def _stop(
        self, req: WebRequest, subject: str, max_age: float, methods: frozenset[str] | None, purpose: str,
        description: str | None, data: dict[str, Any] | None, app: str | None, route: str | None,
    ) -> Flow[WebResult]:  # fmt: skip
        """Save what the stopped request needs to resume, and send it to a second factor:
        the choose page for browsers, a 401 with the resume token for JSON clients."""
        core = self.core
        replayable = req.method not in ("GET", "HEAD")
        try:
            resume = yield from flows.save_resume(
                core.engine.context,
                subject,
                session=core.nonce(req),
                next_url=req.full_path if not replayable else core.config.home,
                request=_saved_request(req) if replayable else None,
                body=req.body if replayable else b"",
                purpose=purpose,
                operation=description,
                operation_data=data,
                methods=sorted(methods) if methods else None,
                app=app,
                route=route,
            )
        except StepUpError as error:
            if req.wants_json:
                return problem(error)
            return core.stopped(req, error.status, error.code, T("Cannot continue"), error.message)
        if req.wants_json:
            return core.unauthorized(max_age=max_age, resume=resume, login=False)
        return WebResult(status=303, redirect=f"{core.url('choose')}?r={resume}")

    def _hold_login(self, req: WebRequest) -> Flow[WebResult]:
        """What a held login's request gets (:meth:`WebCore.finish_login`: a redirect to the
        choose page, a 401 for JSON clients), or for a browser's GET that navigated here (the
        redirect after the password, a link of this site, the address bar) the choose page's
        own answer at once when it has one: with one usable method, its code sent and the
        code page next, a round trip sooner. Anything else (a choice, a binding, a client
        without Fetch Metadata) is still the choose page's to show.

        Only a held login's GET: it is where the password's form redirects, which a
        browser follows once however often the form was sent. A stopped step-up or
        operation (a link clicked twice, a form sent twice) is still sent to the choose
        page, whose redirect the browser follows once: one code, not one per request."""
        choose = self.core.finish_login(req)
        if self.at_once is None or choose.status != 303 or req.method != "GET" or not req.navigated_here:
            return choose
        # The choose page's GET as the browser would ask for it next: the page it came for
        # (a GET's own path, as finish_login names it) is where the code page goes back to.
        return (yield from self.at_once(req, req.full_path, choose))

    def _held_in(self, subject: str, app: str | None) -> Flow[bool]:
        """Whether a held login is held in ``app``: whether the policy (kept in memory)
        asks a second factor at login there. Its identity source asked one somewhere, or
        the login would not be held."""
        policy = yield from flows.policy(self.core.engine.context)
        return policy.login_2fa(subject=subject, app=app)


def _saved_request(req: WebRequest) -> dict[str, Any]:
    """What a replay needs of a request besides its body."""
    return {"method": req.method, "path": req.path, "query": req.query_string, "content_type": req.content_type}


def end_login(engine: Engine | AsyncEngine, session: grants.Session) -> Flow[bool]:
    """End the session's login at logout: recorded as ended in the store (its pending
    challenges, unused approvals and saved requests stop working, for this session and any
    copy of it), then its log is taken out of the session.

    While the store is down the end cannot be recorded: the log stays in the session, so
    that the login hold records it on a later request, and this answers ``False``.

    :param session: the app's session, before the app clears it.
    :returns: whether the end was recorded (also ``True`` for a session with no login).
    """
    nonce = grants.session_nonce(session)
    if nonce is not None:
        try:
            yield from flows.end_login(engine.context, nonce)
        except StoreUnavailable:
            return False
    grants.end_login(session)
    return True
