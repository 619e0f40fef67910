"""Forgetting a remembered browser from the browser itself: "sign out and forget this
browser".

The form posts to ``{prefix}/forget-browser`` with its CSRF token. stepup forgets the
browser whose cookie came with it (signed in or not: the cookie names it), expires the cookie, and
hands the same POST on to the app's logout (a 307 keeps the method and the body, CSRF
token included), so one click signs out and forgets.
"""

from __future__ import annotations

from .. import engine as flows
from ..engine import Flow
from ._base import WebRequest, WebResult
from ._common import fail_closed
from ._forms import PlainForm
from ._pages import Pages

__all__ = ["BrowserPages"]


class BrowserPages(Pages):
    """The page handler of "forget this browser"."""

    @fail_closed
    def forget_browser(self, req: WebRequest) -> Flow[WebResult]:
        """Forget this browser, expire its cookie, and go on to the app's logout."""
        form = self._form(req, PlainForm)
        if not form.validate():
            return self._message(req, "Cannot continue", form.first_error(), 400)
        if req.device_token:
            # Signed in or not: the cookie alone names its browser, so a copy of it is
            # forgotten too (CSRF still guards the form).
            yield from flows.forget_browser(self.engine.context, req.device_token, subject=req.subject)
        return WebResult(status=307, redirect=self.config.logout, headers=[self.device_cookie("", max_age=0)])
