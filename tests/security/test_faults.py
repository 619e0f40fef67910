"""Faults, through the web adapters: the store down, stalled, locked by another writer
(SQLite busy) or restarted mid-challenge (Redis); the SMS provider down, hanging past its
timeout, or answering garbage. Protected routes stay protected (a 503 page or problem,
never the page itself, never a 500), no attempt or send is charged for what failed, and
the flow goes on where it was once the fault ends. (The engine under the same faults:
tests/storage/test_redis_engine.py, tests/senders/test_failover.py.)"""

from __future__ import annotations

import sqlite3
import threading

import pytest

from stepup import DeliveryError
from stepup.stores import SQLiteStore
from tests.support.banks import CONTACT_VERIFICATION
from tests.support.faults import FaultyStore, wait_for
from tests.support.flows import api_url, ask_transfer, challenge, held, signed_in, transfers, wrong_for

JSON = {"Accept": "application/json"}
PROVIDER_DOWN = DeliveryError("The code could not be sent: the SMS provider is down.", "sms", "connection refused")


def assert_unavailable(response):
    """A 503 that says so: a problem document or a page, never the protected content."""
    assert response.status_code == 503, (response.status_code, response.text[:300])
    if response.headers.get("Content-Type", "").startswith("application/problem+json"):
        assert response.json()["status"] == 503
    else:
        assert "unavailable" in response.text.lower() or "could not be sent" in response.text
    for content in ("Welcome", "Your transfers", "Transferred", "1250.00"):
        assert content not in response.text


@pytest.fixture
def store(tmp_path, clock):
    return FaultyStore(SQLiteStore(tmp_path / "faulty.sqlite3", clock))


@pytest.fixture
def faulty(make_bank, store):
    """The bank on a store the test can take down (contact verification on, to take its
    endpoints down too)."""
    return make_bank(store=store, **CONTACT_VERIFICATION)


# -- the store down ------------------------------------------------------------------------------


def test_a_new_login_while_the_store_is_down_is_held_with_a_503(faulty, store):
    browser = faulty.browser()
    browser.login("alice")
    store.down = True

    answers = [browser.get("/"), browser.get("/transfers"), browser.get("/api/balance", headers=JSON)]

    for answer in answers:
        assert_unavailable(answer)
    store.down = False
    assert browser.get("/").location == "/stepup/?next=/"
    browser.pass_challenge(browser.follow(browser.get("/")), "sms")
    assert "Welcome, alice" in browser.get("/").text


def test_codes_sent_before_the_store_went_down_are_not_charged_and_work_after(faulty, store):
    browser = held(faulty)
    code_url = browser.choose(browser.follow(browser.get("/")), "sms").location
    form = browser.form(browser.get(code_url), "/stepup/code/").fields
    right = faulty.code("sms")
    store.down = True

    wrong = browser.post(code_url, data={**form, "code": wrong_for(right)})
    page = browser.get(code_url)
    api = browser.post(api_url(code_url), json={"code": right})
    home = browser.get("/")

    assert_unavailable(wrong)
    assert_unavailable(page)
    assert_unavailable(api)
    assert home.status_code == 303 and home.location == "/stepup/?next=/"
    store.down = False
    assert "3 attempts left" in browser.get(code_url).text
    assert browser.enter(code_url, right).location == "/"


def test_a_stale_grant_with_the_store_down_is_refused_not_let_through(faulty, store):
    browser = signed_in(faulty)
    faulty.clock.advance(3601)
    store.down = True

    assert_unavailable(browser.get("/"))
    assert_unavailable(browser.get("/api/balance", headers=JSON))
    store.down = False
    assert browser.get("/").location.startswith("/stepup/?r=")


def test_a_transfer_with_the_store_down_runs_nothing_and_runs_once_after(faulty, store):
    browser = signed_in(faulty)
    store.down = True

    refused = ask_transfer(browser, "bob", "25")

    assert_unavailable(refused)
    store.down = False
    assert transfers(browser) == []
    done = browser.pass_challenge(browser.follow(ask_transfer(browser, "bob", "25")), "sms")
    assert "Transferred 25.00 to bob" in done.text and transfers(browser) == ["25.00 to bob"]


def test_an_approval_with_the_store_down_runs_nothing_and_is_still_good_after(make_lab, store):
    lab = make_lab(store=store)
    browser = signed_in(lab, "dana")
    payment = {"to": "bob", "amount": "9.00"}
    asked = browser.post("/pay", json=payment)
    created = challenge(browser, method="sms", resume=asked.json()["resume"])
    approval = {
        "Stepup-Approval": browser.post(created["verify_url"], json={"code": lab.code("sms")}).json()["approval"]
    }
    store.down = True

    refused = browser.post("/pay", json=payment, headers=approval)

    assert_unavailable(refused)
    assert lab.records.payments == []
    store.down = False
    assert browser.post("/pay", json=payment, headers=approval).status_code == 200
    assert lab.records.payments == [("bob", "9.00")]


def test_the_json_api_with_the_store_down_answers_503_problems(faulty, store):
    browser = held(faulty)
    created = challenge(browser)
    store.down = True

    answers = [
        browser.post("/stepup/api/challenges", json={"method": "email"}),
        browser.post(created["verify_url"], json={"code": faulty.code("sms")}),
        browser.post(created["verify_url"].replace("/verify", "/resend")),
        browser.get("/stepup/api/status"),
        browser.post("/stepup/api/verify", json={"channel": "sms", "to": "+447700900888"}),
    ]

    for answer in answers:
        assert_unavailable(answer)
        assert answer.json()["code"] == "store_unavailable"
    store.down = False
    assert browser.post(created["verify_url"], json={"code": faulty.code("sms")}).status_code == 200


