"""Contact verification as Vonage Verify's request and check: one pending request a
number or address (a second is refused with the first one's id, status 10 in Vonage's
words), cancel and next step over the JSON API, each under the caller's limits, on both
adapters; and the one-pending rule held by every store when requests race.
"""

from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from itsdangerous.encoding import base64_decode

import stepup
from stepup.senders import MemorySender
from tests.support.banks import CONTACT_VERIFICATION, PARALLEL_CONTACT
from tests.support.flows import held, wrong_for

PROBLEM = "application/problem+json"
NUMBER = "+447700900888"
SPELLED = "+44 7700 900888"  # the same number as a person types it


def request(browser: Any, to: str = NUMBER, channel: str = "sms") -> Any:
    return browser.post("/stepup/api/verify", json={"channel": channel, "to": to})


def delete(browser: Any, url: str) -> Any:
    return browser.open(url, "DELETE", headers={"Accept": "application/json"})


@pytest.fixture
def bank(make_bank):
    return make_bank(**CONTACT_VERIFICATION)


# -- one pending request a target -----------------------------------------------------------


def test_a_second_request_to_a_pending_number_is_refused_with_the_pending_id(bank):
    browser = bank.browser()
    first = request(browser)
    second = request(browser, SPELLED)

    assert first.status_code == 201
    assert second.status_code == 409 and second.headers["Content-Type"].startswith(PROBLEM)
    problem = second.json()
    assert problem["code"] == "request_pending" and problem["title"]
    assert problem["request_id"] == first.json()["request_id"]
    assert problem["check_url"] == first.json()["check_url"]
    assert len(bank.sms.outbox) == 1  # no second code went out
    checked = browser.post(problem["check_url"], json={"code": bank.code("sms")})
    assert checked.status_code == 200 and checked.json()["verified"] is True


def test_an_address_in_another_case_is_the_same_pending_target(bank):
    browser = bank.browser()
    first = request(browser, "Kim@Example.org", "email")
    second = request(browser, "kim@example.ORG", "email")

    assert second.status_code == 409 and second.json()["request_id"] == first.json()["request_id"]
    assert len(bank.email.outbox) == 1


def test_a_refused_request_is_not_charged_to_the_client_or_the_number(make_bank):
    bank = make_bank(
        STEPUP_LIMIT_CONTACT_REQUESTS_PER_CLIENT="2/hour", STEPUP_LIMIT_CHALLENGES_PER_TARGET="2/hour",
        **CONTACT_VERIFICATION,
    )  # fmt: skip
    browser = bank.browser()
    first = request(browser)
    refused = [request(browser).status_code for _ in range(3)]
    delete(browser, first.json()["cancel_url"])
    again = request(browser)

    assert refused == [409, 409, 409]
    assert again.status_code == 201  # neither the client's two nor the number's two were used up
    assert request(browser, "+447700900889").status_code == 429  # and the client's two are now spent


@pytest.mark.parametrize("end", ["verified", "cancelled", "used up", "expired"])
def test_a_request_that_ended_lets_the_next_one_through(bank, end):
    browser = bank.browser()
    first = request(browser).json()
    if end == "verified":
        browser.post(first["check_url"], json={"code": bank.code("sms")})
    elif end == "cancelled":
        assert delete(browser, first["cancel_url"]).status_code == 204
    elif end == "used up":
        for _ in range(3):
            browser.post(first["check_url"], json={"code": wrong_for(bank.code("sms"))})
    else:
        bank.clock.advance(301)  # past the code's five minutes

    second = request(browser)

    assert second.status_code == 201 and second.json()["request_id"] != first["request_id"]
    assert len(bank.sms.outbox) == 2


def test_another_number_is_not_held_up(bank):
    browser = bank.browser()
    assert request(browser).status_code == 201
    assert request(browser, "+447700900889").status_code == 201


def test_parallel_requests_when_the_app_allows_them(make_bank):
    bank = make_bank(**PARALLEL_CONTACT)
    browser = bank.browser()
    first = request(browser).json()
    first_code = bank.code("sms")
    second = request(browser).json()

    assert second["request_id"] != first["request_id"]
    ok = browser.post(first["check_url"], json={"code": first_code})
    assert ok.status_code == 200 and ok.json()["verified"] is True


