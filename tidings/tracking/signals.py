"""Note unsubscribes as the subscribers app saves them, without that app knowing about us."""

from __future__ import annotations

from typing import Any

from django.db.models.signals import post_save
from django.dispatch import receiver

from tidings.subscribers.models import Subscriber
from tidings.subscribers.signals import topics_dropped


@receiver(post_save, sender=Subscriber, dispatch_uid="tracking.unsubscribed")
def unsubscribed(sender: type, instance: Subscriber, **kwargs: Any) -> None:
    # unsubscribe_all() saves exactly the status, and only when it changes.
    update_fields = kwargs.get("update_fields") or ()
    if instance.status == Subscriber.UNSUBSCRIBED and "status" in update_fields:
        from tidings.tracking.actions import record_unsubscribe

        record_unsubscribe(instance)


@receiver(topics_dropped, dispatch_uid="tracking.topics_dropped")
def dropped(sender: type, subscriber: Subscriber, topics: list[Any], **kwargs: Any) -> None:
    # One row per topic; the report counts people, so two topics dropped at once count once.
    from tidings.tracking.actions import record_unsubscribe

    for topic in topics:
        record_unsubscribe(subscriber, topic)
