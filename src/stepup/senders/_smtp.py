"""``smtp://`` and ``smtps://``: email through an SMTP server, with smtplib.

Each send opens one connection: EHLO, STARTTLS when asked (a server that does not offer
it is an error, never a quiet fall back to plain text), LOGIN when there is a user, one
message with a plain-text and an HTML part, QUIT. The async engine runs the send in a
worker thread.
"""

from __future__ import annotations

import html
import re
import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Literal

from .._errors import ConfigurationError, DeliveryError
from .._i18n import T
from .._models import Message

__all__ = ["SMTPSender"]

TLS = Literal["none", "starttls", "implicit"]
_CODE = re.compile(r"(?<![\d&#])(\d{4,10})(?!\d)")


class SMTPSender:
    """Sends email through one SMTP server.

    :param host: the server.
    :param port: its port.
    :param sender: the From address, e.g. ``Bank <no-reply@bank.example>``.
    :param username: the login; ``None`` sends without one.
    :param password: the login's password.
    :param tls: ``none``, ``starttls`` (upgrade after connecting) or ``implicit`` (TLS
        from the first byte, port 465).
    :param timeout: seconds to wait for the connection and each reply.
    :param ssl_context: the TLS settings; by default the system's trusted certificates.
    :raises ConfigurationError: for a login without a password or a timeout that is not
        positive.
    """

    def __init__(
        self,
        host: str,
        port: int,
        sender: str,
        *,
        username: str | None = None,
        password: str | None = None,
        tls: TLS = "none",
        timeout: float = 10.0,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        if username and not password:
            raise ConfigurationError("An SMTP login needs a password: smtp://user:password@host.")
        if timeout <= 0:
            raise ConfigurationError("The SMTP timeout must be positive.")
        self.host, self.port, self.sender = host, port, sender
        self.username = username
        self._password = password
        self.tls: TLS = tls
        self.timeout = timeout
        self._context = ssl_context

    def __repr__(self) -> str:
        user = f"{self.username}:***@" if self.username else ""
        return f"SMTPSender('{user}{self.host}:{self.port}', tls={self.tls!r})"

    def build(self, message: Message) -> EmailMessage:
        """The email for ``message``: its subject, a plain-text part and an HTML part.

        :param message: an email message from the engine.
        """
        email = EmailMessage()
        email["Subject"] = message.subject
        email["From"] = self.sender
        email["To"] = message.to
        email["Date"] = formatdate(localtime=False)
        email["Message-ID"] = make_msgid(domain=self.sender.rpartition("@")[2].strip("> ") or None)
        email.set_content(message.body)
        email.add_alternative(message.html or _html(message), subtype="html")
        return email

    def send(self, message: Message) -> None:
        """Deliver ``message``.

        :raises DeliveryError: when the server is down, silent, refuses the login or the
            message; the reason names what happened, never the password or the message.
        """
        email = self.build(message)
        try:
            self._send(email)
        except smtplib.SMTPAuthenticationError as e:
            raise self._failed(f"the server refused the login ({e.smtp_code})") from e
        except smtplib.SMTPRecipientsRefused as e:
            codes = sorted({code for code, _ in e.recipients.values()})
            raise self._failed(f"the server refused the recipient ({', '.join(map(str, codes))})") from e
        except smtplib.SMTPResponseException as e:
            raise self._failed(f"the server answered {e.smtp_code}") from e
        except smtplib.SMTPNotSupportedError as e:
            raise self._failed("the server does not offer a login (AUTH)") from e
        except smtplib.SMTPServerDisconnected as e:
            raise self._failed(f"{self.host}:{self.port} closed the connection") from e
        except TimeoutError as e:
            raise self._failed(f"{self.host}:{self.port} did not answer within {self.timeout:g} s") from e
        except ssl.SSLError as e:
            raise self._failed(f"TLS with {self.host}:{self.port} failed ({e.reason or 'handshake'})") from e
        except smtplib.SMTPException as e:
            raise self._failed(type(e).__name__) from e
        except OSError as e:
            raise self._failed(f"cannot connect to {self.host}:{self.port} ({e.strerror or type(e).__name__})") from e

    def _send(self, email: EmailMessage) -> None:
        context = self._context or ssl.create_default_context()
        smtp: smtplib.SMTP
        if self.tls == "implicit":
            smtp = smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout, context=context)
        else:
            smtp = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
        with smtp:
            smtp.ehlo()
            if self.tls == "starttls":
                if not smtp.has_extn("starttls"):
                    raise self._failed(f"{self.host}:{self.port} does not offer STARTTLS")
                smtp.starttls(context=context)
                smtp.ehlo()
            if self.username:
                smtp.login(self.username, self._password or "")
            smtp.send_message(email)

    def _failed(self, reason: str) -> DeliveryError:
        # Written by stepup, not copied from the server: nothing in it can be the password
        # or the code.
        return DeliveryError(T("The email could not be sent."), "email", reason)


def _html(message: Message) -> str:
    """An HTML part for a plain-text message: the text, with the code standing out."""
    text = _CODE.sub(r"<strong>\1</strong>", html.escape(message.body))
    title = html.escape(message.subject)
    return (
        f'<!doctype html>\n<html><head><meta charset="utf-8"><title>{title}</title></head>\n'
        f'<body style="font-family: sans-serif; font-size: 16px"><p>{text}</p></body></html>\n'
    )
