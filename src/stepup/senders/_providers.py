"""The SMS providers stepup speaks to, as pure :class:`~stepup.senders._http.SmsApi` objects.

- Twilio, Programmable Messaging: ``POST {base}/2010-04-01/Accounts/{AccountSid}/Messages.json``
  with HTTP basic auth (Account SID, Auth Token) and the form fields ``To``, ``From`` or
  ``MessagingServiceSid``, and ``Body``. It answers ``201 Created`` with the Message
  resource, or an error status with ``{"code", "message", "more_info", "status"}``.
- Vonage, SMS API: ``POST {base}/sms/json`` with the form fields ``api_key``,
  ``api_secret``, ``from``, ``to`` (E.164 without the +) and ``text``. It answers ``200``
  with ``{"message-count", "messages": [...]}``; the message was taken when
  ``messages[0].status`` is ``"0"``, else ``error-text`` says why.
"""

from __future__ import annotations

import json
from typing import Any

from .._errors import ConfigurationError
from .._models import Message
from ._http import ApiRequest

__all__ = ["TwilioApi", "VonageApi"]

TWILIO_BASE_URL = "https://api.twilio.com"
VONAGE_BASE_URL = "https://rest.nexmo.com"


def _json(body: bytes) -> Any:
    try:
        return json.loads(body)
    except ValueError:
        return None


class TwilioAnswers:
    """What every Twilio REST resource's answer means (its error document is the same for
    Messages and Calls), and the Auth Token no error may show."""

    _token: str

    def refusal(self, status: int, body: bytes) -> str | None:
        """See :meth:`stepup.senders._http.SmsApi.refusal`."""
        if 200 <= status < 300:
            return None
        error = _json(body)
        if isinstance(error, dict) and "code" in error:
            return f"Twilio error {error['code']}: {error.get('message') or 'no message'} (HTTP {status})"
        return f"Twilio answered HTTP {status}"

    def secrets(self) -> tuple[str, ...]:
        """See :meth:`stepup.senders._http.SmsApi.secrets`."""
        return (self._token,)


class TwilioApi(TwilioAnswers):
    """Twilio's Messages resource.

    :param account_sid: the Account SID (``AC...``), also the basic-auth user.
    :param auth_token: the Auth Token, the basic-auth password.
    :param sender: the ``From`` number or alphanumeric sender id.
    :param messaging_service_sid: a Messaging Service (``MG...``) instead of ``sender``.
    :param base_url: the API's address (a local fake in tests).
    :raises ConfigurationError: without credentials, or without exactly one of
        ``sender`` and ``messaging_service_sid``.
    """

    name = "Twilio"

    def __init__(
        self,
        account_sid: str,
        auth_token: str,
        *,
        sender: str | None = None,
        messaging_service_sid: str | None = None,
        base_url: str = TWILIO_BASE_URL,
    ) -> None:
        if not account_sid or not auth_token:
            raise ConfigurationError("Twilio needs the Account SID and Auth Token: twilio://AC...:TOKEN@?from=+1...")
        if bool(sender) == bool(messaging_service_sid):
            raise ConfigurationError("Twilio needs one of from= (a number) or messaging_service_sid= (MG...).")
        self.account_sid = account_sid
        self._token = auth_token
        self.sender, self.messaging_service_sid = sender, messaging_service_sid
        self.base_url = base_url.rstrip("/")

    def __repr__(self) -> str:
        return f"TwilioApi({self.account_sid!r}, base_url={self.base_url!r})"

    def request(self, message: Message) -> ApiRequest:
        """See :meth:`stepup.senders._http.SmsApi.request`."""
        form = {"To": message.to, "Body": message.body}
        if self.messaging_service_sid:
            form["MessagingServiceSid"] = self.messaging_service_sid
        else:
            form["From"] = self.sender or ""
        url = f"{self.base_url}/2010-04-01/Accounts/{self.account_sid}/Messages.json"
        return ApiRequest(url, form, (self.account_sid, self._token))


class VonageApi:
    """Vonage's SMS API.

    :param api_key: the API key.
    :param api_secret: the API secret.
    :param sender: the ``from``: a number or an alphanumeric sender id ("DemoBank").
    :param base_url: the API's address (a local fake in tests).
    :raises ConfigurationError: without credentials or a sender.
    """

    name = "Vonage"

    def __init__(self, api_key: str, api_secret: str, *, sender: str, base_url: str = VONAGE_BASE_URL) -> None:
        if not api_key or not api_secret:
            raise ConfigurationError("Vonage needs the API key and secret: vonage://KEY:SECRET@?from=DemoBank")
        if not sender:
            raise ConfigurationError("Vonage needs a sender: vonage://KEY:SECRET@?from=DemoBank")
        self.api_key = api_key
        self._secret = api_secret
        self.sender = sender
        self.base_url = base_url.rstrip("/")

    def __repr__(self) -> str:
        return f"VonageApi({self.api_key!r}, base_url={self.base_url!r})"

    def request(self, message: Message) -> ApiRequest:
        """See :meth:`stepup.senders._http.SmsApi.request`."""
        form = {
            "api_key": self.api_key,
            "api_secret": self._secret,
            "from": self.sender,
            "to": message.to.removeprefix("+"),
            "text": message.body,
        }
        if not message.body.isascii():
            form["type"] = "unicode"  # else Vonage sends the text as GSM-7 and mangles it
        return ApiRequest(f"{self.base_url}/sms/json", form)

    def refusal(self, status: int, body: bytes) -> str | None:
        """See :meth:`stepup.senders._http.SmsApi.refusal`."""
        answer = _json(body)
        messages = answer.get("messages") if isinstance(answer, dict) else None
        if status != 200 or not isinstance(messages, list) or not messages or not isinstance(messages[0], dict):
            return f"Vonage answered HTTP {status}"
        first = messages[0]
        if str(first.get("status")) == "0":
            return None
        return f"Vonage status {first.get('status')}: {first.get('error-text') or 'no error text'}"

    def secrets(self) -> tuple[str, ...]:
        """See :meth:`stepup.senders._http.SmsApi.secrets`."""
        return (self._secret,)
