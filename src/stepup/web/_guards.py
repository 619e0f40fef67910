"""What a change to a subject's sign-in methods must pass, for the pages and the JSON API
alike: a fresh second factor, or a password alone where enrolment allows it; and never
the last method while logins need one.

The rules themselves are the engine's (:mod:`stepup.engine._enrolment`); this is where the
handlers ask them, so the account pages, the admin page and the API ask them one way.
"""

from __future__ import annotations

from urllib.parse import quote

from .. import engine as flows
from .. import grants
from .._errors import InvalidInput, SignInRefused
from .._i18n import T
from .._models import Binding
from ..engine import Flow, password_may_enrol, refusal
from ._base import WebRequest, WebResult
from ._common import WebCore
from ._forms import PlainForm
from ._gate import Gate
from ._methods import BindOffer, bind_offers

__all__ = ["Guards", "LastMethod"]


class LastMethod(InvalidInput):
    """Removing this binding would leave a user who must use 2FA with nothing to use."""

    status = 409
    code = "last_method"


class Guards:
    """The checks of changes to sign-in methods, shared by the groups of handlers.

    :param core: the shared core of the handlers.
    :param gate: the route gate, whose step-up a change that is not fresh goes through.
    """

    def __init__(self, core: WebCore, gate: Gate) -> None:
        self.core = core
        self.gate = gate

    def fresh_enough(self, req: WebRequest, *, csrf: bool = True, first_binding: bool = True) -> Flow[WebResult | None]:
        """Changing bindings needs a fresh second factor, unless the subject may bind with
        a password alone (nothing bound yet: see :mod:`stepup.engine._enrolment`); a subject who
        can do neither is refused.

        A form's POST shows its CSRF token first: a forged one must not even start a
        step-up (whose page would name the change to approve). The JSON API passes
        ``csrf=False``: it takes only JSON bodies, which other sites cannot send.

        :param first_binding: whether a password alone may do this for a subject with
            nothing bound; the admin page passes ``False``: a policy change always needs
            a fresh second factor.
        :returns: ``None`` to go on, or the answer that stops the change.
        """
        core = self.core
        if csrf and req.method == "POST":
            form = PlainForm.bind(req.form, req.session, core.engine.keys)
            if not form.validate():
                return core.message(req, T("Form expired"), form.first_error() or T("Please try again."), 400)
        subject = req.subject or ""
        # A fresh factor counts while the subject holds a binding: one earned before an
        # admin removed every method (a lost phone) was earned with what is gone.
        if (yield from self.fresh(req)) and (yield from flows.bindings(core.engine.context, subject)):
            return None
        usable = yield from core.usable(subject, app=None, route=None, methods=None)
        if first_binding:
            may_enrol, refused = yield from self.enrolment(req, usable)
            if may_enrol:
                return None
            if refused == "nothing_bound" and not grants.is_held(req.session, subject):
                # A login from before its methods were all removed: the next one binds.
                message = T("Your sign-in methods were removed. Sign out and sign in again to set up a new one.")
                return core.message(req, T("Sign in again"), message, 403)
            if refused is not None:
                return core.sign_in_refused(req, SignInRefused(refused))
        if grants.is_held(req.session, subject):
            # Its second factor is the login's own, on the choose page: a step-up here
            # would save a request for the subject with nothing but the password.
            return core.finish_login(req)
        if not first_binding and not usable:
            message = T(
                "Changing security settings needs a recent second factor. "
                "Add a sign-in method under your account first."
            )
            return core.message(req, T("Add a sign-in method first"), message, 403)
        return (
            yield from self.gate.protect(
                req, max_age=core.settings.sensitive_max_age, methods=None, operation=None, app=None,
                route=None, replay_grant=None,
            )
        )  # fmt: skip

    def admin(self, req: WebRequest, back: str) -> Flow[WebResult | None]:
        """What an administrator's page (the policy, the support console) passes: the
        app's ``admin_check`` (403 for anyone else), the login's own second factor, then a
        fresh one for the page and every change it makes (a password alone or a remembered
        browser changes nothing).

        :param back: the page's path, where the login's second factor leads back to.
        :returns: ``None`` to go on, or the answer that stops the request.
        """
        core = self.core
        check = core.config.admin_check
        if check is None or not check(req.subject or ""):
            return core.message(req, T("Not allowed"), T("Only administrators can change security settings."), 403)
        if grants.is_held(req.session, req.subject or ""):
            # A password alone does not change the security policy: the second factor first.
            return WebResult(status=303, redirect=f"{core.url('choose')}?next={quote(back, safe='/')}")
        # Nor does a login that passed no second factor lately (a remembered browser, a
        # login with 2FA off): every change, and the page that offers it, needs a fresh one.
        return (yield from self.fresh_enough(req, first_binding=False))

    def fresh(self, req: WebRequest) -> Flow[bool]:
        """Whether a second factor passed within ``sensitive_max_age`` by a method the
        policy allows now for stepup's own pages (the global scope and the subject): a
        fresh factor of a method switched off since counts for nothing, as on the hot path.

        :raises LoginEnded: the factor is fresh, but a logout ended its login.
        """
        e, subject = self.core.engine, req.subject or ""
        allowed = (yield from flows.policy(e.context)).methods(subject=subject)
        if not grants.satisfies(
            req.session, subject, max_age=self.core.settings.sensitive_max_age, now=e.clock(), allowed=allowed
        ):
            return False
        # The grant rides in the session, so a copy taken before a logout still holds it:
        # a change of methods, recovery codes or policy goes to the store anyway, and is
        # refused for a login a logout ended (what the hot path cannot check without I/O).
        yield from flows.refuse_ended(e.context, self.core.nonce(req))
        return True

    def enrolment(self, req: WebRequest, usable: list[Binding]) -> Flow[tuple[bool, str | None]]:
        """The rule of :mod:`stepup.engine._enrolment` for this session: whether a password alone
        may bind a method, and why the subject is refused when they can neither verify
        with one of ``usable`` nor bind."""
        e, subject = self.core.engine, req.subject or ""
        policy = yield from flows.policy(e.context)
        bindings = yield from flows.bindings(e.context, subject)
        held = grants.is_held(req.session, subject)
        # A held login needs its factor by definition; a settled one, where the policy
        # asks one at login anywhere (a login that settled before a reset binds nothing).
        login_2fa = held or policy.login_2fa_somewhere(subject=subject)
        may_enrol = password_may_enrol(policy, bindings, login_2fa=login_2fa, held=held)
        return may_enrol, refusal(bindings, usable, may_enrol=may_enrol)

    def bind_first(self, req: WebRequest, usable: list[Binding]) -> Flow[str | None]:
        """The bind page a login goes to first when the subject may bind with a password
        alone: a phone as Authing does, or the first method the policy leaves on (built-in
        ones first, then plug-ins); ``None`` when the login goes on with a bound method.

        :raises SignInRefused: nothing to verify with, and nothing may be bound.
        """
        may_enrol, refused = yield from self.enrolment(req, usable)
        if refused is not None:
            raise SignInRefused(refused)
        if not may_enrol:
            return None
        offers = yield from self.bind_offers(req)
        return next((offer.url for offer in offers), None)

    def bind_offers(self, req: WebRequest) -> Flow[list[BindOffer]]:
        """The methods the subject may bind, built-in and plug-in (:mod:`._methods`)."""
        policy = yield from flows.policy(self.core.engine.context)
        return bind_offers(self.core.engine.methods, policy.methods(subject=req.subject), self.core.url)

    def remove(self, subject: str, binding_id: str) -> Flow[None]:
        """Unbind, refusing the last sign-in method while 2FA at login is required.

        :raises LastMethod: it is the last one.
        """
        e = self.core.engine
        bindings = yield from flows.bindings(e.context, subject)
        decision = yield from flows.login_somewhere(e.context, subject)
        others = [b for b in bindings if b.id != binding_id and b.method != "recovery"]
        if decision.required and not others and any(b.id == binding_id and b.method != "recovery" for b in bindings):
            raise LastMethod(T("This is your last sign-in method. Add another one before removing it."))
        yield from flows.unbind(e.context, subject, binding_id)
