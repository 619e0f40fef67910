"""Policy: methods on and off per scope, login 2FA, identity sources, persistence."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

import stepup
from stepup import Policy, Settings

PHONE = "+447400123456"


@pytest.fixture
def engine(engine_factory: Any, sms: Any) -> stepup.Engine:
    """alice and bob each have a phone and an email bound."""
    engine: stepup.Engine = engine_factory()
    for subject, phone in (("alice", PHONE), ("bob", "+447400654321")):
        engine.import_binding(subject, "sms", phone)
        engine.import_binding(subject, "email", f"{subject}@example.com")
    sms.outbox.clear()  # the "email address added" notices
    return engine


def test_defaults_come_from_settings() -> None:
    settings = Settings(methods=frozenset({"sms", "totp"}), login_2fa=False, bind_on_first_login=False,
                        identity_sources={"sso": False})  # fmt: skip
    policy = Policy.defaults(settings, ["sms", "email", "totp", "recovery"])
    assert policy.methods() == {"sms", "totp"}
    assert policy.login_2fa() is False and policy.bind_on_first_login is False
    assert Policy.defaults(Settings(), ["sms", "email"]).methods() == {"sms", "email"}
    assert Policy.defaults(Settings(), ["sms"]).login_2fa(identity_source="password") is True


def test_engine_policy_starts_from_settings(engine_factory: Any) -> None:
    engine = engine_factory(methods=frozenset({"email"}))
    assert engine.policy().methods() == {"email"}
    with pytest.raises(stepup.MethodNotAvailable):
        engine.begin_bind("carol", "sms", PHONE)


def test_method_off_globally(engine: stepup.Engine, sms: Any, email: Any) -> None:
    engine.set_method("sms", False)
    with pytest.raises(stepup.MethodNotAvailable):
        engine.start("alice", "sms")
    with pytest.raises(stepup.MethodNotAvailable):
        engine.begin_bind("carol", "sms", "+447400111222")
    assert sms.outbox == []
    engine.start("alice", "email")
    assert email.last.to == "alice@example.com"
    engine.set_method("sms", True)
    engine.start("alice", "sms")
    assert sms.last.to == PHONE


def test_method_off_for_one_app(engine: stepup.Engine) -> None:
    engine.set_method("sms", False, "app", "admin")
    with pytest.raises(stepup.MethodNotAvailable):
        engine.start("alice", "sms", app="admin")
    with pytest.raises(stepup.MethodNotAvailable):
        engine.begin_bind("carol", "sms", "+447400111222", app="admin")
    assert engine.start("alice", "sms", app="shop").method == "sms"
    assert engine.start("bob", "sms").method == "sms"
    assert engine.start("alice", "email", app="admin").method == "email"


def test_method_off_for_one_route(engine: stepup.Engine) -> None:
    engine.set_method("email", False, "route", "transfer")
    with pytest.raises(stepup.MethodNotAvailable):
        engine.start("alice", "email", route="transfer")
    assert engine.start("alice", "email", route="balance").method == "email"


def test_method_off_for_one_subject(engine: stepup.Engine) -> None:
    engine.set_method("sms", False, "subject", "alice")
    with pytest.raises(stepup.MethodNotAvailable):
        engine.start("alice", "sms")
    assert engine.start("bob", "sms").method == "sms"


def test_most_specific_scope_wins(engine: stepup.Engine) -> None:
    engine.set_method("sms", False)
    engine.set_method("sms", True, "subject", "alice")
    assert engine.start("alice", "sms").method == "sms"
    with pytest.raises(stepup.MethodNotAvailable):
        engine.start("bob", "sms")


def test_enforced_2fa_for_one_subject(engine_factory: Any) -> None:
    engine = engine_factory(login_2fa=False)
    assert engine.login_decision("alice").required is False
    engine.set_login_2fa(True, "subject", "alice")
    engine.set_identity_source("sso", False)
    assert engine.login_decision("alice").required is True
    assert engine.login_decision("alice", identity_source="sso").required is True
    assert engine.login_decision("bob").required is False


def test_login_2fa_per_app(engine_factory: Any) -> None:
    engine = engine_factory(login_2fa=False)
    engine.set_login_2fa(True, "app", "admin")
    assert engine.login_decision("alice", app="admin").required is True
    assert engine.login_decision("alice", app="shop").required is False


def test_identity_sources(engine: stepup.Engine) -> None:
    engine.set_identity_source("sso", False)
    assert engine.login_decision("alice", identity_source="sso").required is False
    decision = engine.login_decision("alice", identity_source="password")
    assert decision.required is True
    assert {b.method for b in decision.bindings} == {"sms", "email"}
    with pytest.raises(stepup.InvalidInput):
        engine.set_identity_source("", False)


def test_login_decision_offers_only_allowed_bindings(engine: stepup.Engine) -> None:
    engine.set_method("sms", False, "app", "admin")
    decision = engine.login_decision("alice", app="admin")
    assert [b.method for b in decision.bindings] == ["email"]
    assert decision.bindings[0].label == "a•••@example.com"
    assert "sms" not in decision.bind_methods


def test_bind_on_first_login(engine: stepup.Engine) -> None:
    decision = engine.login_decision("carol")
    assert decision.required and decision.must_bind
    assert set(decision.bind_methods) == {"sms", "email", "totp"}
    assert engine.login_decision("alice").must_bind is False
    engine.set_bind_on_first_login(False)
    decision = engine.login_decision("carol")
    assert decision.required and not decision.must_bind and decision.bind_methods == ()


def test_policy_changes_persist(engine_factory: Any, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'stepup.db'}"
    first = engine_factory(store_url=url)
    first.set_method("sms", False)
    first.set_method("email", False, "app", "admin")
    first.set_login_2fa(True, "subject", "alice")
    first.set_identity_source("sso", False)
    first.set_bind_on_first_login(False)
    first.close()
    second = engine_factory(store_url=url, login_2fa=False)
    policy = second.policy()
    assert "sms" not in policy.methods() and "email" in policy.methods()
    assert "email" not in policy.methods(app="admin")
    assert policy.login_2fa(subject="alice") is True and policy.login_2fa(subject="bob") is False
    assert policy.bind_on_first_login is False
    assert second.login_decision("alice").required is True
    with pytest.raises(stepup.MethodNotAvailable):
        second.begin_bind("alice", "sms", PHONE)


@pytest.mark.parametrize(("scope", "name"), [("tenant", "x"), ("app", ""), ("subject", ""), ("", "alice")])
def test_bad_scope_is_invalid_input(engine: stepup.Engine, scope: str, name: str) -> None:
    with pytest.raises(stepup.InvalidInput):
        engine.set_method("sms", False, scope, name)
    with pytest.raises(stepup.InvalidInput):
        engine.set_login_2fa(True, scope, name)
    assert "sms" in engine.policy().methods()


def test_unknown_method_cannot_be_switched(engine: stepup.Engine) -> None:
    with pytest.raises(stepup.MethodNotAvailable):
        engine.set_method("carrier-pigeon", True)


def test_policy_change_is_audited(engine: stepup.Engine, audit: list[stepup.AuditEvent]) -> None:
    engine.set_method("sms", False, "app", "admin")
    event = audit[-1]
    assert event.type == "policy_changed"
    assert event.detail == {"scope": "app:admin", "method": "sms", "enabled": False}


# -- 2FA at login per app, the policy kept in memory, a route's methods --------------------------


def test_login_2fa_somewhere_counts_the_apps_and_the_subject() -> None:
    settings = Settings(login_2fa=False)
    policy = Policy.defaults(settings, ["sms"]).merged_with({"scopes": {"app:bank": {"login_2fa": True}}})
    assert policy.login_2fa_somewhere() is True
    assert policy.login_2fa() is False and policy.login_2fa(app="bank") is True
    exempt = policy.merged_with({"scopes": {"subject:bob": {"login_2fa": False}}})
    assert exempt.login_2fa_somewhere(subject="bob") is False and exempt.login_2fa_somewhere(subject="al") is True
    assert policy.merged_with({"identity_sources": {"sso": False}}).login_2fa_somewhere(identity_source="sso") is False
    assert Policy.defaults(settings, ["sms"]).login_2fa_somewhere() is False


def test_a_change_made_by_another_instance_is_read_within_policy_refresh(
    engine_factory: Any, clock: stepup.FrozenClock, tmp_path: Path
) -> None:
    url = f"sqlite:///{tmp_path / 'stepup.db'}"
    here, there = engine_factory(store_url=url, policy_refresh=5), engine_factory(store_url=url)
    assert "sms" in here.policy().methods(app="api")

    there.set_method("sms", False, "app", "api")

    assert "sms" not in there.policy().methods(app="api")  # the instance that made it: at once
    clock.advance(4)
    assert "sms" in here.policy().methods(app="api")  # kept in memory, no store read
    clock.advance(1)
    assert "sms" not in here.policy().methods(app="api")


def test_a_store_that_cannot_be_read_keeps_the_policy_last_read(engine_factory: Any, clock: Any) -> None:
    engine = engine_factory()
    engine.set_method("sms", False, "app", "api")

    def down(*args: Any) -> Any:
        raise stepup.StoreUnavailable("The store is down.")

    engine.store.get = down  # type: ignore[method-assign]
    clock.advance(60)
    assert "sms" not in engine.policy().methods(app="api")
    fresh = engine_factory()
    fresh.store.get = down  # type: ignore[method-assign]
    with pytest.raises(stepup.StoreUnavailable):
        fresh.policy()  # never read: nothing to keep, so nothing is assumed


def test_a_route_that_accepts_only_sms_starts_nothing_else_and_falls_back_to_nothing(
    engine_factory: Any, sms: Any, email: Any
) -> None:
    engine = engine_factory(fallback_to_email=True)
    engine.import_binding("alice", "sms", PHONE)
    engine.import_binding("alice", "email", "alice@example.com")
    emails = len(email.outbox)
    with pytest.raises(stepup.MethodNotAvailable):
        engine.start("alice", "email", "operation", operation="pay bob", methods=["sms"])
    sms.fail_with = stepup.DeliveryError("The SMS could not be sent.", "sms", "gateway timeout")

    with pytest.raises(stepup.DeliveryError):
        engine.start("alice", "sms", "operation", operation="pay bob", methods=["sms"])

    assert len(email.outbox) == emails
    moved = engine.start("alice", "sms", "operation", operation="pay bob", methods=["sms", "email"])
    assert moved.method == "email"  # a route that accepts email too may fall back to it


def test_an_approval_by_a_method_the_route_does_not_accept_is_not_used(engine_factory: Any, email: Any) -> None:
    engine = engine_factory()
    engine.import_binding("alice", "email", "alice@example.com")
    challenge = engine.start("alice", "email", "operation", operation="pay bob")
    code = re.findall(r"\b\d{6}\b", email.last.body)[0]
    engine.verify(challenge.id, code, subject="alice")

    with pytest.raises(stepup.MethodNotAccepted) as refused:
        engine.consume(challenge.id, subject="alice", operation_data="pay bob", methods=["sms"])

    assert (refused.value.status, refused.value.code, refused.value.method) == (403, "method_not_accepted", "email")
    assert engine.consume(challenge.id, subject="alice", operation_data="pay bob", methods=["sms", "email"]) is None
