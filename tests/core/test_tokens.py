"""stepup reads and writes itsdangerous's URL-safe timed tokens itself (a few calls where
itsdangerous takes some thirty): the same tokens, byte for byte, and the same verdict on
every token a client may send, forged, tampered with, expired, from the future, of another
purpose or key, or not a token at all."""

from __future__ import annotations

from typing import Any

import pytest
from itsdangerous import BadData, URLSafeTimedSerializer

import stepup
from stepup._crypto import Keyring

OLD, NEW = "o" * 40, "n" * 40
VALUES: list[Any] = [
    "csrf-value-0123456789abcdef",
    "",
    {"c": "AbCdEf0123", "next": "/transfer?to=bob&amount=1.00"},
    {"next": "/é/報告/🔐", "n": 3, "f": 0.5, "ok": True, "none": None},
    ["a", 1, [2, {"b": "c"}]],
    7,
    {"next": "/" + "é" * 300},  # compressed
]


def reference(keys: list[str], salt: str, clock: stepup.FrozenClock) -> URLSafeTimedSerializer:
    """itsdangerous's own serializer on the same clock (as the keyring's ``serializer``)."""
    serializer = URLSafeTimedSerializer(keys, salt=salt)
    serializer.signer.get_timestamp = lambda self: int(clock())  # type: ignore[method-assign]
    return serializer


def its_verdict(serializer: URLSafeTimedSerializer, token: str, max_age: int | None) -> Any:
    try:
        return serializer.loads(token, max_age=max_age)
    except (BadData, ValueError):
        return "refused"


def ours(keys: Keyring, salt: str, token: str, max_age: int | None) -> Any:
    value = keys.unsign(salt, token, max_age)
    return "refused" if value is None else value


@pytest.mark.parametrize("value", VALUES, ids=["csrf", "empty", "page", "non-ascii", "list", "int", "long"])
def test_a_token_is_itsdangerous_s_byte_for_byte_and_each_reads_the_other(value: Any) -> None:
    clock = stepup.FrozenClock(1_733_540_000)
    keys = Keyring([OLD, NEW], clock)
    its = reference([OLD, NEW], "stepup.test", clock)
    token = keys.sign("stepup.test", value)
    assert token == its.dumps(value)
    assert its.loads(token) == value
    clock.advance(30)
    made_by_it = its.dumps(value)
    assert keys.unsign("stepup.test", made_by_it, 60) == value


def test_every_changed_character_gets_the_same_verdict_as_itsdangerous() -> None:
    clock = stepup.FrozenClock(1_733_540_000)
    keys = Keyring(NEW, clock)
    its = reference([NEW], "stepup.test", clock)
    token = keys.sign("stepup.test", {"c": "AbCdEf0123"})
    alphabet = "A_-.=é0/+ \x00"
    refused = 0
    for i in range(len(token) + 1):
        for c in alphabet:
            for changed in (token[:i] + c + token[i + 1 :], token[:i] + c + token[i:], token[:i] + token[i + 1 :]):
                verdict = ours(keys, "stepup.test", changed, 60)
                assert verdict == its_verdict(its, changed, 60), changed
                refused += verdict == "refused"
    assert refused > 0.9 * (len(token) + 1) * len(alphabet) * 3


@pytest.mark.parametrize(
    "token",
    ["", ".", "..", "...", "a", "a.b", "a.b.c", ".a.b", "a..b", "é.é.é", "YQ.AAAAAAAAAAAA.x", "\x00.\x00.\x00"]
    + ["=.=.="],
)
def test_odd_tokens_are_refused_as_itsdangerous_refuses_them(token: str) -> None:
    clock = stepup.FrozenClock(1_733_540_000)
    assert ours(Keyring(NEW, clock), "stepup.test", token, 60) == "refused"
    assert its_verdict(reference([NEW], "stepup.test", clock), token, 60) == "refused"


@pytest.mark.parametrize(("moved", "max_age"), [(60, 60), (61, 60), (-1, 60), (-1, None), (10**9, None)])
def test_age_is_judged_as_itsdangerous_judges_it(moved: int, max_age: int | None) -> None:
    clock = stepup.FrozenClock(1_733_540_000)
    keys = Keyring(NEW, clock)
    its = reference([NEW], "stepup.test", clock)
    token = keys.sign("stepup.test", "value")
    clock.now += moved  # a token from the future when negative
    assert ours(keys, "stepup.test", token, max_age) == its_verdict(its, token, max_age)
    assert ours(keys, "stepup.test", token, max_age) == ("refused" if moved in (61, -1) and max_age else "value")


def test_other_purposes_and_keys_are_refused_and_an_old_key_still_reads() -> None:
    clock = stepup.FrozenClock(1_733_540_000)
    old_token = Keyring(OLD, clock).sign("stepup.test", "value")
    assert Keyring([OLD, NEW], clock).unsign("stepup.test", old_token, None) == "value"
    assert Keyring(NEW, clock).unsign("stepup.test", old_token, None) is None
    assert Keyring([OLD, NEW], clock).unsign("stepup.other", old_token, None) is None


@pytest.mark.parametrize("max_age", [60, None])
def test_a_signed_token_whose_timestamp_is_not_one_is_refused(max_age: int | None) -> None:
    """Signed with the right key, but its timestamp is nine bytes, more than itsdangerous
    reads: malformed, whatever the age asked."""
    from itsdangerous import Signer
    from itsdangerous.encoding import base64_encode

    clock = stepup.FrozenClock(1_733_540_000)
    value = base64_encode(b'"value"') + b"." + base64_encode(b"\x00" * 8 + b"\x01")
    token = Signer(NEW, salt="stepup.test").sign(value).decode()
    assert ours(Keyring(NEW, clock), "stepup.test", token, max_age) == "refused"
    assert its_verdict(reference([NEW], "stepup.test", clock), token, max_age) == "refused"
