"""A challenge as stores keep it: every field survives the trip, defaults stay out."""

from __future__ import annotations

import dataclasses
import enum
from typing import Any

import pytest

import stepup
from stepup._models import Challenge
from stepup.testing import code_from

REQUIRED: dict[str, Any] = {
    "id": "c" * 22, "subject": "alice", "method": "sms", "target": "+447400123456", "purpose": "step_up",
    "created_at": 100.0, "expires_at": 400.0, "attempts_left": 3, "sends_left": 3,
}  # fmt: skip


def every_field_set() -> Challenge:
    """A challenge with no field at its default."""
    values = dict(REQUIRED)
    for f in dataclasses.fields(Challenge):
        if f.name in values:
            continue
        values[f.name] = {
            "state": "approved", "consumed": True, "request": {"method": "POST", "path": "/t", "body": "{}"},
            "pending": {"secret": "x"},
        }.get(f.name, 123.0 if f.name.endswith("_at") else f"{f.name}-value")  # fmt: skip
    return Challenge(**values)


def test_a_record_keeps_every_field_and_reads_back_equal() -> None:
    challenge = every_field_set()
    record = challenge.to_record()
    assert set(record) == {f.name for f in dataclasses.fields(Challenge)}
    assert Challenge.from_record(record) == challenge


def test_fields_at_their_default_are_left_out_and_put_back() -> None:
    challenge = Challenge(**REQUIRED)
    assert challenge.to_record() == REQUIRED
    assert Challenge.from_record(dict(REQUIRED)) == challenge
    assert Challenge.from_record(dict(REQUIRED)).state == "pending"


def test_evolve_changes_only_what_it_is_given() -> None:
    challenge = every_field_set()
    changed = challenge.evolve(attempts_left=2, state="exhausted")
    assert changed == dataclasses.replace(challenge, attempts_left=2, state="exhausted")
    assert challenge.attempts_left == 3 and challenge.state == "approved"
    with pytest.raises(dataclasses.FrozenInstanceError):
        changed.state = "pending"  # type: ignore[misc]


@pytest.mark.parametrize(
    "call",
    [
        lambda: Challenge(**REQUIRED).evolve(attempts=2),
        lambda: Challenge.from_record({**REQUIRED, "attempts": 2}),
        lambda: Challenge.from_record({k: v for k, v in REQUIRED.items() if k != "target"}),
    ],
    ids=["evolve-unknown-field", "record-unknown-field", "record-missing-field"],
)
def test_a_field_that_is_not_one_is_refused(call: Any) -> None:
    with pytest.raises(TypeError):
        call()


class Purpose(enum.StrEnum):
    STEP_UP = "step_up"


def test_a_purpose_from_the_apps_own_str_enum_is_kept_as_its_value() -> None:
    engine = stepup.Engine(secret_key="s" * 40, store_url="memory://", sms_url="memory://")
    try:
        engine.import_binding("alice", "sms", "+44 7400 123456")
        challenge = engine.start("alice", "sms", Purpose.STEP_UP)
        approval = engine.verify(challenge.id, code_from(engine.sms.last), subject="alice")
        assert approval.purpose == "step_up" and type(approval.purpose) is str
    finally:
        engine.close()


def test_an_audit_event_as_stored_has_every_field_and_copies_its_dicts():
    import dataclasses

    from stepup import AuditEvent

    event = AuditEvent("sent", 1.0, subject="alice", detail={"via": "sms"}, context={"client": "192.0.2.1"})
    stored = event.as_dict()
    assert set(stored) == {f.name for f in dataclasses.fields(AuditEvent)}
    assert stored["detail"] == {"via": "sms"} and stored["context"] == {"client": "192.0.2.1"}
    stored["detail"]["via"] = "changed"
    assert event.detail == {"via": "sms"}
