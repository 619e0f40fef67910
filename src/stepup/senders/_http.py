"""SMS and voice calls through a provider's REST API over httpx: the sync and asyncio twins.

A provider is an :class:`SmsApi` (a voice provider too, with ``channel = "voice"``), pure:
the request a message needs and what a response means. A delivery is written once, as
steps of calls on an httpx client: a POST with connect and read timeouts, and one retry
when the network failed before the provider answered, or the provider answered with a
5xx. A read timeout is not retried: the provider may have taken the message, and a second
try could send the code twice (or call twice). :class:`HttpSmsSender` runs the steps on an
``httpx.Client``, :class:`AsyncHttpSmsSender` awaits them on an ``httpx.AsyncClient``;
:class:`HttpVoiceSender` and :class:`AsyncHttpVoiceSender` are the same for a voice
provider.
"""

from __future__ import annotations

import dataclasses
from typing import Protocol

import httpx

from .._errors import ConfigurationError, DeliveryError
from .._i18n import T
from .._models import Message
from .._twin import Call, Steps, arun, run

__all__ = ["ApiRequest", "AsyncHttpSmsSender", "AsyncHttpVoiceSender", "HttpSmsSender", "HttpVoiceSender", "SmsApi"]

#: errors after which the request may have reached the provider: not retried.
_SENT_MAYBE = (httpx.ReadTimeout, httpx.WriteTimeout)


@dataclasses.dataclass(frozen=True)
class ApiRequest:
    """One POST: a form, or a JSON document when ``json`` is set."""

    url: str
    form: dict[str, str]
    auth: tuple[str | bytes, str | bytes] | None = dataclasses.field(default=None, repr=False)
    json: object = None
    #: more headers (a bearer token), kept out of ``repr``.
    headers: dict[str, str] = dataclasses.field(default_factory=dict, repr=False)


class SmsApi(Protocol):
    """A provider's SMS API: the request for a message and the meaning of a response."""

    #: the provider's name, for messages ("Twilio").
    name: str

    def request(self, message: Message) -> ApiRequest:
        """The POST that sends ``message``."""
        ...

    def refusal(self, status: int, body: bytes) -> str | None:
        """``None`` when the provider took the message, else why not (no credentials)."""
        ...

    def secrets(self) -> tuple[str, ...]:
        """Strings that must never appear in an error (tokens, keys)."""
        ...


class _HttpSmsBase:
    """What both twins share.

    :param api: the provider.
    :param timeout: seconds to wait for each read (and write) of the response.
    :param connect_timeout: seconds to wait for the connection.
    :raises ConfigurationError: for a timeout that is not positive.
    """

    def __init__(self, api: SmsApi, *, timeout: float = 10.0, connect_timeout: float = 5.0) -> None:
        if timeout <= 0 or connect_timeout <= 0:
            raise ConfigurationError("SMS timeouts must be positive.")
        self.api = api
        self.timeout = httpx.Timeout(timeout, connect=connect_timeout)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.api!r})"

    def _failed(self, reason: str) -> DeliveryError:
        for secret in self.api.secrets():
            if secret:
                reason = reason.replace(secret, "***")
        if getattr(self.api, "channel", "sms") == "voice":
            return DeliveryError(T("The call could not be made ({provider}).", provider=self.api.name), "voice", reason)
        return DeliveryError(T("The SMS could not be sent ({provider}).", provider=self.api.name), "sms", reason)

    def _network(self, error: httpx.TransportError) -> DeliveryError:
        if isinstance(error, httpx.TimeoutException):
            kind = "connect" if isinstance(error, httpx.ConnectTimeout) else "read"
            seconds = self.timeout.connect if kind == "connect" else self.timeout.read
            return self._failed(f"{self.api.name} did not answer within {seconds:g} s ({kind} timeout)")
        return self._failed(f"cannot reach {self.api.name} ({type(error).__name__})")

    def _delivery(self, client: httpx.Client | httpx.AsyncClient, request: ApiRequest) -> Steps[None]:
        """POST ``request`` on ``client``, once more after a failure worth it, and judge the answer.

        :raises DeliveryError: the provider refused it or could not be reached.
        """
        for attempt in range(2):  # the second attempt never asks for a third
            # What client.post(url, data=form) sends, in a call of positional arguments:
            # the request built here, the auth (if any) the client's own.
            if request.json is not None:
                post = client.build_request("POST", request.url, json=request.json, headers=request.headers)
            else:
                post = client.build_request("POST", request.url, data=request.form, headers=request.headers)
            try:
                response: httpx.Response = yield from Call(client, "send", post)
            except httpx.TransportError as e:
                if self._again(attempt, None, e):
                    continue
                raise self._network(e) from e
            if not self._again(attempt, response, None):
                return self._accept(response)

    @staticmethod
    def _again(attempt: int, response: httpx.Response | None, error: httpx.TransportError | None) -> bool:
        """Whether the first attempt failed in a way worth one more."""
        if attempt > 0:
            return False
        if error is not None:
            return not isinstance(error, _SENT_MAYBE)
        return response is not None and response.status_code >= 500

    def _accept(self, response: httpx.Response) -> None:
        reason = self.api.refusal(response.status_code, response.content)
        if reason is not None:
            raise self._failed(reason)


class HttpSmsSender(_HttpSmsBase):
    """Sends SMS through a provider's REST API (sync, ``httpx.Client``)."""

    def send(self, message: Message) -> None:
        """Deliver ``message``.

        :raises DeliveryError: the provider refused it (with its reason) or could not be
            reached; the reason never holds the credentials.
        """
        request = self.api.request(message)
        with httpx.Client(timeout=self.timeout, auth=request.auth) as client:
            run(self._delivery(client, request))


class AsyncHttpSmsSender(_HttpSmsBase):
    """The asyncio twin of :class:`HttpSmsSender` (``httpx.AsyncClient``)."""

    async def send(self, message: Message) -> None:
        """See :meth:`HttpSmsSender.send`."""
        request = self.api.request(message)
        async with httpx.AsyncClient(timeout=self.timeout, auth=request.auth) as client:
            await arun(self._delivery(client, request))


class HttpVoiceSender(HttpSmsSender):
    """Places calls that read a code out through a provider's voice API (sync): Twilio's
    Calls resource, Vonage's Voice API (:mod:`stepup.senders._voice`)."""


class AsyncHttpVoiceSender(AsyncHttpSmsSender):
    """The asyncio twin of :class:`HttpVoiceSender`."""
