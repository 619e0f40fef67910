"""Resource use: what one client or one session can make stepup store or send.

A session that posts large bodies in a loop keeps at most a few saved requests, and is
limited; contact verification is there only when the app asks for it, and one client is
limited in the challenges it starts and the SMS all clients together cause; guessing ids
never costs a real user their right code, even behind a proxy; and wrong contact codes,
from any number of clients, cannot lock a number.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from contextlib import closing
from typing import Any

import pytest

import stepup
from stepup._cli import main
from stepup.senders import MemorySender
from stepup.stores import SQLiteStore
from tests.support.banks import CONTACT_VERIFICATION
from tests.support.flows import ask_transfer, challenge, held, signed_in, wrong_for

SECRET = "r" * 40
#: a form field just under the 64 KiB a saved body may have.
NOTE = "n" * 60_000


def _stored_bytes(path: Any, kind: str) -> int:
    with closing(sqlite3.connect(path)) as conn:
        (total,) = conn.execute(
            "SELECT COALESCE(SUM(LENGTH(value)), 0) FROM stepup_records WHERE kind LIKE ?", (f"{kind}%",)
        ).fetchone()
    return int(total)


@pytest.fixture
def make_engine(store_url: str, clock: stepup.FrozenClock, sms: MemorySender) -> Iterator[Callable[..., stepup.Engine]]:
    made: list[stepup.Engine] = []

    def make(**overrides: Any) -> stepup.Engine:
        engine = stepup.Engine(
            secret_key=SECRET, store_url=store_url, sms=sms, email=MemorySender(), clock=clock, **overrides
        )
        made.append(engine)
        return engine

    yield make
    for engine in made:
        engine.close()


# -- item 8: saved requests ----------------------------------------------------------------------


def test_a_session_posting_large_bodies_keeps_only_the_newest_few(make_bank, tmp_path, clock):
    path = tmp_path / "resume.sqlite3"
    bank = make_bank(store=SQLiteStore(path, clock))
    browser = signed_in(bank)

    asked = [ask_transfer(browser, "bob", str(n), note=NOTE) for n in range(1, 9)]

    assert all(a.status_code == 303 and "?r=" in (a.location or "") for a in asked)
    # At most five bodies are kept (about 80 KB each, base64), not eight.
    assert _stored_bytes(path, "resume") < 5 * 85_000
    # Newest wins: the three oldest have ended, the five newest still resume.
    for old in asked[:3]:
        page = browser.get(old.location)
        assert page.status_code == 410 and "expired or was already completed" in page.text
    approved = browser.pass_challenge(browser.get(asked[-1].location), "sms")
    assert "Transferred 8.00 to bob" in approved.text


def test_saving_requests_is_rate_limited_and_a_refused_one_leaves_nothing(make_bank, tmp_path, clock):
    path = tmp_path / "resume.sqlite3"
    bank = make_bank(store=SQLiteStore(path, clock), STEPUP_LIMIT_RESUMES_PER_SUBJECT="3/15 minutes")
    browser = signed_in(bank)
    for n in range(3):
        assert ask_transfer(browser, "bob", str(n + 1), note=NOTE).status_code == 303
    stored = _stored_bytes(path, "resume")

    page = ask_transfer(browser, "bob", "4", note=NOTE)
    json_body = {"to": "bob", "amount": "4", "note": NOTE}
    api = browser.post("/transfer", json=json_body, headers={"Accept": "application/json"})

    assert page.status_code == 429 and "Too many requests" in page.text
    assert api.status_code == 429 and api.json()["code"] == "rate_limited" and int(api.headers["Retry-After"]) > 0
    assert _stored_bytes(path, "resume") == stored
    bank.clock.advance(15 * 60)
    assert ask_transfer(browser, "bob", "5").status_code == 303


def test_a_body_too_large_to_resume_gets_413_and_nothing_is_saved(make_bank, tmp_path, clock):
    path = tmp_path / "resume.sqlite3"
    bank = make_bank(store=SQLiteStore(path, clock), STEPUP_MAX_RESUME_BODY=1024)
    browser = signed_in(bank)

    page = ask_transfer(browser, "bob", "50", note="n" * 2000)

    assert page.status_code == 413 and "at most 1 KiB" in page.text
    assert _stored_bytes(path, "resume") == 0


def test_the_cap_on_saved_requests_holds_on_every_store(make_engine):
    engine = make_engine(max_resume_records=2)
    tokens = [engine.save_resume("alice", session="s1", next_url=f"/{n}") for n in range(4)]

    with pytest.raises(stepup.ChallengeExpired):
        engine.load_resume(tokens[1], subject="alice", session="s1")
    assert engine.load_resume(tokens[3], subject="alice", session="s1")["next"] == "/3"
    assert engine.take_resume(tokens[2], subject="alice", session="s1") is None  # a redirect
    with pytest.raises(stepup.ChallengeExpired):
        engine.take_resume(tokens[2], subject="alice", session="s1")


# -- item 9: contact verification is opt-in, and clients are limited ---------------------------


def test_contact_verification_is_not_mounted_unless_the_app_asks(bank):
    requested = bank.browser().post("/stepup/api/verify", json={"channel": "sms", "to": "+447700900888"})
    checked = bank.browser().post("/stepup/api/verify/" + "r" * 24 + "/check", json={"code": "123456"})

    assert requested.status_code == 404 and checked.status_code == 404
    assert bank.sms.outbox == []


def test_contact_verification_needs_a_signed_in_user_unless_anonymous_use_is_allowed(make_bank):
    bank = make_bank(STEPUP_CONTACT_VERIFICATION="1")

    anonymous = bank.browser().post("/stepup/api/verify", json={"channel": "sms", "to": "+447700900888"})
    signed = signed_in(bank).post("/stepup/api/verify", json={"channel": "sms", "to": "+447700900888"})

    assert anonymous.status_code == 401 and anonymous.json()["code"] == "not_signed_in"
    assert signed.status_code == 201
    assert [m.to for m in bank.sms.outbox if m.purpose == "contact"] == ["+447700900888"]


def test_one_client_cannot_text_many_numbers(make_bank):
    bank = make_bank(**CONTACT_VERIFICATION)
    client = bank.browser()
    numbers = [f"+4477009{n:05d}" for n in range(800, 815)]

    answers = [client.post("/stepup/api/verify", json={"channel": "sms", "to": to}) for to in numbers]

    assert [a.status_code for a in answers] == [201] * 10 + [429] * 5
    assert answers[-1].json()["code"] == "rate_limited" and int(answers[-1].headers["Retry-After"]) > 0
    assert len([m for m in bank.sms.outbox if m.purpose == "contact"]) == 10


def test_every_new_challenge_is_charged_to_its_client(make_engine):
    engine = make_engine(limit_challenges_per_client="3/15 minutes")
    for n in range(4):
        engine.import_binding(f"user{n}", "sms", f"+44 7400 12345{n}")
    for n in range(3):
        engine.start(f"user{n}", "sms", client="203.0.113.9")

    with pytest.raises(stepup.RateLimited) as caught:
        engine.start("user3", "sms", client="203.0.113.9")

    assert caught.value.limit == "challenges_per_client"
    engine.start("user3", "sms", client="198.51.100.4")  # another client is not held up


def test_sms_across_every_region_have_one_cap(make_engine, sms):
    engine = make_engine(limit_sms_total="3/hour")
    numbers = ["+44 7400 123456", "+33 6 12 34 56 78", "+49 151 23456789", "+1 201 555 0123"]
    for to in numbers[:3]:
        engine.contact.request("sms", to)

    with pytest.raises(stepup.RateLimited) as caught:
        engine.contact.request("sms", numbers[3])

    assert caught.value.limit == "sms_total" and len(sms.outbox) == 3


# -- item 10: unknown ids, and clients behind a proxy -------------------------------------------


def test_guessing_made_up_ids_does_not_cost_a_real_user_their_right_code(make_bank):
    bank = make_bank(**CONTACT_VERIFICATION)
    alice = held(bank)
    created = challenge(alice)
    guesser = bank.browser()  # the same client address, as behind a proxy

    guesses = [guesser.post(f"/stepup/api/verify/{n:024d}/check", json={"code": "123456"}) for n in range(31)]
    right = alice.post(created["verify_url"], json={"code": bank.code("sms")})

    assert [g.status_code for g in guesses] == [404] * 30 + [429]
    assert guesses[-1].json()["code"] == "rate_limited"
    assert right.status_code == 200 and right.json()["approved"] is True


def test_a_trusted_proxy_hop_gives_each_client_its_own_limits(make_bank):
    limits = {"STEPUP_TRUSTED_PROXY_HOPS": "1", "STEPUP_LIMIT_UNKNOWN_IDS_PER_CLIENT": "2/minute"}
    bank = make_bank(**limits, **CONTACT_VERIFICATION)
    browser = bank.browser()

    def guess(forwarded_for: str) -> int:
        url = "/stepup/api/verify/" + "0" * 24 + "/check"
        return browser.post(url, json={"code": "123456"}, headers={"X-Forwarded-For": forwarded_for}).status_code

    first = [guess("203.0.113.5") for _ in range(3)]
    # What the client wrote itself, left of what the proxy appended, is not trusted.
    spoofed = guess("198.51.100.1, 203.0.113.5")
    other = guess("198.51.100.7")

    assert first == [404, 404, 429] and spoofed == 429 and other == 404


def test_without_a_trusted_proxy_the_forwarded_header_is_ignored(make_bank):
    bank = make_bank(STEPUP_LIMIT_UNKNOWN_IDS_PER_CLIENT="2/minute", **CONTACT_VERIFICATION)
    browser = bank.browser()
    url = "/stepup/api/verify/" + "0" * 24 + "/check"

    answers = [
        browser.post(url, json={"code": "1"}, headers={"X-Forwarded-For": f"203.0.113.{n}"}).status_code
        for n in range(3)
    ]

    assert answers == [404, 404, 429]


# -- item 11: wrong contact codes cannot lock a number ------------------------------------------


def test_wrong_contact_codes_from_many_clients_cannot_lock_a_number(make_bank):
    bank = make_bank(
        STEPUP_LOCKOUT_AFTER="4", STEPUP_TRUSTED_PROXY_HOPS="1", STEPUP_LIMIT_CONTACT_FAILURES_PER_CLIENT="3/day",
        **CONTACT_VERIFICATION,
    )  # fmt: skip
    to = "+447700900888"

    def attempt(client: str, *, right: bool = False) -> Any:
        browser, headers = bank.browser(), {"X-Forwarded-For": client}
        bank.clock.advance(1000)  # past the back-off the wrong codes before started
        requested = browser.post("/stepup/api/verify", json={"channel": "sms", "to": to}, headers=headers)
        assert requested.status_code == 201, requested.text
        code = bank.code("sms") if right else wrong_for(bank.code("sms"))
        return browser.post(requested.json()["check_url"], json={"code": code}, headers=headers)

    wrong = [attempt(f"203.0.113.{n // 3}").status_code for n in range(6)]
    fourth_of_one_client = attempt("203.0.113.0")
    owner = attempt("192.0.2.1", right=True)

    assert wrong == [400] * 6  # six wrong codes, more than the four that lock a user's method
    assert fourth_of_one_client.status_code == 429  # one client is limited first
    assert owner.status_code == 200 and owner.json()["verified"] is True


def test_a_clients_wrong_contact_codes_are_limited_before_the_number_on_every_store(make_engine, sms, last_code):
    engine = make_engine(
        limit_contact_failures_per_client="2/day", lockout_after=3, backoff_after=1000, contact_parallel_requests=True
    )
    for client in ("203.0.113.1", "203.0.113.1", "203.0.113.2", "203.0.113.3"):
        request_id = engine.contact.request("sms", "+44 7400 123456", client=client)
        with pytest.raises(stepup.WrongCode):
            engine.contact.check(request_id, wrong_for(last_code(sms)), client=client)
    request_id = engine.contact.request("sms", "+44 7400 123456", client="203.0.113.1")

    with pytest.raises(stepup.RateLimited) as caught:
        engine.contact.check(request_id, last_code(sms), client="203.0.113.1")

    assert caught.value.limit == "contact_failures_per_client"
    # Four wrong codes, past the three that lock a user's method: the number is not locked.
    assert engine.contact.check(request_id, last_code(sms), client="198.51.100.9").to == "+447400123456"


def test_a_contact_lock_from_before_an_upgrade_is_honoured_and_can_be_lifted(make_engine):
    engine = make_engine()
    # A lock as the release before wrote it, under the key of that time.
    engine.store.update("failures", "sms:target:+447400123456", lambda _: ({"count": 100, "locked": True}, None), None)

    with pytest.raises(stepup.MethodLocked):
        engine.contact.request("sms", "+44 7400 123456")
    assert engine.unlock_target("sms", "+44 7400 123456") == "+447400123456"
    assert engine.contact.request("sms", "+44 7400 123456")


def test_the_cli_lifts_a_contact_lock(tmp_path, capsys):
    url = f"sqlite:///{tmp_path}/cli.sqlite3"
    engine = stepup.Engine(secret_key=SECRET, store_url=url, sms=MemorySender(), email=MemorySender())
    engine.store.update("failures", "sms:target:+447400123456", lambda _: ({"count": 100, "locked": True}, None), None)
    engine.close()

    status = main(["--store", url, "--secret-key", SECRET, "verify", "unlock", "+44 7400 123456"])

    assert status == 0 and "Unlocked contact verification of +447400123456 (sms)" in capsys.readouterr().out
    engine = stepup.Engine(secret_key=SECRET, store_url=url, sms=MemorySender(), email=MemorySender())
    assert engine.contact.request("sms", "+44 7400 123456")
    engine.close()
