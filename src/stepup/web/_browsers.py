"""Forgetting a remembered browser from the browser itself: "sign out and forget this
browser".

The form posts to ``{prefix}/forget-browser`` with its CSRF token. stepup forgets the
browser whose cookie came with it (signed in or not: the cookie names it), expires the cookie, and
hands the same POST on to the app's logout (a 307 keeps the method and the body, CSRF
token included), so one click signs out and forgets.
"""

from __future__ import annotations

from .. import engine as flows
from .._i18n import T
from ..engine import Flow
from ._base import WebRequest, WebResult
from ._common import WebCore, fail_closed
from ._forms import PlainForm

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