def test_a_stalled_store_lets_nothing_through_early_and_nothing_is_lost(faulty, store):
    browser = signed_in(faulty)
    code_url = browser.choose(browser.follow(ask_transfer(browser, "bob", "15")), "sms").location
    data = {**browser.form(browser.get(code_url), "/stepup/code/").fields, "code": faulty.code("sms")}
    racer = faulty.twin(browser)
    answer: list = []
    store.stall()

    worker = threading.Thread(target=lambda: answer.append(racer.post(code_url, data=data)))
    worker.start()
    try:
        wait_for(lambda: store.waiting > 0, "the approval to reach the store")
        assert faulty.twin(browser).get("/transfer").status_code == 200  # others are served meanwhile
        assert answer == [] and _ledger(faulty) == []
    finally:
        store.resume()
        worker.join(timeout=30)

    assert "Transferred 15.00 to bob" in answer[0].text
    assert transfers(browser) == ["15.00 to bob"]


def _ledger(site):
    app = site.app
    return (app.extensions["demo_ledger"] if site.adapter == "flask" else app.state.ledger).of("alice")


# -- SQLite busy ----------------------------------------------------------------------------------


def test_sqlite_locked_by_another_writer_fails_closed_and_recovers(make_bank, tmp_path, clock):
    path = tmp_path / "busy.sqlite3"
    bank = make_bank(store=SQLiteStore(path, clock, timeout=0.1))
    browser = held(bank)
    code_url = browser.choose(browser.follow(browser.get("/")), "sms").location
    right = bank.code("sms")
    writer = sqlite3.connect(path, isolation_level=None)
    writer.execute("BEGIN EXCLUSIVE")  # another process in the middle of a long write
    try:
        busy = browser.enter(code_url, right)
        busy_api = browser.post("/stepup/api/challenges", json={"method": "email"})
    finally:
        writer.execute("ROLLBACK")
        writer.close()

    assert_unavailable(busy)
    assert_unavailable(busy_api)
    assert browser.get("/").status_code == 303
    assert "3 attempts left" in browser.get(code_url).text
    assert browser.enter(code_url, right).location == "/"


# -- Redis restarted -------------------------------------------------------------------------------


def test_redis_stopped_mid_challenge_fails_closed_and_the_flow_goes_on_after_a_restart(make_bank, redis_factory):
    # An append-only file keeps the challenge across the restart, as a production Redis does.
    server = redis_factory("--appendonly", "yes", "--appendfsync", "always")
    bank = make_bank(STEPUP_STORE_URL=server.url)
    browser = held(bank)
    code_url = browser.choose(browser.follow(browser.get("/")), "sms").location
    right = bank.code("sms")
    server.stop()

    answers = [
        browser.get(code_url),
        browser.post(api_url(code_url), json={"code": right}),
        browser.post("/stepup/api/challenges", json={"method": "email"}),
    ]
    home = browser.get("/")

    for answer in answers:
        assert_unavailable(answer)
    assert home.status_code == 303  # still held: nothing passes without the store
    server.start()
    assert "3 attempts left" in browser.get(code_url).text
    assert browser.enter(code_url, right).location == "/"
    assert "Welcome, alice" in browser.get("/").text


# -- the SMS provider --------------------------------------------------------------------------------


def test_an_sms_provider_that_is_down_costs_no_attempt_and_no_send(bank):
    browser = held(bank)
    choose = browser.follow(browser.get("/"))
    bank.sms.fail_with = PROVIDER_DOWN

    failed = browser.submit(choose, "/stepup/", binding=browser.form(choose, "/stepup/").radios["binding"][0][0])

    assert_unavailable(failed)
    assert browser.get("/").status_code == 303
    bank.sms.fail_with = None
    code_url = browser.choose(browser.get(choose.url), "sms").location
    bank.clock.advance(30)
    bank.sms.fail_with = PROVIDER_DOWN
    failed_resend = browser.submit(browser.get(code_url), "/resend")
    bank.sms.fail_with = None

    assert_unavailable(failed_resend)
    page = browser.get(code_url).text
    assert "3 attempts left" in page and "Send a new code" in page
    resent = browser.post(api_url(code_url, "resend"))
    assert resent.json()["sends_left"] == 1  # the failed resend was not counted
    assert browser.enter(code_url, bank.code("sms")).location == "/"


@pytest.mark.parametrize(
    ("provider", "fault"),
    [
        ("twilio", "hang"),  # no answer within the sender's 0.5 s read timeout
        ("twilio", (502, b"<html><body>Bad gateway</body></html>")),  # twice: the retry too
        ("vonage", (200, b"<html>Service temporarily unavailable</html>")),
        ("vonage", (200, {"unexpected": "shape"})),
    ],
    ids=["twilio-timeout", "twilio-502-html", "vonage-html", "vonage-wrong-json"],
)
def test_an_sms_provider_that_hangs_or_answers_garbage_fails_closed_and_recovers(
    make_bank, provider_urls, twilio, vonage, provider, fault
):
    fake = {"twilio": twilio, "vonage": vonage}[provider]
    bank = make_bank(sms_url=provider_urls[provider])
    browser = held(bank)
    choose = browser.follow(browser.get("/"))
    fake.next = [fault, fault]

    failed = browser.submit(choose, "/stepup/", binding=browser.form(choose, "/stepup/").radios["binding"][0][0])

    assert_unavailable(failed)
    assert browser.get("/").status_code == 303
    fake.next = []
    code_url = browser.choose(browser.get(choose.url), "sms").location
    body = fake.requests[-1].form["Body" if provider == "twilio" else "text"]
    code = next(word for word in body.replace(".", " ").split() if word.isdigit() and len(word) == 6)
    assert "3 attempts left" in browser.get(code_url).text
    assert browser.enter(code_url, code).location == "/"
