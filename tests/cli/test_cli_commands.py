"""Every subcommand of ``stepup``, pointed at the app's settings with ``--config FILE``, on a
SQLite file and on a real Redis. What each one changes is read back by an engine of the
app's own on the same store, as the app would see it."""

from __future__ import annotations

import json
import re

import pytest

import stepup
from stepup._crypto import new_id

PHONE = "+447700900001"


def _code(site) -> str:
    last = json.loads(site.outbox.read_text(encoding="utf-8").splitlines()[-1])
    match = re.search(r"(?<!\d)\d{6}(?!\d)", last["body"])
    assert match is not None, last
    return match.group(0)


def _wrong(code: str) -> str:
    return f"{(int(code) + 1) % 10**6:06d}"


def test_secret_prints_a_key_the_command_then_accepts(cli, site):
    made = cli("secret")
    key = made.out.strip()
    assert made.status == 0 and re.fullmatch(r"[A-Za-z0-9_-]{43}", key)
    shown = cli("--config", str(site.config), "--secret-key", key, "config", "show")
    assert json.loads(shown.out)["settings"]["secret_key"] == "(1 key, not shown)"


def test_secret_never_prints_a_key_the_command_line_would_read_as_an_option(cli, monkeypatch):
    drawn = iter(["-starts-with-a-dash-" + "x" * 23, "a" * 43])
    monkeypatch.setattr("secrets.token_urlsafe", lambda n: next(drawn))
    assert cli("secret").out.strip() == "a" * 43


def test_policy_show_prints_the_policy_the_app_reads(cli, site):
    site.engine().set_method("totp", False, "app", "api")
    shown = cli("--config", str(site.config), "policy", "show")
    assert shown.status == 0
    record = json.loads(shown.out)
    assert record["scopes"]["app:api"]["methods"] == {"totp": False}
    assert record["scopes"]["global"]["methods"]["totp"] is True


def test_policy_method_switches_a_method_for_one_app(cli, site):
    assert cli("--config", str(site.config), "policy", "method", "sms", "off", "--app", "api").status == 0
    policy = site.engine().policy()
    assert "sms" not in policy.methods(app="api")
    assert "sms" in policy.methods(app="bank") and "sms" in policy.methods()


def test_policy_login_2fa_for_one_app_is_what_the_engine_reads_for_that_app(cli, site):
    assert cli("--config", str(site.config), "policy", "login-2fa", "off").status == 0
    changed = cli("--config", str(site.config), "policy", "login-2fa", "on", "--app", "bank")
    assert changed.status == 0
    assert json.loads(changed.out)["scopes"]["app:bank"] == {"login_2fa": True}
    policy = site.engine().policy()
    assert policy.login_2fa(app="bank") is True
    assert policy.login_2fa(app="api") is False
    assert policy.login_2fa() is False


def test_policy_login_2fa_for_one_subject_and_one_route(cli, site):
    assert cli("--config", str(site.config), "policy", "login-2fa", "off").status == 0
    assert cli("--config", str(site.config), "policy", "login-2fa", "on", "--subject", "alice").status == 0
    assert cli("--config", str(site.config), "policy", "method", "email", "off", "--route", "transfer").status == 0
    policy = site.engine().policy()
    assert policy.login_2fa(subject="alice") is True and policy.login_2fa(subject="bob") is False
    assert "email" not in policy.methods(route="transfer") and "email" in policy.methods()


def test_policy_identity_source_and_bind_on_first_login(cli, site):
    assert cli("--config", str(site.config), "policy", "identity-source", "sso", "off").status == 0
    assert cli("--config", str(site.config), "policy", "bind-on-first-login", "off").status == 0
    policy = site.engine().policy()
    assert policy.login_2fa(identity_source="sso") is False
    assert policy.login_2fa(identity_source="password") is True
    assert policy.bind_on_first_login is False


def test_bindings_list_shows_masked_targets(cli, site):
    engine = site.engine()
    bound = engine.import_binding("alice", "sms", PHONE)
    listed = cli("--config", str(site.config), "bindings", "list", "alice")
    assert listed.status == 0
    assert bound.id in listed.out and "sms" in listed.out
    assert PHONE not in listed.out  # masked
    assert "bob has nothing bound." in cli("--config", str(site.config), "bindings", "list", "bob").out


def test_bindings_unbind_removes_one_binding(cli, site):
    engine = site.engine()
    phone = engine.import_binding("alice", "sms", PHONE)
    engine.import_binding("alice", "email", "alice@example.com")
    gone = cli("--config", str(site.config), "bindings", "unbind", "alice", phone.id)
    assert gone.status == 0 and "Removed sms" in gone.out
    assert [b.method for b in site.engine().bindings("alice")] == ["email"]


def test_bindings_reset_removes_everything(cli, site):
    engine = site.engine()
    engine.import_binding("alice", "sms", PHONE)
    engine.generate_recovery_codes("alice")
    reset = cli("--config", str(site.config), "bindings", "reset", "alice")
    assert reset.status == 0 and "Removed 2 binding(s) of alice" in reset.out
    assert site.engine().bindings("alice") == []


