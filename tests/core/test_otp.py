"""TOTP and recovery codes: the RFC vectors, enrolment, replay, drift and single use."""

from __future__ import annotations

import base64
from typing import Any

import pyotp
import pytest

import stepup
from stepup import _otp
from tests.support.stored import raw_strings

RFC_SECRET = base64.b32encode(b"12345678901234567890").decode()
SECRET = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"  # 160 bits


@pytest.mark.parametrize(
    ("t", "expected"),
    [(59, "94287082"), (1111111109, "07081804"), (1111111111, "14050471"), (1234567890, "89005924"),
     (2000000000, "69279037"), (20000000000, "65353130")],
)  # fmt: skip
def test_rfc6238_sha1_vectors(t: int, expected: str) -> None:
    assert _otp.totp_at_step(RFC_SECRET, t // 30, 8) == expected


@pytest.mark.parametrize(
    ("counter", "expected"),
    list(enumerate(
        ["755224", "287082", "359152", "969429", "338314", "254676", "287922", "162583", "399871", "520489"]
    )),
)
def test_rfc4226_hotp_vectors(counter: int, expected: str) -> None:
    assert _otp.totp_at_step(RFC_SECRET, counter, 6) == expected


def test_totp_match_skips_used_steps() -> None:
    now, step = 59.0, 1
    code = _otp.totp_at_step(RFC_SECRET, step, 6)
    assert _otp.totp_match(RFC_SECRET, code, now, period=30, digits=6, drift=1, last_step=-1) == step
    assert _otp.totp_match(RFC_SECRET, code, now, period=30, digits=6, drift=1, last_step=step) is None


def code_at(clock: stepup.FrozenClock, offset: float = 0, secret: str = SECRET) -> str:
    return pyotp.TOTP(secret).at(clock.now + offset)


def login(engine: stepup.Engine, subject: str, method: str, code: object) -> stepup.Approval:
    challenge = engine.start(subject, method, "login")
    return engine.verify(challenge.id, code, subject=subject)


# -- TOTP through the engine -----------------------------------------------------------------


def test_enrol_totp(engine_factory: Any, clock: stepup.FrozenClock) -> None:
    engine = engine_factory(app_name="Bank")
    started = engine.begin_bind("carol", "totp")
    assert started.provisioning_uri.startswith("otpauth://totp/")
    assert "issuer=Bank" in started.provisioning_uri and f"secret={started.secret}" in started.provisioning_uri
    assert started.qr_svg.startswith("<svg")
    assert engine.bindings("carol") == []
    approval = engine.verify(started.challenge.id, code_at(clock, secret=started.secret), subject="carol")
    assert approval.binding is not None and approval.binding.method == "totp"
    assert [b.method for b in engine.bindings("carol")] == ["totp"]
    with pytest.raises(stepup.WrongCode):  # the enrolment code's step is used up
        login(engine, "carol", "totp", code_at(clock, secret=started.secret))


def test_enrol_totp_wrong_first_code_binds_nothing(engine_factory: Any, clock: stepup.FrozenClock) -> None:
    engine = engine_factory()
    started = engine.begin_bind("carol", "totp")
    valid = {code_at(clock, d, started.secret) for d in (-30, 0, 30)}
    wrong = next(c for c in ("000000", "111111", "222222", "333333") if c not in valid)
    with pytest.raises(stepup.WrongCode):
        engine.verify(started.challenge.id, wrong, subject="carol")
    assert engine.bindings("carol") == []


def test_totp_code_accepted_once_per_step(engine_factory: Any, clock: stepup.FrozenClock) -> None:
    engine = engine_factory()
    engine.import_binding("carol", "totp", secret=SECRET)
    code = code_at(clock)
    assert login(engine, "carol", "totp", code).method == "totp"
    with pytest.raises(stepup.WrongCode):
        login(engine, "carol", "totp", code)
    clock.advance(30)
    assert login(engine, "carol", "totp", code_at(clock)).method == "totp"


@pytest.mark.parametrize(("offset", "accepted"), [(-30, True), (30, True), (-60, False), (60, False)])
def test_totp_drift(engine_factory: Any, clock: stepup.FrozenClock, offset: int, accepted: bool) -> None:
    engine = engine_factory()
    engine.import_binding("carol", "totp", secret=SECRET)
    code = code_at(clock, offset)
    if accepted:
        assert login(engine, "carol", "totp", code).method == "totp"
    else:
        with pytest.raises(stepup.WrongCode):
            login(engine, "carol", "totp", code)


def test_totp_secret_is_not_in_another_subjects_reach(engine_factory: Any, clock: stepup.FrozenClock) -> None:
    engine = engine_factory()
    engine.import_binding("carol", "totp", secret=SECRET)
    challenge = engine.start("carol", "totp", "login")
    with pytest.raises(stepup.ChallengeForbidden):
        engine.verify(challenge.id, code_at(clock), subject="mallory")
    assert engine.verify(challenge.id, code_at(clock), subject="carol").method == "totp"


@pytest.mark.parametrize("secret", ["JBSWY3DPEHPK3P", "not base32!", ""])
def test_import_refuses_weak_or_malformed_secret(engine_factory: Any, secret: str) -> None:
    engine = engine_factory()
    with pytest.raises(stepup.InvalidInput):
        engine.import_binding("carol", "totp", secret=secret)
    assert engine.bindings("carol") == []


def test_import_accepts_the_80_bit_secrets_authenticator_apps_hold(
    engine_factory: Any, clock: stepup.FrozenClock
) -> None:
    engine = engine_factory()
    engine.import_binding("carol", "totp", secret="JBSWY3DPEHPK3PXP")
    code = stepup._otp.totp_at_step("JBSWY3DPEHPK3PXP", int(clock() // 30), 6)
    assert login(engine, "carol", "totp", code).method == "totp"


def test_import_accepts_spaced_lower_case_secret(engine_factory: Any, clock: stepup.FrozenClock) -> None:
    engine = engine_factory()
    engine.import_binding("carol", "totp", secret="gezd gnbv gy3t qojq gezd gnbv gy3t qojq")
    assert login(engine, "carol", "totp", code_at(clock)).method == "totp"


# -- recovery codes ------------------------------------------------------------------------------


@pytest.fixture
def recovery(engine_factory: Any) -> tuple[stepup.Engine, list[str]]:
    """An engine (that lets a subject start many challenges) and dave's recovery codes,
    the backup of his authenticator app."""
    engine = engine_factory(limit_challenges_per_subject="100/minute")
    engine.import_binding("dave", "totp")
    return engine, engine.generate_recovery_codes("dave")


def test_ten_distinct_codes(recovery: tuple[stepup.Engine, list[str]]) -> None:
    engine, codes = recovery
    assert len(codes) == len(set(codes)) == 10
    assert all(len(c) == 14 and c.count("-") == 2 for c in codes)
    assert [(b.method, b.remaining) for b in engine.bindings("dave")] == [("totp", None), ("recovery", 10)]


def test_each_code_works_once(recovery: tuple[stepup.Engine, list[str]]) -> None:
    engine, codes = recovery
    for used, code in enumerate(codes, 1):
        assert login(engine, "dave", "recovery", code).method == "recovery"
        assert engine.bindings("dave")[-1].remaining == 10 - used
    with pytest.raises(stepup.MethodNotAvailable):
        engine.start("dave", "recovery", "login")


def test_used_code_fails_on_a_new_challenge(recovery: tuple[stepup.Engine, list[str]]) -> None:
    engine, codes = recovery
    login(engine, "dave", "recovery", codes[0])
    with pytest.raises(stepup.WrongCode):
        login(engine, "dave", "recovery", codes[0])
    assert login(engine, "dave", "recovery", codes[1]).method == "recovery"


@pytest.mark.parametrize("typed", [str.upper, lambda c: c.replace("-", ""), lambda c: f"  {c.upper()} "])
def test_normalisation(recovery: tuple[stepup.Engine, list[str]], typed: Any) -> None:
    engine, codes = recovery
    assert login(engine, "dave", "recovery", typed(codes[0])).method == "recovery"


def test_new_set_replaces_old(recovery: tuple[stepup.Engine, list[str]]) -> None:
    engine, old = recovery
    new = engine.generate_recovery_codes("dave")
    with pytest.raises(stepup.WrongCode):
        login(engine, "dave", "recovery", old[0])
    assert login(engine, "dave", "recovery", new[0]).method == "recovery"


def test_codes_back_up_a_sign_in_method_and_a_first_one_ends_those_left_before_it(engine_factory: Any) -> None:
    engine = engine_factory()
    with pytest.raises(stepup.NothingToBackUp) as refused:
        engine.generate_recovery_codes("erin")
    assert refused.value.status == 409 and engine.bindings("erin") == []

    app = engine.import_binding("erin", "totp")
    engine.generate_recovery_codes("erin")
    engine.unbind("erin", app.id)  # the codes outlive the only method they backed up
    engine.import_binding("erin", "totp")

    assert [b.method for b in engine.bindings("erin")] == ["totp"]


def test_recovery_codes_stored_only_as_digests(recovery: tuple[stepup.Engine, list[str]]) -> None:
    engine, codes = recovery
    stored = " ".join(raw_strings(engine)).lower()
    for code in codes:
        assert code not in stored and code.replace("-", "") not in stored


@pytest.mark.parametrize("raw", [None, 5, "", "x" * 65, "abcd-efgh-jkm", "abcd-efgh-jkm0", "ａｂｃｄ-efgh-jkmn"])
def test_normalize_recovery_code_refuses(raw: object) -> None:
    assert _otp.normalize_recovery_code(raw) is None


@pytest.mark.parametrize("length", [4, 6, 10])
def test_delivered_codes_have_their_length_and_use_every_digit_everywhere(length: int) -> None:
    from stepup._crypto import new_code

    codes = [new_code(length) for _ in range(2000)]
    assert all(len(c) == length and c.isascii() and c.isdigit() for c in codes)
    for position in range(length):  # zero-padded: a leading 0 is as likely as any digit
        assert {c[position] for c in codes} == set("0123456789")
