from __future__ import annotations

from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone

from tidings.accounts.models import Account
from tidings.bulletins.models import Bulletin
from tidings.delivery.models import Delivery, Send
from tidings.subscribers.models import Subscriber, Subscription, Suppression
from tidings.topics.models import Topic


def create_bulletin(
    account: Account, *, subject: str, body: str, topics: list[Topic], body_format: str = "markdown"
) -> Bulletin:
    """Create a draft bulletin for one or more of the account's topics."""
    if not topics:
        raise ValidationError("A bulletin needs at least one topic.")
    if any(t.account_id != account.pk for t in topics):
        raise ValidationError("Every topic must belong to the bulletin's account.")
    bulletin = Bulletin(account=account, subject=subject, body=body, body_format=body_format)
    bulletin.full_clean()
    bulletin.save()
    bulletin.topics.set(topics)
    return bulletin


def _snapshot_recipients(send: Send, bulletin: Bulletin) -> int:
    """Write one delivery row per confirmed subscriber of the bulletin's topics, in SQL."""
    delivery = Delivery._meta.db_table
    subscription = Subscription._meta.db_table
    subscriber = Subscriber._meta.db_table
    bulletin_topics = Bulletin.topics.through._meta.db_table
    suppression = Suppression._meta.db_table
    # One row per address even when it follows several of the topics; it gets the bulletin
    # for the first of them.
    sql = f"""
        INSERT INTO {delivery}
            (send_id, address, subscriber_id, topic_id, state, attempts, last_reply, message_id)
        SELECT %s, s.email, s.id, MIN(sub.topic_id), %s, 0, '', ''
        FROM {subscription} sub
        JOIN {subscriber} s ON s.id = sub.subscriber_id
        WHERE sub.topic_id IN
            (SELECT bt.topic_id FROM {bulletin_topics} bt WHERE bt.bulletin_id = %s)
          AND s.status = %s
          AND s.delivery_mode = %s
          AND NOT EXISTS (
            SELECT 1 FROM {suppression} x
            WHERE x.email = s.email AND (x.account_id IS NULL OR x.account_id = s.account_id)
          )
        GROUP BY s.id, s.email
    """  # noqa: S608 - table names come from models, values are parameters
    with connection.cursor() as cursor:
        cursor.execute(
            sql,
            [send.pk, Delivery.QUEUED, bulletin.pk, Subscriber.CONFIRMED, Subscriber.IMMEDIATE],
        )
        return cursor.rowcount


def publish_bulletin(bulletin: Bulletin, *, published_at: datetime | None = None) -> Send:
    """Publish a draft: snapshot its recipients into delivery rows, in one transaction."""
    with transaction.atomic():
        locked = Bulletin.objects.select_for_update().get(pk=bulletin.pk)
        if locked.status != Bulletin.DRAFT:
            raise ValidationError(f"Bulletin #{bulletin.pk} was already published.")
        now = timezone.now()
        locked.published_at = published_at or now
        locked.status = Bulletin.SENDING
        locked.save(update_fields=["published_at", "status"])
        send = Send.objects.create(kind=Send.BULLETIN, bulletin=locked)
        _snapshot_recipients(send, locked)
    bulletin.refresh_from_db()
    return send
