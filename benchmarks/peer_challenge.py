"""3c. The challenge path against Flask-Security-Too: one SMS code sent and checked.

One interleaved run of five cases, wall time on one thread, each an SMS code made, sent to
a sender that keeps it, and checked right:

- Flask-Security-Too 5 (its two-factor SMS code path): ``tf_send_security_token`` then
  ``totp_factory.verify_totp`` with its SMS window, for a user of its SQLAlchemy datastore
  on SQLite (a file), inside an app context, as its ``/tf-validate`` view calls them.
- stepup: ``Engine.start`` then ``Engine.verify`` on memory://, sqlite:/// and redis://.

and, in the same rounds, the same code through each side's HTTP surface
(:mod:`benchmarks.peer_http`).

What each does per code is not the same, and the page says so beside the figures
(:data:`WHAT_EACH_DOES`).
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ._harness import Samples, interleave

__all__ = ["WHAT_EACH_DOES", "run"]

_CODE = re.compile(r"(?<!\d)(\d{6})(?!\d)")

#: what each side does per operation over HTTP, in words, for the page.
OVER_HTTP = {
    "Flask-Security-Too": (
        "`POST /login` as JSON checks the password (stored in plain text here, so no hashing "
        "cost), finds that the user has SMS two-factor, makes and sends the code as above and "
        "keeps the half-done login in the session; `POST /tf-validate` checks the code as above "
        "and signs the user in. Its login without two-factor (a user without it, `POST /login` "
        "alone) is taken off, round by round"
    ),
    "stepup JSON API": (
        "`POST /stepup/api/challenges` and `POST /stepup/api/challenges/<id>/verify` on the Flask "
        "example bank, for a user signed in and past a first factor: the session read and the "
        "grant log checked, the start and verify above (with the client's rate limits and the "
        "audit trail), the factor recorded in the session, JSON answers"
    ),
    "stepup pages": (
        "a new browser signs in on the Flask example bank (`GET /login`, `POST /login` with its "
        "CSRF token) and passes its login's second factor through the pages: the held login "
        "sent to the choose page, the choose page and its form, the code page and its form, "
        "each rendered from templates with CSRF tokens; the sign-in without them is taken off, "
        "round by round"
    ),
}

#: what each side does for one code, in words, for the page.
WHAT_EACH_DOES = {
    "Flask-Security-Too": (
        "makes a code from the user's TOTP secret, which it first decrypts (passlib's TOTP, "
        "its secret encrypted at rest with PBKDF2-derived keys), renders and sends the SMS; "
        "then decrypts the secret again and checks the code against the time window. Nothing "
        "is stored per code: no challenge record, no attempt counter, no single-use check (a "
        "code stays good for its whole window), no rate limit"
    ),
    "stepup": (
        "reads the policy and the subject's binding, checks the method's lock, charges five "
        "rate limits (subject, session, number, country, prefix), makes a random code and "
        "stores a challenge holding its keyed digest, all in one atomic store step, and sends "
        "the SMS; then reads the challenge, checks the back-off, compares the digest in "
        "constant time and marks the challenge approved, single use, with its attempt count, "
        "in a second atomic step"
    ),
}


class _Keep:
    """Flask-Security-Too's SMS sender that keeps the last message's code."""

    code = ""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        pass

    def send_sms(self, from_number: str, to_number: str, msg: str) -> None:
        match = _CODE.search(msg)
        _Keep.code = match.group(1) if match else ""


def fst_case(folder: Path) -> Callable[[int], None]:
    """Flask-Security-Too's SMS code path, as a batch function."""
    from flask_security.twofactor import tf_send_security_token

    from ._fst import fst_sms_app

    app, db, datastore, security = fst_sms_app("bench_fst_tf", f"sqlite:///{folder / 'fst.sqlite3'}", _Keep)
    window = app.config.get("SECURITY_TWO_FACTOR_SMS_VALIDITY", 120)

    def run(n: int) -> None:
        with app.app_context():
            for _ in range(n):
                user = datastore.find_user(email="alice@example.com")
                tf_send_security_token(user, "sms", user.tf_totp_secret, user.tf_phone_number)
                if not security.totp_factory.verify_totp(_Keep.code, user.tf_totp_secret, user, window=window):
                    raise RuntimeError("Flask-Security-Too refused its own code")

    run(1)
    return run


def run(folder: Path, redis_url: str | None, *, rounds: int, batch: int) -> Samples:
    """The library cases and the HTTP cases, interleaved (redis:// left out without a server)."""
    from . import challenge_path as cp
    from . import peer_http

    cases: dict[str, Callable[[int], None]] = {"Flask-Security-Too, SQLAlchemy on SQLite": fst_case(folder)}
    urls = {"memory://": "memory://", "sqlite:///": f"sqlite:///{folder / 'stepup.sqlite3'}"}
    if redis_url is not None:
        urls["redis://"] = redis_url
    engines = []
    for name, url in urls.items():
        engine, outbox = cp._engine(url)  # noqa: SLF001
        users = cp._Users(engine, base=800_000, count=(rounds + 1) * batch // 4 + 10)  # noqa: SLF001
        for user in users.names:
            challenge = engine.start(user, "sms", session="bench-login-nonce")
            engine.verify(challenge.id, outbox.code, subject=user, session="bench-login-nonce")
        cases[f"stepup, {name}"] = cp._start_verify(cp.Fill(0, engine, outbox), users)  # noqa: SLF001
        engines.append(engine)
    cases.update(peer_http.fst_cases(folder))
    cases.update(peer_http.stepup_cases("sqlite:///", f"sqlite:///{folder / 'stepup-http.sqlite3'}", folder))
    if redis_url is not None:
        over_redis = peer_http.stepup_cases("redis://", redis_url.rsplit("/", 1)[0] + "/11", folder)
        cases.update({name: case for name, case in over_redis.items() if "JSON" in name})
    samples = interleave(cases, rounds=rounds, batch=batch, clock=time.perf_counter)
    for engine in engines:
        engine.close()
    return samples
