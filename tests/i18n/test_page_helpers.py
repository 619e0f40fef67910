"""The pages' ``_t``/``_tn`` helpers: each text as its locale's catalog says, escaped, with
this call's fields; kept translations never leak one page's values or one app's catalog
into another."""

from __future__ import annotations

from pathlib import Path

from markupsafe import Markup

from stepup._config import Settings
from stepup._i18n import LOCALES, T, Tn, translate
from stepup.web._locale import page_helpers

KEY = "k" * 40


def _escaped(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&#34;")


def test_every_locale_gets_its_catalogs_text_twice_the_same() -> None:
    for locale in LOCALES:
        t = page_helpers(locale, Settings(secret_key=KEY))["_t"]
        for message in ("Verify", "Enter your code", "This code no longer works"):
            first, again = t(message), t(T(message))
            assert isinstance(first, Markup)
            assert first == again == _escaped(translate(message, locale))


def test_fields_are_this_calls_and_escaped() -> None:
    helpers = page_helpers("de", Settings(secret_key=KEY))
    t, tn = helpers["_t"], helpers["_tn"]
    first = t("We sent a code to {target}.", target="+44 <7400> 111")
    second = t("We sent a code to {target}.", target=Markup("<strong>+44 7400 222</strong>"))
    assert "+44 &lt;7400&gt; 111" in first and "222" not in first
    assert "<strong>+44 7400 222</strong>" in second and "111" not in second
    assert t("We sent a code to {target}.") == _escaped(translate("We sent a code to {target}.", "de"))
    left = ("{n} attempt left", "{n} attempts left")
    assert tn(*left, 1234) == translate(Tn(*left, 1234), "de").replace("1234", "1.234")
    assert t(Tn(*left, 1)) == translate(Tn(*left, 1), "de")
    assert helpers["format_number"](1234.5) == "1.234,5"
    assert helpers["format_number"](1) == "1"


def test_an_apps_catalog_speaks_for_its_app_only(tmp_path: Path) -> None:
    folder = tmp_path / "de" / "LC_MESSAGES"
    folder.mkdir(parents=True)
    (folder / "stepup.po").write_text(
        'msgid ""\nmsgstr ""\n"Content-Type: text/plain; charset=UTF-8\\n"\n\nmsgid "Verify"\nmsgstr "Jetzt prüfen"\n',
        encoding="utf-8",
    )
    ours = page_helpers("de", Settings(secret_key=KEY, translations_dir=str(tmp_path)))["_t"]
    stock = page_helpers("de", Settings(secret_key=KEY))["_t"]
    assert ours("Verify") == "Jetzt prüfen"
    assert stock("Verify") == translate("Verify", "de") != "Jetzt prüfen"
