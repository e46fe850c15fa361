"""Sending e-mail: one SMTP path for schedule alerts and customer statements.

    smtp = SmtpSettings.from_settings(load_settings())     # [smtp] in sheetsync.toml or SHEETSYNC_SMTP_*
    send_mail(smtp, Mail(to=["ar@example.com"], subject="...", body="...",
                         attachments=[Attachment("statement.pdf", pdf_bytes, "application/pdf")]))

Security is `starttls` (default, port 587: upgrade a plain connection, refuse a server that cannot),
`ssl` (port 465: TLS from the first byte) or `none` (port 25, for a relay on localhost). The server
certificate is always verified (plus `ca_file` if given). The password is only ever shown redacted
(`SmtpSettings.describe()`), and failures name the server, never the credentials.
"""

from __future__ import annotations

import ipaddress
import smtplib
import socket
import ssl
from collections.abc import Sequence
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import formatdate, make_msgid, parseaddr
from typing import Any

from sheetsync.config import Settings, redact
from sheetsync.errors import ConfigError, DeliveryError

SECURITY_MODES = ("starttls", "ssl", "none")
DEFAULT_PORTS = {"starttls": 587, "ssl": 465, "none": 25}


@dataclass(frozen=True)
class SmtpSettings:
    """Where and how to send mail. `password` is a secret: use describe() to show these settings."""

    host: str
    port: int
    security: str = "starttls"
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    sender: str = "sheetsync@localhost"
    ca_file: str | None = None
    timeout: float = 30.0

    @classmethod
    def from_settings(cls, settings: Settings) -> SmtpSettings:
        """From SHEETSYNC_SMTP_* / [smtp]; ConfigError when the host is missing or a value is malformed."""
        if not settings.smtp_host:
            raise ConfigError("no mail server: set SHEETSYNC_SMTP_HOST or [smtp] host in sheetsync.toml")
        security = (settings.smtp_security or "starttls").lower()
        if security not in SECURITY_MODES:
            raise ConfigError(f"[smtp] security is {security!r}; use one of {', '.join(SECURITY_MODES)}")
        if settings.smtp_username and security == "none" and not _loopback(settings.smtp_host):
            raise ConfigError(
                f"[smtp] security is none: the password would cross the network to {settings.smtp_host} in clear "
                "text; use starttls or ssl (none is for a relay on this machine)"
            )
        return cls(
            host=settings.smtp_host,
            port=_port(settings.smtp_port, security),
            security=security,
            username=settings.smtp_username or None,
            password=settings.smtp_password or None,
            sender=settings.smtp_sender or f"sheetsync@{socket.getfqdn()}",
            ca_file=settings.smtp_ca_file or None,
        )

    def describe(self) -> str:
        """One line for people and logs, password redacted."""
        login = f" as {self.username} (password {redact(self.password)})" if self.username else ""
        return f"smtp {self.host}:{self.port} ({self.security}){login} from {self.sender}"


@dataclass(frozen=True)
class Attachment:
    filename: str
    content: bytes
    mime_type: str = "application/octet-stream"


@dataclass(frozen=True)
class Mail:
    to: Sequence[str]
    subject: str
    body: str
    attachments: Sequence[Attachment] = ()
    cc: Sequence[str] = ()
    reply_to: str | None = None
    bcc: Sequence[str] = ()  # envelope recipients only: never in a header
    envelope: Sequence[str] | None = None  # who the server is asked to deliver to, when not To + Cc + Bcc

    def recipients(self) -> list[str]:
        """The envelope (RCPT TO) addresses, each once (case-insensitively)."""
        wanted = self.envelope if self.envelope is not None else [*self.to, *self.cc, *self.bcc]
        unique: dict[str, str] = {}
        for address in wanted:
            unique.setdefault(address.casefold(), address)
        return list(unique.values())


@dataclass(frozen=True)
class Delivery:
    """What the server accepted: the Message-ID, and the recipients it refused while taking the others."""

    message_id: str
    refused: dict[str, str] = field(default_factory=dict)  # address -> "550 no such user"


def build_message(smtp: SmtpSettings, mail: Mail) -> EmailMessage:
    """The MIME message (plain text body, attachments) with a Message-ID on the sender's domain."""
    message = EmailMessage()
    message["From"] = smtp.sender
    message["To"] = ", ".join(mail.to)
    if mail.cc:
        message["Cc"] = ", ".join(mail.cc)
    if mail.reply_to:
        message["Reply-To"] = mail.reply_to
    message["Subject"] = mail.subject
    message["Date"] = formatdate(localtime=True)
    message["Message-ID"] = make_msgid(domain=parseaddr(smtp.sender)[1].rpartition("@")[2] or None)
    message.set_content(mail.body)
    for attachment in mail.attachments:
        maintype, _, subtype = attachment.mime_type.partition("/")
        message.add_attachment(attachment.content, maintype=maintype, subtype=subtype, filename=attachment.filename)
    return message


def send_mail(smtp: SmtpSettings, mail: Mail) -> str:
    """Send one mail; returns its Message-ID. DeliveryError (naming the server) on any failure."""
    return deliver(smtp, mail).message_id


