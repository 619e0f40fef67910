"""The code pages: choose a method, enter its code, send a new one.

Each handler is a flow that the adapter runs with its engine; it answers a
:class:`WebResult` naming a template under ``stepup/`` and its context. An approved code
records the factor in the session and goes on: to the page asked for, or to the replay of
the saved request.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

from .. import engine as flows
from .. import grants
from .._errors import (
    ChallengeClosed,
    ChallengeError,
    ChallengeExhausted,
    ChallengeExpired,
    ChallengeForbidden,
    SignInRefused,
    StepUpError,
    TemporarilyLocked,
    WrongCode,
)
from .._i18n import T
from .._machine import used_error
from .._models import Approval, Binding, Challenge
from ..engine import Flow
from ._base import WebRequest, WebResult, safe_next
from ._common import WebCore, fail_closed, signed_in
from ._forms import ChooseForm, CodeForm, PasskeyForm, PlainForm
from ._guards import Guards
from ._methods import method_titles
from ._next_step import next_button, next_notice
from ._passkey_pages import passkey_view, request_rp

__all__ = ["CodePages"]

_ENDED = (ChallengeExpired, ChallengeExhausted, ChallengeClosed)


class CodePages:
    """The pages a second factor passes on.

    :param core: the shared core of the handlers.
    :param guards: the checks shared with the other groups (the first binding of a login).
    """

    def __init__(self, core: WebCore, guards: Guards) -> None:
        self.core = core
        self.guards = guards

    @fail_closed
    @signed_in
    def choose(self, req: WebRequest) -> Flow[WebResult]:
        """Pick one of the subject's methods; starting the challenge sends its code."""
        source = req.form if req.method == "POST" and req.form is not None else req.args
        return (yield from self._choose(req, source.get("r") or None, source.get("next"), None))

    def at_once(self, req: WebRequest, next_url: str, choose: WebResult) -> Flow[WebResult]:
        """What the gate answers a held login's browser (``choose``: the redirect to the
        choose page) when the page would send its code at once: the page's answer itself, a
        round trip sooner (the code page, or the choose page with why it could not start).

        :param req: the held login's GET, which the choose page's GET would be.
        :param next_url: where the code page goes back to.
        """
        return (yield from self._choose(req, None, next_url, choose))

    def _choose(
        self, req: WebRequest, resume_token: str | None, next_raw: str | None, choose: WebResult | None
    ) -> Flow[WebResult]:
        """The choose page; ``choose`` (for :meth:`at_once`): the answer wherever the page
        would not start a challenge at once."""
        subject, e = req.subject or "", self.core.engine
        next_url = safe_next(next_raw, self.core.config.home)
        resume: dict[str, Any] | None = None
        if resume_token:
            try:
                resume = yield from flows.load_resume(
                    e.context, resume_token, subject=subject, session=self.core.nonce(req)
                )
            except StepUpError as ended:
                return self.core.message(req, T("This request has ended"), ended.message, ended.status)
            next_url = resume["next"]
        elif not grants.is_held(req.session, subject):
            return WebResult(status=303, redirect=next_url)
        purpose = resume["purpose"] if resume else "login"
        usable = yield from self.core.usable(
            subject,
            app=resume["app"] if resume else None,
            route=resume["route"] if resume else None,
            methods=resume["methods"] if resume else None,
        )
        if choose is not None and not _starts_at_once(req, usable):
            return choose  # the page has something to show or ask: a binding, a choice, why not
        try:
            bind = (yield from self.guards.bind_first(req, usable)) if purpose == "login" else None
        except SignInRefused as refused:
            return self.core.sign_in_refused(req, refused)
        if bind is not None:
            return WebResult(status=303, redirect=f"{bind}?next={quote(next_url, safe='/')}")
        if not usable:
            return self.core.message(
                req,
                T("No method available"),
                T("None of your methods can be used here. Add one under your account."),
                409,
            )
        return (yield from self._choose_form(req, usable, purpose, resume_token, resume, next_url))

    def _choose_form(
        self, req: WebRequest, usable: list[Binding], purpose: str, resume_token: str | None,
        resume: dict[str, Any] | None, next_url: str,
    ) -> Flow[WebResult]:  # fmt: skip
        """The choose page's form of ``usable`` methods; its POST starts the challenge of
        the one chosen and goes to its code page. With one method only, a browser that
        navigated here from this site skips the page: its code is sent at once."""
        status, error = 200, None
        if _starts_at_once(req, usable):  # no form to build
            try:
                return (yield from self._start(req, usable[0], purpose, resume_token, resume, next_url, 1))
            except StepUpError as failure:
                status, error = failure.status, failure.message
        form = self.core.form(req, ChooseForm)
        titles = method_titles(self.core.engine.methods)
        usable = sorted(usable, key=lambda b: b.method != "passkey")  # phishing-resistant first
        form.binding.choices = [(b.id, _choice_label(titles.get(b.method, b.method), b.label)) for b in usable]
        if form.binding.data is None:
            form.binding.data = usable[0].id
        if req.method == "POST":
            if form.validate():
                binding = next(b for b in usable if b.id == form.binding.data)
                try:
                    return (yield from self._start(req, binding, purpose, resume_token, resume, next_url, len(usable)))
                except StepUpError as failure:
                    status, error = failure.status, failure.message
            else:
                status, error = 400, form.first_error()
        return self.core.page(
            req, "choose.html", status, title=T("Choose how to verify"), form=form, error=error, resume=resume_token,
            next=next_url, operation=resume and resume["op"], purpose=purpose,
        )  # fmt: skip

    def _start(
        self, req: WebRequest, binding: Binding, purpose: str, resume_token: str | None,
        resume: dict[str, Any] | None, next_url: str, usable: int,
    ) -> Flow[WebResult]:  # fmt: skip
        """Start the challenge of ``binding`` (its code is sent) and go to its code page.

        :param usable: how many methods the subject could choose from: the code page
            offers "Use another method" only when there is another.
        :raises StepUpError: the challenge could not start (limits, lock, delivery).
        """
        e = self.core.engine
        locale = yield from self.core.locale(req)
        challenge = yield from flows.start(
            e.context, req.subject or "", binding.method, purpose, binding_id=binding.id,
            operation=resume["op"] if resume else None, operation_data=resume["opd"] if resume else None,
            session=self.core.nonce(req), app=resume["app"] if resume else None,
            route=resume["route"] if resume else None, client=req.client,
            methods=resume["methods"] if resume else None, locale=locale,
        )  # fmt: skip
        token = self.core.page_token(challenge.id, resume_token, next_url, others=usable > 1)
        return WebResult(status=303, redirect=self.core.url("code", token=token))

    # -- enter a code ----------------------------------------------------------------------

    @fail_closed
    @signed_in
    def code(self, req: WebRequest, token: str) -> Flow[WebResult]:
        """Show a challenge and check the code typed into it."""
        if (page := self.core.read_page_token(token)) is None:
            return self._bad_link(req)
        e, subject = self.core.engine, req.subject
        passkey = req.method == "POST" and req.form is not None and "credential" in req.form
        form = self.core.form(req, PasskeyForm if passkey else CodeForm)
        status, error, ended, retry_in = 200, None, False, None
        if req.method == "POST":
            if not form.validate():
                status, error = 400, form.first_error()
            else:
                try:
                    approval = yield from flows.verify(
                        e.context,
                        page["c"],
                        form.credential.data if passkey else form.code.data,
                        subject=subject,
                        session=self.core.nonce(req),
                        client=req.client,
                        relying_party=request_rp(self.core, req),
                    )
                except WrongCode as failure:
                    if passkey:
                        error = f"This passkey was not accepted. {_attempts(failure.attempts_left)}"
                    else:
                        form.code.errors = [failure.message]
                    status = 400
                except _ENDED as failure:
                    status, error, ended = failure.status, failure.message, True
                except TemporarilyLocked as failure:  # the back-off: the page says when to try again
                    status, error, retry_in = failure.status, failure.message, failure.retry_after
                except StepUpError as failure:
                    status, error = failure.status, failure.message
                else:
                    return (yield from self._approved(req, approval, page, remember=bool(form.remember.data)))
        return (yield from self._code_page(req, token, page, form, status, error, ended, retry_in=retry_in))

    def _bad_link(self, req: WebRequest) -> WebResult:
        """The answer to a code page's link that is forged, tampered with or too old."""
        return self.core.message(req, T("Link not valid"), T("This verification link is not valid. Start again."), 404)

    def _code_page(
        self, req: WebRequest, token: str, page: dict[str, Any], form: Any, status: int, error: str | None,
        ended: bool, *, retry_in: int | None = None,
    ) -> Flow[WebResult]:  # fmt: skip
        """The code page of the challenge ``page`` names, as it stands: pending, or ended
        (expired, exhausted, used) with what to do instead.

        :param retry_in: seconds until codes are taken again, after a back-off.
        """
        core = self.core
        try:
            challenge = yield from flows.challenge(
                core.engine.context, page["c"], subject=req.subject, session=core.nonce(req)
            )
        except ChallengeForbidden as failure:
            passed = yield from self._passed_here(req, page)
            if passed is None:
                return core.message(req, T("Verification not found"), failure.message, failure.status)
            challenge, status, error = passed, 410, T("This code was already used. Codes work once.")
        except ChallengeError as failure:
            return core.message(req, T("Verification not found"), failure.message, failure.status)
        view = core.challenge_view(challenge)
        if challenge.state != "pending":
            ended = True
            if challenge.consumed and error is None:
                error = used_error(challenge).message
            error = error or {
                "expired": T("This code has expired."),
                "exhausted": T("Too many wrong codes: this code no longer works."),
                "approved": T("This code was already used. Codes work once."),
            }.get(challenge.state, T("This verification has ended."))
            status = status if status != 200 else 410
        passkey = None
        if challenge.method == "passkey" and challenge.state == "pending":
            passkey = yield from passkey_view(core, req, challenge.id)
        restart = f"{core.url('choose')}?{'r=' + page['r'] if page.get('r') else 'next=' + quote(page['n'], safe='/')}"
        return core.page(
            req, "code.html", status, title=T("Enter your code"), form=form, error=error, challenge=view, ended=ended,
            token=token, restart=restart, sent=req.args.get("sent") == "1",
            next_step=next_button(view["next_event"]) if challenge.state == "pending" else None,
            stepped=_stepped(challenge) if req.args.get("step") == "1" else None,
            # An approved challenge (reached again with Back, or its form re-sent) has nothing to restart.
            used=challenge.state == "approved", done_url=safe_next(page["n"], core.config.home),
            consumed=challenge.consumed, retry_in=retry_in, others=page.get("o", 1) != 0,
            resend_form=(
                core.form(req, PlainForm) if req.method == "GET"
                else PlainForm.bind(None, req.session, core.engine.keys)
            ),
            remember_offered=core.settings.trusted_device_days > 0 and challenge.purpose == "login",
            remember_days=core.settings.trusted_device_days, passkey=passkey,
            # only a passkey's page shows its form (stepup/_passkey.html)
            passkey_form=PasskeyForm.bind(None, req.session, core.engine.keys) if passkey is not None else None,
        )  # fmt: skip

    def _passed_here(self, req: WebRequest, page: dict[str, Any]) -> Flow[Challenge | None]:
        """The page's challenge when this login passed it: its second factor renewed the
        session's nonce, so the page no longer matches the current one."""
        previous = grants.previous_nonce(req.session, req.subject)
        if previous is None:
            return None
        try:
            challenge = yield from flows.challenge(
                self.core.engine.context, page["c"], subject=req.subject, session=previous
            )
        except ChallengeError:
            return None
        return challenge if challenge.state == "approved" else None

    def _approved(
        self, req: WebRequest, approval: Approval, page: dict[str, Any], *, remember: bool
    ) -> Flow[WebResult]:
        """Where an approved code leads: the factor recorded (and the browser remembered
        when asked), then the page asked for, or the replay of the saved request."""
        e, subject = self.core.engine, req.subject or ""
        session_nonce = self.core.nonce(req)
        headers: list[tuple[str, str]] = []
        self.core.record_factor(req, approval)
        if remember and approval.purpose == "login" and e.settings.trusted_device_days > 0:
            agent = req.headers.get("user-agent")
            token = yield from flows.remember_device(
                e.context, subject, methods=[approval.method], user_agent=agent, client=req.client
            )
            headers.append(self.core.device_cookie(token))
        if approval.purpose == "bind":
            account = self.core.url("account")
            target = f"{account}?added=1" if page["n"] == account else safe_next(page["n"], self.core.config.home)
            return WebResult(status=303, redirect=target, headers=headers)
        if page.get("r"):
            try:
                saved = yield from flows.take_resume(e.context, page["r"], subject=subject, session=session_nonce)
            except StepUpError as failure:
                return self.core.message(req, T("Already done"), failure.message, failure.status)
            if saved is not None:
                # The replayed request uses the approval up itself (see Gate.protect).
                grant = {"subject": subject, "challenge": approval.challenge_id}
                return WebResult(status=200, replay=saved, replay_grant=grant, headers=headers)
        return WebResult(status=303, redirect=safe_next(page["n"], self.core.config.home), headers=headers)

    @fail_closed
    @signed_in
    def resend(self, req: WebRequest, token: str) -> Flow[WebResult]:
        """Send a new code for the challenge on the page."""
        return (yield from self._pressed(req, token, flows.resend, "sent=1"))

    @fail_closed
    @signed_in
    def next_step(self, req: WebRequest, token: str) -> Flow[WebResult]:
        """Fire the challenge's next workflow step ("Call me instead") once it is due; a
        press before then (no JavaScript to hold the button) gets the code page with the
        seconds left."""
        return (yield from self._pressed(req, token, functools.partial(flows.next_step, client=req.client), "step=1"))

    def _pressed(self, req: WebRequest, token: str, flow: Callable[..., Flow[Any]], query: str) -> Flow[WebResult]:
        """A button of the code page that sends: its form checked, ``flow`` run for the
        page's challenge, then the page again with ``query``, or with what went wrong."""
        if (page := self.core.read_page_token(token)) is None:
            return self._bad_link(req)
        form = self.core.form(req, PlainForm)
        code_form = CodeForm.bind(None, req.session, self.core.engine.keys)
        if not form.validate():
            return (yield from self._code_page(req, token, page, code_form, 400, form.first_error(), False))
        try:
            yield from flow(self.core.engine.context, page["c"], subject=req.subject, session=self.core.nonce(req))
        except StepUpError as failure:
            ended = isinstance(failure, _ENDED)
            return (yield from self._code_page(req, token, page, code_form, failure.status, failure.message, ended))
        return WebResult(status=303, redirect=f"{self.core.url('code', token=token)}?{query}")


def _stepped(challenge: Challenge) -> str | None:
    """What the page says once the challenge's latest workflow step fired ("We are calling
    you with the same code."), in the words of its channel."""
    steps = challenge.steps or []
    return next_notice(str(steps[challenge.step][0])) if 0 < challenge.step < len(steps) else None


def _attempts(left: int | None) -> str:
    """ "2 attempts left." for a page's error line."""
    return "" if left is None else f"{left} {'attempt' if left == 1 else 'attempts'} left."


def _choice_label(name: str, label: str) -> str:
    """A binding as the choose page offers it, "Text message: +44 •••• ••0001"; just
    "Authenticator app" when the label only repeats the method's ``name`` (its title)."""
    if label and label.lower().rstrip("s") != name.lower().rstrip("s"):
        return T("{method}: {label}", method=T(name), label=label)
    return T(name)


def _starts_at_once(req: WebRequest, usable: list[Binding]) -> bool:
    """Whether the choose page sends the code without a choice or a button: one usable
    method, and a browser's GET that navigated here (:attr:`WebRequest.navigated_here`)."""
    return len(usable) == 1 and req.method == "GET" and req.navigated_here
