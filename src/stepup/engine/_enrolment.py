"""Who may bind a second factor with nothing but a password, and who cannot sign in.

A password is the one factor an attacker who phished it has. Binding a method with it
alone is allowed only where there is no second factor to ask for instead: a subject with
no sign-in method bound at all, and, at a login that needs a second factor, only while
the policy binds at first login. A subject whose bound methods are all switched off is
not such a subject: their methods still say who they are, so they are refused and sent
to support rather than offered a new method that the password alone would choose.

Recovery codes are a backup of a sign-in method, never a first factor of their own: they
are made (and shown, once) only for a subject with a sign-in method bound, and only with
a fresh second factor. Made with a password alone, they would let whoever holds the
password sign in after the real user binds a phone. Codes left from before a first
sign-in method (made before this rule, or kept when every method was removed) stand for
nothing the password does not, so binding a first method drops them.

Every path that could enrol a factor or start a login's challenge reads this one rule:
the login hold, the choose page, each bind page, the recovery-codes page and the JSON
API. Pure functions, shared by the sync and async engines.
"""

from __future__ import annotations

from collections.abc import Iterable

from .._models import Binding
from .._policy import Policy

__all__ = ["password_may_enrol", "recovery_codes_refusal", "refusal"]


def _signs_in(binding: Binding) -> bool:
    # Recovery codes are the way back in when a method is lost, not a method to bind
    # others with: a subject who holds only those binds a first method like one who has none.
    return binding.method != "recovery"


def recovery_codes_refusal(bindings: Iterable[Binding], *, fresh: bool) -> str | None:
    """Why recovery codes may not be made now, or ``None`` when they may.

    :param bindings: every binding of the subject.
    :param fresh: the session passed a second factor within ``sensitive_max_age`` (a
        held login, or one that passed only its password, never has).
    :returns: ``"nothing_to_back_up"`` without a sign-in method bound, ``"second_factor"``
        without a fresh second factor.
    """
    if not any(_signs_in(b) for b in bindings):
        return "nothing_to_back_up"
    return None if fresh else "second_factor"


def password_may_enrol(policy: Policy, bindings: Iterable[Binding], *, login_2fa: bool, held: bool) -> bool:
    """Whether the subject may bind a method with only a password, no fresh second factor.

    Only with nothing bound, and then: where the policy lets a password alone sign in
    (binding adds a factor, it lowers nothing), or at a login held for its second factor
    when the policy binds one at first login. A login that settled before its subject
    lost every method (an admin's reset for a lost phone) binds nothing with its password:
    it may be the thief's, still signed in; it signs in again, and that login binds.

    :param policy: the policy in force.
    :param bindings: every binding of the subject, whether the policy allows it or not.
    :param login_2fa: the policy asks this subject's logins for a second factor.
    :param held: this session's login waits for its second factor now.
    """
    if any(_signs_in(b) for b in bindings):
        return False
    if not login_2fa:
        return True
    return held and policy.bind_on_first_login


def refusal(bindings: Iterable[Binding], usable: Iterable[Binding], *, may_enrol: bool) -> str | None:
    """Why a subject can neither verify nor bind, as a :class:`~stepup.SignInRefused`
    reason; ``None`` when they can do one of the two.

    :param bindings: every binding of the subject.
    :param usable: the bindings the policy allows here (recovery codes included).
    :param may_enrol: what :func:`password_may_enrol` says.
    """
    if may_enrol or any(True for _ in usable):
        return None
    return "methods_off" if any(_signs_in(b) for b in bindings) else "nothing_bound"
