from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from tidings.accounts.models import Account
from tidings.lib.headers import validate_line
from tidings.topics.models import Topic


class Subscriber(models.Model):
    """One email address known to one account."""

    PENDING = "pending"
    CONFIRMED = "confirmed"
    UNSUBSCRIBED = "unsubscribed"
    STATUSES = [(PENDING, "pending"), (CONFIRMED, "confirmed"), (UNSUBSCRIBED, "unsubscribed")]

    IMMEDIATE = "immediate"
    DAILY = "daily"
    WEEKLY = "weekly"
    DELIVERY_MODES = [
        (IMMEDIATE, _("Immediately")),
        (DAILY, _("Daily digest")),
        (WEEKLY, _("Weekly digest")),
    ]

    # No index of its own: subscriber_unique_email and subscriber_digest both start with it, and
    # a third index would only slow imports down.
    account = models.ForeignKey(Account, models.CASCADE, related_name="subscribers", db_index=False)
    email = models.EmailField(validators=[validate_line])
    status = models.CharField(max_length=16, choices=STATUSES, default=PENDING)
    created = models.DateTimeField(auto_now_add=True)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    delivery_mode = models.CharField(max_length=16, choices=DELIVERY_MODES, default=IMMEDIATE)
    # Bulletins published up to here have reached this subscriber (immediately or in a digest).
    digest_sent_until = models.DateTimeField(null=True, blank=True)
    # The one confirmation link that may still be used; emptied when it is.
    confirm_nonce = models.CharField(max_length=32, blank=True)
    # A shared address (a distribution list, a team mailbox): with the account's
    # shared_copies_for_distribution_lists on, its bulletins carry no personal links, no tracking.
    # db_default: the importers insert rows with raw SQL that does not name this column.
    distribution_list = models.BooleanField(default=False, db_default=False)
    confirm_sent_at = models.DateTimeField(null=True, blank=True)
    # The language of the mail this subscriber receives ("": the account's).
    language = models.CharField(max_length=8, blank=True, default="", db_default="")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["account", "email"], name="subscriber_unique_email"),
        ]
        indexes = [
            # Serves the digest job: confirmed subscribers of an account in one delivery mode.
            models.Index(fields=["account", "delivery_mode", "status"], name="subscriber_digest"),
        ]

    def __str__(self) -> str:
        return self.email


class Subscription(models.Model):
    # No indexes of their own: subscription_unique and the (topic, subscriber) index serve them.
    subscriber = models.ForeignKey(
        Subscriber, models.CASCADE, related_name="subscriptions", db_index=False
    )
    topic = models.ForeignKey(Topic, models.CASCADE, related_name="subscriptions", db_index=False)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["subscriber", "topic"], name="subscription_unique"),
        ]
        # Serves the send snapshot: subscriptions of a bulletin's topics.
        indexes = [models.Index(fields=["topic", "subscriber"])]

    def __str__(self) -> str:
        return f"{self.subscriber} → {self.topic}"


class SubscribeSettings(models.Model):
    """An account's choices for its public subscribe page, confirmations and digests."""

    account = models.OneToOneField(Account, models.CASCADE, related_name="subscribe_settings")
    double_opt_in = models.BooleanField(
        default=True, help_text="New addresses must confirm by a link in a mail before any mail."
    )
    confirm_link_days = models.PositiveIntegerField(
        default=7, help_text="How long a confirmation link works."
    )
    digest_hour = models.PositiveSmallIntegerField(
        default=7, help_text="Hour (0-23, the account's time zone) when digests go out."
    )
    weekly_digest_day = models.PositiveSmallIntegerField(
        default=0, help_text="Day of the weekly digest: 0 Monday … 6 Sunday."
    )
    welcome_text = models.TextField(
        blank=True,
        default="",
        db_default="",
        help_text="Added to the welcome email sent once an address confirms its subscription.",
    )
    network = models.BooleanField(
        default=False,
        db_default=False,
        help_text="Join the network: people who confirm a subscription here are shown related "
        "topics of the other accounts in it (by category), and theirs are shown yours.",
    )

    class Meta:
        verbose_name_plural = "subscribe settings"

    def __str__(self) -> str:
        return f"Subscribe settings of {self.account}"


