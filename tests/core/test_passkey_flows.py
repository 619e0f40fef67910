"""Passkeys through the engine, with a software authenticator: registration, every scene
of authentication, and the rules (origin, rp id, replay, counter, user verification, one
operation per assertion)."""

from __future__ import annotations

import pytest

import stepup
from stepup.methods import RelyingParty
from tests.support.authenticator import SoftAuthenticator

ORIGIN = "https://bank.example"
RP = RelyingParty("bank.example", (ORIGIN,), "Bank")
METHODS = {"sms", "email", "totp", "recovery", "passkey"}


@pytest.fixture
def engine(stepup_kit):
    return stepup_kit.engine(methods=METHODS, webauthn_rp_id="bank.example", webauthn_origins=(ORIGIN,))


def register(engine, subject="carol", name=None, device=None):
    """Bind a passkey as a browser does: begin, options, create, verify."""
    device = device or SoftAuthenticator(ORIGIN)
    started = engine.begin_bind(subject, "passkey", name)
    options = engine.passkey_options(started.challenge.id, subject=subject)
    approval = engine.verify(started.challenge.id, device.create(options), subject=subject)
    return device, approval.binding


def sign(engine, device, purpose="step_up", subject="carol", **kwargs):
    """Start a passkey challenge and answer it with ``device``; the approval or the error."""
    challenge = engine.start(subject, "passkey", purpose, **kwargs)
    options = engine.passkey_options(challenge.id, subject=subject)
    return challenge, options


def test_a_registered_passkey_is_a_binding_named_after_its_authenticator(stepup_kit, engine):
    aaguid = bytes.fromhex("ea9b8d664d011d213ce4b6b48cb575d4")
    device, binding = register(engine, device=SoftAuthenticator(ORIGIN, aaguid=aaguid))
    assert binding.method == "passkey" and binding.label == "Google Password Manager"
    assert "bound" in stepup_kit.types()
    _, other = register(engine, name="Work laptop")
    assert [b.label for b in engine.bindings("carol")] == ["Google Password Manager", "Work laptop"]


def test_registration_options_exclude_bound_passkeys_and_prefer_resident_keys(engine):
    device, _ = register(engine)
    started = engine.begin_bind("carol", "passkey")
    options = engine.passkey_options(started.challenge.id, subject="carol")
    assert [c["id"] for c in options["excludeCredentials"]] == [device.create(options) and _b64(device)]
    assert options["authenticatorSelection"]["residentKey"] == "preferred"
    assert options["authenticatorSelection"]["userVerification"] == "required"
    # An authenticator that ignores the exclusion does not bind the same passkey twice.
    with pytest.raises(stepup.WrongCode):
        engine.verify(started.challenge.id, device.create(options), subject="carol")
    assert len(engine.bindings("carol")) == 1


def _b64(device):
    from tests.support.authenticator import b64

    return b64(device.credential_id)


def test_step_up_with_a_passkey_records_the_method(engine):
    device, _ = register(engine)
    challenge, options = sign(engine, device)
    assert options["userVerification"] == "required" and options["rpId"] == "bank.example"
    approval = engine.verify(challenge.id, device.get(options), subject="carol")
    assert approval.method == "passkey" and approval.purpose == "step_up"
    used = next(b for b in engine.bindings("carol") if b.method == "passkey")
    assert used.last_used is not None


def test_an_assertion_from_another_origin_is_a_wrong_code(engine):
    device, _ = register(engine)
    challenge, options = sign(engine, device)
    with pytest.raises(stepup.WrongCode) as wrong:
        engine.verify(challenge.id, device.get(options, origin="https://evil.example"), subject="carol")
    assert wrong.value.attempts_left == 2


def test_an_assertion_for_another_rp_id_is_refused(engine):
    device, _ = register(engine)
    challenge, options = sign(engine, device)
    with pytest.raises(stepup.WrongCode):
        engine.verify(challenge.id, device.get(options, rp_id="evil.example"), subject="carol")


def test_a_replayed_assertion_is_refused(engine):
    device, _ = register(engine)
    challenge, options = sign(engine, device)
    assertion = device.get(options)
    engine.verify(challenge.id, assertion, subject="carol")
    with pytest.raises(stepup.ChallengeClosed):
        engine.verify(challenge.id, assertion, subject="carol")
    second, _ = sign(engine, device)  # another challenge: the old assertion signed another
    with pytest.raises(stepup.WrongCode):
        engine.verify(second.id, assertion, subject="carol")


def test_a_counter_going_backwards_is_refused_and_audited(stepup_kit, engine):
    device, _ = register(engine)
    challenge, options = sign(engine, device)
    engine.verify(challenge.id, device.get(options, count=7), subject="carol")
    challenge, options = sign(engine, device)
    with pytest.raises(stepup.WrongCode):
        engine.verify(challenge.id, device.get(options, count=5), subject="carol")
    assert "passkey_counter_went_back" in stepup_kit.types()


