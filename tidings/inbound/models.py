from __future__ import annotations

from django.db import models


class InboundMessage(models.Model):
    """A message exactly as the SMTP server received it, stored before it answered 250."""

    NEW = "new"
    ROUTING = "routing"
    DONE = "done"
    MALFORMED = "malformed"
    FAILED = "failed"
    STATES = [
        (NEW, "new"),
        (ROUTING, "routing"),
        (DONE, "done"),
        (MALFORMED, "malformed"),
        (FAILED, "failed"),
    ]

    received_at = models.DateTimeField(auto_now_add=True)
    peer = models.CharField(max_length=100, blank=True)
    helo = models.CharField(max_length=255, blank=True)
    mail_from = models.CharField(max_length=320, blank=True)
    # Local recipients (lists, commands) to route, and other-domain recipients that were
    # captured into the outbox because no external relay is configured.
    local_rcpts = models.JSONField(default=list)
    captured_rcpts = models.JSONField(default=list)
    # Local recipients already handed to their handler, with what was done: a message retried
    # after a passing error goes on with the others and never hands one of them a copy twice.
    routed_rcpts = models.JSONField(null=True, blank=True)
    captured = models.BooleanField(default=False)
    raw = models.BinaryField()
    size = models.PositiveIntegerField(default=0)
    subject = models.CharField(max_length=500, blank=True)
    state = models.CharField(max_length=16, choices=STATES, default=NEW)
    lease_until = models.DateTimeField(null=True, blank=True)
    notes = models.TextField(blank=True, help_text="What routing did, or why it could not.")

    class Meta:
        indexes = [
            # Serves the router's claim of new messages.
            models.Index(fields=["state", "received_at"], name="inbound_claim"),
            # Serves the outbox page: captured mail, newest first.
            models.Index(fields=["captured", "-received_at"], name="inbound_outbox"),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} from {self.mail_from or '<>'}"
