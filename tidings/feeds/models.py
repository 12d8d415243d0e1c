from __future__ import annotations

from django.db import models

from tidings.bulletins.models import Bulletin
from tidings.topics.models import Topic


class Watch(models.Model):
    """A feed or web page a topic follows; a new item or a change becomes a bulletin."""

    FEED = "feed"
    PAGE = "page"
    KINDS = [(FEED, "RSS/Atom feed"), (PAGE, "web page")]

    AUTO_SEND = "auto"
    DRAFT = "draft"
    MODES = [(AUTO_SEND, "send at once"), (DRAFT, "hold as a draft for review")]

    topic = models.ForeignKey(Topic, models.CASCADE, related_name="watches")
    kind = models.CharField(max_length=8, choices=KINDS, default=FEED)
    url = models.URLField(max_length=2000, verbose_name="URL")
    mode = models.CharField(max_length=8, choices=MODES, default=DRAFT)
    enabled = models.BooleanField(default=True)
    # The validators of the last 200 answer, sent back for a conditional GET.
    etag = models.CharField(max_length=500, blank=True)
    last_modified = models.CharField(max_length=100, blank=True)
    # For pages: the hash of the main text at the last fetch.
    content_hash = models.CharField(max_length=64, blank=True)
    last_checked_at = models.DateTimeField(null=True, blank=True)
    last_changed_at = models.DateTimeField(null=True, blank=True)
    # Why the last poll failed; empty when it succeeded.
    last_error = models.TextField(blank=True)
    # False until the first successful poll has recorded what was already there.
    primed = models.BooleanField(default=False)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [
            # Serves the poller's "enabled watches, least recently checked first".
            models.Index(fields=["enabled", "last_checked_at"], name="watch_due"),
        ]

    def __str__(self) -> str:
        return self.url


class Item(models.Model):
    """One entry of a watched feed (or the one page of a watched page), as last seen."""

    watch = models.ForeignKey(Watch, models.CASCADE, related_name="items")
    guid = models.CharField(max_length=2000)
    title = models.CharField(max_length=500, blank=True)
    link = models.URLField(max_length=2000, blank=True)
    content_hash = models.CharField(max_length=64)
    # The last bulletin this item produced; none for items recorded on the first poll.
    bulletin = models.ForeignKey(
        Bulletin, models.SET_NULL, null=True, blank=True, related_name="feed_items"
    )
    first_seen_at = models.DateTimeField(auto_now_add=True)
    last_changed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["watch", "guid"], name="feed_item_unique_guid"),
        ]

    def __str__(self) -> str:
        return self.title or self.guid
