"""``stepup audit SUBJECT --since 1h``: a user's stored events, as lines a person reads or
as JSON lines to export, from the app's store."""

from __future__ import annotations

import json
import re

import pytest

import stepup

PHONE = "+447700900001"


def _code(site) -> str:
    last = json.loads(site.outbox.read_text(encoding="utf-8").splitlines()[-1])
    return re.search(r"(?<!\d)\d{6}(?!\d)", last["body"]).group(0)  # type: ignore[union-attr]


def test_audit_exports_a_users_events_as_json_lines_without_a_code(cli, site):
    engine = site.engine()
    engine.import_binding("bob", "sms", PHONE)
    challenge = engine.start("bob", "sms")
    code = _code(site)
    with pytest.raises(stepup.WrongCode):
        engine.verify(challenge.id, f"{(int(code) + 1) % 10**6:06d}", subject="bob")
    engine.verify(challenge.id, code, subject="bob")

    ran = cli("--config", str(site.config), "audit", "bob", "--since", "1h", "--json")

    assert ran.status == 0, ran.err
    events = [json.loads(line) for line in ran.out.splitlines()]
    assert [e["type"] for e in events] == ["bound", "issued", "sent", "failed", "verified", "step_up_passed"]
    assert all(e["subject"] == "bob" for e in events) and events[1]["target"] == "+44 •••• ••0001"
    assert code not in ran.out and PHONE not in ran.out


def test_audit_prints_lines_a_person_reads_and_filters_by_type(cli, site):
    site.engine().support_action("bob", "unlock", by="alice", method="sms")

    ran = cli("--config", str(site.config), "audit", "bob", "--type", "admin_action")

    assert ran.status == 0 and len(ran.out.splitlines()) == 1
    assert re.match(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ  bob  admin_action  method=sms by=alice action=unlock", ran.out)


def test_audit_refuses_a_duration_it_cannot_read(cli, site):
    ran = cli("--config", str(site.config), "audit", "bob", "--since", "an hour")

    assert ran.status == 2 and "30m, 1h, 7d" in ran.err
