"""How long an SMS is on the air: its encoding (GSM-7 or UCS-2) and how many segments a
provider bills for it (3GPP TS 23.038 and 23.040).

A text of GSM-7 characters only goes 160 to a segment (153 each when it needs several,
the rest of each is the concatenation header); one character outside that alphabet
(``ç``, ``ó``, any Chinese or Japanese) makes the whole text UCS-2, 70 to a segment (67
when concatenated), counted in UTF-16 units. The characters of GSM-7's extension table
(``€``, ``[``, ``{``...) take two places each.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["GSM7_LIMIT", "UCS2_LIMIT", "SmsLength", "sms_length"]

#: characters of one segment, and of each segment of a longer text, per encoding.
GSM7_LIMIT, GSM7_PART = 160, 153
UCS2_LIMIT, UCS2_PART = 70, 67

_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
_EXTENSION = frozenset("\f^{}\\[~]|€")
_GSM7 = _BASIC | _EXTENSION


@dataclass(frozen=True)
class SmsLength:
    """What an SMS costs to send.

    :ivar encoding: ``GSM-7`` or ``UCS-2``.
    :ivar units: its length in that encoding's units (septets, or UTF-16 units).
    :ivar segments: how many messages the provider sends (and bills) for it.
    """

    encoding: str
    units: int
    segments: int


def sms_length(text: str) -> SmsLength:
    """The encoding, length and segment count of ``text`` as an SMS."""
    chars = set(text)
    if chars <= _GSM7:
        escaped = chars & _EXTENSION  # each takes two septets; most texts have none
        units = len(text) + (sum(text.count(c) for c in escaped) if escaped else 0)
        single, part, encoding = GSM7_LIMIT, GSM7_PART, "GSM-7"
    else:
        units = len(text.encode("utf-16-le", "surrogatepass")) // 2  # a lone surrogate counts, not raises
        single, part, encoding = UCS2_LIMIT, UCS2_PART, "UCS-2"
    segments = 1 if units <= single else -(-units // part)
    return SmsLength(encoding, units, segments)