class Suppression(models.Model):
    """An address no send may reach: for one account, or for all (account empty)."""

    HARD_BOUNCE = "hard-bounce"
    SOFT_BOUNCES = "soft-bounces"
    COMPLAINT = "complaint"
    MANUAL = "manual"
    REASONS = [
        (HARD_BOUNCE, "hard bounce"),
        (SOFT_BOUNCES, "too many soft bounces"),
        (COMPLAINT, "complaint"),
        (MANUAL, "added by staff"),
    ]

    account = models.ForeignKey(
        Account,
        models.CASCADE,
        null=True,
        blank=True,
        related_name="suppressions",
        help_text="Empty: suppressed for every account.",
    )
    email = models.EmailField()
    reason = models.CharField(max_length=16, choices=REASONS, default=MANUAL)
    note = models.TextField(blank=True)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["account", "email"],
                condition=Q(account__isnull=False),
                name="suppression_unique_account_email",
                violation_error_message="This address is already suppressed for this account.",
            ),
            models.UniqueConstraint(
                fields=["email"],
                condition=Q(account__isnull=True),
                name="suppression_unique_global_email",
                violation_error_message="This address is already suppressed for every account.",
            ),
        ]
        # Serves the send snapshot's NOT EXISTS and the import's exclusion: lookups by address.
        indexes = [models.Index(fields=["email", "account"], name="suppression_email")]

    def __str__(self) -> str:
        return f"{self.email} ({self.reason})"


class BounceEvent(models.Model):
    """One bounce, complaint or ignored report about an address, and what was decided."""

    PERMANENT = "permanent"
    TEMPORARY = "temporary"
    COMPLAINT = "complaint"
    IGNORED = "ignored"
    KINDS = [
        (PERMANENT, "permanent failure"),
        (TEMPORARY, "temporary failure"),
        (COMPLAINT, "complaint"),
        (IGNORED, "not a bounce"),
    ]

    SUPPRESSED = "suppressed"
    SCORED = "scored"
    UNSUBSCRIBED = "unsubscribed"
    NOTHING = "nothing"
    DECISIONS = [
        (SUPPRESSED, "suppressed"),
        (SCORED, "scored"),
        (UNSUBSCRIBED, "unsubscribed"),
        (NOTHING, "nothing"),
    ]

    account = models.ForeignKey(Account, models.CASCADE, null=True, blank=True)
    subscriber = models.ForeignKey(Subscriber, models.SET_NULL, null=True, blank=True)
    delivery = models.ForeignKey("delivery.Delivery", models.SET_NULL, null=True, blank=True)
    inbound = models.ForeignKey("inbound.InboundMessage", models.SET_NULL, null=True, blank=True)
    email = models.CharField(max_length=320, blank=True)
    kind = models.CharField(max_length=16, choices=KINDS)
    status = models.CharField(max_length=32, blank=True, help_text="DSN status such as 5.1.1.")
    decision = models.CharField(max_length=16, choices=DECISIONS, default=NOTHING)
    reason = models.TextField(blank=True)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [
            # Serves the soft-bounce score: an address's temporary failures within the window.
            models.Index(fields=["email", "kind", "created"], name="bounce_score"),
        ]

    def __str__(self) -> str:
        return f"{self.email}: {self.kind} → {self.decision}"


class RateBucket(models.Model):
    """A token bucket shared by every web process (lib.ratelimit's arithmetic): the tokens it
    held at `stamp`."""

    key = models.CharField(max_length=200, unique=True)
    stamp = models.DateTimeField()
    tokens = models.FloatField(default=0)

    def __str__(self) -> str:
        return f"{self.key}: {self.tokens:.1f}"


