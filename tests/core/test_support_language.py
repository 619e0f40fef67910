"""Support's reset of every method speaks the user's language: its notice goes out in the
locale they chose, as a short SMS and a full email, and the choice outlives the reset."""

from __future__ import annotations

import stepup
from stepup.senders import MemorySender


def test_a_reset_tells_the_user_in_their_language_and_keeps_it():
    sms, email = MemorySender(), MemorySender()
    engine = stepup.Engine(
        secret_key="s" * 40, store_url="memory://", app_name="Demo Bank", sms=sms, email=email,
        clock=stepup.FrozenClock(),
    )  # fmt: skip
    engine.import_binding("bob", "sms", "+44 7400 123456")
    engine.import_binding("bob", "email", "bob@example.com")
    engine.set_locale("bob", "es")

    assert engine.support_action("bob", "reset_all", by="alice") == 2

    assert sms.last.body == (
        "Demo Bank: soporte ha restablecido tus métodos de acceso. Si no lo pediste, contacta con soporte."
    )
    assert stepup.sms_length(sms.last.body).segments == 1
    assert email.last.subject == "Se han restablecido los métodos de acceso de tu cuenta de Demo Bank"
    assert engine.bindings("bob") == [] and engine.locale_of("bob") == "es"
