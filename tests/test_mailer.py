"""The mailer against a real local SMTP server (aiosmtpd): STARTTLS, SSL, plain, login, failures."""

from __future__ import annotations

from pathlib import Path

import pytest
from local_servers import smtp_server

from sheetsync.config import load_settings
from sheetsync.errors import ConfigError, DeliveryError
from sheetsync.mailer import Attachment, Mail, SmtpSettings, send_mail

MAIL = Mail(
    to=["ar@example.com", "cfo@example.com"],
    subject="Statement for May",
    body="Dear customer,\nyour statement is attached.\n",
    attachments=[Attachment("statement.pdf", b"%PDF-1.7 fake", "application/pdf")],
)


def smtp_for(server, security: str, **extra) -> SmtpSettings:
    ca = str(server.ca_file) if server.ca_file else None
    return SmtpSettings(server.host, server.port, security, sender="books@example.com", ca_file=ca, **extra)


@pytest.mark.parametrize("security", ["starttls", "ssl", "none"])
def test_a_mail_with_an_attachment_arrives(tmp_path: Path, security: str) -> None:
    with smtp_server(tmp_path, security=security) as server:
        message_id = send_mail(smtp_for(server, security), MAIL)
    [received] = server.messages
    assert received["Subject"] == "Statement for May"
    assert received["From"] == "books@example.com"
    assert received["To"] == "ar@example.com, cfo@example.com"
    assert received["Message-ID"] == message_id
    assert received.get_body(("plain",)).get_content().replace("\r\n", "\n") == MAIL.body
    [attachment] = list(received.iter_attachments())
    assert attachment.get_filename() == "statement.pdf"
    assert attachment.get_content() == b"%PDF-1.7 fake"
    assert server.handler.recipients == [["ar@example.com", "cfo@example.com"]]


def test_login_over_starttls_and_a_refused_password_named_without_the_password(tmp_path: Path) -> None:
    with smtp_server(tmp_path, security="starttls", login=("bot", "right-pass-123")) as server:
        send_mail(smtp_for(server, "starttls", username="bot", password="right-pass-123"), MAIL)
        with pytest.raises(DeliveryError, match=r"mail via 127.0.0.1:\d+: login as bot refused \(535\)") as info:
            send_mail(smtp_for(server, "starttls", username="bot", password="wrong-pass-456"), MAIL)
    assert "wrong-pass-456" not in str(info.value)
    assert server.logins[0] == "bot:ok" and set(server.logins[1:]) == {"bot:refused"}  # smtplib tries PLAIN, LOGIN
    assert len(server.messages) == 1


def test_starttls_refuses_a_server_it_cannot_verify(tmp_path: Path) -> None:
    with smtp_server(tmp_path, security="starttls") as server:
        untrusted = SmtpSettings(server.host, server.port, "starttls", sender="books@example.com")
        with pytest.raises(DeliveryError, match=r"CERTIFICATE_VERIFY_FAILED|SSLCertVerificationError"):
            send_mail(untrusted, MAIL)
    assert server.messages == []


def test_starttls_refuses_a_server_without_it(tmp_path: Path) -> None:
    with smtp_server(tmp_path, security="none") as server, pytest.raises(DeliveryError, match="offer STARTTLS"):
        send_mail(smtp_for(server, "starttls"), MAIL)
    assert server.messages == []


def test_nobody_listening_is_one_clear_error() -> None:
    from local_servers import free_port

    smtp = SmtpSettings("127.0.0.1", free_port(), "none", timeout=5)
    with pytest.raises(DeliveryError, match=r"mail via 127.0.0.1:\d+: ConnectionRefusedError"):
        send_mail(smtp, MAIL)


def test_settings_from_the_environment_and_sheetsync_toml_and_redacted(tmp_path: Path) -> None:
    (tmp_path / "sheetsync.toml").write_text('[smtp]\nhost = "mail.example.com"\nusername = "bot"\nfrom = "b@x.io"\n')
    settings = load_settings({"SHEETSYNC_SMTP_PASSWORD": "hunter2-hunter2"}, cwd=tmp_path)
    smtp = SmtpSettings.from_settings(settings)
    assert (smtp.host, smtp.port, smtp.security, smtp.username) == ("mail.example.com", 587, "starttls", "bot")
    assert smtp.password == "hunter2-hunter2"
    assert "hunter2" not in smtp.describe() and "hunter2" not in repr(smtp)
    assert "mail.example.com:587 (starttls) as bot" in smtp.describe()
    shown = dict((name, value) for name, value, _ in settings.display_rows())
    assert shown["smtp_password"].startswith("****") and "hunter2" not in shown["smtp_password"]
    ssl_settings = load_settings({"SHEETSYNC_SMTP_HOST": "m", "SHEETSYNC_SMTP_SECURITY": "ssl"}, cwd=tmp_path)
    assert SmtpSettings.from_settings(ssl_settings).port == 465
    with pytest.raises(ConfigError, match="no mail server"):
        SmtpSettings.from_settings(load_settings({}, cwd=tmp_path / "nowhere"))