def test_bindings_unlock_lifts_a_lock_after_wrong_codes(cli, site):
    engine = site.engine()
    engine.import_binding("alice", "sms", PHONE)
    for _ in range(2):  # lockout_after = 2 in the config file
        challenge = engine.start("alice", "sms", "login")
        with pytest.raises(stepup.WrongCode):
            engine.verify(challenge.id, _wrong(_code(site)), subject="alice")
    with pytest.raises(stepup.MethodLocked):
        engine.start("alice", "sms", "login")
    unlocked = cli("--config", str(site.config), "bindings", "unlock", "alice", "--method", "sms")
    assert unlocked.status == 0 and "Unlocked sms for alice" in unlocked.out
    challenge = site.engine().start("alice", "sms", "login")
    assert site.engine().verify(challenge.id, _code(site), subject="alice").method == "sms"


def test_verify_request_and_check_through_the_configured_sender(cli, site):
    requested = cli("--config", str(site.config), "verify", "request", "sms", "+447700900777")
    assert requested.status == 0
    request_id = re.search(r"request_id: (\S+)", requested.out).group(1)
    assert f"Check it with: stepup --config {site.config} verify check {request_id} CODE" in requested.out
    checked = cli("--config", str(site.config), "verify", "check", request_id, _code(site))
    assert checked.status == 0 and "Verified: +447700900777 (sms)." in checked.out
    again = cli("--config", str(site.config), "verify", "check", request_id, _code(site))
    assert again.status == 2 and again.err.startswith("stepup: ")


def test_verify_cancel_ends_a_request(cli, site):
    requested = cli("--config", str(site.config), "verify", "request", "email", "carol@example.com")
    request_id = re.search(r"request_id: (\S+)", requested.out).group(1)
    code = _code(site)
    assert cli("--config", str(site.config), "verify", "cancel", request_id).out.strip() == "Cancelled."
    with pytest.raises(stepup.StepUpError):
        site.engine().contact.check(request_id, code)


def test_verify_unlock_lifts_a_numbers_back_off(cli, site):
    engine = site.engine(backoff_after=1, backoff_base=600)
    request_id = engine.contact.request("sms", "+447700900888")
    with pytest.raises(stepup.WrongCode):
        engine.contact.check(request_id, _wrong(_code(site)))
    engine.contact.cancel(request_id)  # one request to a number at a time
    request_id = engine.contact.request("sms", "+447700900888")
    with pytest.raises(stepup.TemporarilyLocked):
        engine.contact.check(request_id, _code(site))
    unlocked = cli("--config", str(site.config), "verify", "unlock", "+447700900888")
    assert unlocked.status == 0 and "Unlocked contact verification of +447700900888 (sms)." in unlocked.out
    assert engine.contact.check(request_id, _code(site)).to == "+447700900888"


def test_config_show_names_the_file_and_hides_the_key(cli, site):
    shown = cli("--config", str(site.config), "config", "show")
    assert shown.status == 0
    document = json.loads(shown.out)
    assert document["source"] == f"config {site.config}"
    assert document["settings"]["store_url"] == site.store_url
    assert document["settings"]["lockout_after"] == 2
    assert document["settings"]["test_number_prefixes"] == ["+447700900"]
    assert "cli-test-secret-key" not in shown.out


def test_demo_walks_through_on_a_store_of_its_own(cli, site):
    ran = cli("--config", str(site.config), "demo")
    assert ran.status == 0 and "Done." in ran.out
    assert site.engine().bindings("alice") == []  # the app's store is untouched


def test_every_id_a_person_may_type_after_a_command_reads_as_an_argument():
    # stepup verify check ID CODE: an id starting with "-" read as an unknown option.
    assert not any(new_id().startswith("-") for _ in range(5000))


def test_config_show_prints_no_password_or_token_of_a_url(cli, tmp_path, key):
    # Store and sender URLs carry credentials; what the command prints goes to terminals and CI logs.
    config = tmp_path / "stepup.toml"
    config.write_text(
        f'STEPUP_SECRET_KEY = "{key}"\nSTEPUP_STORE_URL = "memory://"\n'
        'STEPUP_SMS_URL = "twilio://AC123:tw-token-9@?from=%2B15005550006"\n'
        'STEPUP_EMAIL_URL = "smtp://mailer:mail-pass-7@smtp.example:587"\n'
        'STEPUP_SMS_ROUTES = {GB = "vonage://key1:vonage-secret-5@?from=Bank"}\n'
    )

    shown = cli("--config", str(config), "config", "show")

    assert shown.status == 0, shown.err
    for secret in ("tw-token-9", "mail-pass-7", "vonage-secret-5", key):
        assert secret not in shown.out
    settings = json.loads(shown.out)["settings"]
    assert settings["email_url"] == "smtp://smtp.example:587" and settings["sms_routes"]["GB"].startswith("vonage://")
