from __future__ import annotations

from django.db import models

from tidings.accounts.models import Account
from tidings.topics.models import Topic


class Bulletin(models.Model):
    DRAFT = "draft"
    SENDING = "sending"
    SENT = "sent"
    STATUSES = [(DRAFT, "draft"), (SENDING, "sending"), (SENT, "sent")]

    MARKDOWN = "markdown"
    HTML = "html"
    FORMATS = [(MARKDOWN, "Markdown"), (HTML, "HTML")]

    account = models.ForeignKey(Account, models.CASCADE, related_name="bulletins")
    subject = models.CharField(
        max_length=300, help_text="The title; mail subjects are '{topic}: {title}'."
    )
    body = models.TextField()
    body_format = models.CharField(max_length=16, choices=FORMATS, default=MARKDOWN)
    topics = models.ManyToManyField(Topic, related_name="bulletins")
    status = models.CharField(max_length=16, choices=STATUSES, default=DRAFT)
    published_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    created = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.subject
