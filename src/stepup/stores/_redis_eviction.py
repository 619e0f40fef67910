"""Whether a Redis server may lose stepup's keys: its ``maxmemory-policy`` and
``appendonly``, judged.

Bindings and the policy are kept without a TTL; challenges, resume records, rate-limit
counters, failure counts and locks, remembered browsers and TOTP replay markers carry
one (they end by themselves). So:

- ``allkeys-*`` may evict any key: a subject whose bindings are evicted looks like one
  with nothing bound, whom a password alone may send to bind a new phone, and an evicted
  policy falls back to the settings' defaults;
- ``volatile-*`` evicts only keys with a TTL: failure counts, locks and replay markers,
  so brute-force limits and the single use of a TOTP code weaken;
- ``noeviction`` evicts nothing: a full Redis refuses writes, which stepup answers with
  503 (fail closed).

And a Redis without ``appendonly yes`` loses every write since its last snapshot (all of
them without one) when it restarts: bindings and the policy too. That is logged as a
warning, never refused: a Redis for tests or a demo runs that way on purpose.

Pure; :mod:`stepup.stores._redis` reads both settings on the store's first use.
"""

from __future__ import annotations

import logging
from typing import Any

from .._errors import StoreUnavailable

__all__ = ["CONFIG_NAMES", "check_eviction", "policies_in"]

logger = logging.getLogger("stepup.store")
_SAFE = "noeviction"
_NAME = "maxmemory-policy"
_PERSISTENCE = "appendonly"
#: what the store asks ``CONFIG GET`` for, in one command.
CONFIG_NAMES = (_NAME, _PERSISTENCE)


def policies_in(reply: Any, name: str = _NAME) -> list[str]:
    """The values of ``name`` (``maxmemory-policy`` by default) in a ``CONFIG GET``
    reply: one server's ``{name: value}``, or a cluster's ``{node: {name: value}}``."""
    if not isinstance(reply, dict):
        return []
    found: list[str] = []
    for key, value in reply.items():
        key = key.decode() if isinstance(key, bytes) else key
        if isinstance(value, dict):
            found += policies_in(value, name)
        elif key == name and value is not None:
            found.append(value.decode() if isinstance(value, bytes) else str(value))
    return found


def check_persistence(display: str, reply: Any) -> None:
    """Log a warning when a server (or a node of a cluster) runs without ``appendonly yes``.

    :param display: the store's URL without credentials, for the log.
    :param reply: what ``CONFIG GET`` gave (an error when it was refused: nothing is said,
        the eviction check reports that already).
    """
    if any(value != "yes" for value in policies_in(reply, _PERSISTENCE)):
        logger.warning(
            "The Redis store at %s runs without appendonly yes: a restart loses the writes since the last "
            "snapshot, bindings and policy included, and a subject whose binding is lost may be sent to bind "
            "a new one. See docs/redis.md.",
            display,
        )


def _risk(policy: str | None) -> str | None:
    if policy == _SAFE:
        return None
    if policy is None:
        return f"its {_NAME} cannot be read (CONFIG GET is refused), so it may evict stepup's keys"
    if policy.startswith("allkeys-"):
        return f"{_NAME} {policy} may evict any key, bindings and policy included"
    if policy.startswith("volatile-"):
        return f"{_NAME} {policy} may evict keys with a TTL: failure counts, locks and one-time-code markers"
    return f"{_NAME} {policy} may evict keys"


def check_eviction(display: str, policies: list[str] | None, *, require: bool) -> bool:
    """Judge the policies a server (or each node of a cluster) reports.

    :param display: the store's URL without credentials, for the log.
    :param policies: what ``CONFIG GET maxmemory-policy`` gave, ``None`` when it was refused.
    :param require: refuse a policy that may evict, rather than log a warning.
    :returns: whether the check is done for good (a warning logged counts as done).
    :raises StoreUnavailable: ``require`` and the policy may evict (checked again on the
        next use, so setting ``noeviction`` needs no restart).
    """
    risks = [r for r in (_risk(p) for p in (policies if policies else [None])) if r is not None]
    if not risks:
        return True
    text = (
        f"The Redis store at {display}: {risks[0]}. Bindings and policy need a Redis with "
        f"{_NAME} noeviction and persistence (appendonly yes); see docs/redis.md."
    )
    if require:
        logger.error("%s Refused: STEPUP_STORE_REQUIRE_NOEVICTION is on.", text)
        raise StoreUnavailable(
            f"The Redis store may lose sign-in methods ({_NAME} is not noeviction); it is refused until that is fixed."
        )
    logger.warning(text)
    return True
