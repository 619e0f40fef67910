"""The policy as this process last read it, so that a request with a valid grant is
checked against the methods its app allows now without reading the store.

An admin's change made through an engine is in force at once in that engine's process.
A change made by another process (another instance, the ``stepup`` command) is read from
the store by the first request after ``policy_refresh`` seconds that needs the policy: a
protected request whose grant would otherwise pass finds the policy older than that, so
it takes the slow path, which re-reads the policy and then checks the grant against it.
Every other request after a change sees it within ``policy_refresh`` seconds, and at most
one store read per ``policy_refresh`` seconds and process is spent on it.

Pure: no I/O here; the engine's flows read the store and hand the record to :meth:`keep`.
"""

from __future__ import annotations

import math
from typing import Any

from .._policy import Policy

__all__ = ["PolicyCache"]


class _View:
    """One policy as read, with what the grant check derives from it. Replaced whole when
    the policy changes, so that a thread checking a grant meanwhile sees the old one or
    the new one, never a mix of the two."""

    __slots__ = ("all_on", "policy", "uniform")

    def __init__(self, policy: Policy) -> None:
        scopes = policy.record["scopes"]
        scoped = any(name != "global" and values.get("methods") for name, values in scopes.items())
        self.policy = policy
        #: the methods allowed everywhere, when no app, route or subject scope switches one.
        self.uniform: frozenset[str] | None = None if scoped else policy.methods()
        #: every method is on everywhere: a grant of any method counts wherever it is fresh.
        self.all_on = self.uniform is not None and self.uniform >= set(scopes["global"]["methods"])

    def allowed(self, app: str | None, route: str | None, subject: str) -> frozenset[str]:
        """The methods allowed where ``app``, ``route`` and ``subject`` meet (the policy
        remembers each answer: :meth:`stepup._policy.Policy.methods_at`)."""
        if self.uniform is not None:
            return self.uniform
        return self.policy.methods_at(app, route, subject)


class PolicyCache:
    """The policy last read, and the methods it allows where routes ask.

    :param defaults: the policy from the settings, before any admin change.
    :param refresh: seconds after which the policy is read from the store again.
    """

    def __init__(self, defaults: Policy, refresh: float) -> None:
        self.defaults = defaults
        self.refresh = refresh
        #: the policy as last read, and what the grant check derives from it.
        self.view = _View(defaults)
        #: when the policy was last read from the store (``None``: never).
        self.read_at: float | None = None
        #: ``(until, allowed)``: until when the policy allows the same methods everywhere
        #: as far as this process knows, and those methods (``None``: every one). Before
        #: then, a grant check needs no look-up of its app or route (the common case: the
        #: default policy, with passkeys off, is one). One attribute, so that a thread
        #: checking a grant while another stamps a new policy reads both of one policy.
        self.fast: tuple[float, frozenset[str] | None] = (-math.inf, None)

    @property
    def policy(self) -> Policy:
        """The policy as last read (the settings' defaults before any read)."""
        return self.view.policy

    def current(self, now: float) -> Policy | None:
        """The policy, or ``None`` when it is due to be read again."""
        if self.read_at is None or now - self.read_at >= self.refresh:
            return None
        return self.view.policy

    def keep(self, stored: dict[str, Any] | None, now: float) -> Policy:
        """Take the stored policy record as read at ``now``; returns the policy in force."""
        policy = self.defaults.merged_with(stored)
        if policy.record != self.view.policy.record:
            # The fast path off first: a grant checked meanwhile takes the slow one, which
            # reads the new view, never the old policy's methods under the new one's time.
            self.fast = (-math.inf, None)
            self.view = _View(policy)
        self._stamp(now)
        return self.view.policy

    def postpone(self, now: float) -> None:
        """Keep the policy last read for another ``refresh`` seconds: the store could not be
        read (it is down), and no change can be written to it meanwhile either."""
        if self.read_at is not None:
            self._stamp(now)

    def _stamp(self, now: float) -> None:
        """The policy counts as read at ``now``: the hot path may skip its per-app look-up
        until ``refresh`` seconds later, when no app, route or subject scope switches a method."""
        self.read_at = now
        view = self.view
        uniform = view.uniform
        self.fast = (-math.inf, None) if uniform is None else (now + self.refresh, None if view.all_on else uniform)
