"""Outgoing mail over SMTP (stdlib ``smtplib``), sent from a worker thread.

The SMTP conversation blocks for a network round trip or more, so it never runs on the event loop.
Failures become problem+json: 503 when mail is not configured, 502 when the server refuses or
cannot be reached (with the server's reply, never the credentials).
"""

from __future__ import annotations

import asyncio
import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formatdate, make_msgid, parseaddr

from app.core.errors import DomainError, ServiceUnavailable
from app.core.settings import Settings


class MailDeliveryFailed(DomainError):
    status_code, slug, title = 502, "mail-delivery-failed", "Mail delivery failed"


def check_configured(settings: Settings) -> None:
    """Refuse (503) at once when no SMTP server is configured: before anything is written."""
    if settings.smtp_host is None:
        raise ServiceUnavailable("Mail is not configured: set CENTRALINO_SMTP_HOST (see the README's settings)",
                                 slug="mail-not-configured")


def new_message(settings: Settings, *, to: str, subject: str, text: str, html: str | None = None) -> EmailMessage:
    """A message from the configured sender, with a text part and optionally an HTML alternative."""
    message = EmailMessage()
    message["From"] = settings.smtp_from
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = formatdate(localtime=False, usegmt=True)
    sender_domain = parseaddr(settings.smtp_from)[1].rpartition("@")[2]
    message["Message-ID"] = make_msgid(domain=sender_domain)
    message["Auto-Submitted"] = "auto-generated"  # RFC 3834: no auto-replies to it
    message.set_content(text)
    if html is not None:
        message.add_alternative(html, subtype="html")
    return message


async def send(settings: Settings, message: EmailMessage) -> None:
    """Deliver ``message`` to the SMTP server of the settings, from a worker thread."""
    check_configured(settings)
    await asyncio.to_thread(_send_blocking, settings, message)


def _send_blocking(settings: Settings, message: EmailMessage) -> None:
    host, port, timeout = settings.smtp_host, settings.smtp_port, settings.smtp_timeout_seconds
    where = f"the SMTP server {host}:{port}"
    try:
        if settings.smtp_security == "tls":
            client: smtplib.SMTP = smtplib.SMTP_SSL(host, port, timeout=timeout, context=ssl.create_default_context())
        else:
            client = smtplib.SMTP(host, port, timeout=timeout)
        with client:
            if settings.smtp_security == "starttls":
                client.starttls(context=ssl.create_default_context())
            if settings.smtp_username is not None:
                password = settings.smtp_password.get_secret_value() if settings.smtp_password else ""
                client.login(settings.smtp_username, password)
            client.send_message(message)
    except smtplib.SMTPRecipientsRefused as exc:
        code, reply = next(iter(exc.recipients.values()))
        raise MailDeliveryFailed(f"{where} refused the recipient: {code} {_text(reply)}") from None
    except smtplib.SMTPAuthenticationError as exc:
        raise MailDeliveryFailed(f"{where} refused the login (CENTRALINO_SMTP_USERNAME and _PASSWORD): "
                                 f"{exc.smtp_code}") from None
    except smtplib.SMTPNotSupportedError as exc:
        raise MailDeliveryFailed(f"{where} does not support what CENTRALINO_SMTP_SECURITY asks for: "
                                 f"{exc}") from None
    except smtplib.SMTPResponseException as exc:
        raise MailDeliveryFailed(f"{where} refused the message: {exc.smtp_code} {_text(exc.smtp_error)}") from None
    except (smtplib.SMTPException, ssl.SSLError, OSError) as exc:
        raise MailDeliveryFailed(f"{where} could not be reached or failed: {type(exc).__name__}: {exc}") from None


def _text(reply: bytes | str) -> str:
    return reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)
