"""Hardening, on both adapters: what a visitor learns while the store is down (nothing but
"try again"), and the headers and cookie flags of stepup's answers."""

from __future__ import annotations

import logging

import pytest

from stepup.stores import SQLiteStore
from tests.support.faults import FaultyStore
from tests.support.flows import held, signed_in

JSON = {"Accept": "application/json"}
#: what a Redis driver says when its server went away: the address, the errno.
DRIVER = (
    "The Redis store at redis://:hunter2@127.0.0.1:54813/0 is unavailable "
    "(Error 111 connecting to 127.0.0.1:54813. Connection refused)"
)


# -- the store down: a plain page for visitors, the details for the log -------------------------------


@pytest.fixture
def store(tmp_path, clock):
    return FaultyStore(SQLiteStore(tmp_path / "faulty.sqlite3", clock))


@pytest.fixture
def faulty(make_bank, store):
    return make_bank(store=store)


def test_the_503_while_the_store_is_down_tells_visitors_nothing_about_the_store(faulty, store, caplog):
    fresh, stale, waiting = faulty.browser(), signed_in(faulty), held(faulty)
    fresh.login("alice")
    faulty.clock.advance(3601)
    store.down, store.fault = True, DRIVER
    caplog.set_level(logging.WARNING, logger="stepup")

    answers = [
        fresh.get("/"),  # the login hold
        stale.get("/"),  # a protected route
        stale.get("/api/balance", headers=JSON),
        waiting.get("/stepup/"),  # stepup's own page
        waiting.post("/stepup/api/challenges", json={"method": "sms"}),  # the JSON API
    ]

    for answer in answers:
        assert answer.status_code == 503, (answer.status_code, answer.text[:300])
        for secret in ("127.0.0.1", "54813", "redis", "Error 111", "hunter2", "Redis"):
            assert secret not in answer.text, (secret, answer.text[:500])
        if answer.headers.get("Content-Type", "").startswith("application/problem+json"):
            problem = answer.json()
            assert problem["status"] == 503 and problem["code"] == "store_unavailable"
            assert problem["title"] == "This service is temporarily unavailable. Please try again in a minute."
        else:
            assert "temporarily unavailable" in answer.text and "try again in a minute" in answer.text
    # the operator's log has what happened, without the password
    assert "redis://127.0.0.1:54813/0" in caplog.text and "Error 111" in caplog.text
    assert "hunter2" not in caplog.text
