"""The attack list for passkeys, on both adapters and every store: other people's
challenges and passkeys, bad input, limits, racing assertions, a request from an origin
not configured, and nothing stored by a refused request."""

from __future__ import annotations

import threading

import pytest

import stepup
from stepup.methods import RelyingParty
from tests.support.authenticator import SoftAuthenticator
from tests.support.passkeys import ORIGIN, add_passkey, use_passkey

RP = RelyingParty("bank.example", ("https://bank.example",), "Bank")
METHODS = {"sms", "email", "totp", "recovery", "passkey"}


def _carol_with_a_passkey(passkey_bank):
    browser, device = passkey_bank.browser(), SoftAuthenticator(ORIGIN)
    browser.sign_in("carol", "totp")
    add_passkey(passkey_bank, browser, device)
    return browser, device


def _passkey_code_page(passkey_bank, browser):
    browser.logout()
    browser.login("carol")
    return browser.follow(browser.choose(browser.follow(browser.get("/")), "passkey"))


def test_anothers_passkey_challenge_gives_no_options_and_takes_no_assertion(passkey_bank):
    owner, device = _carol_with_a_passkey(passkey_bank)
    code_page = _passkey_code_page(passkey_bank, owner)
    token = code_page.url.rsplit("/", 1)[-1]
    thief = passkey_bank.browser()
    thief.sign_in("alice", "sms")
    options = thief.get(f"/stepup/api/challenges/{token}/passkey")
    assert options.status_code == 403 and "someone else" in options.json()["title"]
    stolen = thief.post(f"/stepup/api/challenges/{token}/verify", json={"credential": {"id": "x"}})
    assert stolen.status_code == 403
    assert use_passkey(owner, code_page, device).status_code == 303  # still carol's, attempts intact


def test_anothers_passkey_cannot_be_renamed_or_removed(passkey_bank):
    _carol_with_a_passkey(passkey_bank)
    passkey = next(b for b in passkey_bank.bindings("carol") if b.method == "passkey")
    thief = passkey_bank.browser()
    thief.sign_in("alice", "sms")
    account = thief.get("/stepup/account")
    token = thief.form(account, "/stepup/account/remove/").fields["csrf_token"]
    renaming = thief.post(f"/stepup/passkeys/{passkey.id}/rename", data={"csrf_token": token, "name": "mine"})
    removing = thief.post(f"/stepup/account/remove/{passkey.id}", data={"csrf_token": token})
    # as for any binding id not one's own: 422, and nothing to tell whose it is
    assert renaming.status_code == 422 and "No such passkey" in renaming.text
    assert removing.status_code == 422 and "No such binding" in removing.text
    assert passkey in passkey_bank.bindings("carol")


def test_a_response_that_is_no_passkeys_is_a_wrong_attempt_and_an_oversized_one_costs_nothing(passkey_bank):
    browser, _ = _carol_with_a_passkey(passkey_bank)
    code_page = _passkey_code_page(passkey_bank, browser)
    garbage = browser.submit(code_page, "/stepup/code/", credential='{"rawId": 5}')
    assert garbage.status_code == 400 and "This passkey was not accepted. 2 attempts left." in garbage.text
    huge = browser.submit(code_page, "/stepup/code/", credential="x" * 20000)
    assert huge.status_code == 400 and "That is not a passkey's response." in huge.text
    api = browser.post(f"/stepup/api/challenges/{code_page.url.rsplit('/', 1)[-1]}/verify", json={"credential": 7})
    assert api.status_code == 422 and "'credential' a passkey's response" in api.json()["title"]
    assert "2 attempts left" in browser.get(code_page.url).text  # neither was evaluated


def test_a_page_from_an_origin_not_configured_says_which_and_where(make_bank):
    passkey_bank = make_bank(STEPUP_WEBAUTHN_ORIGINS="https://bank.example", STEPUP_WEBAUTHN_RP_ID="bank.example")
    browser = passkey_bank.browser()
    browser.sign_in("carol", "totp")
    started = browser.submit(browser.get("/stepup/passkeys/add"), "", name="")
    creating = browser.follow(started)
    assert "not among STEPUP_WEBAUTHN_ORIGINS (https://bank.example)" in creating.text
    assert "data-options" not in creating.text


def test_a_passkey_cannot_be_added_with_a_stale_factor_through_the_api(passkey_bank):
    browser, _ = _carol_with_a_passkey(passkey_bank)
    passkey_bank.clock.advance(301)
    refused = browser.post("/stepup/api/bindings", json={"method": "passkey"})
    assert refused.status_code == 401
    assert len([b for b in passkey_bank.bindings("carol") if b.method == "passkey"]) == 1


