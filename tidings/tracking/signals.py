"""Note unsubscribes as the subscribers app saves them, without that app knowing about us."""

from __future__ import annotations

from typing import Any

from django.db.models.signals import post_save
from django.dispatch import receiver

from tidings.subscribers.models import Subscriber


@receiver(post_save, sender=Subscriber, dispatch_uid="tracking.unsubscribed")
def unsubscribed(sender: type, instance: Subscriber, **kwargs: Any) -> None:
    # unsubscribe_all() saves exactly the status, and only when it changes.
    update_fields = kwargs.get("update_fields") or ()
    if instance.status == Subscriber.UNSUBSCRIBED and "status" in update_fields:
        from tidings.tracking.actions import record_unsubscribe

        record_unsubscribe(instance)