def test_user_verification_is_required_unless_lowered_for_login(stepup_kit):
    lowered = stepup_kit.engine(
        methods=METHODS, webauthn_rp_id="bank.example", webauthn_origins=(ORIGIN,),
        passkey_login_user_verification="preferred",
    )  # fmt: skip
    device, _ = register(lowered)
    challenge, options = sign(lowered, device)
    with pytest.raises(stepup.WrongCode):
        lowered.verify(challenge.id, device.get(options, uv=False), subject="carol")
    login, options = sign(lowered, device, "login")
    assert options["userVerification"] == "preferred"
    assert lowered.verify(login.id, device.get(options, uv=False), subject="carol").purpose == "login"


def test_one_assertion_approves_exactly_one_operation(engine):
    device, _ = register(engine)
    first, options = sign(engine, device, "operation", operation="transfer of 5.00 to bob")
    other, _ = sign(engine, device, "operation", operation="transfer of 5000.00 to mallory")
    assertion = device.get(options)
    with pytest.raises(stepup.WrongCode):
        engine.verify(other.id, assertion, subject="carol")
    engine.verify(first.id, assertion, subject="carol")
    assert engine.consume(first.id, subject="carol", operation_data="transfer of 5.00 to bob") is None
    with pytest.raises(stepup.StepUpError):
        engine.consume(first.id, subject="carol", operation_data="transfer of 5.00 to bob")


def test_wrong_assertions_count_in_the_pooled_back_off(stepup_kit, engine):
    device, _ = register(engine)
    stranger = SoftAuthenticator(ORIGIN)
    stranger.credential_id = device.credential_id  # claims carol's credential, signs with its own key
    for _ in range(engine.settings.backoff_after):  # across challenges: a new one resets nothing
        challenge, options = sign(engine, device)
        with pytest.raises(stepup.WrongCode):
            engine.verify(challenge.id, stranger.get(options), subject="carol")
    challenge, options = sign(engine, device)
    with pytest.raises(stepup.TemporarilyLocked):
        engine.verify(challenge.id, device.get(options), subject="carol")
    stepup_kit.clock.advance(5)  # the back-off over, the right passkey passes
    assert engine.verify(challenge.id, device.get(options), subject="carol").method == "passkey"


def test_a_request_from_an_origin_not_configured_is_a_configuration_error(stepup_kit):
    e = stepup_kit.engine(methods=METHODS)
    started = e.begin_bind("carol", "passkey")
    with pytest.raises(stepup.ConfigurationError, match="STEPUP_WEBAUTHN_RP_ID"):
        e.passkey_options(started.challenge.id, subject="carol")
    s = e.settings.__class__(secret_key="s" * 40, webauthn_origins=(ORIGIN,))
    refused = RelyingParty.for_request(s, host="evil.example", https=True)
    with pytest.raises(stepup.ConfigurationError, match="https://evil.example"):
        e.passkey_options(started.challenge.id, subject="carol", relying_party=refused)


def test_renaming_and_the_last_method(engine):
    _, binding = register(engine)
    renamed = engine.rename_passkey("carol", binding.id, "  My   phone ")
    assert renamed.label == "My phone"
    with pytest.raises(stepup.InvalidInput):
        engine.rename_passkey("carol", binding.id, "x" * 65)
    with pytest.raises(stepup.MethodNotAvailable):
        engine.rename_passkey("mallory", binding.id, "mine now")


def test_without_py_webauthn_passkeys_stop_with_how_to_install_it(engine, monkeypatch):
    import importlib.util

    started = engine.begin_bind("carol", "passkey")
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "webauthn" else real(name, *a))
    with pytest.raises(stepup.ConfigurationError, match=r"stepup\[passkeys\]"):
        engine.passkey_options(started.challenge.id, subject="carol")


def test_a_passkey_challenge_expires_like_a_code(stepup_kit, engine):
    device, _ = register(engine)
    challenge, options = sign(engine, device)
    stepup_kit.clock.advance(engine.settings.code_ttl)
    with pytest.raises(stepup.ChallengeExpired):
        engine.passkey_options(challenge.id, subject="carol")
    with pytest.raises(stepup.ChallengeExpired):
        engine.verify(challenge.id, device.get(options), subject="carol")


@pytest.mark.parametrize(
    ("setting", "value"),
    [("webauthn_origins", ("https://bank.example/",)), ("passkey_login_user_verification", "discouraged")],
)
def test_passkey_settings_that_could_never_work_are_refused_at_start(stepup_kit, setting, value):
    with pytest.raises(stepup.ConfigurationError, match=setting):
        stepup_kit.engine(methods=METHODS, **{setting: value})
