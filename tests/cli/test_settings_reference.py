"""docs/configuration.md lists every setting: its table is the one ``stepup config table``
makes from the Settings dataclass, so a new field without its row fails here until
``make docs`` is run."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import stepup
from stepup._settings_doc import BEGIN, END, committed_table, field_comments, settings_table

PAGE = Path(__file__).resolve().parents[2] / "docs" / "configuration.md"


def test_the_committed_table_is_what_make_docs_writes():
    assert committed_table(PAGE) == settings_table(), "the settings table is stale: run `make docs`"


def test_every_field_has_its_row_with_key_type_default_and_comment():
    page = PAGE.read_text(encoding="utf-8")
    comments = field_comments()
    for f in dataclasses.fields(stepup.Settings):
        rows = [line for line in page.splitlines() if line.startswith(f"| `{f.name}` |")]
        assert len(rows) == 1, f"{f.name} has {len(rows)} rows in docs/configuration.md"
        cells = [c.strip() for c in rows[0].split(" | ")]
        assert cells[1] == f"`STEPUP_{f.name.upper()}`"
        assert cells[2].strip("`").replace("\\|", "|") == f.type
        assert cells[3]  # a default
        assert comments[f.name] and cells[4].rstrip(" |").startswith(comments[f.name][:20].replace("``", "`"))


def test_the_fields_the_hand_kept_table_missed_are_there():
    table = committed_table(PAGE)
    for name in ("url_prefix", "home_url", "logout_url", "login_exempt", "sensitive_max_age", "device_cookie",
                 "secure_cookies", "admin_apps", "admin_identity_sources", "default_identity_source",
                 "session_user_key", "session_identity_source_key"):  # fmt: skip
        assert f"| `{name}` | `STEPUP_{name.upper()}` |" in table


def test_defaults_are_written_as_the_environment_takes_them():
    table = settings_table()
    assert "| `STEPUP_SECRET_KEY` | `str \\| Sequence[str]` | (required) |" in table
    assert "| `STEPUP_CODE_TTL` | `int` | `300` |" in table
    assert "| `STEPUP_LOGIN_2FA` | `bool` | `true` |" in table
    assert "| `STEPUP_METHODS` | `frozenset[str]` | `email,recovery,sms,totp` |" in table
    assert '| `STEPUP_CODE_LENGTH` | `Mapping[str, int]` | `{"sms": 6, "email": 6}` |' in table
    assert "| `STEPUP_SMS_FALLBACK_URL` | `str` | (empty) |" in table


def test_config_table_prints_the_table_and_write_keeps_the_prose(cli, tmp_path):
    printed = cli("config", "table")
    assert printed.status == 0 and printed.out == settings_table()
    page = tmp_path / "configuration.md"
    page.write_text(f"# Settings\n\nBefore.\n\n{BEGIN}\n| old | table |\n{END}\n\nAfter.\n", encoding="utf-8")
    written = cli("config", "table", "--write", str(page))
    assert written.status == 0 and "Rewrote" in written.out
    assert page.read_text(encoding="utf-8") == f"# Settings\n\nBefore.\n\n{BEGIN}\n{settings_table()}{END}\n\nAfter.\n"
    assert "Kept" in cli("config", "table", "--write", str(page)).out


def test_a_page_without_the_markers_is_refused(cli, tmp_path):
    page = tmp_path / "configuration.md"
    page.write_text("# Settings\n", encoding="utf-8")
    ran = cli("config", "table", "--write", str(page))
    assert ran.status == 2 and "no settings table markers" in ran.err
    assert page.read_text(encoding="utf-8") == "# Settings\n"
