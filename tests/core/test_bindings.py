"""Bindings: verify before bind, notices on change, reset, import, trusted devices."""

from __future__ import annotations

import pyotp
import pytest

import stepup

PHONE = "+44 7400 123456"
CAROL_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"


@pytest.fixture
def engine(stepup_kit):
    return stepup_kit.engine(trusted_device_days=30)


def test_nothing_is_bound_until_the_code_passes(stepup_kit, engine):
    start = engine.begin_bind("bob", "sms", PHONE)
    assert stepup_kit.sms.last.to == "+447400123456"
    assert engine.bindings("bob") == []
    code = stepup_kit.sms_code()
    with pytest.raises(stepup.WrongCode):
        engine.verify(start.challenge.id, str((int(code) + 1) % 10**6).zfill(6), subject="bob")
    assert engine.bindings("bob") == []

    approval = engine.verify(start.challenge.id, code, subject="bob")
    [binding] = engine.bindings("bob")
    assert binding == approval.binding
    assert (binding.method, binding.label) == ("sms", "+44 •••• ••3456")


def test_email_binding_is_masked(stepup_kit, engine):
    stepup_kit.bind_email(engine, "bob", "bob.jones@example.com")
    [binding] = engine.bindings("bob")
    assert (binding.method, binding.label) == ("email", "b•••@example.com")


def test_binding_the_same_number_twice_keeps_one(stepup_kit, engine):
    first = stepup_kit.bind_phone(engine, "bob", PHONE)
    second = stepup_kit.bind_phone(engine, "bob", "+447400123456")
    assert engine.bindings("bob") == [first]
    assert second.id == first.id


def test_unbind_tells_the_other_channel_not_the_removed_one(stepup_kit, engine):
    phone = stepup_kit.bind_phone(engine, "bob", PHONE)
    stepup_kit.bind_email(engine, "bob", "bob@example.com")
    stepup_kit.sms.outbox.clear()
    stepup_kit.email.outbox.clear()

    removed = engine.unbind("bob", phone.id)
    assert removed.id == phone.id
    assert [b.method for b in engine.bindings("bob")] == ["email"]
    assert stepup_kit.sms.outbox == []
    [notice] = stepup_kit.email.outbox
    assert notice.to == "bob@example.com"
    assert "removed" in notice.subject
    assert "+44 •••• ••3456" in notice.body
    with pytest.raises(stepup.MethodNotAvailable):
        engine.unbind("bob", phone.id)


def test_binding_a_new_method_notifies_the_existing_email(stepup_kit, engine):
    stepup_kit.bind_email(engine, "bob", "bob@example.com")
    stepup_kit.bind_phone(engine, "bob", PHONE)
    notice = stepup_kit.email.last
    assert "added" in notice.subject
    assert "+44 •••• ••3456" in notice.body
    assert [m.purpose for m in stepup_kit.sms.outbox] == ["bind"]  # the new phone got only its code


def test_reset_removes_every_binding(stepup_kit, engine):
    stepup_kit.bind_phone(engine, "bob", PHONE)
    stepup_kit.bind_email(engine, "bob", "bob@example.com")
    assert engine.reset("bob") == 2
    assert engine.bindings("bob") == []
    with pytest.raises(stepup.MethodNotAvailable):
        engine.start("bob", "sms")


def test_start_needs_a_bound_method(engine):
    with pytest.raises(stepup.MethodNotAvailable) as caught:
        engine.start("bob", "email")
    assert "Nothing is bound" in caught.value.message


def test_import_binding_for_demo_users(stepup_kit):
    engine = stepup_kit.engine(test_number_prefixes=("+447700900",))
    alice_phone = engine.import_binding("alice", "sms", "+447700900001")
    engine.import_binding("carol", "totp", secret=CAROL_SECRET)
    assert stepup_kit.sms.outbox == []  # trusted provisioning sends no codes
    assert engine.bindings("alice") == [alice_phone]

    challenge = engine.start("carol", "totp", "login")
    code = pyotp.TOTP(CAROL_SECRET).at(stepup_kit.clock())
    assert engine.verify(challenge.id, code, subject="carol").method == "totp"


def test_trusted_device_token(stepup_kit, engine):
    stepup_kit.bind_phone(engine, "bob", PHONE)
    token = engine.remember_device("bob", methods=["sms"])
    assert engine.is_trusted_device("bob", token)
    assert not engine.is_trusted_device("alice", token)
    i = len(token) - 5  # inside the signature
    assert not engine.is_trusted_device("bob", token[:i] + ("A" if token[i] != "A" else "B") + token[i + 1 :])
    assert not engine.is_trusted_device("bob", None)

    stepup_kit.clock.advance(30 * 86400)
    assert engine.is_trusted_device("bob", token)
    stepup_kit.clock.advance(1)
    assert not engine.is_trusted_device("bob", token)


def test_trusted_device_token_dies_when_a_binding_changes(stepup_kit, engine):
    stepup_kit.bind_phone(engine, "bob", PHONE)
    token = engine.remember_device("bob", methods=["sms"])
    stepup_kit.bind_email(engine, "bob", "bob@example.com")
    assert not engine.is_trusted_device("bob", token)


def test_remembering_devices_is_off_by_default(stepup_kit):
    engine = stepup_kit.engine()
    with pytest.raises(stepup.InvalidInput):
        engine.remember_device("bob", methods=["sms"])


def test_login_decision(stepup_kit, engine):
    fresh = engine.login_decision("bob")
    assert fresh.required and fresh.must_bind
    assert "sms" in fresh.bind_methods

    stepup_kit.bind_phone(engine, "alice", PHONE)
    bound = engine.login_decision("alice")
    assert bound.required and not bound.must_bind
    assert [b.method for b in bound.bindings] == ["sms"]