def test_only_a_passkey_left_signs_in_and_cannot_be_removed(passkey_bank):
    browser, device = _carol_with_a_passkey(passkey_bank)
    totp = next(b for b in passkey_bank.bindings("carol") if b.method == "totp")
    browser.submit(browser.get("/stepup/account"), f"/stepup/account/remove/{totp.id}")
    assert [b.method for b in passkey_bank.bindings("carol")] == ["passkey"]
    code_page = _passkey_code_page(passkey_bank, browser)
    assert use_passkey(browser, code_page, device).status_code == 303
    passkey = passkey_bank.bindings("carol")[0]
    last = browser.submit(browser.get("/stepup/account"), f"/stepup/account/remove/{passkey.id}")
    assert last.status_code == 409 and "last sign-in method" in last.text


# -- the engine over every store ------------------------------------------------------


@pytest.fixture
def engine(store_url):
    made = stepup.Engine(
        secret_key="k" * 40, store_url=store_url, methods=METHODS, clock=stepup.FrozenClock(),
        limit_verifications_per_client="1000/minute", backoff_after=1000,
    )  # fmt: skip
    yield made
    made.close()


def _registered(engine):
    device = SoftAuthenticator("https://bank.example")
    started = engine.begin_bind("carol", "passkey")
    options = engine.passkey_options(started.challenge.id, subject="carol", relying_party=RP)
    engine.verify(started.challenge.id, device.create(options), subject="carol", relying_party=RP)
    return device


@pytest.mark.parametrize("count", [None, 0], ids=["counting", "synced"])  # synced passkeys report 0
def test_racing_assertions_approve_exactly_once_on_every_store(engine, count):
    device = _registered(engine)
    challenge = engine.start("carol", "passkey", "operation", operation="transfer of 9.00 to bob")
    assertion = device.get(engine.passkey_options(challenge.id, subject="carol", relying_party=RP), count=count)
    outcomes: list[str] = []
    barrier = threading.Barrier(12)

    def race() -> None:
        barrier.wait()
        try:
            engine.verify(challenge.id, assertion, subject="carol", relying_party=RP)
            outcomes.append("approved")
        except stepup.StepUpError as error:
            outcomes.append(type(error).__name__)

    threads = [threading.Thread(target=race) for _ in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert outcomes.count("approved") == 1, outcomes
    # the copies are not wrong codes (they would use up the challenge before the first lands)
    assert set(outcomes) == {"approved", "ChallengeClosed"}, outcomes
    assert engine.consume(challenge.id, subject="carol", operation_data="transfer of 9.00 to bob") is None
    with pytest.raises(stepup.StepUpError):
        engine.consume(challenge.id, subject="carol", operation_data="transfer of 9.00 to bob")


def test_passkey_challenges_are_limited_per_subject_like_any(engine):
    _registered(engine)
    with pytest.raises(stepup.RateLimited):
        for _ in range(50):
            engine.start("carol", "passkey")


@pytest.mark.parametrize(
    ("host", "https", "settings", "takes"),
    [
        # A phishing proxy passes its own Host: without the site's name set, no passkey
        # is made or accepted under a name taken from it.
        ("phish.example", True, {}, False),
        ("phish.localhost:5000", False, {}, False),
        ("bank.example", True, {}, False),
        ("localhost:5000", False, {}, True),  # development
        # With the site's name set, its own host and those under it (the browser refuses
        # any other for that name, so a passkey stays the site's).
        ("bank.example", True, {"webauthn_rp_id": "bank.example"}, True),
        ("login.bank.example", True, {"webauthn_rp_id": "bank.example"}, True),
        ("phish.example", True, {"webauthn_rp_id": "bank.example"}, False),
        ("bank.example", False, {"webauthn_rp_id": "bank.example"}, False),  # not over HTTPS
    ],
)
def test_the_site_name_is_never_taken_from_a_hosts_header_alone(host, https, settings, takes):
    party = RelyingParty.for_request(stepup.Settings(secret_key="s" * 40, **settings), host=host, https=https)
    if takes:
        assert party.checked().id == settings.get("webauthn_rp_id", "localhost")
    else:
        with pytest.raises(stepup.ConfigurationError, match="STEPUP_WEBAUTHN_RP_ID"):
            party.checked()
