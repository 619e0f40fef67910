"""What an administrator changes: the policy (methods on or off, 2FA at login, identity
sources, binding at first login), persisted and in force in this process at once."""

from __future__ import annotations

from typing import Any

from .._errors import InvalidInput
from .._i18n import T
from .._policy import Policy, apply_change, scope_name
from ._context import Context
from ._effects import POLICY, Flow, update
from ._records import read_policy

__all__ = ["policy", "set_bind_on_first_login", "set_identity_source", "set_login_2fa", "set_method"]


def policy(ctx: Context) -> Flow[Policy]:
    """The policy in force: the settings' defaults with the admin's changes over them."""
    return (yield from read_policy(ctx))


def set_method(
    ctx: Context, method: str, enabled: bool, scope: str = "global", name: str = "", *, by: str | None = None
) -> Flow[None]:
    """Switch a method on or off globally or for an app, route or subject; persisted.

    :param scope: ``global``, ``app``, ``route`` or ``subject``.
    :param name: the app, route or subject.
    :param by: the admin who made the change, for the audit event.
    """
    ctx.method(method)
    change = {"scope": scope_name(scope, name), "method": method, "enabled": bool(enabled)}
    yield from _change_policy(ctx, change, by)


def set_login_2fa(
    ctx: Context, enabled: bool, scope: str = "global", name: str = "", *, by: str | None = None
) -> Flow[None]:
    """Require (or stop requiring) a second factor at login, globally, per app, or for
    one subject (enforced 2FA).

    :param by: the admin who made the change, for the audit event.
    """
    yield from _change_policy(ctx, {"scope": scope_name(scope, name), "login_2fa": bool(enabled)}, by)


def set_identity_source(ctx: Context, source: str, required: bool, *, by: str | None = None) -> Flow[None]:
    """Whether logins from ``source`` (``password``, ``sso``...) need a second factor.

    :param by: the admin who made the change, for the audit event.
    """
    if not source:
        raise InvalidInput(T("Name the identity source, e.g. password or sso."))
    yield from _change_policy(ctx, {"identity_source": source, "enabled": bool(required)}, by)


def set_bind_on_first_login(ctx: Context, enabled: bool) -> Flow[None]:
    """Whether a user with nothing bound must bind a method at login."""
    yield from _change_policy(ctx, {"bind_on_first_login": bool(enabled)})


def _change_policy(ctx: Context, change: dict[str, Any], by: str | None = None) -> Flow[None]:
    def change_it(record: dict[str, Any] | None) -> tuple[dict[str, Any], dict[str, Any]]:
        new = apply_change(record, change)
        return new, new

    stored = yield from update(ctx, POLICY, POLICY, change_it, None)
    # In force at once in this process; other processes read it within policy_refresh.
    ctx.policy_cache.keep(stored, ctx.clock())
    ctx.emit("policy_changed", None, subject=by, detail=change)