# -- the pending id goes only to the session that made the request ---------------------------


def test_a_stranger_asking_for_a_pending_number_gets_no_id_only_when_to_retry(bank):
    victim, stranger = bank.browser(), bank.browser()
    first = request(victim).json()

    refused = request(stranger, SPELLED)
    bank.clock.advance(100)
    later = request(stranger)
    own = request(victim)

    assert refused.status_code == 409 and refused.headers["Content-Type"].startswith(PROBLEM)
    problem = refused.json()
    assert problem["code"] == "request_pending" and "in progress" in problem["title"]
    assert not {"request_id", "check_url", "cancel_url", "next_url"} & problem.keys()
    assert first["request_id"] not in refused.text
    wait = int(refused.headers["Retry-After"])
    assert 0 < wait <= 300 and problem["retry_after"] == wait
    assert int(later.headers["Retry-After"]) == wait - 100 and "request_id" not in later.json()
    # The victim's own repeated request still names it (Vonage's status 10).
    assert own.status_code == 409 and own.json()["request_id"] == first["request_id"]
    assert own.json()["cancel_url"] == first["cancel_url"]
    assert len(bank.sms.outbox) == 1


def test_a_stranger_with_the_id_cannot_cancel_call_or_check_the_request(calling_bank):
    bank = calling_bank
    victim, stranger = bank.browser(), bank.browser()
    first = request(victim).json()  # say the id leaked: the stranger still may not use it
    code = bank.code("sms")

    cancelled = delete(stranger, first["cancel_url"])
    called = stranger.post(first["next_url"], json={})
    guesses = [stranger.post(first["check_url"], json={"code": wrong_for(code)}) for _ in range(3)]
    right = stranger.post(first["check_url"], json={"code": code})

    assert [a.status_code for a in (cancelled, called, *guesses, right)] == [403] * 6
    assert cancelled.headers["Content-Type"].startswith(PROBLEM) and cancelled.json()["title"]
    assert bank.voice.outbox == []  # nobody was called early
    # The request is untouched: not cancelled, its three attempts all left.
    checked = victim.post(first["check_url"], json={"code": code})
    assert checked.status_code == 200 and checked.json()["verified"] is True


def test_the_engine_names_the_pending_id_to_its_own_caller_alone(make_engine):
    engine = make_engine()
    first = engine.contact.request("sms", NUMBER, session="browser-a")

    refusals = []
    for session in ("browser-a", None, "browser-b"):
        with pytest.raises(stepup.RequestPending) as refused:
            engine.contact.request("sms", SPELLED, session=session)
        refusals.append(refused.value)

    own, app, stranger = refusals
    assert own.request_id == first and app.request_id == first  # its session; the app's own code
    assert stranger.request_id is None and stranger.retry_after and stranger.status == 409
    with pytest.raises(stepup.ChallengeForbidden):
        engine.contact.cancel(first, session="browser-b")
    server = engine.contact.request("sms", "+447700900889")  # made by the app's code, no session
    with pytest.raises(stepup.RequestPending) as again:
        engine.contact.request("sms", "+447700900889")
    assert again.value.request_id == server


# -- cancel, under the caller's limits --------------------------------------------------------


def test_cancel_ends_a_request_and_its_code(bank):
    browser = bank.browser()
    first = request(browser).json()
    code = bank.code("sms")

    cancelled = delete(browser, first["cancel_url"])
    checked = browser.post(first["check_url"], json={"code": code})
    again = delete(browser, first["cancel_url"])

    assert cancelled.status_code == 204
    assert checked.status_code == 410 and checked.json()["code"] == "challenge_closed"
    assert again.status_code == 410 and again.headers["Content-Type"].startswith(PROBLEM)


def test_cancels_of_guessed_ids_are_limited_per_client(make_bank):
    bank = make_bank(STEPUP_LIMIT_UNKNOWN_IDS_PER_CLIENT="2/minute", **CONTACT_VERIFICATION)
    browser = bank.browser()
    guesses = [delete(browser, f"/stepup/api/verify/{'A' * 22}{n}") for n in range(3)]

    assert [g.status_code for g in guesses] == [404, 404, 429]
    assert guesses[0].json()["code"] == "challenge_not_found"
    assert int(guesses[2].headers["Retry-After"]) > 0


