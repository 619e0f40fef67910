"""``stepup demo``: every flow of the core, on a throw-away in-memory store.

Messages print as they are sent (as the ``console://`` sender does); the walkthrough reads
each code back from them, or asks for it with ``--interactive``.
"""

from __future__ import annotations

import re
import secrets

import pyotp
import segno

from ._errors import StepUpError
from ._models import Message
from .engine import Engine
from .grants import begin_login, record_factor, satisfies

__all__ = ["run_demo"]


class _ShowingSender:
    """Prints each message like ``console://`` and keeps it, so the demo can read it."""

    def __init__(self) -> None:
        self.outbox: list[Message] = []

    def send(self, message: Message) -> None:
        self.outbox.append(message)
        head = f"  [{message.channel} to {message.to}]"
        print(f"{head} {message.subject}\n      {message.body}" if message.subject else f"{head} {message.body}")


def _step(title: str) -> None:
    print(f"\n== {title}")


def run_demo(*, interactive: bool = False) -> None:
    """Walk through binding, step-up, operation approval, TOTP, recovery codes, contact
    verification and brute-force protection.

    :param interactive: ask for each code instead of reading it from the outbox.
    """
    sender = _ShowingSender()
    engine = Engine(
        secret_key=secrets.token_urlsafe(32),
        store_url="memory://",
        app_name="Demo Bank",
        sms=sender,
        email=sender,
        limit_challenges_per_subject="50/15 minutes",
    )

    def code(prompt: str = "code") -> str:
        if interactive:
            return input(f"  enter the {prompt}: ").strip()
        found = re.search(r"\b\d{4,10}\b", sender.outbox[-1].body)
        typed = found.group() if found else ""
        print(f"  > typing {typed}")
        return typed

    def attempt(challenge_id: str, typed: str) -> None:
        try:
            engine.verify(challenge_id, typed, subject="alice")
            print("  approved")
        except StepUpError as e:
            print(f"  refused ({e.status}): {e.message}")

    _step("1. alice binds her phone: the number waits in the challenge until its code passes")
    bind = engine.begin_bind("alice", "sms", "+44 7400 123456")
    print(f"  bindings before the code: {engine.bindings('alice')}")
    approval = engine.verify(bind.challenge.id, code(), subject="alice")
    print(f"  bound: {approval.binding.label if approval.binding else '?'}")

    _step("2. step-up before a sensitive page: a wrong code, then the right one")
    session: dict[str, object] = {}
    begin_login(session, "alice", identity_source="password", hold=True)
    challenge = engine.start("alice", "sms", "step_up")
    attempt(challenge.id, "000000")
    typed = code()
    engine.verify(challenge.id, typed, subject="alice")
    record_factor(session, "alice", "sms", engine.clock())
    fresh = satisfies(session, "alice", max_age=300, now=engine.clock())
    print(f"  approved; a route with max_age=300 now passes: {fresh}")

    _step("3. a risky operation: the message names it, the approval runs it once")
    operation = {"to": "bob", "amount": "50.00"}
    challenge = engine.start(
        "alice", "sms", "operation", operation="transfer of 50.00 to bob", operation_data=operation,
        request={"method": "POST", "path": "/transfer", "body": "to=bob&amount=50.00"},
    )  # fmt: skip
    engine.verify(challenge.id, code(), subject="alice")
    print(f"  replaying once: {engine.consume(challenge.id, subject='alice', operation_data=operation)}")
    try:
        engine.consume(challenge.id, subject="alice", operation_data=operation)
    except StepUpError as e:
        print(f"  a second replay is refused: {e.message}")

    _step("4. alice adds an authenticator app (TOTP)")
    totp = engine.begin_bind("alice", "totp")
    print(f"  {totp.provisioning_uri}")
    segno.make(totp.provisioning_uri or "").terminal(compact=True)
    app = pyotp.TOTP(totp.secret or "")
    if interactive:
        typed = code("code from your authenticator app")
    else:
        typed = app.at(engine.clock())
        print(f"  > typing {typed} (from the app)")
    engine.verify(totp.challenge.id, typed, subject="alice")
    challenge = engine.start("alice", "totp", "login")
    print("  the same code again, in the same 30 s step:")
    attempt(challenge.id, typed)

    _step("5. recovery codes: shown once, each works once")
    codes = engine.generate_recovery_codes("alice")
    print("  " + "  ".join(codes))
    challenge = engine.start("alice", "recovery", "login")
    attempt(challenge.id, codes[0])
    challenge = engine.start("alice", "recovery", "login")
    print("  the same recovery code again:")
    attempt(challenge.id, codes[0])

    _step("6. contact verification, Vonage Verify style: request, then check")
    request_id = engine.contact.request("email", "Carol@Example.com")
    result = engine.contact.check(request_id, code())
    print(f"  verified {result.to}")

    _step("7. brute force: three wrong codes exhaust a challenge")
    challenge = engine.start("alice", "sms", "step_up")
    for _ in range(4):
        attempt(challenge.id, "999999")

    _step("8. what alice has bound (masked)")
    for b in engine.bindings("alice"):
        print(f"  {b.method:<8} {b.label}")
    engine.close()
    print("\nDone. `stepup --help` lists the admin commands.")
