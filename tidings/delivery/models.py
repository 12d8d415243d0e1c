from __future__ import annotations

from django.db import models


class Send(models.Model):
    """One piece of outgoing mail to many recipients: a bulletin, a list relay, a notice."""

    BULLETIN = "bulletin"
    LIST_POST = "list_post"
    NOTICE = "notice"
    KINDS = [(BULLETIN, "bulletin"), (LIST_POST, "list post"), (NOTICE, "notice")]

    PREPARING = "preparing"
    SENDING = "sending"
    PAUSED = "paused"
    CANCELLED = "cancelled"
    DONE = "done"
    STATES = [
        (PREPARING, "preparing"),
        (SENDING, "sending"),
        (PAUSED, "paused"),
        (CANCELLED, "cancelled"),
        (DONE, "done"),
    ]

    EMAIL = "email"
    TEXT = "text"
    CHANNELS = [(EMAIL, "email"), (TEXT, "text message")]

    kind = models.CharField(max_length=16, choices=KINDS)
    # Email goes through the SMTP sender; text messages through the texts role's gateway. A
    # text send's rows carry E.164 numbers as their address, its message the text (UTF-8).
    channel = models.CharField(max_length=8, choices=CHANNELS, default=EMAIL, db_default=EMAIL)
    state = models.CharField(max_length=16, choices=STATES, default=SENDING)
    bulletin = models.ForeignKey(
        "bulletins.Bulletin", models.CASCADE, null=True, blank=True, related_name="sends"
    )
    mailing_list = models.ForeignKey(
        "lists.MailingList", models.CASCADE, null=True, blank=True, related_name="sends"
    )
    # Whose notice this is (a list's owner notice, a confirmation): a failed one is shown on
    # that account's console home.
    account = models.ForeignKey(
        "accounts.Account", models.CASCADE, null=True, blank=True, related_name="notice_sends"
    )
    # The finished message for sends whose content is the same for every recipient (list relays,
    # notices such as confirmation requests).
    message = models.BinaryField(null=True, blank=True)
    mail_from = models.CharField(max_length=320, blank=True, help_text="Envelope sender.")
    # The highest delivery id handed out for a first attempt: workers take the next range of
    # queued rows above it, so a first attempt writes each row once (its outcome), not twice.
    cursor = models.BigIntegerField(default=0)
    # When a worker last claimed first attempts of this send: sends are served least recently
    # served first (new ones first of all), so small sends and list posts are not stuck behind
    # a large one.
    served_at = models.DateTimeField(null=True, blank=True)
    created = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.kind} send #{self.pk}"


class Delivery(models.Model):
    """One recipient of one send, and what happened to the message for them."""

    QUEUED = "queued"
    SENDING = "sending"
    SENT = "sent"
    DEFERRED = "deferred"
    # Held back by TIDINGS_RATE_LIMITS: not a failure, only waiting its turn (no attempt).
    THROTTLED = "throttled"
    FAILED = "failed"
    CANCELLED = "cancelled"
    STATES = [
        (QUEUED, "queued"),
        (SENDING, "sending"),
        (SENT, "sent"),
        (DEFERRED, "deferred"),
        (THROTTLED, "waiting for a rate limit"),
        (FAILED, "failed"),
        (CANCELLED, "cancelled"),
    ]
    TERMINAL = (SENT, FAILED, CANCELLED)

    # The snapshot writes a million rows in one statement, so this table carries only what
    # the worker needs: no single-column indexes on the foreign keys, no database-level
    # foreign-key checks (PostgreSQL checks them row by row), and no unique (send, address)
    # index: the snapshot's GROUP BY already gives one row per address. On PostgreSQL here,
    # 300,000 rows took 5.9 s with all three, 1.9 s without. Rows are only written from rows
    # that exist, and deletions go through the ORM, which cascades and nulls these fields.
    send = models.ForeignKey(
        Send, models.CASCADE, related_name="deliveries", db_index=False, db_constraint=False
    )
    address = models.CharField(max_length=320)
    subscriber = models.ForeignKey(
        "subscribers.Subscriber",
        models.SET_NULL,
        null=True,
        blank=True,
        related_name="deliveries",
        db_index=False,
        db_constraint=False,
    )
    # The topic this recipient gets the bulletin for (the first of its topics they follow).
    topic = models.ForeignKey(
        "topics.Topic", models.SET_NULL, null=True, blank=True, db_index=False, db_constraint=False
    )
    state = models.CharField(max_length=16, choices=STATES, default=QUEUED)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    lease_until = models.DateTimeField(null=True, blank=True)
    last_reply = models.TextField(blank=True, help_text="The relay's last answer, or the error.")
    message_id = models.CharField(max_length=300, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name_plural = "deliveries"
        indexes = [
            # Serves the worker's claim (a send's rows in a state, oldest first) and the counts.
            models.Index(fields=["send", "state", "id"], name="delivery_claim"),
        ]

    def __str__(self) -> str:
        return f"{self.address} ({self.state})"


class Lease(models.Model):
    """A range of a send's delivery ids that one worker is sending right now.

    Rows of a range stay `queued` until their outcome is recorded, in the same transaction that
    deletes the lease. A worker that dies leaves the lease behind; once it expires another
    worker takes the range back and sends the rows still queued in it.
    """

    send = models.ForeignKey(Send, models.CASCADE, related_name="leases", db_constraint=False)
    first_id = models.BigIntegerField()
    last_id = models.BigIntegerField()
    lease_until = models.DateTimeField(db_index=True)

    def __str__(self) -> str:
        return f"send #{self.send_id} rows {self.first_id}-{self.last_id}"
