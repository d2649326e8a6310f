"""Where each digest of the outbox went besides mail (`storage.models.Delivery`): one row per
notification channel (an Apprise URL such as `slack://…`, `ntfy://…` or `json://…`) and digest,
with its own state, so that a failed mail never resends a notification and a failed
notification never resends mail.

status: pending → sending (committed just before the delivery) → sent; a delivery found
'sending' after a crash becomes 'uncertain' and is never retried automatically — as for mail.
"""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from storage.models import Delivery


def add_deliveries(session: Session, digest_id: int, channels: tuple[str, ...]) -> None:
    """A pending delivery of the digest for each channel."""
    session.add_all(Delivery(digest_id=digest_id, channel=channel, status="pending", attempts=0)
                    for channel in channels)


def deliveries_of(session: Session, digest_ids: list[int]) -> dict[int, list[Delivery]]:
    """Digest id → its deliveries, in the order the channels were configured."""
    found: dict[int, list[Delivery]] = {digest_id: [] for digest_id in digest_ids}
    for delivery in session.scalars(select(Delivery).where(Delivery.digest_id.in_(digest_ids))
                                    .order_by(Delivery.id)):
        found[delivery.digest_id].append(delivery)
    return found


def delivery_counts(session: Session) -> dict[str, int]:
    """Delivery status → how many notification deliveries are in it (for `status`)."""
    return {status: count for status, count in session.execute(
        select(Delivery.status, func.count(Delivery.id)).group_by(Delivery.status))}
