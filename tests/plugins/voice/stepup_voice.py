"""A second factor by phone call: stepup reads a code out to a bound number."""

from __future__ import annotations

from stepup.methods import SmsMethod, TargetInput


class VoiceMethod(SmsMethod):
    """A code read out by a call to a bound phone number.

    It checks and masks numbers as SMS does; its codes go by the channel ``voice``,
    whose sender the app names (``STEPUP_SENDER_URLS`` or ``senders=``).
    """

    name = "voice"
    channel = "voice"
    title = "Voice call"
    target_input = TargetInput(
        "Phone number",
        type="tel",
        autocomplete="tel",
        placeholder="+44 7400 123456",
        hint="We will call this number and read out a code.",
        heading="Add a phone for voice calls",
    )
