"""What a call says, from the message catalog in every locale: the code digit by digit
(never as one number a voice would read as "four hundred ninety-three thousand..."), then
once more after a pause, in the subject's language (the senders' side:
tests/senders/test_voice_http.py)."""

from __future__ import annotations

import re

import pytest

from stepup import MessageCatalog
from stepup._i18n import LOCALES

CODE = "493817"
PURPOSES = ("login", "step_up", "operation", "bind", "contact")


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("purpose", PURPOSES)
def test_a_call_reads_the_code_digit_by_digit_twice_in_its_language(locale: str, purpose: str) -> None:
    subject, body = MessageCatalog("Bank").code_message(purpose, "voice", CODE, 300, "transfer to Bob", locale=locale)
    english = MessageCatalog("Bank").code_message(purpose, "voice", CODE, 300, "transfer to Bob", locale="en")[1]

    parts = body.split("\n\n")
    assert subject == "" and len(parts) == 2
    for part in parts:
        assert re.sub(r"\D", "", part) == CODE  # every digit, in order, and no other digit
        assert CODE not in part and re.search(r"4\D{1,2}9\D{1,2}3\D{1,2}8\D{1,2}1\D{1,2}7", part)
    assert ("Bank" in parts[0]) == (purpose != "operation")
    if locale != "en":
        assert parts[0] != english.split("\n\n")[0] and parts[1] != english.split("\n\n")[1]


def test_an_app_s_own_wording_reaches_the_call() -> None:
    catalog = MessageCatalog("Bank", translate=lambda text: text.replace("Once more", "Again"))

    said = catalog.code_message("login", "voice", CODE, 300)[1]

    assert said.split("\n\n")[1] == "Again, your code is: 4, 9, 3, 8, 1, 7. Never share it."
