from __future__ import annotations

from django.db import models

from tidings.accounts.models import Account, SenderIdentity
from tidings.lib.headers import validate_line
from tidings.topics.models import Topic


class MessageTemplate(models.Model):
    """A reusable look for an account's bulletins: the words above and below, and the layout."""

    BANNER = "banner"
    PLAIN = "plain"
    LAYOUTS = [
        (BANNER, "banner: the logo on the brand colour, the bulletin in a card"),
        (PLAIN, "plain: a letter, no banner"),
    ]

    account = models.ForeignKey(Account, models.CASCADE, related_name="message_templates")
    name = models.CharField(max_length=100, validators=[validate_line])
    header = models.TextField(
        blank=True, help_text="Above the bulletin; may use {{ topic }}, {{ account }}."
    )
    footer = models.TextField(
        blank=True,
        help_text="Below it; may use {{ recipient }}, {{ account }}, {{ postal_address }}.",
    )
    layout = models.CharField(max_length=16, choices=LAYOUTS, default=BANNER)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["account", "name"], name="template_unique_name")
        ]

    def __str__(self) -> str:
        return self.name


class Bulletin(models.Model):
    DRAFT = "draft"
    SCHEDULED = "scheduled"
    SENDING = "sending"
    SENT = "sent"
    STATUSES = [(DRAFT, "draft"), (SCHEDULED, "scheduled"), (SENDING, "sending"), (SENT, "sent")]

    MARKDOWN = "markdown"
    HTML = "html"
    FORMATS = [(MARKDOWN, "Markdown"), (HTML, "HTML")]

    account = models.ForeignKey(Account, models.CASCADE, related_name="bulletins")
    subject = models.CharField(
        max_length=300,
        help_text="The title; mail subjects are '{topic}: {title}'.",
        validators=[validate_line],
    )
    body = models.TextField()
    body_format = models.CharField(max_length=16, choices=FORMATS, default=MARKDOWN)
    text = models.TextField(
        blank=True,
        default="",
        db_default="",
        help_text="The text message sent to subscribers by text; empty: the title and the "
        "web copy's address.",
    )
    topics = models.ManyToManyField(Topic, related_name="bulletins")
    status = models.CharField(max_length=16, choices=STATUSES, default=DRAFT)
    # Only these subscribers of its topics (subscribers.Segment); none: all of them.
    segment = models.ForeignKey(
        "subscribers.Segment", models.SET_NULL, null=True, blank=True, related_name="bulletins"
    )
    # The look chosen in the composer; none: the account's header, footer and banner.
    template = models.ForeignKey(
        MessageTemplate, models.SET_NULL, null=True, blank=True, related_name="bulletins"
    )
    # The From name and address chosen in the composer; none means the account's own.
    sender = models.ForeignKey(
        SenderIdentity, models.SET_NULL, null=True, blank=True, related_name="bulletins"
    )
    created_by = models.ForeignKey(
        "auth.User", models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # When a scheduled bulletin is due; the bulletins.scheduled job publishes it then.
    scheduled_at = models.DateTimeField(null=True, blank=True)
    published_at = models.DateTimeField(null=True, blank=True)
    # Why the scheduler could not publish it (it went back to draft); empty when all is well.
    publish_error = models.TextField(blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [
            # Serves the scheduler's "scheduled and due" query.
            models.Index(fields=["status", "scheduled_at"], name="bulletin_due"),
        ]

    def __str__(self) -> str:
        return self.subject

    def from_name_address(self) -> tuple[str, str]:
        """Return the From name and address: the chosen identity's, else the account's."""
        if self.sender is not None:
            return self.sender.name, self.sender.address
        return self.account.sender_name or self.account.name, self.account.sender_address
