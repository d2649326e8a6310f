"""The outbox: each digest (subscription, window) is built once, stored, sent once — by mail to
its recipients and to each of its notification channels, each with its own state.

A crash between the SMTP conversation (or a notification's request) and marking it sent must
not send it twice: the digest or delivery is committed as 'sending' before; one found 'sending'
by a later run (its process gone) becomes 'uncertain' and waits for an explicit resend. A mail
that fails never resends a notification that went out, and the other way round.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import SMTP, default

from sqlalchemy import select

from alerts.notify import NotifyError, send_notification
from alerts.settings import SmtpSettings
from alerts.smtp import MailError, send_message
from storage.database import Store
from storage.deliveries import add_deliveries
from storage.models import Delivery, OutboxDigest, utcnow
from storage.runs import pid_alive
from texts.header_safe import header_safe

NOTIFY_ONLY = "notify-only"  # the mail status of a digest with channels and no recipients


@dataclass(frozen=True)
class SendResult:
    digest_id: int
    subscription: str
    status: str
    error: str | None = None
    channel: str | None = None  # None for the mail, else the notification URL as configured


# CRLF line ends, as SMTP wants them (smtplib does not fix the line ends of bytes). Headers are
# not folded below 998 characters: Python's folder can open a long Subject with an empty line.
WIRE = SMTP.clone(max_line_length=998)


def wire_bytes(message: EmailMessage) -> bytes:
    return message.as_bytes(policy=WIRE)


def enqueue(store: Store, subscription: str, since: datetime, until: datetime,
            recipients: tuple[str, ...], message: EmailMessage | None, events: int,
            channels: tuple[str, ...] = ()) -> tuple[int, bool]:
    """Store a built digest unless one exists for this window; return (id, newly stored).
    `message` None records an empty window that is not to be sent. Each channel gets a
    pending delivery of the digest's text."""
    with store.transaction() as session:
        existing = session.scalar(select(OutboxDigest).where(
            OutboxDigest.subscription == subscription, OutboxDigest.window_start == since,
            OutboxDigest.window_end == until))
        if existing is not None:
            return existing.id, False
        status = "empty" if message is None else "pending" if recipients else NOTIFY_ONLY
        row = OutboxDigest(
            subscription=subscription, window_start=since, window_end=until, built_at=utcnow(),
            subject=header_safe(str(message["Subject"])) if message else "(nothing changed)",
            recipients=list(recipients), message=wire_bytes(message) if message else b"",
            message_id=message["Message-ID"] if message else "", events=events,
            status=status, attempts=0)
        session.add(row)
        session.flush()
        if message is not None:
            add_deliveries(session, row.id, channels)
        return row.id, True


def _interrupted(row: OutboxDigest | Delivery) -> bool:
    return row.sending_pid is None or not pid_alive(row.sending_pid) or \
        row.sending_pid == os.getpid()


def recover_interrupted(store: Store) -> list[int]:
    """Digests and deliveries left 'sending' by a process that is gone become 'uncertain'
    (never resent automatically). Returns the ids of the digests concerned."""
    marked = []
    with store.transaction() as session:
        for row in session.scalars(select(OutboxDigest).where(OutboxDigest.status == "sending")):
            if _interrupted(row):
                row.status = "uncertain"
                row.last_error = ("the process stopped while sending: it may have been delivered; "
                                  "not resent automatically (policywatch outbox --resend "
                                  f"{row.id} to send it again)")
                marked.append(row.id)
        for delivery in session.scalars(select(Delivery).where(Delivery.status == "sending")):
            if _interrupted(delivery):
                delivery.status = "uncertain"
                delivery.last_error = ("the process stopped while notifying: it may have been "
                                       "delivered; not resent automatically (policywatch outbox "
                                       f"--resend {delivery.digest_id} to send it again)")
                marked.append(delivery.digest_id)
    return marked


