from __future__ import annotations

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
    in_reply_to = models.CharField(max_length=500, blank=True)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["mailing_list", "slug"], name="post_unique_slug"),
        ]
        indexes = [
            # Serves the archive index: a list's posts, newest first.
            models.Index(fields=["mailing_list", "-date"], name="post_index"),
        ]

    def __str__(self) -> str:
        return self.subject


class Comment(models.Model):
    PUBLISHED = "published"
    HELD = "held"
    STATUSES = [(PUBLISHED, "published"), (HELD, "held for review")]

    post = models.ForeignKey(Post, models.CASCADE, related_name="comments")
    name = models.CharField(max_length=100)
    email = models.EmailField(help_text="Never shown.")
    body = models.TextField(max_length=10000)
    status = models.CharField(max_length=16, choices=STATUSES, default=PUBLISHED)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["post", "status", "created"], name="comment_by_post")]

    def __str__(self) -> str:
        return f"{self.name} on {self.post}"
