"""Nothing secret reaches a log record or an audit event: no code, no full phone number, no
email address, no TOTP secret."""

from __future__ import annotations

import logging
import re

import pyotp
import pytest

import stepup

PHONE = "+44 7400 123456"
SECRET_FORMS = ["+447400123456", "447400123456", "7400123456", "7400 123456", "alice.smith@example.com", "alice.smith"]


def _wrong(code: str) -> str:
    return str((int(code) + 1) % 10 ** len(code)).zfill(len(code))


def _full_flow(kit) -> tuple[str, list[str]]:
    """Everything a user does, end to end; returns the TOTP secret and every code used."""
    engine = kit.engine()
    phone = kit.bind_phone(engine, "alice", PHONE)
    kit.bind_email(engine, "alice", "alice.smith@example.com")
    totp = engine.begin_bind("alice", "totp")
    assert totp.secret
    totp_code = pyotp.TOTP(totp.secret).at(kit.clock())
    engine.verify(totp.challenge.id, totp_code, subject="alice")

    login = engine.start("alice", "sms", "login")
    with pytest.raises(stepup.WrongCode):
        engine.verify(login.id, _wrong(kit.sms_code()), subject="alice")
    engine.verify(login.id, kit.sms_code(), subject="alice")

    operation = engine.start("alice", "email", "operation", operation="transfer of 50.00 to Bob",
                             operation_data={"to": "bob", "amount": "50.00"})  # fmt: skip
    engine.verify(operation.id, kit.email_code(), subject="alice")
    engine.consume(operation.id, subject="alice", operation_data={"to": "bob", "amount": "50.00"})

    request_id = engine.contact.request("sms", PHONE)
    kit.clock.advance(30)
    engine.resend(request_id)
    engine.contact.check(request_id, kit.sms_code())
    engine.unbind("alice", phone.id)

    bodies = [m.body for m in kit.sms.outbox + kit.email.outbox if m.purpose != "notice"]
    codes = [kit.code_in(body) for body in bodies]
    assert len(codes) == 6 and len(kit.email.outbox) > 3  # the flow sent codes and notices
    return totp.secret, [*codes, totp_code]


def test_no_secret_in_logs_or_audit_events(stepup_kit, caplog):
    caplog.set_level(logging.DEBUG)
    secret, codes = _full_flow(stepup_kit)

    texts = [f"{r.name} {r.getMessage()} {r.exc_text or ''}" for r in caplog.records]
    texts += [repr(e.as_dict()) for e in stepup_kit.events]
    assert any("stepup verified" in t for t in texts)
    assert {"bound", "failed", "verified", "sent", "unbound"} <= set(stepup_kit.types())
    everything = "\n".join(texts)

    for code in codes:
        assert not re.search(rf"(?<!\d){code}(?!\d)", everything), f"code {code} was logged"
    for form in [*SECRET_FORMS, secret]:
        assert form not in everything
    assert "+44 •••• ••3456" in everything  # masked targets are what the log shows
    assert "a•••@example.com" in everything
