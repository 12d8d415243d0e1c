"""Every write of the tracking app: events as single upserts, settings, daily topic counts."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from django.db import connection, transaction
from django.db.models import Count, Min
from django.db.models.functions import TruncDate
from django.utils import timezone

from tidings.accounts.models import Account
from tidings.delivery.models import Delivery, Send
from tidings.subscribers.models import Subscriber, Subscription
from tidings.topics.models import Topic
from tidings.tracking.models import Click, Link, Open, TopicDay, TrackingSettings, Unsubscribe


def settings_for(account: Account) -> TrackingSettings:
    found, _ = TrackingSettings.objects.get_or_create(account=account)
    return found


def save_settings(account: Account, *, opens: bool, clicks: bool) -> TrackingSettings:
    """Turn open and click counting on or off for the account's next sends."""
    found = settings_for(account)
    found.opens, found.clicks = opens, clicks
    found.save(update_fields=["opens", "clicks"])
    return found


def bulletin_of(delivery_id: int) -> int | None:
    """Return the bulletin a delivery carried, or None (no such delivery, or not a bulletin)."""
    return (
        Delivery.objects.filter(pk=delivery_id, send__kind=Send.BULLETIN)
        .values_list("send__bulletin_id", flat=True)
        .first()
    )


def _upsert(sql: str, params: list[Any]) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def record_open(delivery_id: int, bulletin_id: int) -> None:
    """Count one load of the open image: the first makes the recipient a unique open."""
    now = timezone.now()
    table = Open._meta.db_table
    _upsert(
        f"INSERT INTO {table} (delivery_id, bulletin_id, first_at, last_at, count) "  # noqa: S608
        f"VALUES (%s, %s, %s, %s, 1) ON CONFLICT (delivery_id) "
        f"DO UPDATE SET count = {table}.count + 1, last_at = excluded.last_at",
        [delivery_id, bulletin_id, now, now],
    )


def record_click(delivery_id: int, link: Link) -> None:
    """Count one click of one link by one delivery's recipient."""
    now = timezone.now()
    table = Click._meta.db_table
    _upsert(
        f"INSERT INTO {table} "  # noqa: S608
        f"(delivery_id, link_id, bulletin_id, first_at, last_at, count) "
        f"VALUES (%s, %s, %s, %s, %s, 1) ON CONFLICT (delivery_id, link_id) "
        f"DO UPDATE SET count = {table}.count + 1, last_at = excluded.last_at",
        [delivery_id, link.pk, link.bulletin_id, now, now],
    )


def record_unsubscribe(subscriber: Subscriber, topic: Topic | None = None) -> Unsubscribe:
    """Note that a subscriber left, blaming the last bulletin delivered to them."""
    # Unsubscribes are rare, so this lookup (deliveries carry no subscriber index, to keep
    # the send snapshot fast) happens here rather than in every report.
    last = (
        Delivery.objects.filter(
            subscriber_id=subscriber.pk, state=Delivery.SENT, send__kind=Send.BULLETIN
        )
        .order_by("-sent_at", "-id")
        .values_list("id", "send__bulletin_id")
        .first()
    )
    return Unsubscribe.objects.create(
        account_id=subscriber.account_id,
        subscriber_id=subscriber.pk,
        topic=topic,
        delivery_id=last[0] if last else None,
        bulletin_id=last[1] if last else None,
        at=timezone.now(),
    )


def _today(account: Account) -> date:
    return timezone.now().astimezone(account.tz).date()


def snapshot_topics(accounts: list[Account] | None = None) -> int:
    """Store today's subscriber count of every topic (overwriting today's); return how many."""
    accounts = accounts if accounts is not None else list(Account.objects.all())
    written = 0
    for account in accounts:
        day = _today(account)
        counts = dict(
            Topic.objects.filter(account=account)
            .annotate(n=Count("subscriptions"))
            .values_list("id", "n")
        )
        with transaction.atomic():
            TopicDay.objects.bulk_create(
                [TopicDay(topic_id=t, day=day, subscribers=n) for t, n in counts.items()],
                update_conflicts=True,
                unique_fields=["topic", "day"],
                update_fields=["subscribers"],
            )
        written += len(counts)
    return written


def backfill_topic(topic: Topic) -> int:
    """Fill the days before the topic's first snapshot from its subscriptions' created dates.

    Only subscriptions that still exist are known, so the past is an estimate that leaves out
    those who left since; stored snapshots are never overwritten. Return the days written.
    """
    tz = topic.account.tz
    first_saved = TopicDay.objects.filter(topic=topic).aggregate(d=Min("day"))["d"]
    end = first_saved or _today(topic.account) + timedelta(days=1)
    per_day: dict[date, int] = dict(
        Subscription.objects.filter(topic=topic)
        .annotate(day=TruncDate("created", tzinfo=tz))
        .values("day")
        .annotate(n=Count("id"))
        .values_list("day", "n")
    )
    if not per_day:
        return 0
    rows = []
    day, total = min(per_day), 0
    while day < end:
        total += per_day.get(day, 0)
        rows.append(TopicDay(topic=topic, day=day, subscribers=total))
        day += timedelta(days=1)
    TopicDay.objects.bulk_create(rows, ignore_conflicts=True)
    return len(rows)
