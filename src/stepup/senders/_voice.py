"""The voice providers stepup speaks to, as pure :class:`~stepup.senders._http.SmsApi`
objects whose ``channel`` is ``voice``. What a call says is the message's body, parts
split by a blank line (:meth:`stepup.MessageCatalog.spoken`); each provider reads the parts
in the message's language with a pause between them.

- Twilio, Programmable Voice: ``POST {base}/2010-04-01/Accounts/{AccountSid}/Calls.json``
  with HTTP basic auth (Account SID, Auth Token) and the form fields ``To``, ``From`` and
  ``Twiml``: a ``<Response>`` of ``<Say language="...">`` verbs with a ``<Pause>`` between
  them. It answers ``201 Created`` with the Call resource, or an error status with
  ``{"code", "message", "more_info", "status"}``.
- Vonage, Voice API: ``POST {base}/v1/calls`` with a JSON body (``to`` and ``from`` as
  phone endpoints, numbers without the +, and an ``ncco`` of ``talk`` actions, the pause
  an SSML ``<break>``), authenticated by ``Authorization: Bearer <JWT>``: a JWT signed
  RS256 with the Vonage application's private key, claims ``application_id``, ``iat``,
  ``exp`` and ``jti`` (a fresh one per call). It answers ``201`` with ``{"uuid",
  "status", "direction", "conversation_uuid"}``, or an error status with ``{"type",
  "title", "detail"}`` (``invalid_parameters`` for a bad request).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape, quoteattr

from .._errors import ConfigurationError
from .._models import Message
from ._http import ApiRequest
from ._providers import TWILIO_BASE_URL, TwilioAnswers, _json

__all__ = ["VONAGE_VOICE_BASE_URL", "TwilioVoiceApi", "VonageVoiceApi", "tts_language"]

VONAGE_VOICE_BASE_URL = "https://api.nexmo.com"
#: stepup's locales -> the BCP-47 codes both providers' voices take (Mandarin as cmn).
_TTS_LANGUAGES = {
    "en": "en-US", "de": "de-DE", "es": "es-ES", "fr": "fr-FR", "ja": "ja-JP", "pt_BR": "pt-BR",
    "zh_Hans": "cmn-CN", "zh_Hant": "cmn-TW",
}  # fmt: skip
#: seconds of silence between the parts of a call (the code, then the code once more).
PAUSE_SECONDS = 1
#: seconds a Vonage application JWT is good for: one call's request, with room for clock skew.
JWT_TTL = 300


def tts_language(locale: str) -> str:
    """The voice language for one of stepup's locales (``pt_BR`` -> ``pt-BR``); an app's
    own locale outside the table as BCP-47 (``it`` stays ``it``); US English when none."""
    return _TTS_LANGUAGES.get(locale) or locale.replace("_", "-") or "en-US"


def _parts(message: Message) -> list[str]:
    return [part.strip() for part in message.body.split("\n\n") if part.strip()]


class TwilioVoiceApi(TwilioAnswers):
    """Twilio's Calls resource, with the call's words given inline as TwiML.

    :param account_sid: the Account SID (``AC...``), also the basic-auth user.
    :param auth_token: the Auth Token, the basic-auth password.
    :param sender: the ``From`` number: a Twilio number or a verified caller id.
    :param voice: a ``<Say>`` voice for every call (``Polly.Amy``); empty: Twilio's
        default for each language.
    :param base_url: the API's address (a local fake in tests).
    :raises ConfigurationError: without credentials or a ``From`` number.
    """

    name = "Twilio"
    channel = "voice"

    def __init__(
        self, account_sid: str, auth_token: str, *, sender: str, voice: str = "", base_url: str = TWILIO_BASE_URL
    ) -> None:
        if not account_sid or not auth_token:
            raise ConfigurationError(
                "Twilio needs the Account SID and Auth Token: twilio-voice://AC...:TOKEN@?from=+1..."
            )
        if not sender:
            raise ConfigurationError(
                "A Twilio call needs from= (a Twilio number): twilio-voice://AC...:TOKEN@?from=+1..."
            )
        self.account_sid = account_sid
        self._token = auth_token
        self.sender, self.voice = sender, voice
        self.base_url = base_url.rstrip("/")

    def __repr__(self) -> str:
        return f"TwilioVoiceApi({self.account_sid!r}, base_url={self.base_url!r})"

    def twiml(self, message: Message) -> str:
        """What Twilio runs when the call is answered: each part of the message said in
        its language, with a pause between the parts.

        :param message: a voice message (:meth:`stepup.MessageCatalog.spoken`).
        """
        attributes = f" language={quoteattr(tts_language(message.locale))}"
        if self.voice:
            attributes += f" voice={quoteattr(self.voice)}"
        says = [f"<Say{attributes}>{escape(part)}</Say>" for part in _parts(message)]
        pause = f'<Pause length="{PAUSE_SECONDS}"/>'
        return f"<Response>{pause.join(says)}</Response>"

    def request(self, message: Message) -> ApiRequest:
        """See :meth:`stepup.senders._http.SmsApi.request`."""
        form = {"To": message.to, "From": self.sender, "Twiml": self.twiml(message)}
        url = f"{self.base_url}/2010-04-01/Accounts/{self.account_sid}/Calls.json"
        return ApiRequest(url, form, (self.account_sid, self._token))


def _private_key(pem: bytes) -> Any:
    """The RSA private key of a Vonage application, from its PEM text.

    :raises ConfigurationError: when PyJWT and cryptography are missing, or ``pem`` is not
        an RSA private key.
    """
    try:
        from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey
        from cryptography.hazmat.primitives.serialization import load_pem_private_key
    except ImportError as e:  # pragma: no cover - the voice extra brings both
        raise ConfigurationError("Vonage calls need PyJWT and cryptography: pip install 'stepup[voice]'.") from e
    try:
        key = load_pem_private_key(pem, password=None)
    except (ValueError, TypeError) as e:
        raise ConfigurationError("The Vonage private key is not a PEM private key without a password.") from e
    if not isinstance(key, RSAPrivateKey):
        raise ConfigurationError("The Vonage private key must be the application's RSA key (RS256).")
    return key


class VonageVoiceApi:
    """Vonage's Voice API: a call whose NCCO talks, authenticated by an application JWT.

    :param application_id: the Vonage application's id (a UUID).
    :param private_key: the application's private key, as PEM text or bytes.
    :param sender: the ``from`` number, a number of the application.
    :param base_url: the API's address (a local fake in tests).
    :param clock: the time source of the JWT's ``iat`` and ``exp``.
    :raises ConfigurationError: without an application id or a ``from`` number, or with a
        key that is not an RSA private key.
    """

    name = "Vonage"
    channel = "voice"

    def __init__(
        self, application_id: str, private_key: str | bytes, *, sender: str,
        base_url: str = VONAGE_VOICE_BASE_URL, clock: Callable[[], float] = time.time,
    ) -> None:  # fmt: skip
        example = "vonage-voice://APPLICATION_ID@?private_key=/path/private.key&from=+44..."
        if not application_id:
            raise ConfigurationError(f"A Vonage call needs the application id: {example}")
        if not sender:
            raise ConfigurationError(f"A Vonage call needs from= (a number of the application): {example}")
        self.application_id = application_id
        self._key = _private_key(private_key.encode() if isinstance(private_key, str) else private_key)
        self.sender = sender.removeprefix("+")
        self.base_url = base_url.rstrip("/")
        self._clock = clock

    @classmethod
    def from_file(cls, application_id: str, path: str, **options: Any) -> VonageVoiceApi:
        """The API with the private key read from ``path``.

        :raises ConfigurationError: when the file cannot be read (its path named, never its
            text), or as :class:`VonageVoiceApi` does.
        """
        try:
            pem = Path(path).read_bytes()
        except OSError as e:
            raise ConfigurationError(f"The Vonage private key {path!r} cannot be read ({e.strerror}).") from e
        return cls(application_id, pem, **options)

    def __repr__(self) -> str:
        return f"VonageVoiceApi({self.application_id!r}, base_url={self.base_url!r})"

    def token(self) -> str:
        """A fresh application JWT: RS256, claims ``application_id``, ``iat``, ``exp`` and a
        unique ``jti``, so no two calls carry the same token."""
        import jwt

        now = int(self._clock())
        claims = {"application_id": self.application_id, "iat": now, "exp": now + JWT_TTL, "jti": str(uuid.uuid4())}
        return jwt.encode(claims, self._key, algorithm="RS256")

    def ncco(self, message: Message) -> list[dict[str, Any]]:
        """What the call does when answered: one ``talk`` action saying each part of the
        message in its language, a one-second SSML break before each part after the first."""
        language = tts_language(message.locale)
        pause = f'<break time="{PAUSE_SECONDS}s"/>'
        return [
            {"action": "talk", "text": f"<speak>{pause if i else ''}{escape(part)}</speak>", "language": language}
            for i, part in enumerate(_parts(message))
        ]

    def request(self, message: Message) -> ApiRequest:
        """See :meth:`stepup.senders._http.SmsApi.request`."""
        body = {
            "to": [{"type": "phone", "number": message.to.removeprefix("+")}],
            "from": {"type": "phone", "number": self.sender},
            "ncco": self.ncco(message),
        }
        headers = {"Authorization": f"Bearer {self.token()}"}
        return ApiRequest(f"{self.base_url}/v1/calls", {}, json=body, headers=headers)

    def refusal(self, status: int, body: bytes) -> str | None:
        """See :meth:`stepup.senders._http.SmsApi.refusal`."""
        if 200 <= status < 300:
            return None
        error = _json(body)
        if not isinstance(error, dict) or not error.get("title"):
            return f"Vonage answered HTTP {status}"
        reason = f"Vonage error: {error['title']}"
        if error.get("detail"):
            reason += f": {error['detail']}"
        invalid = error.get("invalid_parameters")
        if isinstance(invalid, list):
            named = [f"{p.get('name')} ({p.get('reason')})" for p in invalid if isinstance(p, dict)]
            reason += f"; invalid: {', '.join(named)}" if named else ""
        return f"{reason} (HTTP {status})"

    def secrets(self) -> tuple[str, ...]:
        """See :meth:`stepup.senders._http.SmsApi.secrets`: the key never enters a text."""
        return ()
