"""Sending mail over SMTP (STARTTLS, implicit TLS or plain), with one-line errors."""

from __future__ import annotations

import os
import smtplib
import socket
import ssl
from email.message import EmailMessage

from alerts.settings import SmtpSettings


class MailError(RuntimeError):
    """Mail could not be sent; the message names the server and the reason, in one line."""


def _context(settings: SmtpSettings) -> ssl.SSLContext:
    context = ssl.create_default_context()
    if settings.cafile:
        context.load_verify_locations(cafile=settings.cafile)
    return context


def password(settings: SmtpSettings) -> str | None:
    if not settings.password_env:
        return None
    value = os.environ.get(settings.password_env)
    if value is None:
        raise MailError(f"smtp.password_env: the environment variable {settings.password_env} is not set")
    return value


def send_message(settings: SmtpSettings, message: EmailMessage | bytes,
                 recipients: list[str]) -> None:
    """Hand one message to the SMTP server; raise MailError on any failure."""
    where = f"SMTP {settings.host}:{settings.port}"
    secret = password(settings)
    try:
        if settings.security == "tls":
            client: smtplib.SMTP = smtplib.SMTP_SSL(settings.host, settings.port,
                                                    local_hostname=settings.helo,
                                                    timeout=settings.timeout,
                                                    context=_context(settings))
        else:
            client = smtplib.SMTP(settings.host, settings.port, local_hostname=settings.helo,
                                  timeout=settings.timeout)
        with client:
            if settings.security == "starttls":
                client.starttls(context=_context(settings))
            if settings.username:
                client.login(settings.username, secret or "")
            if isinstance(message, bytes):
                client.sendmail(settings.sender, recipients, message)
            else:
                client.send_message(message, settings.sender, recipients)
    except smtplib.SMTPAuthenticationError as exc:
        raise MailError(f"{where}: authentication failed for {settings.username!r} "
                        f"({exc.smtp_code})") from None
    except smtplib.SMTPNotSupportedError as exc:
        raise MailError(f"{where}: {exc}") from None
    except smtplib.SMTPRecipientsRefused as exc:
        raise MailError(f"{where}: recipients refused: {', '.join(exc.recipients)}") from None
    except smtplib.SMTPException as exc:
        raise MailError(f"{where}: {type(exc).__name__}: {exc}") from None
    except ssl.SSLError as exc:
        raise MailError(f"{where}: TLS failed: {exc.reason or exc}") from None
    except (ConnectionRefusedError, TimeoutError, OSError) as exc:
        reason = "connection refused" if isinstance(exc, ConnectionRefusedError) else \
            "timed out" if isinstance(exc, socket.timeout | TimeoutError) else str(exc)
        raise MailError(f"{where}: {reason}") from None
