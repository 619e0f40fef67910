"""Forgetting a remembered browser from the browser itself: "sign out and forget this
browser".

The form posts to ``{prefix}/forget-browser`` with its CSRF token. stepup forgets the
browser whose cookie came with it (for the signed-in subject), expires the cookie, and
hands the same POST on to the app's logout (a 307 keeps the method and the body, CSRF
token included), so one click signs out and forgets.
"""

from __future__ import annotations

from .._core import Flow
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
        if req.subject is not None and req.device_token:
            yield from self.engine._forget_device(req.subject, token=req.device_token)
        return WebResult(status=307, redirect=self.config.logout, headers=[self.device_cookie("", max_age=0)])
