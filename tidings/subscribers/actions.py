from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone

from tidings.accounts.models import Account
from tidings.lib.mail import normalize
from tidings.subscribers.models import Subscriber, Subscription
from tidings.topics.models import Topic


def subscribe(
    account: Account, email: str, topics: list[Topic], *, confirmed: bool = False
) -> Subscriber:
    """Subscribe an address to topics; confirmed=True skips opt-in (operator import)."""
    email = normalize(email)
    validate_email(email)
    for topic in topics:
        if topic.account_id != account.pk:
            raise ValidationError(f"Topic {topic.code} belongs to another account.")
    with transaction.atomic():
        subscriber, _ = Subscriber.objects.get_or_create(account=account, email=email)
        if confirmed and subscriber.status != Subscriber.CONFIRMED:
            subscriber.status = Subscriber.CONFIRMED
            subscriber.confirmed_at = timezone.now()
            subscriber.save(update_fields=["status", "confirmed_at"])
        for topic in topics:
            Subscription.objects.get_or_create(subscriber=subscriber, topic=topic)
    return subscriber


def unsubscribe_topic(subscriber: Subscriber, topic: Topic) -> None:
    Subscription.objects.filter(subscriber=subscriber, topic=topic).delete()


def unsubscribe_all(subscriber: Subscriber) -> None:
    """Stop all mail to this subscriber; idempotent."""
    with transaction.atomic():
        subscriber.subscriptions.all().delete()
        if subscriber.status != Subscriber.UNSUBSCRIBED:
            subscriber.status = Subscriber.UNSUBSCRIBED
            subscriber.save(update_fields=["status"])


def set_topics(subscriber: Subscriber, topics: list[Topic]) -> None:
    """Make the subscriber follow exactly these topics; choosing any confirms the address."""
    for topic in topics:
        if topic.account_id != subscriber.account_id:
            raise ValidationError(f"Topic {topic.code} belongs to another account.")
    with transaction.atomic():
        subscriber.subscriptions.exclude(topic__in=topics).delete()
        for topic in topics:
            Subscription.objects.get_or_create(subscriber=subscriber, topic=topic)
        # The signed link that leads here is only ever mailed to this address, so choosing topics
        # is consent enough: it confirms a pending address and lifts an earlier unsubscribe.
        if topics and subscriber.status != Subscriber.CONFIRMED:
            subscriber.status = Subscriber.CONFIRMED
            subscriber.confirmed_at = timezone.now()
            subscriber.save(update_fields=["status", "confirmed_at"])
