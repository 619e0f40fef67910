"""The calls of a login nobody can finish, on both banks running ``sms:5,voice`` for their
logins: after a logout, or once the login passed by another SMS challenge ("Use another
method", SMS again), the worker (``run_due``, what ``stepup worker --once`` runs) and the
user's "call me instead" call nobody, and the support console lists nothing pending. A
login still going gets its call. (At the engine on each store:
tests/security/test_moot_challenges.py.)"""

from __future__ import annotations

import pytest

from tests.support.flows import held

ALICE = "+447700900001"
WORKFLOW = {"STEPUP_WORKFLOWS_BY_PURPOSE": '{"login": "sms:5,voice"}'}


@pytest.fixture
def fast_bank(make_bank):
    return make_bank(**WORKFLOW)


def _code_page(bank, browser):
    """The code page of a new SMS login challenge: its URL and the page."""
    url = browser.choose(browser.follow(browser.get("/")), "sms").location
    return url, browser.get(url)


def test_a_logout_leaves_no_call_for_the_worker_or_a_copy_of_the_session(fast_bank):
    alice = held(fast_bank)
    url, page = _code_page(fast_bank, alice)
    copy = fast_bank.twin(alice)  # the cookies as they were, kept by someone
    alice.logout()
    fast_bank.clock.advance(6)

    pressed = copy.submit(page, "/next")
    fired = fast_bank.call("run_due")
    reopened = copy.get(url)

    assert pressed.status_code in (401, 403) and reopened.status_code in (401, 403)
    assert fired == 0 and fast_bank.voice.outbox == []
    assert fast_bank.call("pending_challenges", "alice") == []


def test_a_login_passed_by_another_challenge_leaves_no_call(fast_bank):
    alice = held(fast_bank)
    _code_page(fast_bank, alice)  # challenge A: its text went
    url, _ = _code_page(fast_bank, alice)  # "Use another method", SMS again: challenge B

    landed = alice.enter(url, fast_bank.code("sms"))
    fast_bank.clock.advance(6)
    fired = fast_bank.call("run_due")

    assert landed.status_code == 303 and "/stepup/" not in (landed.location or "")
    assert fired == 0 and fast_bank.voice.outbox == []
    assert fast_bank.call("pending_challenges", "alice") == []


def test_a_login_still_going_gets_its_call(fast_bank):
    alice = held(fast_bank)
    _code_page(fast_bank, alice)
    fast_bank.clock.advance(6)

    fired = fast_bank.call("run_due")

    assert fired == 1 and [m.to for m in fast_bank.voice.outbox] == [ALICE]
