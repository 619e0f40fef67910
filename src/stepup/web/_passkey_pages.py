"""The passkey pages: rename one, the options a page or a single-page app hands to
``navigator.credentials``, and stepup's static script that calls it.

Adding a passkey is an account page's bind page (its creation happens on the code page of
its bind challenge); removing one is the account page's ordinary remove, under the
last-method rule.
"""

from __future__ import annotations

import functools
import json
from importlib import resources
from typing import Any

from .. import engine as flows
from .. import grants
from .._errors import ChallengeNotFound, ConfigurationError, StepUpError
from .._i18n import T
from ..engine import Flow
from ..methods import RelyingParty
from ._base import WebRequest, WebResult
from ._common import WebCore, fail_closed, problem, signed_in
from ._forms import PasskeyNameForm
from ._guards import Guards

__all__ = ["PasskeyPages", "passkey_view", "request_rp"]

#: stepup's static files and their types; nothing else is served.
_STATIC = {"passkeys.js": "text/javascript; charset=utf-8", "next-step.js": "text/javascript; charset=utf-8"}


@functools.cache
def _static(filename: str) -> bytes:
    return resources.files("stepup").joinpath("static", filename).read_bytes()


def request_rp(core: WebCore, req: WebRequest) -> RelyingParty:
    """The relying party of this request: the settings', or its own host and origin
    (:meth:`RelyingParty.for_request`); no I/O."""
    return RelyingParty.for_request(core.settings, host=req.headers.get("host", ""), https=core.config.https)


def passkey_view(core: WebCore, req: WebRequest, challenge_id: str) -> Flow[dict[str, Any]]:
    """What the code page of a pending passkey challenge shows: the WebAuthn options as
    JSON for its script, or the configuration error that stops passkeys here."""
    try:
        options = yield from flows.passkey_options(
            core.engine.context, challenge_id, subject=req.subject, session=core.nonce(req),
            relying_party=request_rp(core, req),
        )  # fmt: skip
    except ConfigurationError as error:
        return {"options": None, "error": error.message}
    return {"options": json.dumps(options, separators=(",", ":")), "error": None}


class PasskeyPages:
    """Renaming passkeys, their options as JSON, and the script.

    :param core: the shared core of the handlers.
    :param guards: the checks every change of sign-in methods passes.
    """

    def __init__(self, core: WebCore, guards: Guards) -> None:
        self.core = core
        self.guards = guards

    @fail_closed  # its 404 page in the request's language
    def static(self, req: WebRequest, filename: str) -> Flow[WebResult]:
        """One of stepup's static files (the passkey script), cacheable for an hour."""
        kind = _STATIC.get(filename)
        if kind is None:
            return self.core.message(req, T("Not found"), T("There is no such file."), 404)
        yield from ()
        return WebResult(body=_static(filename), headers=[("Content-Type", kind), ("Cache-Control", "max-age=3600")])

    @fail_closed
    @signed_in
    def passkey_rename(self, req: WebRequest, binding_id: str) -> Flow[WebResult]:
        """Rename one of the subject's passkeys (its name is all that changes)."""
        core = self.core
        if grants.is_held(req.session, req.subject or ""):
            return core.finish_login(req)
        form = core.form(req, PasskeyNameForm)
        if not form.validate():
            return core.message(req, T("Not renamed"), form.first_error() or T("Please try again."), 400)
        try:
            yield from flows.rename_passkey(core.engine.context, req.subject or "", binding_id, form.name.data)
        except StepUpError as failure:
            return core.message(req, T("Not renamed"), failure.message, failure.status)
        return WebResult(status=303, redirect=f"{core.url('account')}?renamed=1")

    @fail_closed  # its problem documents in the request's language
    def api_passkey_options(self, req: WebRequest, token: str) -> Flow[WebResult]:
        """``GET /api/challenges/<token>/passkey``: the options for
        ``navigator.credentials.create`` (a bind challenge) or ``.get``, as JSON, for a
        single-page app; its response goes to ``.../verify`` as ``{"credential": ...}``."""
        core = self.core
        if req.subject is None:
            body = {"title": T("Sign in first."), "status": 401, "code": "not_signed_in"}
            return WebResult(status=401, json=body, headers=[("Content-Type", "application/problem+json")])
        page = core.read_page_token(token)
        try:
            if page is None:
                raise ChallengeNotFound(T("No such challenge. Start again."))
            options = yield from flows.passkey_options(
                core.engine.context, page["c"], subject=req.subject, session=core.nonce(req),
                relying_party=request_rp(core, req),
            )  # fmt: skip
        except StepUpError as error:
            return problem(error)
        return WebResult(json={"publicKey": options}, headers=[("Cache-Control", "no-store")])
