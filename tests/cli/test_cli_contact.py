"""``stepup contact``: contact verification from the terminal as Vonage Verify's request,
check, cancel and next step, on the app's store (``verify`` is the same command)."""

from __future__ import annotations

import json
import re

from tests.cli.test_cli_commands import _code

NUMBER = "+447700900777"


def _id(text: str) -> str:
    found = re.search(r"request_id: (\S+)", text)
    assert found is not None, text
    return found.group(1)


def test_a_second_request_to_a_pending_number_names_the_pending_one(cli, site):
    config = ("--config", str(site.config))
    first = cli(*config, "contact", "request", "sms", NUMBER)
    second = cli(*config, "contact", "request", "sms", "+44 7700 900777")

    assert first.status == 0
    assert f"Check it with: stepup --config {site.config} contact check {_id(first.out)} CODE" in first.out
    assert second.status == 2 and "is running" in second.err
    assert _id(second.out) == _id(first.out)
    assert len(site.outbox.read_text(encoding="utf-8").splitlines()) == 1


def test_cancel_lets_the_number_be_asked_again_and_check_confirms_it(cli, site):
    config = ("--config", str(site.config))
    first = _id(cli(*config, "contact", "request", "sms", NUMBER).out)

    assert cli(*config, "contact", "cancel", first).out.strip() == "Cancelled."
    second = _id(cli(*config, "contact", "request", "sms", NUMBER).out)
    checked = cli(*config, "contact", "check", second, _code(site))

    assert second != first
    assert checked.status == 0 and f"Verified: {NUMBER} (sms)." in checked.out


def test_next_calls_now_with_the_same_code_and_says_when_none_is_left(cli, site):
    with site.config.open("a", encoding="utf-8") as toml:
        toml.write('STEPUP_WORKFLOWS_BY_PURPOSE = {contact = "sms:120,voice"}\n')
        toml.write(f'STEPUP_SENDER_URLS = {{voice = "file://{site.outbox}"}}\n')
    config = ("--config", str(site.config))
    request_id = _id(cli(*config, "contact", "request", "sms", NUMBER).out)
    code = _code(site)

    called = cli(*config, "contact", "next", request_id)
    again = cli(*config, "contact", "next", request_id)

    assert called.status == 0 and f"Sent the next step of {request_id}." in called.out
    last = json.loads(site.outbox.read_text(encoding="utf-8").splitlines()[-1])
    assert (last["channel"], last["to"]) == ("voice", NUMBER)
    assert code in re.sub(r"\D", "", last["body"])
    assert again.status == 2 and again.err.startswith("stepup: ")
