"""The two example banks as the load test serves them: the examples' own ``create_app``,
with users for the load clients added.

Every load client signs in as a user of its own (``load0``, ``load1``...), each with a
number of their own, so that each can read its own codes from the outbox. The rate limits
are raised: every request comes from 127.0.0.1, every number has one prefix, and each
client signs in as its user again and again (the examples' own limits stop a user after
15 sign-ins in 15 minutes, which is them doing their job, not a load to measure).

Configured by environment: ``BENCH_LOAD_USERS`` (how many), and the examples' own
``STEPUP_STORE_URL``, ``STEPUP_SMS_URL``, ``DEMO_BANK_DB``.
"""

from __future__ import annotations

import os
from typing import Any

from examples import _bank

__all__ = ["flask_app", "load_users", "starlette_app"]

_RAISED = {
    "STEPUP_LIMIT_VERIFICATIONS_PER_CLIENT": "100000000/minute",
    "STEPUP_LIMIT_SMS_PER_COUNTRY": "100000000/day",
    "STEPUP_LIMIT_SMS_PER_PREFIX": "100000000/day",
    "STEPUP_LIMIT_CHALLENGES_PER_SUBJECT": "1000000/15 minutes",
    "STEPUP_LIMIT_CHALLENGES_PER_TARGET": "1000000/15 minutes",
    "STEPUP_LIMIT_SENDS_PER_TARGET": "1000000/hour",
    "STEPUP_LIMIT_BOUND_CHALLENGES_PER_TARGET": "1000000/15 minutes",
    "STEPUP_LIMIT_BOUND_SENDS_PER_TARGET": "1000000/hour",
    # each client saves a request to replay in every flow (one a transfer)
    "STEPUP_LIMIT_RESUMES_PER_SUBJECT": "1000000/15 minutes",
    "STEPUP_LIMIT_RESUMES_PER_LOGIN": "1000000/15 minutes",
    # every client is 127.0.0.1, and a run sends thousands of codes an hour
    "STEPUP_LIMIT_CHALLENGES_PER_CLIENT": "100000000/15 minutes",
    "STEPUP_LIMIT_SMS_TOTAL": "100000000/hour",
    "STEPUP_LIMIT_BOUND_SMS_TOTAL": "100000000/hour",
}


def load_users(count: int | None = None) -> list[tuple[str, str, str]]:
    """``(user, password, number)`` of each load client."""
    n = int(os.environ.get("BENCH_LOAD_USERS", "16")) if count is None else count
    return [(f"load{i}", f"load{i}-password", f"+447700900{100 + i:03d}") for i in range(n)]


def _add_users() -> None:
    users = load_users()
    for user, password, _ in users:
        _bank.USERS[user] = password
    shipped = _bank.demo_bindings

    def bindings() -> list[tuple[str, str, str | None, str | None]]:
        return [*shipped(), *((user, "sms", number, None) for user, _, number in users)]

    if getattr(shipped, "__name__", "") != "bindings":
        _bank.demo_bindings = bindings  # type: ignore[assignment]


def flask_app() -> Any:
    """The Flask bank (for ``gunicorn 'benchmarks._servers:flask_app()'``)."""
    from examples.flask_app import create_app

    _add_users()
    return create_app(dict(_RAISED))


def starlette_app() -> Any:
    """The Starlette bank (for ``uvicorn --factory benchmarks._servers:starlette_app``)."""
    from examples.starlette_app import create_app

    _add_users()
    return create_app(dict(_RAISED))
