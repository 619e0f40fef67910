"""The admin page: the policy's switches, methods globally and per app, 2FA at login, and
identity sources, for the subjects the adapter's ``admin_check`` names.

Every change, and the page that offers it, needs a fresh second factor: a password alone
or a remembered browser changes no security policy.
"""

from __future__ import annotations

from typing import Any

from .. import engine as flows
from .._errors import InvalidInput, StepUpError
from .._i18n import N_, T
from .._policy import Policy
from ..engine import Flow
from ._base import WebRequest, WebResult
from ._common import WebCore, fail_closed, signed_in
from ._forms import AdminForm
from ._guards import Guards
from ._methods import method_titles

__all__ = ["AdminPage"]


class AdminPage:
    """The page of the policy's switches.

    :param core: the shared core of the handlers.
    :param guards: the check of a fresh second factor.
    """

    def __init__(self, core: WebCore, guards: Guards) -> None:
        self.core = core
        self.guards = guards

    @fail_closed
    @signed_in
    def admin(self, req: WebRequest) -> Flow[WebResult]:
        """Policy switches: methods globally and per app, 2FA at login, identity sources."""
        core, e = self.core, self.core.engine
        if (stop := (yield from self.guards.admin(req, core.url("admin")))) is not None:
            return stop
        form = core.form(req, AdminForm)
        error = None
        if req.method == "POST":
            if form.validate():
                try:
                    yield from self._apply_switch(form, by=req.subject or "")
                except StepUpError as failure:
                    error = failure.message
                else:
                    return WebResult(status=303, redirect=f"{core.url('admin')}?saved=1")
            else:
                error = form.first_error()
        policy = yield from flows.policy(e.context)
        methods = sorted(e.methods)
        sources = sorted(set(core.settings.admin_identity_sources) | set(policy.record["identity_sources"]))
        return core.page(
            req, "admin.html", 400 if error else 200, title=T("Security settings"), rows=self._rows(policy, methods),
            methods=methods, sources=[(s, policy.record["identity_sources"].get(s, True)) for s in sources],
            error=error, saved=req.args.get("saved") == "1", csrf=form.csrf_token, names=method_titles(e.methods),
        )  # fmt: skip

    def _rows(self, policy: Policy, methods: list[str]) -> list[dict[str, Any]]:
        """The page's rows of switches: everywhere, then each app."""
        # The apps named by setting, then those found in the app (blueprints, mounts).
        apps = dict.fromkeys([*self.core.settings.admin_apps, *self.core.config.discover()])
        scopes = [("global", "", N_("Everywhere"))] + [("app", a, a) for a in apps]
        return [
            {"scope": kind, "name": name, "label": label,
             "methods": {m: m in policy.methods(app=name or None) for m in methods},
             "login_2fa": policy.login_2fa(app=name or None)}
            for kind, name, label in scopes
        ]  # fmt: skip

    def _apply_switch(self, form: Any, *, by: str) -> Flow[None]:
        """Apply one switch; its audit event names the admin ``by``."""
        e = self.core.engine
        enabled = form.enabled.data == "on"
        scope, name, setting = form.scope.data, form.name.data or "", form.setting.data
        if setting == "login_2fa":
            yield from flows.set_login_2fa(e.context, enabled, scope, name, by=by)
        elif setting.startswith("method:"):
            yield from flows.set_method(e.context, setting.removeprefix("method:"), enabled, scope, name, by=by)
        elif setting.startswith("source:"):
            yield from flows.set_identity_source(e.context, setting.removeprefix("source:"), enabled, by=by)
        else:
            raise InvalidInput(T("Unknown setting."))