def send_pending(store: Store, smtp: SmtpSettings | None, only: int | None = None,
                 subscription: str | None = None) -> list[SendResult]:
    """Try every pending mail and notification once; failures stay pending with their error.
    Without mail settings (`smtp` None) only the notifications are tried."""
    recover_interrupted(store)
    with store.sessions() as session:
        mails = select(OutboxDigest.id).where(OutboxDigest.status == "pending")
        notes = select(Delivery.id).join(OutboxDigest, OutboxDigest.id == Delivery.digest_id) \
            .where(Delivery.status == "pending")
        if only is not None:
            mails, notes = mails.where(OutboxDigest.id == only), notes.where(OutboxDigest.id == only)
        if subscription:
            mails = mails.where(OutboxDigest.subscription == subscription)
            notes = notes.where(OutboxDigest.subscription == subscription)
        mail_ids = session.scalars(mails.order_by(OutboxDigest.id)).all()
        delivery_ids = session.scalars(notes.order_by(Delivery.id)).all()
    results = [_send_mail(store, smtp, digest_id) for digest_id in mail_ids] if smtp else []
    return results + [_deliver(store, delivery_id) for delivery_id in delivery_ids]


def _send_mail(store: Store, smtp: SmtpSettings, digest_id: int) -> SendResult:
    with store.transaction() as session:
        row = session.get(OutboxDigest, digest_id)
        if row is None or row.status != "pending":
            return SendResult(digest_id, row.subscription if row else "?", "skipped")
        row.status, row.sending_pid, row.attempts = "sending", os.getpid(), row.attempts + 1
        message, recipients, name = row.message, list(row.recipients), row.subscription
    try:
        send_message(smtp, message, recipients)
    except MailError as exc:
        with store.transaction() as session:
            row = session.get_one(OutboxDigest, digest_id)
            row.status, row.last_error, row.sending_pid = "pending", str(exc), None
        return SendResult(digest_id, name, "pending", str(exc))
    with store.transaction() as session:
        row = session.get_one(OutboxDigest, digest_id)
        row.status, row.sent_at, row.last_error, row.sending_pid = "sent", utcnow(), None, None
    return SendResult(digest_id, name, "sent")


def notification_text(message: bytes) -> str:
    """What a notification says: the digest's plain-text part."""
    parsed = message_from_bytes(message, policy=default)
    plain = parsed.get_body(("plain",)) if isinstance(parsed, EmailMessage) else None
    return plain.get_content() if isinstance(plain, EmailMessage) else ""


def _deliver(store: Store, delivery_id: int) -> SendResult:
    with store.transaction() as session:
        delivery = session.get_one(Delivery, delivery_id)
        digest = session.get_one(OutboxDigest, delivery.digest_id)
        if delivery.status != "pending":
            return SendResult(digest.id, digest.subscription, "skipped", channel=delivery.channel)
        delivery.status, delivery.sending_pid = "sending", os.getpid()
        delivery.attempts += 1
        url, digest_id, name = delivery.channel, digest.id, digest.subscription
        title, body = digest.subject, notification_text(digest.message)
    try:
        send_notification(url, title, body)
    except NotifyError as exc:
        with store.transaction() as session:
            delivery = session.get_one(Delivery, delivery_id)
            delivery.status, delivery.last_error, delivery.sending_pid = "pending", str(exc), None
        return SendResult(digest_id, name, "pending", str(exc), url)
    with store.transaction() as session:
        delivery = session.get_one(Delivery, delivery_id)
        delivery.status, delivery.sent_at = "sent", utcnow()
        delivery.last_error, delivery.sending_pid = None, None
    return SendResult(digest_id, name, "sent", channel=url)


def resend(store: Store, digest_id: int) -> None:
    """On the user's explicit request, put back to pending what of a digest is uncertain (its
    mail, its notifications); with nothing uncertain, the whole digest is sent again."""
    with store.transaction() as session:
        row = session.get(OutboxDigest, digest_id)
        if row is None:
            raise LookupError(f"no digest {digest_id} in the outbox")
        if row.status == "empty":
            raise LookupError(f"digest {digest_id} recorded an empty window: nothing to send")
        deliveries = session.scalars(select(Delivery).where(Delivery.digest_id == digest_id)).all()
        mail = [row] if row.status != NOTIFY_ONLY else []
        parts: list[OutboxDigest | Delivery] = [*mail, *deliveries]
        for part in [p for p in parts if p.status == "uncertain"] or parts:
            part.status, part.last_error = "pending", None
