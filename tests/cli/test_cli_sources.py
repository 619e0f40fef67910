"""Where ``stepup`` takes its settings from: ``--app`` (the demo banks on Flask, Starlette and
FastAPI, each a factory reading the environment), ``--config FILE``, the environment, and
the options, in that precedence; on a SQLite file and on a real Redis."""

from __future__ import annotations

import asyncio
import json

import pytest

import stepup
from stepup._cli_settings import app_settings, load_app

APPS = ["examples.flask_app:create_app", "examples.starlette_app:create_app", "examples.fastapi_app:create_app"]


@pytest.fixture
def bank_environment(monkeypatch, site, tmp_path, key):
    """What the demo banks read: their store, key and senders from STEPUP_* variables."""
    monkeypatch.setenv("STEPUP_SECRET_KEY", key)
    monkeypatch.setenv("STEPUP_STORE_URL", site.store_url)
    monkeypatch.setenv("STEPUP_SMS_URL", f"file://{site.outbox}")
    monkeypatch.setenv("STEPUP_EMAIL_URL", f"file://{site.outbox}")
    monkeypatch.setenv("DEMO_BANK_DB", str(tmp_path / "ledger.sqlite3"))
    return site


@pytest.mark.parametrize("app", APPS)
def test_policy_login_2fa_for_one_app_reaches_that_apps_engine(cli, bank_environment, app):
    site = bank_environment
    assert cli("--app", app, "policy", "login-2fa", "off").status == 0
    changed = cli("--app", app, "policy", "login-2fa", "on", "--app", "bank")
    assert changed.status == 0, changed.err
    # The app's own engine, built again as it is served, reads the per-app switch.
    settings, _ = app_settings(load_app(app))
    assert settings.store_url == site.store_url
    policy = site.engine().policy()
    assert policy.login_2fa(app="bank") is True
    assert policy.login_2fa(app="api") is False and policy.login_2fa() is False


def test_the_async_apps_engine_reads_what_the_command_wrote(cli, bank_environment):
    assert cli("--app", "examples.starlette_app:create_app", "policy", "login-2fa", "on", "--app", "api").status == 0
    assert cli("--app", "examples.starlette_app:create_app", "policy", "login-2fa", "off").status == 0
    from examples.starlette_app import create_app
    from stepup.asgi import state_of_app

    engine = state_of_app(create_app()).engine

    async def read() -> stepup.Policy:
        try:
            return await engine.policy()
        finally:
            await engine.close()

    policy = asyncio.run(read())
    assert policy.login_2fa(app="api") is True and policy.login_2fa(app="bank") is False


@pytest.mark.parametrize("app", APPS)
def test_app_settings_are_the_apps_own(cli, bank_environment, app):
    shown = cli("--app", app, "config", "show")
    assert shown.status == 0, shown.err
    document = json.loads(shown.out)
    assert document["source"] == f"app {app}"
    # Set by the bank in code, not in the environment: only the app's settings have them.
    assert document["settings"]["app_name"] == "Demo Bank"
    assert document["settings"]["test_number_prefixes"] == ["+447700900"]
    assert document["settings"]["store_url"] == bank_environment.store_url


def test_flask_app_bindings_are_listed_from_the_apps_store(cli, bank_environment):
    listed = cli("--app", "examples.flask_app:create_app", "bindings", "list", "alice")
    assert listed.status == 0, listed.err
    assert "sms" in listed.out and "email" in listed.out and "+447700900001" not in listed.out


def test_a_module_alone_finds_its_create_app(cli, bank_environment):
    shown = cli("--app", "examples.flask_app", "config", "show")
    assert json.loads(shown.out)["settings"]["app_name"] == "Demo Bank"


@pytest.mark.parametrize(
    ("app", "says"),
    [
        ("no_such_module_here:create_app", "cannot be imported"),
        ("examples.flask_app:no_such_factory", "has no no_such_factory"),
        (":create_app", "MODULE:NAME"),
        ("examples._bank:USERS", "--app names a dict: give a Flask or ASGI app, or a function that makes one."),
        ("examples._bank:valid_amount", "valid_amount needs raw; name an app, or a function that makes one"),
    ],
)
def test_an_app_that_cannot_be_loaded_is_explained(cli, bank_environment, app, says):
    ran = cli("--app", app, "policy", "show")
    assert ran.status == 2 and says in ran.err and ran.out == ""


