"""The outbox: each digest (subscription, window) is built once, stored, sent once.

A crash between the SMTP conversation and marking the digest sent must not send it twice:
the digest is committed as 'sending' before the conversation; one found 'sending' by a later
run (its process gone) becomes 'uncertain' and waits for an explicit resend.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.policy import SMTP

from sqlalchemy import select

from alerts.settings import SmtpSettings
from alerts.smtp import MailError, send_message
from storage.database import Store
from storage.models import OutboxDigest, utcnow
from storage.runs import pid_alive


@dataclass(frozen=True)
class SendResult:
    digest_id: int
    subscription: str
    status: str
    error: str | None = None


# CRLF line ends, as SMTP wants them (smtplib does not fix the line ends of bytes). Headers are
# not folded below 998 characters: Python's folder can open a long Subject with an empty line.
WIRE = SMTP.clone(max_line_length=998)


def wire_bytes(message: EmailMessage) -> bytes:
    return message.as_bytes(policy=WIRE)


def enqueue(store: Store, subscription: str, since: datetime, until: datetime,
            recipients: tuple[str, ...], message: EmailMessage | None, events: int) -> tuple[int, bool]:
    """Store a built digest unless one exists for this window; return (id, newly stored).
    `message` None records an empty window that is not to be sent."""
    with store.transaction() as session:
        existing = session.scalar(select(OutboxDigest).where(
            OutboxDigest.subscription == subscription, OutboxDigest.window_start == since,
            OutboxDigest.window_end == until))
        if existing is not None:
            return existing.id, False
        row = OutboxDigest(
            subscription=subscription, window_start=since, window_end=until, built_at=utcnow(),
            subject=message["Subject"] if message else "(nothing changed)",
            recipients=list(recipients), message=wire_bytes(message) if message else b"",
            message_id=message["Message-ID"] if message else "", events=events,
            status="pending" if message else "empty", attempts=0)
        session.add(row)
        session.flush()
        return row.id, True


def recover_interrupted(store: Store) -> list[int]:
    """Digests left 'sending' by a process that is gone become 'uncertain' (never resent)."""
    marked = []
    with store.transaction() as session:
        for row in session.scalars(select(OutboxDigest).where(OutboxDigest.status == "sending")):
            if row.sending_pid is None or not pid_alive(row.sending_pid) or \
                    row.sending_pid == os.getpid():
                row.status = "uncertain"
                row.last_error = ("the process stopped while sending: it may have been delivered; "
                                  "not resent automatically (policywatch outbox --resend "
                                  f"{row.id} to send it again)")
                marked.append(row.id)
    return marked


def send_pending(store: Store, smtp: SmtpSettings, only: int | None = None,
                 subscription: str | None = None) -> list[SendResult]:
    """Try every pending digest once; failures stay pending with their error."""
    recover_interrupted(store)
    with store.sessions() as session:
        query = select(OutboxDigest.id).where(OutboxDigest.status == "pending").order_by(OutboxDigest.id)
        if only is not None:
            query = query.where(OutboxDigest.id == only)
        if subscription:
            query = query.where(OutboxDigest.subscription == subscription)
        ids = session.scalars(query).all()
    return [_send_one(store, smtp, digest_id) for digest_id in ids]


def _send_one(store: Store, smtp: SmtpSettings, digest_id: int) -> SendResult:
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


def resend(store: Store, digest_id: int) -> None:
    """Put an uncertain (or sent) digest back to pending, on the user's explicit request."""
    with store.transaction() as session:
        row = session.get(OutboxDigest, digest_id)
        if row is None:
            raise LookupError(f"no digest {digest_id} in the outbox")
        if row.status == "empty":
            raise LookupError(f"digest {digest_id} recorded an empty window: nothing to send")
        row.status, row.last_error = "pending", None
