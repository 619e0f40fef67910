"""Security primitives, in one place.

Codes come from :mod:`secrets`; only keyed digests are stored; comparisons are in constant
time; every signed purpose has its own salt; secret keys come as a list so they can rotate
(the newest signs, all verify).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import secrets
from collections.abc import Sequence
from typing import Any

from itsdangerous import BadSignature, SignatureExpired, TimestampSigner, URLSafeTimedSerializer
from itsdangerous.encoding import int_to_bytes

from ._clock import Clock, system_clock
from ._errors import ConfigurationError

__all__ = [
    "MIN_SECRET_LENGTH",
    "Keyring",
    "Secret",
    "ascii_code",
    "new_code",
    "new_id",
]

#: the shortest secret key accepted; ``stepup secret`` makes 43 characters.
MIN_SECRET_LENGTH = 32
_MAX_CODE_INPUT = 64
#: the longest payload signed without trying to compress it (bytes of JSON).
_COMPRESS_OVER = 256
#: the longest token :meth:`Keyring.unsign` reads.
_MAX_TOKEN = 4096
#: tokens a keyring keeps for the strings it signed this second: one a session whose page
#: was served in it, so a second's burst of sessions is bounded.
_SIGNED_KEPT = 1024
_CODE_SEPARATORS = str.maketrans("", "", " -")
_ASCII_DIGITS = frozenset("0123456789")


class Secret:
    """A string that does not show itself in ``repr`` or logs.

    :param value: the secret.
    """

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def __repr__(self) -> str:
        return "Secret('**********')"

    __str__ = __repr__

    def reveal(self) -> str:
        """The secret itself, for the code that needs it."""
        return self._value


def new_id() -> str:
    """A random identifier of 144 bits, URL safe, never starting with ``-``: people pass
    request ids to ``stepup verify check ID CODE``, where a leading dash reads as an
    option (one id in 64 did)."""
    while True:
        found = secrets.token_urlsafe(18)
        if found[0] != "-":
            return found


def new_code(length: int) -> str:
    """A random code of ``length`` ASCII digits, uniformly drawn.

    :param length: number of digits, 4 or more.
    """
    # One draw below 10**length, zero-padded, is as uniform as a draw per digit, and reads
    # the system's random source once instead of once per digit.
    return f"{secrets.randbelow(10**length):0{length}d}"


def ascii_code(raw: object) -> str | None:
    """The code a person typed, with spaces and hyphens removed.

    Only ASCII digits count: full-width or Arabic-Indic digits, letters, overlong input
    and non-strings all give ``None``, which callers treat as a wrong code.

    :param raw: what was submitted.
    """
    if not isinstance(raw, str) or len(raw) > _MAX_CODE_INPUT:
        return None
    code = raw.translate(_CODE_SEPARATORS)
    if not code or not _ASCII_DIGITS.issuperset(code):
        return None
    return code


_B64_ALPHABET = bytes.maketrans(b"-_", b"+/")
#: itsdangerous's compact JSON, one encoder for every token.
_token_json = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


def _b64encode(data: bytes) -> bytes:
    return base64.urlsafe_b64encode(data).rstrip(b"=")


def _b64decode(data: bytes) -> bytes:
    """As itsdangerous reads base64: URL-safe, padding optional, other bytes skipped."""
    return binascii.a2b_base64((data + b"=" * (-len(data) % 4)).translate(_B64_ALPHABET))


class _ClockSigner(TimestampSigner):
    """itsdangerous's timestamp signer reading stepup's injected clock, so a token's age
    is measured on the same clock as every challenge (and a frozen clock ages it in tests).
    """

    def __init__(self, *args: Any, clock: Clock = system_clock, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._clock = clock

    def get_timestamp(self) -> int:
        return int(self._clock())


class Keyring:
    """The app's secret keys and everything derived from them.

    :param keys: one key, or a list whose last entry is the newest (for rotation).
    :param clock: the time source that dates and ages signed tokens.
    :raises ConfigurationError: when no key is given or one is shorter than
        :data:`MIN_SECRET_LENGTH`.
    """

    def __init__(self, keys: str | Sequence[str], clock: Clock = system_clock) -> None:
        key_list = [keys] if isinstance(keys, str) else list(keys)
        if not key_list:
            raise ConfigurationError(
                "stepup needs a secret key: set STEPUP_SECRET_KEY (make one with `stepup secret`)."
            )
        for key in key_list:
            if not isinstance(key, str) or len(key) < MIN_SECRET_LENGTH:
                raise ConfigurationError(
                    f"The secret key must be at least {MIN_SECRET_LENGTH} characters; make one with `stepup secret`."
                )
        self._keys = [Secret(k) for k in key_list]
        # Digest keys are derived per purpose so that a code digest can never be confused
        # with a signature or another digest made from the same app secret.
        self._digest_keys = [self._derive(k.reveal(), b"stepup.code-digest") for k in self._keys]
        self._serializers: dict[str, URLSafeTimedSerializer] = {}
        #: (salt, string) -> its token, for the strings signed in the second ``_signed_in``
        #: (see :meth:`sign`); emptied each second, and when it holds :data:`_SIGNED_KEPT`.
        self._signed: dict[tuple[str, str], str] = {}
        self._signed_in = -1
        #: salt -> its derived keys (see :meth:`_derived`).
        self._salted: dict[str, list[bytes]] = {}
        self._clock = clock

    def __repr__(self) -> str:
        return f"Keyring({len(self._keys)} keys)"

    @staticmethod
    def _derive(key: str, purpose: bytes) -> bytes:
        return hmac.new(key.encode(), purpose, hashlib.sha256).digest()

    def digest(self, *parts: str) -> str:
        """The keyed digest (HMAC-SHA256, newest key) of ``parts``.

        :param parts: strings joined unambiguously before hashing.
        """
        return self._digest_with(self._digest_keys[-1], parts)

    def digests(self, *parts: str) -> list[str]:
        """The keyed digests of ``parts`` under every key, newest first (for a value made
        again later that must not change when a key is rotated in meanwhile).

        :param parts: strings joined unambiguously before hashing.
        """
        return [self._digest_with(key, parts) for key in reversed(self._digest_keys)]

    @staticmethod
    def _digest_with(key: bytes, parts: Sequence[str]) -> str:
        message = "\x1f".join(parts).encode("utf-8", "surrogatepass")
        return hmac.digest(key, message, "sha256").hex()

    def matches(self, expected: object, *parts: str, size: int | None = None) -> bool:
        """Whether ``parts`` digest to ``expected`` under any key, in constant time.

        Every key is tried even after a match so the time taken does not tell which. Any
        key, not only the newest: what an older key made keeps working through a rotation.

        :param expected: a digest made by :meth:`digest` (anything else never matches).
        :param parts: the candidate's parts.
        :param size: compare only the first ``size`` characters (a digest kept shortened).
        """
        if not isinstance(expected, str):
            return False
        found = False
        for key in self._digest_keys:
            found |= hmac.compare_digest(self._digest_with(key, parts)[:size], expected)
        return found

    def serializer(self, salt: str) -> URLSafeTimedSerializer:
        """itsdangerous's serializer for one purpose (each has its own salt): the keys the
        keyring's own token path derives, and the tokens too long for it, which it compresses.

        :param salt: the purpose, e.g. ``"stepup.resume"``.
        """
        serializer = self._serializers.get(salt)
        if serializer is None:
            serializer = URLSafeTimedSerializer(
                [k.reveal() for k in self._keys], salt=salt, signer=_ClockSigner, signer_kwargs={"clock": self._clock}
            )
            self._serializers[salt] = serializer
        return serializer

    def sign(self, salt: str, value: Any) -> str:
        """Sign a JSON-able value for one purpose.

        :param salt: the purpose.
        :param value: what to carry.
        """
        if type(value) is not str:
            return self._dumps(salt, value)
        # A signature is a pure function of the value, the key and the second it is made
        # in: a page with several forms signs its CSRF value once, not once a form, and so
        # do the pages served meanwhile to other sessions. (Threads racing at a second's
        # turn may keep a token of the second before: a second older, still good.)
        now = int(self._clock())
        signed = self._signed
        if now != self._signed_in or len(signed) >= _SIGNED_KEPT:
            signed.clear()
            self._signed_in = now
        token = signed.get((salt, value))
        if token is None:
            token = signed[salt, value] = self._dumps(salt, value)
        return token

    def unsign(self, salt: str, token: object, max_age: int | None) -> Any | None:
        """The value of a token signed for ``salt``, or ``None`` when it is forged,
        tampered with, of another purpose, malformed or older than ``max_age``.

        :param salt: the purpose.
        :param token: what the client sent.
        :param max_age: seconds a token stays good, or ``None`` for no limit.
        """
        if not isinstance(token, str) or len(token) > _MAX_TOKEN:
            return None
        try:
            if token[:1] == ".":  # a compressed payload: itsdangerous decompresses it
                return self.serializer(salt).loads(token, max_age=max_age)
            return self._loads(salt, token.encode(), max_age)
        except (BadSignature, SignatureExpired, ValueError):
            return None

    # -- itsdangerous's URL-safe timed tokens, read and written in a few calls -------------
    # ``payload.timestamp.signature``, each URL-safe base64 without padding: the payload
    # is the value's compact JSON, the timestamp the signing second's big-endian bytes, the
    # signature HMAC-SHA1 of the two under the key itsdangerous derives for the purpose.
    # itsdangerous takes some thirty calls a token (a signer made and each key derived
    # every time): 13 tokens a flow were a twentieth of a sign-in's CPU. The tests check
    # these tokens against itsdangerous's, both ways; a compressed one is left to it.

    def _derived(self, salt: str) -> list[bytes]:
        """The keys itsdangerous signs ``salt``'s tokens with, oldest first."""
        keys = self._salted.get(salt)
        if keys is None:
            signer = self.serializer(salt).make_signer()
            keys = self._salted[salt] = [signer.derive_key(key) for key in signer.secret_keys]
        return keys

    def _dumps(self, salt: str, value: Any) -> str:
        """``self.serializer(salt).dumps(value)``."""
        payload = _token_json(value).encode()
        if len(payload) > _COMPRESS_OVER:
            return self.serializer(salt).dumps(value)
        signed = _b64encode(payload) + b"." + _b64encode(int_to_bytes(int(self._clock())))
        signature = hmac.digest(self._derived(salt)[-1], signed, hashlib.sha1)
        return (signed + b"." + _b64encode(signature)).decode()

    def _loads(self, salt: str, token: bytes, max_age: int | None) -> Any | None:
        """``self.serializer(salt).loads(token, max_age=max_age)``, ``None`` for what it
        refuses (``ValueError`` for a timestamp or signature that is not base64)."""
        signed, _, signature = token.rpartition(b".")
        payload, dot, timestamp = signed.rpartition(b".")
        if not dot:
            return None
        sig = _b64decode(signature)
        good = False
        for key in self._derived(salt):
            good |= hmac.compare_digest(sig, hmac.digest(key, signed, hashlib.sha1))
        stamp = _b64decode(timestamp)
        if not good or len(stamp) > 8:
            return None
        if max_age is not None and not 0 <= int(self._clock()) - int.from_bytes(stamp, "big") <= max_age:
            return None
        return json.loads(_b64decode(payload).decode())
