"""Grants: the authentication log a plain session dict carries."""

from __future__ import annotations

import pytest

from stepup import grants

NOW = 1_700_000_000.0


def _logged_in(hold: bool = True) -> dict:
    session: dict = {}
    grants.begin_login(session, "alice", identity_source="password", hold=hold)
    return session


def test_a_fresh_login_is_held_until_a_second_factor():
    session = _logged_in()
    assert grants.is_held(session, "alice")
    assert not grants.satisfies(session, "alice", max_age=300, now=NOW)


def test_recording_a_factor_lifts_the_hold_and_renews_the_nonce():
    session = _logged_in()
    before = grants.session_nonce(session, "alice")
    grants.record_factor(session, "alice", "sms", NOW)
    assert not grants.is_held(session, "alice")
    assert grants.satisfies(session, "alice", max_age=300, now=NOW)
    after = grants.session_nonce(session, "alice")
    assert after and after != before  # whatever was bound to the old nonce is not trusted


def test_each_second_factor_renews_the_nonce_and_still_knows_the_one_it_replaced():
    # The code page that just passed (reached again with Back) is read with the old nonce.
    session = _logged_in()
    nonces = [grants.session_nonce(session, "alice")]
    assert grants.previous_nonce(session, "alice") is None
    for at in (NOW, NOW + 10, NOW + 20):
        grants.record_factor(session, "alice", "sms", at)
        assert grants.previous_nonce(session, "alice") == nonces[-1]
        nonces.append(grants.session_nonce(session, "alice"))
    grants.begin_login(session, "alice", identity_source="password", hold=True)
    nonces.append(grants.session_nonce(session, "alice"))
    assert len(set(nonces)) == len(nonces)
    assert grants.previous_nonce(session, "alice") is None


def test_max_age():
    session = _logged_in()
    grants.record_factor(session, "alice", "sms", NOW)
    assert grants.satisfies(session, "alice", max_age=300, now=NOW + 300)
    assert not grants.satisfies(session, "alice", max_age=300, now=NOW + 301)


def test_accepted_methods():
    session = _logged_in()
    grants.record_factor(session, "alice", "sms", NOW)
    assert not grants.satisfies(session, "alice", max_age=300, now=NOW, methods=frozenset({"totp"}))
    grants.record_factor(session, "alice", "totp", NOW + 10)
    assert grants.satisfies(session, "alice", max_age=300, now=NOW + 10, methods=frozenset({"totp"}))
    assert grants.last_verified(session, "alice", ["sms"]) == NOW


def test_grace_spares_a_multi_step_task_a_second_prompt():
    session = _logged_in()
    grants.record_factor(session, "alice", "sms", NOW)
    assert not grants.satisfies(session, "alice", max_age=60, now=NOW + 120)
    assert grants.satisfies(session, "alice", max_age=60, now=NOW + 120, grace=180)


def test_another_subject_never_satisfies():
    session = _logged_in()
    grants.record_factor(session, "alice", "sms", NOW)
    assert not grants.satisfies(session, "mallory", max_age=300, now=NOW)
    assert grants.is_held(session, "mallory")
    assert grants.session_nonce(session, "mallory") is None


def test_end_login_clears_everything():
    session = _logged_in()
    grants.record_factor(session, "alice", "sms", NOW)
    grants.end_login(session)
    assert grants.SESSION_KEY not in session
    assert not grants.satisfies(session, "alice", max_age=300, now=NOW)
    assert grants.last_verified(session, "alice") is None


def test_a_new_login_forgets_the_grants_of_the_old_one():
    session = _logged_in()
    grants.record_factor(session, "alice", "sms", NOW)
    grants.begin_login(session, "alice", identity_source="password", hold=True)
    assert not grants.satisfies(session, "alice", max_age=300, now=NOW)


def test_a_grant_never_looks_fresher_than_it_is():
    session = _logged_in()
    grants.record_factor(session, "alice", "sms", NOW + 0.9)  # kept to the second, rounded down
    assert grants.last_verified(session, "alice") == NOW
    assert not grants.satisfies(session, "alice", max_age=300, now=NOW + 300.5)


def test_the_log_is_one_short_string_and_any_subject_fits():
    # It rides in the session cookie of every request: one value, not a nested dict.
    session: dict = {}
    grants.begin_login(session, "a|b=c,d", identity_source="password", hold=True)
    grants.record_factor(session, "a|b=c,d", "sms", NOW)
    assert isinstance(session[grants.SESSION_KEY], str) and len(session[grants.SESSION_KEY]) < 100
    assert grants.satisfies(session, "a|b=c,d", max_age=300, now=NOW)
    assert not grants.satisfies(session, "a", max_age=300, now=NOW)
    assert grants.login_subject(session) == "a|b=c,d"
    assert grants.previous_nonce(session, "a|b=c,d")


@pytest.mark.parametrize(
    "log",
    [
        {"sub": "alice", "hold": False, "amr": {"sms": NOW}},  # a nested dict, as once kept
        f"|nonce|previous-nonce|sms={NOW:.0f}|alice",  # the string with two nonces, as once kept
        f"x|nonce|sms={NOW:.0f}|alice",
        "|nonce|sms=soon|alice",
    ],
)
def test_a_log_in_another_shape_is_no_log(log):
    # After an upgrade that changed the log, a signed-in user's login is decided anew.
    session = {grants.SESSION_KEY: log}
    assert grants.is_held(session, "alice")
    assert not grants.login_settled(session, "alice")
    assert not grants.satisfies(session, "alice", max_age=300, now=NOW)
    assert grants.login_subject(session) is None
