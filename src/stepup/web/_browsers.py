"""Forgetting remembered browsers: from the browser itself ("sign out and forget this
browser"), and from the account page's list (one, or all).

The form posts to ``{prefix}/forget-browser`` with its CSRF token. stepup forgets the
browser whose cookie came with it (signed in or not: the cookie names it), expires the cookie, and
hands the same POST on to the app's logout (a 307 keeps the method and the body, CSRF
token included), so one click signs out and forgets.

The account page's forms post to ``{prefix}/account/browsers`` with ``browser`` (a handle
from the list, or ``all``): a signed-in subject forgets only their own browsers, with no
fresh second factor (forgetting takes trust away, never gives it).
"""

from __future__ import annotations

from .. import engine as flows
from .. import grants
from .._i18n import T
from ..engine import Flow
from ._base import WebRequest, WebResult
from ._common import WebCore, fail_closed, signed_in
from ._forms import ForgetBrowserForm, PlainForm

__all__ = ["BrowserPages"]


class BrowserPages:
    """The page handler of "forget this browser".

    :param core: the shared core of the handlers.
    """

    def __init__(self, core: WebCore) -> None:
        self.core = core

    @fail_closed
    def forget_browser(self, req: WebRequest) -> Flow[WebResult]:
        """Forget this browser, expire its cookie, and go on to the app's logout."""
        core = self.core
        form = core.form(req, PlainForm)
        if not form.validate():
            return core.message(req, T("Cannot continue"), form.first_error(), 400)
        if req.device_token:
            # Signed in or not: the cookie alone names its browser, so a copy of it is
            # forgotten too (CSRF still guards the form).
            yield from flows.forget_browser(core.engine.context, req.device_token, subject=req.subject)
        return WebResult(status=307, redirect=core.config.logout, headers=[core.device_cookie("", max_age=0)])

    @fail_closed
    @signed_in
    def forget_browsers(self, req: WebRequest) -> Flow[WebResult]:
        """Forget one of the subject's remembered browsers, or all of them."""
        core, subject = self.core, req.subject or ""
        if grants.is_held(req.session, subject):
            return core.finish_login(req)
        form = core.form(req, ForgetBrowserForm)
        if not form.validate():
            return core.message(req, T("Not forgotten"), form.first_error() or T("Please try again."), 400)
        ctx, headers = core.engine.context, []
        if form.browser.data == "all":
            yield from flows.forget_devices(ctx, subject)
            headers.append(core.device_cookie("", max_age=0))
        elif not (yield from flows.forget_device(ctx, subject, form.browser.data)):
            return core.message(req, T("Not found"), T("That browser is not remembered any more."), 404)
        return WebResult(status=303, redirect=f"{core.url('account')}?forgotten=1", headers=headers)