class ImportJob(models.Model):
    """A CSV file uploaded in the console, imported in the background by a worker."""

    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    STATES = [(QUEUED, "queued"), (RUNNING, "running"), (DONE, "done"), (FAILED, "failed")]

    account = models.ForeignKey(Account, models.CASCADE, related_name="import_jobs")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+"
    )
    topics = models.ManyToManyField(Topic, related_name="+")
    confirmed = models.BooleanField(help_text="False: each new address must opt in by mail.")
    filename = models.CharField(max_length=255, help_text="The uploaded file's own name.")
    state = models.CharField(max_length=16, choices=STATES, default=QUEUED)
    rows_total = models.PositiveIntegerField(default=0, help_text="Lines in the file, roughly.")
    rows_done = models.PositiveIntegerField(default=0)
    report = models.JSONField(default=dict, blank=True, help_text="Counts once done.")
    error_count = models.PositiveIntegerField(default=0)
    failure = models.TextField(blank=True, help_text="Why the whole import failed.")
    created = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    # Advanced with the progress; a running job whose heartbeat stops is claimed again.
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        # Serves the worker's claim (oldest queued job) and the console's list per account.
        indexes = [models.Index(fields=["state", "created"], name="import_job_claim")]

    def __str__(self) -> str:
        return f"{self.filename} ({self.state})"

    @property
    def percent(self) -> int:
        if self.state == self.DONE:
            return 100
        return min(99, 100 * self.rows_done // self.rows_total) if self.rows_total else 0


class Referral(models.Model):
    """Someone who confirmed a subscription at one account asked, from the network's
    suggestions, for a topic of another. They count for it once that subscription is confirmed."""

    account = models.ForeignKey(Account, models.CASCADE, related_name="referrals_in")
    from_account = models.ForeignKey(Account, models.CASCADE, related_name="referrals_out")
    topic = models.ForeignKey(Topic, models.CASCADE, related_name="+")
    email = models.EmailField()
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["account", "email", "topic"], name="referral_unique")
        ]

    def __str__(self) -> str:
        return f"{self.email}: {self.from_account} -> {self.account}"


class Question(models.Model):
    """A question an account asks its subscribers (GovDelivery's subscriber questions): on the
    subscribe page when it says so, and always on the preferences page."""

    CHOICE = "choice"
    TEXT = "text"
    KINDS = [(CHOICE, "one of a few answers"), (TEXT, "free text")]

    account = models.ForeignKey(Account, models.CASCADE, related_name="questions")
    label = models.CharField(max_length=200)
    kind = models.CharField(max_length=8, choices=KINDS, default=CHOICE)
    choices = models.TextField(blank=True, help_text="The answers to choose from, one a line.")
    on_subscribe_page = models.BooleanField(default=True)
    position = models.PositiveSmallIntegerField(default=0)

    def __str__(self) -> str:
        return self.label

    def choice_list(self) -> list[str]:
        return [c.strip() for c in self.choices.splitlines() if c.strip()]


class Answer(models.Model):
    subscriber = models.ForeignKey(Subscriber, models.CASCADE, related_name="answers")
    question = models.ForeignKey(Question, models.CASCADE, related_name="answers")
    value = models.CharField(max_length=200)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["subscriber", "question"], name="answer_unique")
        ]
        indexes = [models.Index(fields=["question", "value"], name="answer_value")]

    def __str__(self) -> str:
        return f"{self.question_id}: {self.value}"


class Segment(models.Model):
    """Subscribers picked by their answers and topics: a bulletin may go to a segment only."""

    account = models.ForeignKey(Account, models.CASCADE, related_name="segments")
    name = models.CharField(max_length=100)
    # Who follows any of these topics (none: any topic of the bulletin).
    topics = models.ManyToManyField(Topic, blank=True, related_name="+")
    # And answered this question with one of these values (none: whatever they answered).
    question = models.ForeignKey(
        Question, models.CASCADE, null=True, blank=True, related_name="segments"
    )
    values = models.TextField(blank=True, help_text="Answers that qualify, one a line.")
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["account", "name"], name="segment_unique_name")
        ]

    def __str__(self) -> str:
        return self.name

    def value_list(self) -> list[str]:
        return [v.strip() for v in self.values.splitlines() if v.strip()]
