"""SMS length: the encoding and segment count of a message, and the rule that every
built-in SMS text of every locale fits one segment (docs/i18n.md): with an app name of up
to 20 characters, a code of up to 8 digits, and for an approval an operation described in
up to 24 characters."""

from __future__ import annotations

import pytest

import stepup
from stepup import MessageCatalog
from stepup._i18n import LOCALES
from stepup._sms import sms_length
from stepup.senders import MemorySender

APP = "Northwind Mutual Ltd"  # 20 characters, GSM-7
APP_CJK = "北风互助银行有限公司北风互助银行有限公司"  # 20 characters, UCS-2
OPERATION = "transfer of 50.00 to Bob"  # 24 characters


def test_gsm7_counts_160_to_a_segment_and_153_after():
    assert sms_length("a" * 160) == sms_length("a" * 160).__class__("GSM-7", 160, 1)
    assert sms_length("a" * 161).segments == 2 and sms_length("a" * 306).segments == 2
    assert sms_length("a" * 307).segments == 3


def test_gsm7_extension_characters_take_two_places():
    assert sms_length("€" * 80).units == 160 and sms_length("€" * 81).segments == 2
    assert sms_length("Grüße, ñ, é, à, ß").encoding == "GSM-7"


def test_one_character_outside_gsm7_makes_the_whole_text_ucs2():
    assert sms_length("a" * 70 + "ç").encoding == "UCS-2"
    assert sms_length("验" * 70).segments == 1 and sms_length("验" * 71).segments == 2
    assert sms_length("验" * 134).segments == 2 and sms_length("验" * 135).segments == 3
    assert sms_length("😀" * 35).units == 70  # two UTF-16 units each


def _texts(locale: str, app: str) -> dict[str, str]:
    catalog = MessageCatalog(app)
    texts = {}
    for purpose in ("login", "step_up", "operation", "bind", "contact"):
        _, body = catalog.code_message(purpose, "sms", "12345678", 600, OPERATION, locale=locale)
        texts[purpose] = body
    for change in ("bound", "unbound", "reset"):
        texts[change] = catalog.notice(change, "The phone number +44 •••• ••3456", locale, "sms")[1]
    return texts


@pytest.mark.parametrize("locale", LOCALES)
def test_every_built_in_sms_fits_one_segment(locale):
    for app in (APP, APP_CJK) if locale in ("zh_Hans", "zh_Hant", "ja") else (APP,):
        lengths = {purpose: sms_length(text) for purpose, text in _texts(locale, app).items()}
        assert {p: (n.encoding, n.units) for p, n in lengths.items() if n.segments > 1} == {}


@pytest.mark.parametrize("locale", ["en", "es", "fr", "de", "pt_BR"])
def test_the_latin_locales_stay_in_gsm7(locale):
    assert {p: sms_length(t).encoding for p, t in _texts(locale, APP).items()} == dict.fromkeys(
        ("login", "step_up", "operation", "bind", "contact", "bound", "unbound", "reset"), "GSM-7"
    )


def test_the_sent_audit_event_says_what_the_sms_cost_and_the_message_speaks_the_locale():
    events: list[stepup.AuditEvent] = []
    sms = MemorySender()
    engine = stepup.Engine(
        secret_key="s" * 40, store_url="memory://", app_name="Demo Bank", sms=sms, email=MemorySender(),
        clock=stepup.FrozenClock(), audit_hooks=[events.append],
    )  # fmt: skip
    engine.begin_bind("alice", "sms", "+44 7400 123456", locale="ja")

    sent = [e for e in events if e.type == "sent"][-1]
    assert (sent.detail["encoding"], sent.detail["segments"], sent.detail["locale"]) == ("UCS-2", 1, "ja")
    assert "Demo Bankアカウントの電話番号を確認します。5分間有効です。" in sms.last.body
    engine.set_locale("alice", "es")
    engine.begin_bind("alice", "sms", "+44 7400 123457", locale="ja")  # the subject's choice wins
    assert [e for e in events if e.type == "sent"][-1].detail["locale"] == "es"
    assert sms.last.body.endswith("Vence en 5 min.")
