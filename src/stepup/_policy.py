"""Policy: which methods are on, and where a second factor is required.

Scopes are read from the least to the most specific: ``global``, then ``app:<name>``
(a Flask blueprint, an ASGI mount), ``route:<name>``, ``subject:<id>``. A scope sets only
what it names; the most specific setting wins. The decisions are pure functions of the
policy record, so the sync and async engines share them.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from ._config import Settings
from ._errors import InvalidInput

__all__ = ["Policy", "scope_name"]

_SCOPE_KINDS = ("app", "route", "subject")
#: method sets a policy remembers, per app, route and subject scope; emptied when full.
_MEMO_MAX = 4096


def scope_name(kind: str, name: str = "") -> str:
    """The key of a scope: ``global`` or ``<kind>:<name>``.

    :raises InvalidInput: for an unknown kind or an empty name.
    """
    if kind == "global":
        return "global"
    if kind not in _SCOPE_KINDS or not name:
        raise InvalidInput(f"A policy scope is 'global' or one of {', '.join(_SCOPE_KINDS)} with a name.")
    return f"{kind}:{name}"


@dataclass(frozen=True)
class Policy:
    """A snapshot of the policy.

    :ivar record: ``{"scopes": {scope: {"methods": {name: bool}, "login_2fa": bool}},
        "identity_sources": {source: bool}, "bind_on_first_login": bool}``.
    """

    record: dict[str, Any]
    #: :meth:`methods` as worked out for each place asked (a snapshot never changes).
    _methods: dict[tuple[str | None, ...], frozenset[str]] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )
    #: the subjects with a scope of their own; any other is asked for as nobody.
    _subjects: frozenset[str] = field(default=frozenset(), init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        scopes = self.record["scopes"]
        object.__setattr__(self, "_subjects", frozenset(s[8:] for s in scopes if s.startswith("subject:")))

    @classmethod
    def defaults(cls, settings: Settings, method_names: Iterable[str]) -> Policy:
        """The policy before any admin change, from the settings.

        :param settings: the app's settings.
        :param method_names: every registered method.
        """
        return cls(
            {
                "scopes": {
                    "global": {
                        "methods": {m: m in settings.methods for m in sorted(method_names)},
                        "login_2fa": settings.login_2fa,
                    }
                },
                "identity_sources": dict(settings.identity_sources),
                "bind_on_first_login": settings.bind_on_first_login,
            }
        )

    def merged_with(self, stored: dict[str, Any] | None) -> Policy:
        """This (default) policy with what an admin stored laid over it."""
        if not stored:
            return self
        record = copy.deepcopy(self.record)
        for scope, values in stored.get("scopes", {}).items():
            target = record["scopes"].setdefault(scope, {})
            for key, value in values.items():
                if isinstance(value, dict):
                    target.setdefault(key, {}).update(value)
                else:
                    target[key] = value
        record["identity_sources"].update(stored.get("identity_sources", {}))
        if "bind_on_first_login" in stored:
            record["bind_on_first_login"] = stored["bind_on_first_login"]
        return Policy(record)

    def _scopes(self, app: str | None, route: str | None, subject: str | None) -> list[dict[str, Any]]:
        scopes = self.record["scopes"]
        names = ["global"]
        names += [f"app:{app}"] if app else []
        names += [f"route:{route}"] if route else []
        names += [f"subject:{subject}"] if subject else []
        return [scopes[n] for n in names if n in scopes]

    def methods(
        self, *, app: str | None = None, route: str | None = None, subject: str | None = None
    ) -> frozenset[str]:
        """The methods switched on where ``app``, ``route`` and ``subject`` meet."""
        return self.methods_at(app, route, subject)

    def methods_at(self, app: str | None, route: str | None, subject: str | None) -> frozenset[str]:
        """:meth:`methods`, positional: a protected request under a policy that switches
        methods per app or route asks it (:mod:`stepup.engine._policy_cache`)."""
        # Remembered: every start, every code checked and such a request ask, most for the
        # same places. A subject without a scope of its own is asked for as nobody, so
        # there is one answer for all of them, not one each.
        key = (app, route, subject if subject in self._subjects else None)
        found = self._methods.get(key)
        if found is None:
            on: dict[str, bool] = {}
            for scope in self._scopes(app, route, key[2]):
                on.update(scope.get("methods", {}))
            if len(self._methods) >= _MEMO_MAX:
                self._methods.clear()
            found = self._methods[key] = frozenset(m for m, enabled in on.items() if enabled)
        return found

    def login_2fa(
        self, *, subject: str | None = None, app: str | None = None, identity_source: str | None = None
    ) -> bool:
        """Whether a login needs a second factor.

        A subject scope that enforces 2FA wins over everything; otherwise the global and
        app switches decide, and an identity source switched off (say ``sso``) is exempt.
        """
        enforced = self.record["scopes"].get(f"subject:{subject}", {}).get("login_2fa") if subject else None
        if enforced is not None:
            return bool(enforced)
        required = False
        for scope in self._scopes(app, None, None):
            required = scope.get("login_2fa", required)
        if identity_source is not None:
            required = required and self.record["identity_sources"].get(identity_source, True)
        return bool(required)

    def login_2fa_somewhere(self, *, subject: str | None = None, identity_source: str | None = None) -> bool:
        """Whether a login needs a second factor for some request: globally (a request
        that belongs to no app) or in at least one app. The login hold then decides each
        request by :meth:`login_2fa` for the request's app.
        """
        enforced = self.record["scopes"].get(f"subject:{subject}", {}).get("login_2fa") if subject else None
        if enforced is not None:
            return bool(enforced)
        scopes = self.record["scopes"]
        required = bool(scopes.get("global", {}).get("login_2fa", False)) or any(
            bool(values.get("login_2fa")) for name, values in scopes.items() if name.startswith("app:")
        )
        if identity_source is not None:
            required = required and self.record["identity_sources"].get(identity_source, True)
        return bool(required)

    @property
    def bind_on_first_login(self) -> bool:
        """Whether a user with nothing bound is asked to bind a method at login."""
        return bool(self.record["bind_on_first_login"])


def apply_change(stored: dict[str, Any] | None, change: dict[str, Any]) -> dict[str, Any]:
    """The stored policy with one admin change applied (used inside an atomic update).

    :param change: ``{"scope": ..., "method": name, "enabled": bool}``,
        ``{"scope": ..., "login_2fa": bool}``, ``{"identity_source": name, "enabled": bool}``
        or ``{"bind_on_first_login": bool}``.
    """
    record = copy.deepcopy(stored) if stored else {"scopes": {}, "identity_sources": {}}
    if "identity_source" in change:
        record.setdefault("identity_sources", {})[change["identity_source"]] = change["enabled"]
    elif "bind_on_first_login" in change:
        record["bind_on_first_login"] = change["bind_on_first_login"]
    else:
        scope = record.setdefault("scopes", {}).setdefault(change["scope"], {})
        if "method" in change:
            scope.setdefault("methods", {})[change["method"]] = change["enabled"]
        if "login_2fa" in change:
            scope["login_2fa"] = change["login_2fa"]
    return record
