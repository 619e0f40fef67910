"""What the page, API and gate handlers share: configuration, the route table, tokens."""

from __future__ import annotations

import dataclasses
import functools
import string
from collections.abc import Callable, Iterable, Mapping
from typing import Any, TypeVar, cast

from .. import engine as flows
from .. import grants
from .._config import Settings
from .._errors import InvalidInput, RequestTooLarge, StepUpError, Throttled
from .._models import Binding, Challenge
from ..engine import AsyncEngine, Engine, Flow, accepts
from ._base import WebRequest, WebResult
from ._operations import SHOWN_MAX, check_value

__all__ = ["CONTACT_ROUTES", "ROUTES", "Operation", "WebConfig", "WebCore", "fail_closed", "problem"]

F = TypeVar("F", bound=Callable[..., Any])

#: (name, path under the prefix, methods). Adapters register exactly these.
ROUTES: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("choose", "/", ("GET", "POST")),
    ("code", "/code/{token}", ("GET", "POST")),
    ("resend", "/code/{token}/resend", ("POST",)),
    ("bind_phone", "/bind/phone", ("GET", "POST")),
    ("bind_email", "/bind/email", ("GET", "POST")),
    ("bind_totp", "/bind/totp", ("GET", "POST")),
    ("bind_method", "/bind/method/{method}", ("GET", "POST")),
    ("recovery", "/recovery-codes", ("GET", "POST")),
    ("account", "/account", ("GET",)),
    ("forget_browser", "/forget-browser", ("POST",)),
    ("unbind", "/account/remove/{binding_id}", ("POST",)),
    ("admin", "/admin", ("GET", "POST")),
    ("api_status", "/api/status", ("GET",)),
    ("api_create", "/api/challenges", ("POST",)),
    ("api_verify", "/api/challenges/{token}/verify", ("POST",)),
    ("api_resend", "/api/challenges/{token}/resend", ("POST",)),
    ("api_cancel", "/api/challenges/{token}", ("DELETE",)),
    ("api_bindings", "/api/bindings", ("GET", "POST")),
    ("api_unbind", "/api/bindings/{binding_id}", ("DELETE",)),
    ("api_contact", "/api/verify", ("POST",)),
    ("api_contact_check", "/api/verify/{request_id}/check", ("POST",)),
)
_PATHS = {name: path for name, path, _ in ROUTES}
#: the routes of contact verification, mounted only with ``contact_verification`` on.
CONTACT_ROUTES = frozenset({"api_contact", "api_contact_check"})
_PAGE_SALT = "stepup.page"


@dataclasses.dataclass(frozen=True)
class WebConfig:
    """How an adapter set the web layer up; see :class:`stepup.Settings` for the fields
    that come from configuration.

    :ivar prefix: where stepup's routes are mounted, script root included (``/stepup``).
    :ivar admin_check: ``subject -> bool``; the admin page answers 403 without it.
    :ivar apps: the apps the admin page offers switches for by setting (``admin_apps``).
    :ivar discover: ``() -> app names`` the adapter found in the app (blueprints, mounts,
        routes given ``app=``); the admin page offers these too.
    """

    prefix: str = "/stepup"
    home: str = "/"
    logout: str = "/logout"
    admin_check: Callable[[str], bool] | None = None
    sensitive_max_age: int = 300
    apps: tuple[str, ...] = ()
    discover: Callable[[], Iterable[str]] = tuple
    identity_sources: tuple[str, ...] = ("password", "sso")
    device_cookie: str = "stepup_device"
    secure_cookies: bool = False

    @classmethod
    def from_settings(
        cls, settings: Settings, *, root: str = "", admin_check: Callable[[str], bool] | None = None,
        https: bool = False, discover: Callable[[], Iterable[str]] = tuple,
    ) -> WebConfig:  # fmt: skip
        """The web configuration the settings describe.

        :param root: the script root or mount path in front of ``url_prefix``.
        :param https: the request came over HTTPS (stepup's cookies are then Secure).
        :param discover: finds the app's apps (blueprints, mounts) for the admin page.
        """
        return cls(
            prefix=root.rstrip("/") + settings.url_prefix,
            home=root.rstrip("/") + settings.home_url if settings.home_url.startswith("/") else settings.home_url,
            logout=(
                root.rstrip("/") + settings.logout_url if settings.logout_url.startswith("/") else settings.logout_url
            ),
            admin_check=admin_check,
            sensitive_max_age=settings.sensitive_max_age,
            apps=settings.admin_apps,
            discover=discover,
            identity_sources=settings.admin_identity_sources,
            device_cookie=settings.device_cookie,
            secure_cookies=settings.secure_cookies or https,
        )


