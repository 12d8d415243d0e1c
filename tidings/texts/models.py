from __future__ import annotations

from django.db import models

from tidings.accounts.models import Account
from tidings.topics.models import Topic


class TextProgram(models.Model):
    """An account's text messages: the number they come from and the HELP answer."""

    account = models.OneToOneField(Account, models.CASCADE, related_name="text_program")
    number = models.CharField(
        max_length=20,
        blank=True,
        help_text="The short code or number texts come from and are sent to (the gateway's "
        "source address); empty: the gateway's default.",
    )
    help_text = models.CharField(
        max_length=300,
        blank=True,
        help_text="Answer to HELP (the account's name, how to stop and the contact are added).",
    )
    contact = models.CharField(max_length=200, blank=True, help_text="E.g. a phone or web site.")

    def __str__(self) -> str:
        return f"texts of {self.account}"


class Phone(models.Model):
    """A mobile number that gets (or asked for) an account's text messages."""

    PENDING = "pending"
    CONFIRMED = "confirmed"
    STOPPED = "stopped"
    STATUSES = [(PENDING, "waiting for YES"), (CONFIRMED, "confirmed"), (STOPPED, "stopped")]

    WEB = "web"
    TEXT = "text"
    CONSOLE = "console"
    SOURCES = [(WEB, "subscribe page"), (TEXT, "text message"), (CONSOLE, "console or API")]

    account = models.ForeignKey(Account, models.CASCADE, related_name="phones", db_index=False)
    number = models.CharField(max_length=16, help_text="E.164, e.g. +254712345678.")
    status = models.CharField(max_length=16, choices=STATUSES, default=PENDING)
    source = models.CharField(max_length=16, choices=SOURCES, default=WEB)
    # The email subscriber who gave this number on their preferences page, if any.
    subscriber = models.ForeignKey(
        "subscribers.Subscriber", models.SET_NULL, null=True, blank=True, related_name="phones"
    )
    topics: models.ManyToManyField[Topic, TextSubscription] = models.ManyToManyField(
        Topic, through="TextSubscription", related_name="phones"
    )
    created = models.DateTimeField(auto_now_add=True)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    stopped_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["account", "number"], name="phone_unique_number")
        ]

    def __str__(self) -> str:
        return self.number


class TextSubscription(models.Model):
    """A number gets a topic's bulletins by text."""

    phone = models.ForeignKey(Phone, models.CASCADE, related_name="subscriptions", db_index=False)
    topic = models.ForeignKey(Topic, models.CASCADE, related_name="text_subscriptions")
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["phone", "topic"], name="text_subscription_unique")
        ]

    def __str__(self) -> str:
        return f"{self.phone_id} -> {self.topic_id}"


class Keyword(models.Model):
    """A word that, texted to the account's number, subscribes to a topic."""

    account = models.ForeignKey(Account, models.CASCADE, related_name="keywords", db_index=False)
    word = models.CharField(max_length=20)
    topic = models.OneToOneField(Topic, models.CASCADE, related_name="keyword")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["account", "word"], name="keyword_unique_word")
        ]

    def __str__(self) -> str:
        return self.word


class TextPart(models.Model):
    """One segment a gateway accepted, by the id it gave: delivery receipts name it."""

    message_id = models.CharField(max_length=65, db_index=True)
    delivery_id = models.BigIntegerField()
    receipt = models.CharField(max_length=16, blank=True)

    def __str__(self) -> str:
        return self.message_id


class InboundText(models.Model):
    """A text someone sent to an account's number, and what Tidings did and answered."""

    received = models.DateTimeField(auto_now_add=True)
    source = models.CharField(max_length=32)
    destination = models.CharField(max_length=32)
    body = models.TextField()
    account = models.ForeignKey(Account, models.SET_NULL, null=True, blank=True)
    action = models.CharField(max_length=32, blank=True)
    reply = models.TextField(blank=True)

    def __str__(self) -> str:
        return f"text from {self.source}"


class CapturedText(models.Model):
    """A segment that Tidings' own SMSC took (no gateway configured): the captured outbox."""

    received = models.DateTimeField(auto_now_add=True)
    source = models.CharField(max_length=32)
    destination = models.CharField(max_length=32, db_index=True)
    body = models.TextField()
    coding = models.PositiveSmallIntegerField(default=0)
    message_id = models.CharField(max_length=65)
    # Concatenation: the reference shared by a long text's segments, this one's place, how many.
    reference = models.PositiveSmallIntegerField(default=0)
    part = models.PositiveSmallIntegerField(default=1)
    parts = models.PositiveSmallIntegerField(default=1)

    def __str__(self) -> str:
        return f"text to {self.destination}"