def deliver(smtp: SmtpSettings, mail: Mail) -> Delivery:
    """Send one mail to its envelope (`mail.recipients()`); a Delivery lists the recipients the server
    refused while it took the message for the others.

    DeliveryError (naming the server) when nothing was taken. Its `delivered` is False when the server
    surely did not take the message (connection, TLS, login, sender or every recipient refused, the data
    answered with an error) and None only when the connection broke off after the message data began (it
    may have been taken); its `server` is True when the failure is the server's or its settings', not
    this message's (connection, TLS, login, sender refused), so the next message would fail the same way."""
    if not mail.to:
        raise ConfigError("an e-mail needs at least one recipient")
    message = build_message(smtp, mail)
    client: smtplib.SMTP | None = None
    try:
        client = _open(smtp)
        refused = _transact(smtp, client, message, mail.recipients())
    except KeyboardInterrupt:
        if client is not None:
            client.close()
        interrupted = SendInterrupted()
        interrupted.delivered = None if getattr(client, "data_started", False) else False
        raise interrupted from None
    except DeliveryError:
        if client is not None:
            _quit(client)
        raise
    _quit(client)
    return Delivery(str(message["Message-ID"]), {a: f"{c} {_text(m)}" for a, (c, m) in refused.items()})


class SendInterrupted(KeyboardInterrupt):
    """Ctrl-C (SIGINT) during deliver(): `delivered` is False when the message data had not begun (surely
    not sent), None when it had (it may have been taken)."""

    delivered: bool | None = None


def _transact(smtp: SmtpSettings, client: smtplib.SMTP, message: EmailMessage, recipients: list[str]) -> Any:
    """MAIL, RCPT, DATA: the refused recipients ({address: (code, text)}) when others took it."""
    try:
        return client.send_message(message, to_addrs=recipients)
    except smtplib.SMTPRecipientsRefused as exc:
        raise _failed(f"{_where(smtp)}: recipients refused: {_refusals(exc.recipients)}", False) from None
    except smtplib.SMTPSenderRefused as exc:
        raise _failed(f"{_where(smtp)}: sender refused: {_reason(exc)}", False, server=True) from None
    except smtplib.SMTPDataError as exc:
        raise _failed(f"{_where(smtp)}: message refused: {_reason(exc)}", False) from None
    except (smtplib.SMTPException, OSError) as exc:
        # only a break after DATA began leaves the outcome open; before it nothing was handed over
        began = getattr(client, "data_started", False)
        raise _failed(f"{_where(smtp)}: {_reason(exc)}", None if began else False) from None


def _open(smtp: SmtpSettings) -> smtplib.SMTP:
    """A connected (and logged-in) client; DeliveryError with `server` True when that fails."""
    try:
        client = _connect(smtp)
    except DeliveryError as exc:
        raise _failed(exc.message, False, server=True) from None
    except (smtplib.SMTPException, OSError) as exc:
        raise _failed(f"{_where(smtp)}: {_reason(exc)}", False, server=True) from None
    if not smtp.username:
        return client
    try:
        client.login(smtp.username, smtp.password or "")
    except smtplib.SMTPAuthenticationError as exc:
        _quit(client)
        refused = f"{_where(smtp)}: login as {smtp.username} refused ({exc.smtp_code})"
        raise _failed(refused, False, server=True) from None
    except (smtplib.SMTPException, OSError) as exc:
        _quit(client)
        raise _failed(f"{_where(smtp)}: login as {smtp.username}: {_reason(exc)}", False, server=True) from None
    return client


def _quit(client: smtplib.SMTP) -> None:
    """End the session; a QUIT that fails changes nothing about a message the server already took."""
    try:
        client.quit()
    except (smtplib.SMTPException, OSError):
        client.close()


def _refusals(recipients: dict[str, tuple[int, bytes]]) -> str:
    return ", ".join(f"{address} ({code} {_text(why)})" for address, (code, why) in recipients.items())


def _failed(message: str, delivered: bool | None, *, server: bool = False) -> DeliveryError:
    error = DeliveryError(message)
    error.delivered = delivered
    error.server = server
    return error


def _text(raw: bytes | str) -> str:
    return raw.decode(errors="replace") if isinstance(raw, bytes) else str(raw)


class _Tracking:
    """Remembers whether the DATA command was begun: before it, a broken connection surely sent nothing."""

    data_started = False

    def data(self, msg: Any) -> tuple[int, bytes]:
        self.data_started = True
        return super().data(msg)  # type: ignore[misc,no-any-return]


class _TrackedSMTP(_Tracking, smtplib.SMTP):
    pass


class _TrackedSMTPSSL(_Tracking, smtplib.SMTP_SSL):
    pass


def _connect(smtp: SmtpSettings) -> smtplib.SMTP:
    context = ssl.create_default_context(cafile=smtp.ca_file)
    if smtp.security == "ssl":
        return _TrackedSMTPSSL(smtp.host, smtp.port, timeout=smtp.timeout, context=context)
    client = _TrackedSMTP(smtp.host, smtp.port, timeout=smtp.timeout)
    if smtp.security == "starttls":
        try:
            client.ehlo()
            if not client.has_extn("starttls"):
                raise DeliveryError(f"{_where(smtp)}: the server does not offer STARTTLS (set [smtp] security)")
            client.starttls(context=context)
            client.ehlo()
        except BaseException:
            client.close()
            raise
    return client


def _loopback(host: str) -> bool:
    if host.strip().lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _port(raw: str | None, security: str) -> int:
    if not raw:
        return DEFAULT_PORTS[security]
    try:
        return int(raw)
    except ValueError:
        raise ConfigError(f"[smtp] port must be a number, got {raw!r}") from None


def _where(smtp: SmtpSettings) -> str:
    return f"mail via {smtp.host}:{smtp.port}"


def _reason(exc: BaseException) -> str:
    if isinstance(exc, smtplib.SMTPResponseException):
        text = exc.smtp_error.decode(errors="replace") if isinstance(exc.smtp_error, bytes) else str(exc.smtp_error)
        return f"{exc.smtp_code} {text}"
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
