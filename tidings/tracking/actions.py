"""Writes of the tracking app: settings, unsubscribes, daily topic counts (hits: tracking.hits)."""

from __future__ import annotations

from datetime import date, timedelta

from django.db import transaction
from django.db.models import Count, Min
from django.db.models.functions import TruncDate
from django.utils import timezone

from tidings.accounts.models import Account
from tidings.delivery.models import Delivery, Send
from tidings.subscribers.models import Subscriber, Subscription
from tidings.topics.models import Topic
from tidings.tracking.models import TopicDay, TrackingSettings, Unsubscribe


def settings_for(account: Account) -> TrackingSettings:
    found, _ = TrackingSettings.objects.get_or_create(account=account)
    return found


def save_settings(account: Account, *, opens: bool, clicks: bool) -> TrackingSettings:
    """Turn open and click counting on or off for the account's next sends."""
    found = settings_for(account)
    found.opens, found.clicks = opens, clicks
    found.save(update_fields=["opens", "clicks"])
    return found


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
