"""What a bulletin's recipients did with it: links in it, opens, clicks, unsubscribes.

Events are written at the moment they happen, one upsert each; nothing is written per
recipient while sending.
"""

from __future__ import annotations

from django.db import models

from tidings.accounts.models import Account


class TrackingSettings(models.Model):
    """An account's choice to count opens (an image in the mail) and clicks (redirected links)."""

    account = models.OneToOneField(Account, models.CASCADE, related_name="tracking_settings")
    opens = models.BooleanField(
        default=True, help_text="Put a 1x1 pixel image in the HTML part to count opens."
    )
    clicks = models.BooleanField(
        default=True, help_text="Send links in bulletins through Tidings to count clicks."
    )

    class Meta:
        verbose_name_plural = "tracking settings"

    def __str__(self) -> str:
        return f"Tracking settings of {self.account}"


class Link(models.Model):
    """A URL that was in a bulletin: the only places its click redirects may lead."""

    bulletin = models.ForeignKey("bulletins.Bulletin", models.CASCADE, related_name="links")
    position = models.PositiveIntegerField(help_text="Order of first appearance in the mail.")
    url = models.TextField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["bulletin", "url"], name="link_unique_url"),
        ]

    def __str__(self) -> str:
        return self.url


class Open(models.Model):
    """The first (and how many) loads of the open image by one delivery's recipient."""

    # Plain ids, not foreign keys: deliveries are bulk-written without constraints, and an
    # event must not block their deletion.
    delivery_id = models.BigIntegerField(unique=True)
    bulletin = models.ForeignKey("bulletins.Bulletin", models.CASCADE, related_name="+")
    first_at = models.DateTimeField()
    last_at = models.DateTimeField()
    count = models.PositiveIntegerField(default=1)

    class Meta:
        # Serves the report's counts per bulletin.
        indexes = [models.Index(fields=["bulletin", "delivery_id"], name="open_bulletin")]

    def __str__(self) -> str:
        return f"delivery #{self.delivery_id} opened"


class Click(models.Model):
    """One delivery's recipient following one link: first time and how often."""

    delivery_id = models.BigIntegerField()
    link = models.ForeignKey(Link, models.CASCADE, related_name="clicks")
    bulletin = models.ForeignKey("bulletins.Bulletin", models.CASCADE, related_name="+")
    first_at = models.DateTimeField()
    last_at = models.DateTimeField()
    count = models.PositiveIntegerField(default=1)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["delivery_id", "link"], name="click_unique_link"),
        ]
        # Serves the report's unique clicks per bulletin.
        indexes = [models.Index(fields=["bulletin", "delivery_id"], name="click_bulletin")]

    def __str__(self) -> str:
        return f"delivery #{self.delivery_id} clicked link #{self.link_id}"


class Unsubscribe(models.Model):
    """A subscriber leaving (everything, or one topic), and the bulletin they last received."""

    account = models.ForeignKey(Account, models.CASCADE, related_name="+")
    subscriber_id = models.BigIntegerField()
    topic = models.ForeignKey(
        "topics.Topic", models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # The last bulletin delivered to them before they left: the one the report blames.
    bulletin = models.ForeignKey(
        "bulletins.Bulletin", models.SET_NULL, null=True, blank=True, related_name="+"
    )
    delivery_id = models.BigIntegerField(null=True, blank=True)
    at = models.DateTimeField()

    class Meta:
        # Serves the report's "unsubscribes caused" per bulletin.
        indexes = [models.Index(fields=["bulletin", "subscriber_id"], name="unsub_bulletin")]

    def __str__(self) -> str:
        return f"subscriber #{self.subscriber_id} left"


class TopicDay(models.Model):
    """How many subscribers a topic had at the end of one day (its account's time zone)."""

    topic = models.ForeignKey("topics.Topic", models.CASCADE, related_name="+")
    day = models.DateField()
    subscribers = models.PositiveIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["topic", "day"], name="topicday_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.topic_id} on {self.day}: {self.subscribers}"


class HitBatch(models.Model):
    """A journal of open and click hits that has been counted (tracking.hits): its name, so a
    journal replayed after its process died is never counted twice. Kept for a week."""

    name = models.CharField(max_length=200, unique=True)
    at = models.DateTimeField(auto_now_add=True, db_index=True)

    def __str__(self) -> str:
        return self.name
