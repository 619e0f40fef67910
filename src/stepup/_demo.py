"""``stepup demo``: every flow of the core, on a throw-away in-memory store.

Messages print as they are sent (as the ``console://`` sender does); the walkthrough reads
each code back from them, or asks for it with ``--interactive``.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable

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


class _Demo:
    """The walkthrough's engine and outbox, and how it types a code."""

    def __init__(self, *, interactive: bool) -> None:
        self.interactive = interactive
        self.sender = _ShowingSender()
        self.engine = Engine(
            secret_key=secrets.token_urlsafe(32), store_url="memory://", app_name="Demo Bank",
            sms=self.sender, email=self.sender, limit_challenges_per_subject="50/15 minutes",
        )  # fmt: skip

    def code(self, prompt: str = "code") -> str:
        """The code of the last message, as a user would type it (asked for with ``--interactive``)."""
        if self.interactive:
            return input(f"  enter the {prompt}: ").strip()
        found = re.search(r"\b\d{4,10}\b", self.sender.outbox[-1].body)
        typed = found.group() if found else ""
        print(f"  > typing {typed}")
        return typed

    def attempt(self, challenge_id: str, typed: str) -> None:
        """Try ``typed`` on the challenge and print whether it passed."""
        try:
            self.engine.verify(challenge_id, typed, subject="alice")
            print("  approved")
        except StepUpError as e:
            print(f"  refused ({e.status}): {e.message}")


def _bind_phone(demo: _Demo) -> None:
    engine = demo.engine
    bind = engine.begin_bind("alice", "sms", "+44 7400 123456")
    print(f"  bindings before the code: {engine.bindings('alice')}")
    approval = engine.verify(bind.challenge.id, demo.code(), subject="alice")
    print(f"  bound: {approval.binding.label if approval.binding else '?'}")


def _step_up(demo: _Demo) -> None:
    engine = demo.engine
    session: dict[str, object] = {}
    begin_login(session, "alice", identity_source="password", hold=True)
    challenge = engine.start("alice", "sms", "step_up")
    demo.attempt(challenge.id, "000000")
    typed = demo.code()
    engine.verify(challenge.id, typed, subject="alice")
    record_factor(session, "alice", "sms", engine.clock())
    fresh = satisfies(session, "alice", max_age=300, now=engine.clock())
    print(f"  approved; a route with max_age=300 now passes: {fresh}")


def _operation(demo: _Demo) -> None:
    engine = demo.engine
    operation = {"to": "bob", "amount": "50.00"}
    challenge = engine.start(
        "alice", "sms", "operation", operation="transfer of 50.00 to bob", operation_data=operation,
        request={"method": "POST", "path": "/transfer", "body": "to=bob&amount=50.00"},
    )  # fmt: skip
    engine.verify(challenge.id, demo.code(), subject="alice")
    print(f"  replaying once: {engine.consume(challenge.id, subject='alice', operation_data=operation)}")
    try:
        engine.consume(challenge.id, subject="alice", operation_data=operation)
    except StepUpError as e:
        print(f"  a second replay is refused: {e.message}")


def _totp(demo: _Demo) -> None:
    engine = demo.engine
    totp = engine.begin_bind("alice", "totp")
    print(f"  {totp.provisioning_uri}")
    segno.make(totp.provisioning_uri or "").terminal(compact=True)
    app = pyotp.TOTP(totp.secret or "")
    if demo.interactive:
        typed = demo.code("code from your authenticator app")
    else:
        typed = app.at(engine.clock())
        print(f"  > typing {typed} (from the app)")
    engine.verify(totp.challenge.id, typed, subject="alice")
    challenge = engine.start("alice", "totp", "login")
    print("  the same code again, in the same 30 s step:")
    demo.attempt(challenge.id, typed)


def _recovery_codes(demo: _Demo) -> None:
    engine = demo.engine
    codes = engine.generate_recovery_codes("alice")
    print("  " + "  ".join(codes))
    challenge = engine.start("alice", "recovery", "login")
    demo.attempt(challenge.id, codes[0])
    challenge = engine.start("alice", "recovery", "login")
    print("  the same recovery code again:")
    demo.attempt(challenge.id, codes[0])


def _contact(demo: _Demo) -> None:
    request_id = demo.engine.contact.request("email", "Carol@Example.com")
    result = demo.engine.contact.check(request_id, demo.code())
    print(f"  verified {result.to}")


def _brute_force(demo: _Demo) -> None:
    challenge = demo.engine.start("alice", "sms", "step_up")
    for _ in range(4):
        demo.attempt(challenge.id, "999999")


def _bound(demo: _Demo) -> None:
    for b in demo.engine.bindings("alice"):
        print(f"  {b.method:<8} {b.label}")


#: the walkthrough, in order: each step's title and what it does.
_STEPS: tuple[tuple[str, Callable[[_Demo], None]], ...] = (
    ("1. alice binds her phone: the number waits in the challenge until its code passes", _bind_phone),
    ("2. step-up before a sensitive page: a wrong code, then the right one", _step_up),
    ("3. a risky operation: the message names it, the approval runs it once", _operation),
    ("4. alice adds an authenticator app (TOTP)", _totp),
    ("5. recovery codes: shown once, each works once", _recovery_codes),
    ("6. contact verification, Vonage Verify style: request, then check", _contact),
    ("7. brute force: three wrong codes exhaust a challenge", _brute_force),
    ("8. what alice has bound (masked)", _bound),
)


def run_demo(*, interactive: bool = False) -> None:
    """Walk through binding, step-up, operation approval, TOTP, recovery codes, contact
    verification and brute-force protection.

    :param interactive: ask for each code instead of reading it from the outbox.
    """
    demo = _Demo(interactive=interactive)
    for title, step in _STEPS:
        print(f"\n== {title}")
        step(demo)
    demo.engine.close()
    print("\nDone. `stepup --help` lists the admin commands.")