def test_an_asgi_app_without_the_middleware_is_explained(cli, bank_environment, tmp_path, monkeypatch):
    (tmp_path / "bare_asgi_app.py").write_text(
        "from starlette.applications import Starlette\napp = Starlette()\n", encoding="utf-8"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    ran = cli("--app", "bare_asgi_app", "policy", "show")
    assert ran.status == 2 and "has no stepup.asgi.StepUpMiddleware" in ran.err


def test_options_then_file_then_environment(cli, site, monkeypatch):
    monkeypatch.setenv("STEPUP_CODE_TTL", "120")  # the file leaves it out: the environment gives it
    monkeypatch.setenv("STEPUP_LOCKOUT_AFTER", "50")  # the file says 2
    monkeypatch.setenv("STEPUP_SMS_URL", "console://")  # the file and the option say otherwise
    shown = json.loads(cli("--config", str(site.config), "--sms-url", "file:///tmp/option.jsonl", "config", "show").out)
    assert shown["settings"]["code_ttl"] == 120
    assert shown["settings"]["lockout_after"] == 2
    assert shown["settings"]["sms_url"] == "file:///tmp/option.jsonl"
    from_env = json.loads(cli("config", "show").out)
    assert from_env["source"] == "environment" and from_env["settings"]["lockout_after"] == 50


def test_app_and_config_are_one_or_the_other(cli, site):
    ran = cli("--app", "examples.flask_app:create_app", "--config", str(site.config), "policy", "show")
    assert ran.status == 2 and "not allowed with argument" in ran.err


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ('STEPUP_STORE_URL = "memory://"\nSTEPUP_CODE_TLL = 120\n', "no setting: STEPUP_CODE_TLL"),
        ('store_url = "memory://"\n', "no setting: store_url"),
        ("STEPUP_STORE_URL = memory://\n", "cannot be read as TOML"),
        ('STEPUP_CODE_TTL = "soon"\n', "STEPUP_CODE_TTL='soon' cannot be read"),
    ],
)
def test_a_config_file_with_a_wrong_key_or_value_is_refused(cli, tmp_path, key, text, says):
    config = tmp_path / "bad.toml"
    config.write_text(f'STEPUP_SECRET_KEY = "{key}"\n' + text, encoding="utf-8")
    ran = cli("--config", str(config), "policy", "show")
    assert ran.status == 2 and says in ran.err


def test_a_missing_config_file_is_named(cli, tmp_path):
    ran = cli("--config", str(tmp_path / "nowhere.toml"), "policy", "show")
    assert ran.status == 2 and "There is no config file" in ran.err and "nowhere.toml" in ran.err


def test_a_config_file_may_list_keys_as_a_toml_array(cli, site, key):
    old, new = "o" * 40, "n" * 40
    config = site.config.read_text(encoding="utf-8").replace(f'"{key}"', f'["{old}", "{new}"]')
    site.config.write_text(config, encoding="utf-8")
    shown = cli("--config", str(site.config), "config", "show")
    assert json.loads(shown.out)["settings"]["secret_key"] == "(2 keys, not shown)"
    assert old not in shown.out and new not in shown.out


def test_the_secret_key_option_takes_the_json_list_and_refuses_other_lists(cli, site):
    old, new = "o" * 40, "n" * 40
    shown = cli("--config", str(site.config), "--secret-key", f'["{old}", "{new}"]', "config", "show")
    assert json.loads(shown.out)["settings"]["secret_key"] == "(2 keys, not shown)"
    refused = cli("--config", str(site.config), "--secret-key", f"{old},{new}", "policy", "show")
    assert refused.status == 2 and "JSON list" in refused.err and old not in refused.err


def test_the_applications_app_put_after_the_command_is_refused_not_written(cli, bank_environment):
    # "--app MODULE:NAME" after the command would name a blueprint no app has: a switch
    # written where nothing reads it, and the command saying it worked.
    ran = cli("policy", "method", "sms", "off", "--app", APPS[0])

    assert ran.status == 2 and f"put --app {APPS[0]} before the command" in ran.err
    shown = cli("--app", APPS[0], "policy", "show")
    assert shown.status == 0 and APPS[0] not in shown.out
