"""stepup's pages: choose a method, enter a code, bind, recovery codes, account, admin.

Each handler is a flow that the adapter runs with its engine; it answers a
:class:`WebResult` naming a template under ``stepup/`` and its context.
"""

from __future__ import annotations

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
    InvalidInput,
    SignInRefused,
    StepUpError,
    WrongCode,
)
from .._machine import used_error
from .._models import Approval, Binding, Challenge
from ..engine import Flow, password_may_enrol, recovery_codes_refusal, refusal
from ..methods import target_input
from ._base import WebRequest, WebResult, safe_next
from ._common import fail_closed, problem
from ._forms import AdminForm, BindEmailForm, BindPhoneForm, ChooseForm, CodeForm, PlainForm, bind_target_form
from ._gate import Gate
from ._methods import BUILTIN_BIND_PAGES, BindOffer, bind_offers, method_titles

__all__ = ["LastMethod", "Pages"]


class LastMethod(InvalidInput):
    """Removing this binding would leave a user who must use 2FA with nothing to use."""

    status = 409
    code = "last_method"


_ENDED = (ChallengeExpired, ChallengeExhausted, ChallengeClosed)
_NO_STORE = [("Cache-Control", "no-store")]


class Pages(Gate):
    """The HTML pages."""

    # -- helpers -------------------------------------------------------------------------

    def _page(self, req: WebRequest, template: str, status: int = 200, **context: Any) -> WebResult:
        context.setdefault("title", "Verification")
        context.update(
            app_name=self.engine.settings.app_name,
            prefix=self.config.prefix,
            url=self.url,
            subject=req.subject,
            held=req.subject is not None and grants.is_held(req.session, req.subject),
            home=self.config.home,
            logout_url=self.config.logout,
        )
        return WebResult(status=status, template=f"stepup/{template}", context=context, headers=list(_NO_STORE))

    def _message(self, req: WebRequest, title: str, message: str, status: int, **extra: Any) -> WebResult:
        return self._page(req, "message.html", status, title=title, message=message, **extra)

    def _form(self, req: WebRequest, cls: Any, **kwargs: Any) -> Any:
        formdata = req.form if req.method == "POST" else None
        return cls.bind(formdata, req.session, self.engine.keys, **kwargs)

    def _signed_in(self, req: WebRequest) -> WebResult | None:
        if req.subject is None:
            return self._message(req, "Please sign in", "Sign in first, then come back to this page.", 401)
        return None

    def _fresh_enough(
        self, req: WebRequest, *, csrf: bool = True, first_binding: bool = True
    ) -> Flow[WebResult | None]:
        """Changing bindings needs a fresh second factor, unless the subject may bind with
        a password alone (nothing bound yet: see :mod:`stepup._enrolment`); a subject who
        can do neither is refused.

        A form's POST shows its CSRF token first: a forged one must not even start a
        step-up (whose page would name the change to approve). The JSON API passes
        ``csrf=False``: it takes only JSON bodies, which other sites cannot send.

        :param first_binding: whether a password alone may do this for a subject with
            nothing bound; the admin page passes ``False``: a policy change always needs
            a fresh second factor."""
        if csrf and req.method == "POST":
            form = PlainForm.bind(req.form, req.session, self.engine.keys)
            if not form.validate():
                return self._message(req, "Form expired", form.first_error() or "Please try again.", 400)
        subject = req.subject or ""
        if (yield from self._fresh(req)):
            return None
        usable = yield from self.usable(subject, app=None, route=None, methods=None)
        if first_binding:
            may_enrol, refused = yield from self._enrolment(req, usable)
            if may_enrol:
                return None
            if refused is not None:
                return self._sign_in_refused(req, SignInRefused(refused))
        if grants.is_held(req.session, subject):
            # Its second factor is the login's own, on the choose page: a step-up here
            # would save a request for the subject with nothing but the password.
            return self.finish_login(req)
        if not first_binding and not usable:
            message = (
                "Changing security settings needs a recent second factor. "
                "Add a sign-in method under your account first."
            )
            return self._message(req, "Add a sign-in method first", message, 403)
        return (
            yield from self.protect(
                req, max_age=self.config.sensitive_max_age, methods=None, operation=None, app=None,
                route=None, replay_grant=None,
            )
        )  # fmt: skip

    def _fresh(self, req: WebRequest) -> Flow[bool]:
        """Whether a second factor passed within ``sensitive_max_age`` by a method the
        policy allows now for stepup's own pages (the global scope and the subject): a
        fresh factor of a method switched off since counts for nothing, as on the hot path."""
        e, subject = self.engine, req.subject or ""
        allowed = (yield from flows.policy(e.context)).methods(subject=subject)
        return grants.satisfies(
            req.session, subject, max_age=self.config.sensitive_max_age, now=e.clock(), allowed=allowed
        )

    def _enrolment(self, req: WebRequest, usable: list[Binding]) -> Flow[tuple[bool, str | None]]:
        """The rule of :mod:`stepup._enrolment` for this session: whether a password alone
        may bind a method, and why the subject is refused when they can neither verify
        with one of ``usable`` nor bind."""
        e, subject = self.engine, req.subject or ""
        policy = yield from flows.policy(e.context)
        bindings = yield from flows.bindings(e.context, subject)
        may_enrol = password_may_enrol(policy, bindings, login_2fa=grants.is_held(req.session, subject))
        return may_enrol, refusal(bindings, usable, may_enrol=may_enrol)

    def _sign_in_refused(self, req: WebRequest, error: SignInRefused) -> WebResult:
        """A problem document for JSON clients; for browsers a page that says who can help."""
        return problem(error) if req.wants_json else self._message(req, "Contact support", error.message, error.status)

    def _bind_first(self, req: WebRequest, usable: list[Binding]) -> Flow[str | None]:
        """The bind page a login goes to first when the subject may bind with a password
        alone: a phone as Authing does, or the first method the policy leaves on (built-in
        ones first, then plug-ins); ``None``
        when the login goes on with a bound method.

        :raises SignInRefused: nothing to verify with, and nothing may be bound.
        """
        may_enrol, refused = yield from self._enrolment(req, usable)
        if refused is not None:
            raise SignInRefused(refused)
        if not may_enrol:
            return None
        offers = yield from self._bind_offers(req)
        return next((offer.url for offer in offers), None)

    def _bind_offers(self, req: WebRequest) -> Flow[list[BindOffer]]:
        """The methods the subject may bind, built-in and plug-in (:mod:`._methods`)."""
        policy = yield from flows.policy(self.engine.context)
        return bind_offers(self.engine.methods, policy.methods(subject=req.subject), self.url)

    # -- choose a method ------------------------------------------------------------------

    @fail_closed
    def choose(self, req: WebRequest) -> Flow[WebResult]:
        """Pick one of the subject's methods; starting the challenge sends its code."""
        if (stop := self._signed_in(req)) is not None:
            return stop
        subject, e = req.subject or "", self.engine
        source = req.form if req.method == "POST" and req.form is not None else req.args
        resume_token = source.get("r") or None
        next_url = safe_next(source.get("next"), self.config.home)
        resume: dict[str, Any] | None = None
        if resume_token:
            try:
                resume = yield from flows.load_resume(e.context, resume_token, subject=subject, session=self.nonce(req))
            except StepUpError as ended:
                return self._message(req, "This request has ended", ended.message, ended.status)
            next_url = resume["next"]
        elif not grants.is_held(req.session, subject):
            return WebResult(status=303, redirect=next_url)
        purpose = resume["purpose"] if resume else "login"
        usable = yield from self.usable(
            subject,
            app=resume["app"] if resume else None,
            route=resume["route"] if resume else None,
            methods=resume["methods"] if resume else None,
        )
        try:
            bind = (yield from self._bind_first(req, usable)) if purpose == "login" else None
        except SignInRefused as refused:
            return self._sign_in_refused(req, refused)
        if bind is not None:
            return WebResult(status=303, redirect=f"{bind}?next={quote(next_url, safe='/')}")
        if not usable:
            return self._message(
                req, "No method available", "None of your methods can be used here. Add one under your account.", 409
            )
        form = self._form(req, ChooseForm)
        titles = method_titles(e.methods)
        form.binding.choices = [(b.id, _choice_label(titles.get(b.method, b.method), b.label)) for b in usable]
        if form.binding.data is None:
            form.binding.data = usable[0].id
        status, error = 200, None
        if req.method == "POST":
            if form.validate():
                binding = next(b for b in usable if b.id == form.binding.data)
                try:
                    challenge = yield from flows.start(e.context, 
                        subject, binding.method, purpose, binding_id=binding.id,
                        operation=resume["op"] if resume else None,
                        operation_data=resume["opd"] if resume else None,
                        session=self.nonce(req), app=resume["app"] if resume else None,
                        route=resume["route"] if resume else None, client=req.client,
                        methods=resume["methods"] if resume else None,
                    )  # fmt: skip
                except StepUpError as failure:
                    status, error = failure.status, failure.message
                else:
                    token = self.page_token(challenge.id, resume_token, next_url)
                    return WebResult(status=303, redirect=self.url("code", token=token))
            else:
                status, error = 400, form.first_error()
        return self._page(
            req, "choose.html", status, title="Choose how to verify", form=form, error=error, resume=resume_token,
            next=next_url, operation=resume and resume["op"], purpose=purpose,
        )  # fmt: skip

    # -- enter a code ----------------------------------------------------------------------

    @fail_closed
    def code(self, req: WebRequest, token: str) -> Flow[WebResult]:
        """Show a challenge and check the code typed into it."""
        if (stop := self._signed_in(req)) is not None:
            return stop
        page = self.read_page_token(token)
        if page is None:
            return self._message(req, "Link not valid", "This verification link is not valid. Start again.", 404)
        e, subject = self.engine, req.subject
        form = self._form(req, CodeForm)
        status, error, ended = 200, None, False
        if req.method == "POST":
            if not form.validate():
                status, error = 400, form.first_error()
            else:
                try:
                    approval = yield from flows.verify(
                        e.context,
                        page["c"],
                        form.code.data,
                        subject=subject,
                        session=self.nonce(req),
                        client=req.client,
                    )
                except WrongCode as failure:
                    form.code.errors = [failure.message]
                    status = 400
                except _ENDED as failure:
                    status, error, ended = failure.status, failure.message, True
                except StepUpError as failure:
                    status, error = failure.status, failure.message
                else:
                    return (yield from self._approved(req, approval, page, remember=bool(form.remember.data)))
        return (yield from self._code_page(req, token, page, form, status, error, ended))

    def _code_page(
        self, req: WebRequest, token: str, page: dict[str, Any], form: Any, status: int, error: str | None, ended: bool
    ) -> Flow[WebResult]:
        try:
            challenge = yield from flows.challenge(
                self.engine.context, page["c"], subject=req.subject, session=self.nonce(req)
            )
        except ChallengeForbidden as failure:
            passed = yield from self._passed_here(req, page)
            if passed is None:
                return self._message(req, "Verification not found", failure.message, failure.status)
            challenge, status, error = passed, 410, "This code was already used. Codes work once."
        except ChallengeError as failure:
            return self._message(req, "Verification not found", failure.message, failure.status)
        view = self.challenge_view(challenge)
        if challenge.state != "pending":
            ended = True
            if challenge.consumed and error is None:
                error = used_error(challenge).message
            error = error or {
                "expired": "This code has expired.",
                "exhausted": "Too many wrong codes: this code no longer works.",
                "approved": "This code was already used. Codes work once.",
            }.get(challenge.state, "This verification has ended.")
            status = status if status != 200 else 410
        restart = f"{self.url('choose')}?{'r=' + page['r'] if page.get('r') else 'next=' + quote(page['n'], safe='/')}"
        return self._page(
            req, "code.html", status, title="Enter your code", form=form, error=error, challenge=view, ended=ended,
            token=token, restart=restart, sent=req.args.get("sent") == "1",
            # An approved challenge (reached again with Back, or its form re-sent) has nothing to restart.
            used=challenge.state == "approved", done_url=safe_next(page["n"], self.config.home),
            consumed=challenge.consumed,
            resend_form=(
                self._form(req, PlainForm) if req.method == "GET"
                else PlainForm.bind(None, req.session, self.engine.keys)
            ),
            remember_offered=self.engine.settings.trusted_device_days > 0 and challenge.purpose == "login",
            remember_days=self.engine.settings.trusted_device_days,
        )  # fmt: skip

    def _passed_here(self, req: WebRequest, page: dict[str, Any]) -> Flow[Challenge | None]:
        """The page's challenge when this login passed it: its second factor renewed the
        session's nonce, so the page no longer matches the current one."""
        previous = grants.previous_nonce(req.session, req.subject)
        if previous is None:
            return None
        try:
            challenge = yield from flows.challenge(
                self.engine.context, page["c"], subject=req.subject, session=previous
            )
        except ChallengeError:
            return None
        return challenge if challenge.state == "approved" else None

    def _approved(
        self, req: WebRequest, approval: Approval, page: dict[str, Any], *, remember: bool
    ) -> Flow[WebResult]:
        e, subject = self.engine, req.subject or ""
        session_nonce = self.nonce(req)
        headers: list[tuple[str, str]] = []
        if approval.purpose != "operation":
            grants.record_factor(req.session, subject, approval.method, e.clock())
        if remember and approval.purpose == "login" and e.settings.trusted_device_days > 0:
            agent = req.headers.get("user-agent")
            token = yield from flows.remember_device(e.context, subject, methods=[approval.method], user_agent=agent)
            headers.append(self.device_cookie(token))
        if approval.purpose == "bind":
            account = self.url("account")
            target = f"{account}?added=1" if page["n"] == account else safe_next(page["n"], self.config.home)
            return WebResult(status=303, redirect=target, headers=headers)
        if page.get("r"):
            try:
                saved = yield from flows.take_resume(e.context, page["r"], subject=subject, session=session_nonce)
            except StepUpError as failure:
                return self._message(req, "Already done", failure.message, failure.status)
            if saved is not None:
                # The replayed request uses the approval up itself (see Gate.protect).
                grant = {"subject": subject, "challenge": approval.challenge_id}
                return WebResult(status=200, replay=saved, replay_grant=grant, headers=headers)
        return WebResult(status=303, redirect=safe_next(page["n"], self.config.home), headers=headers)

    @fail_closed
    def resend(self, req: WebRequest, token: str) -> Flow[WebResult]:
        """Send a new code for the challenge on the page."""
        if (stop := self._signed_in(req)) is not None:
            return stop
        page = self.read_page_token(token)
        if page is None:
            return self._message(req, "Link not valid", "This verification link is not valid. Start again.", 404)
        form = self._form(req, PlainForm)
        code_form = CodeForm.bind(None, req.session, self.engine.keys)
        if not form.validate():
            return (yield from self._code_page(req, token, page, code_form, 400, form.first_error(), False))
        try:
            yield from flows.resend(self.engine.context, page["c"], subject=req.subject, session=self.nonce(req))
        except StepUpError as failure:
            ended = isinstance(failure, _ENDED)
            return (yield from self._code_page(req, token, page, code_form, failure.status, failure.message, ended))
        return WebResult(status=303, redirect=f"{self.url('code', token=token)}?sent=1")

    # -- binding ---------------------------------------------------------------------------

    @fail_closed
    def bind_phone(self, req: WebRequest) -> Flow[WebResult]:
        """Bind a mobile number: its first SMS code confirms it."""
        return (yield from self._bind_target(req, "sms", BindPhoneForm, "phone", "bind_phone.html", "Add a phone"))

    @fail_closed
    def bind_email(self, req: WebRequest) -> Flow[WebResult]:
        """Bind an email address: its first code confirms it."""
        return (
            yield from self._bind_target(
                req, "email", BindEmailForm, "email", "bind_email.html", "Add an email address"
            )
        )

    @fail_closed
    def bind_method(self, req: WebRequest, method: str) -> Flow[WebResult]:
        """Bind the target of a plug-in method whose codes stepup delivers (a phone for
        voice calls): the field is as the method's ``target_input`` describes, its first
        code confirms it."""
        m = self.engine.methods.get(method)
        entry = target_input(m) if m is not None and method not in BUILTIN_BIND_PAGES else None
        if m is None or entry is None:
            return self._message(req, "Not found", "There is no such sign-in method to add.", 404)
        title = entry.heading or f"Add {method_titles({method: m})[method]}"
        form = bind_target_form(entry)
        return (yield from self._bind_target(req, method, form, "target", "bind_target.html", title, entry=entry))

    def _bind_target(
        self, req: WebRequest, method: str, cls: Any, field: str, template: str, title: str, **extra: Any
    ) -> Flow[WebResult]:
        if (stop := self._signed_in(req)) is not None:
            return stop
        if (stop := (yield from self._fresh_enough(req))) is not None:
            return stop
        form = self._form(req, cls)
        held = grants.is_held(req.session, req.subject or "")
        next_url = safe_next(req.args.get("next"), self.config.home) if held else self.url("account")
        status, error = 200, None
        if req.method == "POST":
            if form.validate():
                try:
                    started = yield from flows.begin_bind(
                        self.engine.context,
                        req.subject or "",
                        method,
                        getattr(form, field).data,
                        session=self.nonce(req),
                        client=req.client,
                    )
                except InvalidInput as failure:
                    getattr(form, field).errors = [failure.message]
                    status = failure.status
                except StepUpError as failure:
                    status, error = failure.status, failure.message
                else:
                    token = self.page_token(started.challenge.id, None, next_url)
                    return WebResult(status=303, redirect=self.url("code", token=token))
            else:
                status = 400
                error = form.errors.get("csrf_token", [None])[0]
        others = [o for o in (yield from self._bind_offers(req)) if o.method != method]
        return self._page(
            req, template, status, title=title, form=form, error=error, next=next_url, others=others, **extra
        )

    @fail_closed
    def bind_totp(self, req: WebRequest) -> Flow[WebResult]:
        """Enrol an authenticator app: a QR code, then its first code."""
        if (stop := self._signed_in(req)) is not None:
            return stop
        if (stop := (yield from self._fresh_enough(req))) is not None:
            return stop
        form = self._form(req, PlainForm)
        held = grants.is_held(req.session, req.subject or "")
        next_url = safe_next(req.args.get("next"), self.config.home) if held else self.url("account")
        if req.method == "POST":
            if not form.validate():
                return self._page(
                    req, "bind_totp.html", 400, title="Add an authenticator app", form=form, error=form.first_error()
                )
            try:
                started = yield from flows.begin_bind(
                    self.engine.context, req.subject or "", "totp", session=self.nonce(req)
                )
            except StepUpError as failure:
                return self._page(
                    req, "bind_totp.html", failure.status, title="Add an authenticator app", form=form,
                    error=failure.message,
                )  # fmt: skip
            token = self.page_token(started.challenge.id, None, next_url)
            code_form = CodeForm.bind(None, req.session, self.engine.keys)
            return self._page(
                req, "bind_totp.html", title="Scan the QR code", started=started, token=token, code_form=code_form,
                secret_groups=" ".join(
                    (started.secret or "")[i : i + 4] for i in range(0, len(started.secret or ""), 4)
                ),
            )  # fmt: skip
        return self._page(req, "bind_totp.html", title="Add an authenticator app", form=form)

    @fail_closed
    def recovery(self, req: WebRequest) -> Flow[WebResult]:
        """Make a new set of recovery codes and show them once: they back up a sign-in
        method, so only with one bound and a fresh second factor (:mod:`stepup._enrolment`),
        never with a password alone."""
        if (stop := self._signed_in(req)) is not None:
            return stop
        subject = req.subject or ""
        fresh = yield from self._fresh(req)
        # Not fresh: a step-up, a held login sent to its own second factor, or a refusal
        # for one whose methods are off; it lets through only a subject with nothing bound.
        if not fresh and (stop := (yield from self._fresh_enough(req))) is not None:
            return stop
        bindings = yield from flows.bindings(self.engine.context, subject)
        if recovery_codes_refusal(bindings, fresh=fresh) is not None:
            message = (
                "Recovery codes back up a sign-in method. Add a phone, an email address or an authenticator app first."
            )
            return self._message(req, "Add a sign-in method first", message, 409)
        form = self._form(req, PlainForm)
        if req.method == "POST":
            if not form.validate():
                return self._page(
                    req, "recovery_codes.html", 400, title="Recovery codes", form=form, error=form.first_error()
                )
            codes = yield from flows.generate_recovery_codes(self.engine.context, req.subject or "")
            return self._page(req, "recovery_codes.html", title="Your recovery codes", codes=codes)
        return self._page(req, "recovery_codes.html", title="Recovery codes", form=form)

    @fail_closed
    def account(self, req: WebRequest) -> Flow[WebResult]:
        """The subject's bindings, with forms to add and remove them; not for a held login
        (the choose page shows it what it needs)."""
        if (stop := self._signed_in(req)) is not None:
            return stop
        if grants.is_held(req.session, req.subject or ""):
            return self.finish_login(req)
        bindings = yield from flows.bindings(self.engine.context, req.subject or "")
        policy = yield from flows.policy(self.engine.context)
        allowed = policy.methods(subject=req.subject)
        notice = {"added": "Added.", "removed": "Removed."}
        shown = next((text for key, text in notice.items() if req.args.get(key) == "1"), None)
        return self._page(
            req, "account.html", title="Sign-in methods", bindings=bindings, allowed=allowed, notice=shown,
            remove_form=PlainForm.bind(None, req.session, self.engine.keys), names=method_titles(self.engine.methods),
            offers=bind_offers(self.engine.methods, allowed, self.url),
        )  # fmt: skip

    @fail_closed
    def unbind(self, req: WebRequest, binding_id: str) -> Flow[WebResult]:
        """Remove one binding (needs a fresh step-up); the subject's other channels are told."""
        if (stop := self._signed_in(req)) is not None:
            return stop
        form = self._form(req, PlainForm)
        if not form.validate():
            return self._message(req, "Form expired", form.first_error() or "Please try again.", 400)
        if (stop := (yield from self._fresh_enough(req))) is not None:
            return stop
        try:
            yield from self._remove(req.subject or "", binding_id)
        except StepUpError as failure:
            title = "Add another method first" if failure.status == 409 else "Not removed"
            return self._message(req, title, failure.message, failure.status)
        return WebResult(status=303, redirect=f"{self.url('account')}?removed=1")

    def _remove(self, subject: str, binding_id: str) -> Flow[None]:
        """Unbind, refusing the last sign-in method while 2FA at login is required.

        :raises LastMethod: it is the last one.
        """
        e = self.engine
        bindings = yield from flows.bindings(e.context, subject)
        decision = yield from flows.login_somewhere(e.context, subject)
        others = [b for b in bindings if b.id != binding_id and b.method != "recovery"]
        if decision.required and not others and any(b.id == binding_id and b.method != "recovery" for b in bindings):
            raise LastMethod("This is your last sign-in method. Add another one before removing it.")
        yield from flows.unbind(e.context, subject, binding_id)

    # -- admin -------------------------------------------------------------------------------

    @fail_closed
    def admin(self, req: WebRequest) -> Flow[WebResult]:
        """Policy switches: methods globally and per app, 2FA at login, identity sources."""
        if (stop := self._signed_in(req)) is not None:
            return stop
        check = self.config.admin_check
        if check is None or not check(req.subject or ""):
            return self._message(req, "Not allowed", "Only administrators can change security settings.", 403)
        if grants.is_held(req.session, req.subject or ""):
            # A password alone does not change the security policy: the second factor first.
            return WebResult(status=303, redirect=f"{self.url('choose')}?next={quote(self.url('admin'), safe='/')}")
        # Nor does a login that passed no second factor lately (a remembered browser, a
        # login with 2FA off): every change, and the page that offers it, needs a fresh one.
        if (stop := (yield from self._fresh_enough(req, first_binding=False))) is not None:
            return stop
        e = self.engine
        form = self._form(req, AdminForm)
        error = None
        if req.method == "POST":
            if form.validate():
                try:
                    yield from self._apply_switch(form, by=req.subject or "")
                except StepUpError as failure:
                    error = failure.message
                else:
                    return WebResult(status=303, redirect=f"{self.url('admin')}?saved=1")
            else:
                error = form.first_error()
        policy = yield from flows.policy(e.context)
        methods = sorted(e.methods)
        # The apps named by setting, then those found in the app (blueprints, mounts).
        apps = dict.fromkeys([*self.config.apps, *self.config.discover()])
        scopes = [("global", "", "Everywhere")] + [("app", a, a) for a in apps]
        rows = [
            {"scope": kind, "name": name, "label": label,
             "methods": {m: m in policy.methods(app=name or None) for m in methods},
             "login_2fa": policy.login_2fa(app=name or None)}
            for kind, name, label in scopes
        ]  # fmt: skip
        sources = sorted(set(self.config.identity_sources) | set(policy.record["identity_sources"]))
        return self._page(
            req, "admin.html", 400 if error else 200, title="Security settings", rows=rows, methods=methods,
            sources=[(s, policy.record["identity_sources"].get(s, True)) for s in sources], error=error,
            saved=req.args.get("saved") == "1", csrf=form.csrf_token, names=method_titles(e.methods),
        )  # fmt: skip

    def _apply_switch(self, form: Any, *, by: str) -> Flow[None]:
        """Apply one switch; its audit event names the admin ``by``."""
        e = self.engine
        enabled = form.enabled.data == "on"
        scope, name, setting = form.scope.data, form.name.data or "", form.setting.data
        if setting == "login_2fa":
            yield from flows.set_login_2fa(e.context, enabled, scope, name, by=by)
        elif setting.startswith("method:"):
            yield from flows.set_method(e.context, setting.removeprefix("method:"), enabled, scope, name, by=by)
        elif setting.startswith("source:"):
            yield from flows.set_identity_source(e.context, setting.removeprefix("source:"), enabled, by=by)
        else:
            raise InvalidInput("Unknown setting.")


def _choice_label(name: str, label: str) -> str:
    """ "Text message: +44 •••• ••0001"; just "Authenticator app" when the label only repeats
    the method's ``name`` (its title)."""
    return f"{name}: {label}" if label and label.lower().rstrip("s") != name.lower().rstrip("s") else name
