"""The support console: an administrator finds a subject and sees what stepup knows of
them (bindings masked, with when they were added and last used; locks and back-offs;
pending challenges; remembered browsers; recent audit events), and helps: unlock, remove
one method, reset every method (a lost phone), forget remembered browsers, end pending
challenges.

It stands behind the same checks as the admin page (:meth:`Guards.admin`): ``admin_check``,
then a fresh second factor for the page and for each change; every form carries its CSRF
token; each change is audited as ``admin_action`` with the administrator as ``actor``, and
the subject is told on their channels when their methods change.
"""

from __future__ import annotations

from urllib.parse import urlencode

from .. import engine as flows
from .._errors import StepUpError
from .._i18n import N_, T
from ..engine import Flow
from ._agents import browser_name
from ._base import WebRequest, WebResult
from ._common import WebCore, fail_closed, signed_in
from ._forms import ConsoleForm, PlainForm
from ._guards import Guards
from ._methods import method_titles

__all__ = ["ConsolePage"]

#: the longest subject the search takes (the app's user ids are shorter).
_SUBJECT_CHARS = 200
_DONE = {
    "unlock": N_("Unlocked."),
    "reset_method": N_("The method was removed; the user was told on their other channels."),
    "reset_all": N_("Every method was removed; the user binds a new one at their next sign-in."),
    "forget_browsers": N_("Remembered browsers forgotten."),
    "end_challenges": N_("Pending verifications ended."),
}


class ConsolePage:
    """The support console's one page: find a subject, see them, change them.

    :param core: the shared core of the handlers.
    :param guards: the administrator's checks.
    """

    def __init__(self, core: WebCore, guards: Guards) -> None:
        self.core = core
        self.guards = guards

    @fail_closed
    @signed_in
    def console(self, req: WebRequest) -> Flow[WebResult]:
        """``GET ?subject=bob``: the subject's page; ``POST``: one change to them."""
        core, e = self.core, self.core.engine
        back = core.url("console") + (
            f"?{urlencode({'subject': req.args['subject']})}" if req.args.get("subject") else ""
        )
        if (stop := (yield from self.guards.admin(req, back))) is not None:
            return stop
        error = None
        if req.method == "POST":
            form = core.form(req, ConsoleForm)
            if not form.validate():
                return core.message(req, T("Not changed"), form.first_error() or T("Please try again."), 400)
            subject = (form.subject.data or "").strip()  # as the lookup reads it: " alice" is alice
            try:
                yield from flows.support_action(
                    e.context, subject, form.action.data, by=req.subject or "",
                    binding_id=form.binding_id.data or None, method=form.method.data or None,
                )  # fmt: skip
            except StepUpError as failure:
                error = failure.message
            else:
                query = urlencode({"subject": subject, "done": form.action.data})
                return WebResult(status=303, redirect=f"{core.url('console')}?{query}")
        else:
            subject = (req.args.get("subject") or "").strip()
        if len(subject) > _SUBJECT_CHARS:
            return core.message(req, T("Not found"), T("A user id has at most {n} characters.", n=_SUBJECT_CHARS), 422)
        overview = (yield from flows.subject_overview(e.context, subject, by=req.subject or "")) if subject else None
        return core.page(
            req, "console.html", 400 if error else 200, title=T("Support"), overview=overview, query=subject,
            error=error, done=_DONE.get(req.args.get("done", "")), names=method_titles(e.methods),
            form=PlainForm.bind(None, req.session, e.keys), now=e.clock(), browser_name=browser_name,
        )  # fmt: skip