class Operation:
    """Describes a risky operation from the request's fields, for the message and the
    approval's digest: ``Operation("transfer of {amount} to {to}", ["to", "amount"])``.

    Every field the template shows must be given, and not blank: a message that reads
    "approves transfer of  to ." approves nothing a person could check. A field that is
    bound but not shown may be left out (a ``PATCH`` that changes some fields only).

    :param template: the words the message shows, with ``{field}`` places.
    :param fields: the form or JSON fields the approval is bound to.
    :ivar shown: the fields the template shows, which must not be missing or blank.
    """

    def __init__(self, template: str, fields: list[str] | tuple[str, ...]) -> None:
        self.template = template
        self.fields = tuple(fields)
        self.shown = frozenset(name for _, name, _, _ in string.Formatter().parse(template) if name)

    def __call__(self, values: Mapping[str, Any]) -> tuple[str, dict[str, str]]:
        """``(description, data)`` for the request's values.

        The approval is bound to each field whole; only the description, the words of the
        message, is shortened.

        :raises InvalidInput: a field is given more than once (``to=bob&to=mallory``):
            frameworks disagree on which one the app reads, so neither is approved.
        :raises OperationUnreadable: a field the template shows is missing or blank, or a
            field holds characters no message can carry (line breaks, control characters,
            lone surrogates): 400, before anything is started or charged.
        """
        data: dict[str, str] = {}
        for name in self.fields:
            getlist = getattr(values, "getlist", None)
            given = list(getlist(name)) if callable(getlist) else [values.get(name)]
            if len(given) > 1:
                raise InvalidInput(f"The field {name!r} is given more than once; send it once.")
            value = given[0] if given else None
            data[name] = "" if value is None else str(value)
            check_value(name, None if value is None else data[name], required=name in self.shown)
        return self.template.format_map({name: value[:SHOWN_MAX] for name, value in data.items()}), data


def problem(error: StepUpError) -> WebResult:
    """An error as a JSON problem document, with ``Retry-After`` where it applies."""
    headers = [("Content-Type", "application/problem+json")]
    if isinstance(error, Throttled):
        headers.append(("Retry-After", str(error.retry_after)))
    return WebResult(status=error.status, json=error.problem(), headers=headers)


def fail_closed(handler: F) -> F:
    """Let no :class:`StepUpError` escape a page handler or the route gate: one that does
    (the store or a sender went away in the middle of a request) is answered with its
    status (503 for those) by the handler's ``refused``, a problem document or a message
    page. Never a 500, and never the page or the protected view it guards. A request whose
    body was too large to read is answered 413 before the handler runs."""

    @functools.wraps(handler)
    def guarded(self: Any, req: WebRequest, *args: Any, **kwargs: Any) -> Flow[Any]:
        if req.too_large:  # the adapter stopped reading it: nothing here can use it
            return self.refused(req, RequestTooLarge(self.engine.settings.max_resume_body))
        try:
            return (yield from handler(self, req, *args, **kwargs))
        except StepUpError as error:
            return self.refused(req, error)

    return cast(F, guarded)


class WebCore:
    """Shared state of the handlers.

    :param engine: the adapter's engine (sync or async; the handlers are flows).
    :param config: the adapter's web configuration.
    """

    def __init__(self, engine: Engine | AsyncEngine, config: WebConfig) -> None:
        self.engine = engine
        self.config = config

    def url(self, name: str, **params: str) -> str:
        """The path of one of stepup's routes."""
        return self.config.prefix.rstrip("/") + _PATHS[name].format(**params)

    def nonce(self, req: WebRequest) -> str | None:
        """The per-login nonce challenges and resume tokens are bound to."""
        return grants.session_nonce(req.session, req.subject)

    def page_token(self, challenge_id: str, resume: str | None, next_url: str) -> str:
        """The signed token in a code page's URL."""
        return self.engine.keys.sign(_PAGE_SALT, {"c": challenge_id, "r": resume, "n": next_url})

    def read_page_token(self, token: str) -> dict[str, Any] | None:
        """The challenge id, resume token and next URL of a code page, or ``None`` when the
        token is forged, tampered with or too old."""
        s = self.engine.settings
        value = self.engine.keys.unsign(_PAGE_SALT, token, s.challenge_lifetime + s.challenge_retention)
        return value if isinstance(value, dict) and isinstance(value.get("c"), str) else None

    def usable(
        self, subject: str, *, app: str | None, route: str | None, methods: list[str] | None
    ) -> Flow[list[Binding]]:
        """The subject's bindings that policy and the route allow now."""
        e = self.engine
        policy = yield from flows.policy(e.context)
        allowed = policy.methods(app=app, route=route, subject=subject)
        bindings = yield from flows.bindings(e.context, subject)
        return [
            b for b in bindings if b.method in allowed and accepts(methods, b.method) and b.remaining != 0
        ]  # fmt: skip

    def challenge_view(self, challenge: Challenge) -> dict[str, Any]:
        """What the code page and the JSON API show of a challenge."""
        e = self.engine
        now = e.clock()
        method = e.methods.get(challenge.method)
        return {
            "method": challenge.method,
            "purpose": challenge.purpose,
            "target": method.label(challenge.target) if method and method.channel else None,
            "state": challenge.state,
            "attempts_left": challenge.attempts_left,
            "sends_left": challenge.sends_left,
            "expires_in": challenge.seconds_left(now),
            "resend_in": challenge.resend_in(now, e.settings.resend_cooldown) if challenge.sends_left else None,
            "operation": challenge.operation,
            "delivered": bool(method and method.channel),
            # Set when the code could not go the usual way and went by a fallback.
            "notice": challenge.notice,
        }

    def device_cookie(self, token: str, *, max_age: int | None = None) -> tuple[str, str]:
        """The ``Set-Cookie`` header of a remembered browser (``max_age=0`` expires it)."""
        if max_age is None:
            max_age = self.engine.settings.trusted_device_days * 86400
        secure = "; Secure" if self.config.secure_cookies else ""
        value = f"{self.config.device_cookie}={token}; Max-Age={max_age}; Path=/; HttpOnly; SameSite=Lax{secure}"
        return ("Set-Cookie", value)
