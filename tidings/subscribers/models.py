from __future__ import annotations

from django.db import models

from tidings.accounts.models import Account
from tidings.topics.models import Topic


class Subscriber(models.Model):
    """One email address known to one account."""

    PENDING = "pending"
    CONFIRMED = "confirmed"
    UNSUBSCRIBED = "unsubscribed"
    STATUSES = [(PENDING, "pending"), (CONFIRMED, "confirmed"), (UNSUBSCRIBED, "unsubscribed")]

    account = models.ForeignKey(Account, models.CASCADE, related_name="subscribers")
    email = models.EmailField()
    status = models.CharField(max_length=16, choices=STATUSES, default=PENDING)
    created = models.DateTimeField(auto_now_add=True)
    confirmed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["account", "email"], name="subscriber_unique_email"),
        ]

    def __str__(self) -> str:
        return self.email


class Subscription(models.Model):
    subscriber = models.ForeignKey(Subscriber, models.CASCADE, related_name="subscriptions")
    topic = models.ForeignKey(Topic, models.CASCADE, related_name="subscriptions")
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["subscriber", "topic"], name="subscription_unique"),
        ]
        # Serves the send snapshot: subscriptions of a bulletin's topics.
        indexes = [models.Index(fields=["topic", "subscriber"])]

    def __str__(self) -> str:
        return f"{self.subscriber} → {self.topic}"
