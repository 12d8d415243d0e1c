from __future__ import annotations

from datetime import date

from django.db import models


class Post(models.Model):
    """A message accepted by a list, as the public archive shows it."""

    mailing_list = models.ForeignKey("lists.MailingList", models.CASCADE, related_name="posts")
    inbound = models.ForeignKey(
        "inbound.InboundMessage", models.SET_NULL, null=True, blank=True, related_name="posts"
    )
    message_id = models.CharField(max_length=500)
    # Permalink: a hash of the Message-ID, stable across rebuilds and re-imports.
    slug = models.CharField(max_length=32)
    subject = models.CharField(max_length=500)
    author_name = models.CharField(max_length=200, blank=True)
    author_email = models.CharField(max_length=320, blank=True)
    date = models.DateTimeField(help_text="When it was written (Date header), else received.")
    body_text = models.TextField(blank=True)
    # The message's HTML, sanitized, when it had no text part; shown instead of body_text.
    body_html = models.TextField(blank=True)
    # The body as an anonymous reader's page shows it, rendered once when archived (a member's
    # page, which shows addresses, renders it again).
    # Database defaults here and below: the previous release, still running while an upgrade
    # migrates, inserts posts without these columns.
    rendered = models.TextField(blank=True, default="", db_default="")
    # The message was too large to show in full: the page shows the start and links the whole.
    truncated = models.BooleanField(default=False, db_default=False)
    in_reply_to = models.CharField(max_length=500, blank=True)
    references = models.TextField(blank=True, help_text="Message-IDs, space separated.")
    # The subject without "Re:" and list tags, for threading mail that lost its headers.
    subject_key = models.CharField(max_length=200, blank=True)
    # The thread's first post; a first post points at itself.
    thread = models.ForeignKey(
        "self", models.SET_NULL, null=True, blank=True, related_name="thread_posts"
    )
    # The message as imported, when there is no InboundMessage to keep it (mbox export).
    raw = models.BinaryField(blank=True, default=b"")
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["mailing_list", "slug"], name="post_unique_slug"),
        ]
        indexes = [
            # Serves the archive index: a list's posts, newest first.
            models.Index(fields=["mailing_list", "-date"], name="post_index"),
            # Serves threading: the post a reply's In-Reply-To / References names.
            models.Index(fields=["mailing_list", "message_id"], name="post_by_message_id"),
            # Serves threading: replies that arrived before the post they answer.
            models.Index(fields=["mailing_list", "in_reply_to"], name="post_by_in_reply_to"),
            # Serves the subject fallback of threading.
            models.Index(fields=["mailing_list", "subject_key", "date"], name="post_by_subject"),
            # Serves the thread page: a thread's posts in order.
            models.Index(fields=["thread", "date"], name="post_by_thread"),
        ]

    def __str__(self) -> str:
        return self.subject


class Attachment(models.Model):
    """A file attached to an archived message, served only as a download."""

    post = models.ForeignKey(Post, models.CASCADE, related_name="attachments")
    position = models.PositiveIntegerField()
    filename = models.CharField(max_length=255)
    content_type = models.CharField(max_length=255)
    size = models.PositiveIntegerField()
    data = models.BinaryField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["post", "position"], name="attachment_unique"),
        ]

    def __str__(self) -> str:
        return self.filename


class Month(models.Model):
    """How many posts a list has in one month (in its time zone): the year → month tree."""

    mailing_list = models.ForeignKey("lists.MailingList", models.CASCADE, related_name="months")
    year = models.PositiveIntegerField()
    month = models.PositiveSmallIntegerField()
    count = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["mailing_list", "year", "month"], name="archive_month_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.year}-{self.month:02d}: {self.count}"

    @property
    def first_day(self) -> date:
        return date(self.year, self.month, 1)


class Comment(models.Model):
    PUBLISHED = "published"
    HELD = "held"
    REJECTED = "rejected"
    STATUSES = [(PUBLISHED, "published"), (HELD, "held for review"), (REJECTED, "rejected")]

    post = models.ForeignKey(Post, models.CASCADE, related_name="comments")
    parent = models.ForeignKey(
        "self", models.CASCADE, null=True, blank=True, related_name="replies"
    )
    name = models.CharField(max_length=100)
    email = models.EmailField(help_text="Never shown.")
    body = models.TextField(max_length=10000)
    status = models.CharField(max_length=16, choices=STATUSES, default=PUBLISHED)
    notify = models.BooleanField(default=False, help_text="Email me when someone else comments.")
    ip = models.GenericIPAddressField(null=True, blank=True)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [
            models.Index(fields=["post", "status", "created"], name="comment_by_post"),
            # Serves the per-IP rate limit.
            models.Index(fields=["ip", "created"], name="comment_by_ip"),
            # Serves "has this commenter been approved before" (first-time moderation).
            models.Index(fields=["email", "status"], name="comment_by_email"),
        ]

    def __str__(self) -> str:
        return f"{self.name} on {self.post}"


class CommentOptOut(models.Model):
    """An address that asked for no more comment notices about one post."""

    post = models.ForeignKey(Post, models.CASCADE, related_name="opt_outs")
    address = models.EmailField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["post", "address"], name="comment_opt_out_unique"),
        ]

    def __str__(self) -> str:
        return self.address


class BulletinText(models.Model):
    """A published bulletin's words as readers search them: plain text, indexed in full text.

    Kept by tidings.archive.actions.index_bulletin() whenever a bulletin is saved; the full-text
    index (FTS5 table or PostgreSQL expression index) follows this table.
    """

    bulletin = models.OneToOneField(
        "bulletins.Bulletin", models.CASCADE, primary_key=True, related_name="search_text"
    )
    subject = models.CharField(max_length=300)
    text = models.TextField(blank=True)

    def __str__(self) -> str:
        return self.subject
