"""STEPUP_SECRET_KEY as a string: one key, or a JSON list of keys, newest last. Rotating
through the environment keeps the recovery codes, pending codes and tokens of the older
key working; a value that looks like a list of another form is refused, never taken as
one literal key."""

from __future__ import annotations

import json
import re

import pytest

import stepup
from stepup.senders import MemorySender

OLD, NEW = "old-key-" + "o" * 32, "new-key-" + "n" * 32


def _engine(env_key: str, store_url: str, sms: MemorySender) -> stepup.Engine:
    settings = stepup.Settings.from_mapping(
        {"STEPUP_SECRET_KEY": env_key, "STEPUP_STORE_URL": store_url, "STEPUP_TRUSTED_DEVICE_DAYS": "30"}
    )
    return stepup.Engine(settings, sms=sms, email=MemorySender())


def _code(sms: MemorySender) -> str:
    match = re.search(r"(?<!\d)\d{6}(?!\d)", sms.last.body)
    assert match is not None
    return match.group(0)


def test_a_json_list_is_the_keys_newest_last():
    settings = stepup.Settings.from_mapping({"STEPUP_SECRET_KEY": f' ["{OLD}", "{NEW}"] '})
    assert settings.secret_key == (OLD, NEW)
    assert stepup.Settings.from_mapping({"STEPUP_SECRET_KEY": OLD}).secret_key == OLD


def test_rotation_through_the_environment_keeps_what_the_old_key_made(tmp_path):
    store_url = f"sqlite:///{tmp_path}/rotation.sqlite3"
    sms = MemorySender()
    transfer = {"to": "bob", "amount": "50.00"}
    before = _engine(OLD, store_url, sms)
    before.import_binding("dave", "email", "dave@example.com")  # codes back up a sign-in method
    recovery = before.generate_recovery_codes("dave")
    before.import_binding("alice", "sms", "+447400123456")
    browser = before.remember_device("alice", methods=["sms"], user_agent="Firefox")
    pending = before.start("alice", "sms", "step_up", session="s")
    pending_code = _code(sms)
    operation = before.start("alice", "sms", "operation", operation="transfer", operation_data=transfer, session="s")
    before.verify(operation.id, _code(sms), subject="alice", session="s")
    resume = before.save_resume("alice", session="s", next_url="/transfer")
    before.close()

    # The next deploy: the same store, the old key and a new one, newest last.
    rotated = _engine(json.dumps([OLD, NEW]), store_url, sms)
    try:
        dave = rotated.start("dave", "recovery", "login")
        assert rotated.verify(dave.id, recovery[0], subject="dave").method == "recovery"
        assert rotated.verify(pending.id, pending_code, subject="alice", session="s").method == "sms"
        rotated.consume(operation.id, subject="alice", session="s", operation_data=transfer)
        assert rotated.load_resume(resume, subject="alice", session="s")["next"] == "/transfer"
        assert rotated.is_trusted_device("alice", browser) is True
        rotated.import_binding("erin", "email", "erin@example.com")
        fresh = rotated.generate_recovery_codes("erin")
    finally:
        rotated.close()

    # What the rotated engine made is under the newest key, so it outlives the old one.
    after = _engine(NEW, store_url, sms)
    try:
        erin = after.start("erin", "recovery", "login")
        assert after.verify(erin.id, fresh[0], subject="erin").method == "recovery"
        dave = after.start("dave", "recovery", "login")
        with pytest.raises(stepup.WrongCode):
            after.verify(dave.id, recovery[1], subject="dave")
    finally:
        after.close()


@pytest.mark.parametrize(
    "value",
    [
        f"{OLD},{NEW}",
        f"{OLD}, {NEW}",
        f"{OLD} {NEW}",
        f"{OLD}\n{NEW}",
        f"{OLD};{NEW}",
        f'"{OLD}","{NEW}"',
        f"'{OLD}'",
        f"{OLD} ",
    ],
)
def test_a_value_that_looks_like_another_list_form_is_refused_and_the_form_named(value):
    with pytest.raises(stepup.ConfigurationError) as caught:
        stepup.Settings.from_mapping({"STEPUP_SECRET_KEY": value})
    message = caught.value.message
    assert "JSON list" in message and '["OLD-KEY", "NEW-KEY"]' in message
    assert OLD not in message and NEW not in message  # a secret is never repeated


@pytest.mark.parametrize("value", [f'["{OLD}", "{NEW}"', f"[{OLD}]", "[1, 2]", f'[["{OLD}"]]'])
def test_a_broken_json_list_is_refused(value):
    with pytest.raises(stepup.ConfigurationError) as caught:
        stepup.Settings.from_mapping({"STEPUP_SECRET_KEY": value})
    assert "JSON list" in caught.value.message and OLD not in caught.value.message


def test_a_key_with_a_comma_is_written_as_a_list_of_one():
    odd = "a key, with a comma and spaces, 32+ characters long"
    settings = stepup.Settings.from_mapping({"STEPUP_SECRET_KEY": json.dumps([odd])})
    assert settings.secret_key == (odd,)
    stepup.Engine(settings, store_url="memory://").close()
