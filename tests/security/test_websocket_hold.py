"""ASGI: a WebSocket of a login that waits for its second factor gets no data. The
handshake passes the same login hold as a page; a held one is closed before it is
accepted (1008), which a server answers with 403."""

from __future__ import annotations

import pytest
from starlette.websockets import WebSocketDisconnect


@pytest.fixture
def adapter() -> str:
    """WebSockets are an ASGI matter: the lab on Starlette."""
    return "starlette"


def connect(lab, browser, path="/feed"):
    client = lab.test_client
    client.cookies = browser.client.cookies.jar  # this browser's session cookie
    return client.websocket_connect(path)


def test_a_held_session_gets_no_data_over_a_websocket(lab):
    browser = lab.browser()
    browser.login("dana")

    with pytest.raises(WebSocketDisconnect) as closed:
        with connect(lab, browser) as socket:
            socket.receive_text()

    assert closed.value.code == 1008


def test_a_websocket_is_the_first_request_of_a_login_and_is_held(lab):
    """The session names the user, and the hold has not seen this login yet: the
    handshake decides it as a page would."""
    browser = lab.browser()
    browser.client.client.cookies = browser.client.cookies.jar
    lab.test_client.post("/login/dana", follow_redirects=False)

    with pytest.raises(WebSocketDisconnect) as closed:
        with connect(lab, browser) as socket:
            socket.receive_text()

    assert closed.value.code == 1008


def test_after_the_second_factor_the_websocket_is_served(lab):
    browser = lab.browser()
    browser.sign_in("dana", "sms")

    with connect(lab, browser) as socket:
        assert socket.receive_text() == "Feed of dana"


def test_a_login_that_needs_no_second_factor_is_served(lab):
    lab.call("set_identity_source", "sso", False)
    browser = lab.browser()
    browser.login("dana", source="sso")

    with connect(lab, browser) as socket:
        assert socket.receive_text() == "Feed of dana"
