"""The account pages: bind a phone, an email address, an authenticator app or a plug-in
method's target; make recovery codes; list the bindings and remove one.

Every change passes :class:`~stepup.web._guards.Guards` first: a fresh second factor, or
a password alone where enrolment allows it. A new binding's first code confirms it, on
the code pages.
"""

from __future__ import annotations

from typing import Any

from .. import engine as flows
from .. import grants
from .._errors import InvalidInput, StepUpError
from .._i18n import T
from ..engine import Flow, recovery_codes_refusal
from ..methods import target_input
from ._agents import browser_name
from ._base import WebRequest, WebResult, safe_next
from ._common import WebCore, fail_closed, signed_in
from ._forms import BindEmailForm, BindPhoneForm, CodeForm, PasskeyNameForm, PlainForm, bind_target_form
from ._guards import Guards
from ._methods import BUILTIN_BIND_PAGES, bind_offers, method_titles

__all__ = ["AccountPages"]


class AccountPages:
    """The pages of a subject's own sign-in methods.

    :param core: the shared core of the handlers.
    :param guards: the checks every change passes.
    """

    def __init__(self, core: WebCore, guards: Guards) -> None:
        self.core = core
        self.guards = guards

    @fail_closed
    def bind_phone(self, req: WebRequest) -> Flow[WebResult]:
        """Bind a mobile number: its first SMS code confirms it."""
        return (yield from self._bind_target(req, "sms", BindPhoneForm, "phone", "bind_phone.html", T("Add a phone")))

    @fail_closed
    def bind_email(self, req: WebRequest) -> Flow[WebResult]:
        """Bind an email address: its first code confirms it."""
        return (
            yield from self._bind_target(
                req, "email", BindEmailForm, "email", "bind_email.html", T("Add an email address")
            )
        )

    @fail_closed
    def passkey_add(self, req: WebRequest) -> Flow[WebResult]:
        """Add a passkey under a name (empty: its authenticator's); its bind challenge's
        code page creates it."""
        return (
            yield from self._bind_target(
                req, "passkey", PasskeyNameForm, "name", "passkey_add.html", T("Add a passkey")
            )
        )

    @fail_closed
    def bind_method(self, req: WebRequest, method: str) -> Flow[WebResult]:
        """Bind the target of a plug-in method whose codes stepup delivers (a phone for
        voice calls): the field is as the method's ``target_input`` describes, its first
        code confirms it."""
        m = self.core.engine.methods.get(method)
        entry = target_input(m) if m is not None and method not in BUILTIN_BIND_PAGES else None
        if m is None or entry is None:
            return self.core.message(req, T("Not found"), T("There is no such sign-in method to add."), 404)
        title = entry.heading or f"Add {method_titles({method: m})[method]}"
        form = bind_target_form(entry)
        return (yield from self._bind_target(req, method, form, "target", "bind_target.html", title, entry=entry))

    @signed_in
    def _bind_target(
        self, req: WebRequest, method: str, cls: Any, field: str, template: str, title: str, **extra: Any
    ) -> Flow[WebResult]:
        """The page of a method bound to a target (a phone, an address): its form, whose
        POST starts the binding and goes to the code page of its first code."""
        core = self.core
        if (stop := (yield from self.guards.fresh_enough(req))) is not None:
            return stop
        form = core.form(req, cls)
        next_url = self._after_bind(req)
        status, error = 200, None
        if req.method == "POST":
            if form.validate():
                try:
                    started = yield from flows.begin_bind(
                        core.engine.context,
                        req.subject or "",
                        method,
                        getattr(form, field).data,
                        session=core.nonce(req),
                        client=req.client,
                        locale=(yield from core.locale(req)),
                    )
                except InvalidInput as failure:
                    getattr(form, field).errors = [failure.message]
                    status = failure.status
                except StepUpError as failure:
                    status, error = failure.status, failure.message
                else:
                    token = core.page_token(started.challenge.id, None, next_url)
                    return WebResult(status=303, redirect=core.url("code", token=token))
            else:
                status = 400
                error = form.errors.get("csrf_token", [None])[0]
        others = [o for o in (yield from self.guards.bind_offers(req)) if o.method != method]
        return core.page(
            req, template, status, title=title, form=form, error=error, next=next_url, others=others, **extra
        )

    def _after_bind(self, req: WebRequest) -> str:
        """Where a new binding leads: a held login back to what it asked, others to the
        account page."""
        if grants.is_held(req.session, req.subject or ""):
            return safe_next(req.args.get("next"), self.core.config.home)
        return self.core.url("account")

    @fail_closed
    @signed_in
    def bind_totp(self, req: WebRequest) -> Flow[WebResult]:
        """Enrol an authenticator app: a QR code, then its first code."""
        core = self.core
        if (stop := (yield from self.guards.fresh_enough(req))) is not None:
            return stop
        form = core.form(req, PlainForm)
        next_url = self._after_bind(req)
        if req.method == "POST":
            if not form.validate():
                return core.page(
                    req, "bind_totp.html", 400, title=T("Add an authenticator app"), form=form, error=form.first_error()
                )
            try:
                started = yield from flows.begin_bind(
                    core.engine.context,
                    req.subject or "",
                    "totp",
                    session=core.nonce(req),
                    locale=(yield from core.locale(req)),
                )
            except StepUpError as failure:
                return core.page(
                    req, "bind_totp.html", failure.status, title=T("Add an authenticator app"), form=form,
                    error=failure.message,
                )  # fmt: skip
            token = core.page_token(started.challenge.id, None, next_url)
            code_form = CodeForm.bind(None, req.session, core.engine.keys)
            return core.page(
                req, "bind_totp.html", title=T("Scan the QR code"), started=started, token=token, code_form=code_form,
                secret_groups=" ".join(
                    (started.secret or "")[i : i + 4] for i in range(0, len(started.secret or ""), 4)
                ),
            )  # fmt: skip
        return core.page(req, "bind_totp.html", title=T("Add an authenticator app"), form=form)

    @fail_closed
    @signed_in
    def recovery(self, req: WebRequest) -> Flow[WebResult]:
        """Make a new set of recovery codes and show them once: they back up a sign-in
        method, so only with one bound and a fresh second factor (:mod:`stepup.engine._enrolment`),
        never with a password alone."""
        core, subject = self.core, req.subject or ""
        fresh = yield from self.guards.fresh(req)
        # Not fresh: a step-up, a held login sent to its own second factor, or a refusal
        # for one whose methods are off; it lets through only a subject with nothing bound.
        if not fresh and (stop := (yield from self.guards.fresh_enough(req))) is not None:
            return stop
        bindings = yield from flows.bindings(core.engine.context, subject)
        if recovery_codes_refusal(bindings, fresh=fresh) is not None:
            message = T(
                "Recovery codes back up a sign-in method. Add a phone, an email address or an authenticator app first."
            )
            return core.message(req, T("Add a sign-in method first"), message, 409)
        form = core.form(req, PlainForm)
        if req.method == "POST":
            if not form.validate():
                return core.page(
                    req, "recovery_codes.html", 400, title=T("Recovery codes"), form=form, error=form.first_error()
                )
            codes = yield from flows.generate_recovery_codes(core.engine.context, req.subject or "")
            return core.page(req, "recovery_codes.html", title=T("Your recovery codes"), codes=codes)
        return core.page(req, "recovery_codes.html", title=T("Recovery codes"), form=form)

    @fail_closed
    @signed_in
    def account(self, req: WebRequest) -> Flow[WebResult]:
        """The subject's bindings, with forms to add and remove them; not for a held login
        (the choose page shows it what it needs)."""
        core, e = self.core, self.core.engine
        if grants.is_held(req.session, req.subject or ""):
            return core.finish_login(req)
        bindings = yield from flows.bindings(e.context, req.subject or "")
        policy = yield from flows.policy(e.context)
        allowed = policy.methods(subject=req.subject)
        browsers = yield from flows.devices(e.context, req.subject or "")
        notice = {
            "added": T("Added."), "removed": T("Removed."), "forgotten": T("Forgotten."), "renamed": T("Renamed."),
        }  # fmt: skip
        shown = next((text for key, text in notice.items() if req.args.get(key) == "1"), None)
        return core.page(
            req, "account.html", title=T("Sign-in methods"), bindings=bindings, allowed=allowed, notice=shown,
            remove_form=PlainForm.bind(None, req.session, e.keys), names=method_titles(e.methods),
            offers=bind_offers(e.methods, allowed, core.url), browsers=browsers, browser_name=browser_name,
            rename_form=PasskeyNameForm.bind(None, req.session, e.keys),
        )  # fmt: skip

    @fail_closed
    @signed_in
    def unbind(self, req: WebRequest, binding_id: str) -> Flow[WebResult]:
        """Remove one binding (needs a fresh step-up); the subject's other channels are told."""
        core = self.core
        form = core.form(req, PlainForm)
        if not form.validate():
            return core.message(req, T("Form expired"), form.first_error() or T("Please try again."), 400)
        if (stop := (yield from self.guards.fresh_enough(req))) is not None:
            return stop
        try:
            yield from self.guards.remove(req.subject or "", binding_id)
        except StepUpError as failure:
            title = T("Add another method first") if failure.status == 409 else T("Not removed")
            return core.message(req, title, failure.message, failure.status)
        return WebResult(status=303, redirect=f"{core.url('account')}?removed=1")