def test_cancels_count_with_the_clients_checks(make_bank):
    bank = make_bank(STEPUP_LIMIT_VERIFICATIONS_PER_CLIENT="2/minute", **CONTACT_VERIFICATION)
    browser = bank.browser()
    first = request(browser).json()
    browser.post(first["check_url"], json={"code": wrong_for(bank.code("sms"))})
    assert delete(browser, first["cancel_url"]).status_code == 204
    second = request(browser).json()

    refused = delete(browser, second["cancel_url"])

    assert refused.status_code == 429 and refused.json()["code"] == "rate_limited"
    # Refused before anything changed: the request still takes its code.
    bank.clock.advance(60)
    assert browser.post(second["check_url"], json={"code": bank.code("sms")}).status_code == 200


def test_next_step_takes_only_a_json_body(bank):
    browser = bank.browser()
    first = request(browser).json()

    form = browser.post(first["next_url"], data={"x": "1"})  # what another site's form sends

    assert form.status_code == 415 and form.headers["Content-Type"].startswith(PROBLEM)
    assert len(bank.sms.outbox) == 1


def test_a_login_challenge_cannot_be_cancelled_as_a_contact_request(bank):
    alice = held(bank)
    challenge = alice.post("/stepup/api/challenges", json={"method": "sms"}).json()
    raw_id = json.loads(base64_decode(challenge["id"].split(".")[0]))["c"]  # signed, not secret

    forged = delete(bank.browser(), f"/stepup/api/verify/{raw_id}")

    assert forged.status_code == 403
    assert alice.post(challenge["verify_url"], json={"code": bank.code("sms")}).status_code == 200


def test_cancel_and_next_are_not_there_without_contact_verification(make_bank):
    bank = make_bank()
    browser = bank.browser()
    assert delete(browser, f"/stepup/api/verify/{'A' * 22}").status_code == 404
    assert browser.post(f"/stepup/api/verify/{'A' * 22}/next", json={}).status_code == 404


def test_a_password_alone_cannot_cancel_when_callers_must_be_signed_in(make_bank):
    bank = make_bank(STEPUP_CONTACT_VERIFICATION="1")
    alice = held(bank)

    answer = delete(alice, f"/stepup/api/verify/{'A' * 22}")

    assert answer.status_code == 401


# -- racing requests, on every store ----------------------------------------------------------


@pytest.fixture
def make_engine(store_url: str, clock: stepup.FrozenClock, sms: MemorySender) -> Iterator[Callable[..., Any]]:
    """``make_engine(**settings)``: an engine on the store under test, closed at the end."""
    with contextlib.ExitStack() as opened:

        def make(**overrides: Any) -> stepup.Engine:
            options = {"sms": sms, "test_number_prefixes": ("+447700900",), **overrides}
            engine = stepup.Engine(secret_key="c" * 40, store_url=store_url, clock=clock, **options)
            opened.callback(engine.close)
            return engine

        yield make


def test_racing_requests_to_one_number_start_one_on_every_store(make_engine, sms, store_url):
    # Four engines on one store, as four app processes would be (memory:// is one process's).
    engines = [make_engine()] * 4 if store_url == "memory://" else [make_engine() for _ in range(4)]
    start = threading.Barrier(len(engines))

    def ask(engine: stepup.Engine) -> str | stepup.RequestPending:
        start.wait()
        try:
            return engine.contact.request("sms", NUMBER)
        except stepup.RequestPending as pending:
            return pending

    with ThreadPoolExecutor(len(engines)) as pool:
        outcomes = list(pool.map(ask, engines))

    started = [o for o in outcomes if isinstance(o, str)]
    refused = [o for o in outcomes if isinstance(o, stepup.RequestPending)]
    assert len(started) == 1 and len(refused) == 3
    assert {r.request_id for r in refused} == set(started)
    assert len(sms.outbox) == 1


