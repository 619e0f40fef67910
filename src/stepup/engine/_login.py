"""What a fresh login needs: a second factor or not, with which bindings, a binding
first, or support (the rules are :mod:`stepup.engine._enrolment`)."""

from __future__ import annotations

from .._models import LoginDecision
from .._policy import Policy
from ._bindings import bindings
from ._context import Context
from ._effects import Flow
from ._enrolment import password_may_enrol, refusal
from ._records import read_policy

__all__ = ["login_decision", "login_somewhere"]


def login_decision(
    ctx: Context, subject: str, *, identity_source: str | None = None, app: str | None = None
) -> Flow[LoginDecision]:
    """What a fresh login of ``subject`` needs: a second factor or not, with which of
    their bindings, a binding first, or support (``refused``: see
    :mod:`stepup.engine._enrolment`).

    :param app: the app (blueprint, mount) the login is for; ``None``: a request that
        belongs to no app, which the global setting decides.
    """
    policy = yield from read_policy(ctx)
    required = policy.login_2fa(subject=subject, app=app, identity_source=identity_source)
    return (yield from _decide(ctx, policy, subject, required, app))


def login_somewhere(ctx: Context, subject: str, *, identity_source: str | None = None) -> Flow[LoginDecision]:
    """What a fresh login needs for the requests that ask most: a second factor when the
    policy asks one globally or in any app (the login hold then lets a held login into
    the apps that ask none), with the methods on globally."""
    policy = yield from read_policy(ctx)
    required = policy.login_2fa_somewhere(subject=subject, identity_source=identity_source)
    return (yield from _decide(ctx, policy, subject, required))


def _decide(ctx: Context, policy: Policy, subject: str, required: bool, app: str | None = None) -> Flow[LoginDecision]:
    if not required:
        return LoginDecision(required=False)
    allowed = policy.methods(app=app, subject=subject)
    bound = yield from bindings(ctx, subject)
    usable = tuple(b for b in bound if b.method in allowed and b.remaining != 0)
    must_bind = password_may_enrol(policy, bound, login_2fa=True, held=True)
    # Every method but recovery codes (made, not bound), plug-ins included, in the
    # order they were registered: the built-in ones first.
    bindable = tuple(m for m in ctx.methods if m != "recovery" and m in allowed) if must_bind else ()
    refused = refusal(bound, usable, may_enrol=must_bind)
    return LoginDecision(required=True, bindings=usable, must_bind=must_bind, bind_methods=bindable, refused=refused)