def test_a_request_whose_send_failed_holds_nothing_up(make_engine, sms):
    failing = make_engine(sms=_Down())
    with pytest.raises(stepup.DeliveryError):
        failing.contact.request("sms", NUMBER)

    assert make_engine().contact.request("sms", NUMBER)
    assert len(sms.outbox) == 1


class _Down:
    def send(self, message: Any) -> None:
        raise stepup.DeliveryError("The SMS provider is down.", "sms", "test")


# -- next step (Vonage's trigger-next-event) ----------------------------------------------


@pytest.fixture
def calling_bank(make_bank):
    """Contact requests that text, then call a minute later."""
    return make_bank(STEPUP_WORKFLOWS_BY_PURPOSE='{"contact": "sms:60,voice"}', **CONTACT_VERIFICATION)


def test_next_calls_at_once_with_the_same_code(calling_bank):
    bank = calling_bank
    browser = bank.browser()
    first = request(browser).json()
    code = bank.code("sms")

    called = browser.post(first["next_url"], json={})
    again = browser.post(first["next_url"], json={})

    assert called.status_code == 200 and called.json()["next_event"] is None
    assert (bank.voice.outbox[-1].to, bank.voice.outbox[-1].channel) == (NUMBER, "voice")
    assert code in "".join(c for c in bank.voice.outbox[-1].body if c.isdigit())
    assert again.status_code == 409 and again.json()["code"] == "no_step_left"
    assert browser.post(first["check_url"], json={"code": code}).json()["verified"] is True


def test_a_request_without_a_workflow_has_no_next_step(bank):
    browser = bank.browser()
    first = request(browser).json()

    asked = browser.post(first["next_url"], json={})

    assert asked.status_code == 409 and asked.json()["code"] == "no_step_left"
    assert bank.voice.outbox == [] and len(bank.sms.outbox) == 1


def test_next_steps_count_with_the_clients_new_challenges(make_bank):
    bank = make_bank(
        STEPUP_WORKFLOWS_BY_PURPOSE='{"contact": "sms:60,voice"}', STEPUP_LIMIT_CHALLENGES_PER_CLIENT="1/hour",
        **CONTACT_VERIFICATION,
    )  # fmt: skip
    browser = bank.browser()
    first = request(browser).json()

    refused = browser.post(first["next_url"], json={})

    assert refused.status_code == 429 and refused.json()["code"] == "rate_limited"
    assert bank.voice.outbox == []


def test_next_of_a_guessed_id_is_charged_as_a_guess(make_bank):
    bank = make_bank(STEPUP_LIMIT_UNKNOWN_IDS_PER_CLIENT="1/minute", **CONTACT_VERIFICATION)
    browser = bank.browser()
    answers = [browser.post(f"/stepup/api/verify/{'B' * 22}{n}/next", json={}) for n in range(2)]

    assert [a.status_code for a in answers] == [404, 429]


def test_a_cancelled_request_calls_nobody(calling_bank):
    bank = calling_bank
    browser = bank.browser()
    first = request(browser).json()
    delete(browser, first["cancel_url"])

    asked = browser.post(first["next_url"], json={})

    assert asked.status_code == 410
    assert bank.voice.outbox == []


def test_a_copy_of_the_cookie_after_logout_requests_checks_and_cancels_nothing(make_bank):
    # Signed in, with anonymous use off: the copy's requests would be charged to a login
    # that a logout ended. Each is refused as every other change of such a copy is.
    bank = make_bank(STEPUP_CONTACT_VERIFICATION="true")
    browser = bank.browser()
    browser.sign_in("alice", "sms")
    started = request(browser)
    assert started.status_code == 201, started.text
    urls = started.json()
    copy = bank.twin(browser)
    browser.logout()
    sent = len(bank.sms.outbox)

    answers = {
        "new request": request(copy, "+447700900777"),
        "next step": copy.post(urls["next_url"], json={}),
        "check": copy.post(urls["check_url"], json={"code": bank.code("sms")}),
        "cancel": delete(copy, urls["cancel_url"]),
    }

    assert {what: (a.status_code, a.json()["code"]) for what, a in answers.items()} == dict.fromkeys(
        answers, (403, "login_ended")
    )
    assert len(bank.sms.outbox) == sent
