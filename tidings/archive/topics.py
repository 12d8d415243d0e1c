"""Topic archives: bulletins' web copies as a blog, with the list archive's tree, pager and feed."""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from itertools import groupby

from django.conf import settings
from django.db.models import Count, QuerySet
from django.db.models.functions import TruncMonth
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone

from tidings.archive.export import ArchiveFeed
from tidings.archive.personal import neutralize_html, neutralize_text
from tidings.bulletins.email import BulletinRenderer
from tidings.bulletins.models import Bulletin
from tidings.lib.html import html_to_text, markdown_to_html, sanitize
from tidings.topics.models import Topic

PER_PAGE = 10
EXCERPT_CHARS = 400
FEED_ENTRIES = 20


@dataclass
class MonthEntry:
    """One month of the year → month tree: what archive/_tree.html shows."""

    year: int
    month: int
    count: int
    url: str

    @property
    def first_day(self) -> date:
        return date(self.year, self.month, 1)


Tree = list[tuple[int, int, list[MonthEntry]]]


def topic_bulletins(topic: Topic) -> QuerySet[Bulletin]:
    """Return the topic's published bulletins, newest first."""
    return (
        Bulletin.objects.filter(topics=topic, status__in=(Bulletin.SENDING, Bulletin.SENT))
        .exclude(published_at=None)
        .order_by("-published_at", "-pk")
    )


def month_bounds(topic: Topic, year: int, month: int) -> tuple[datetime, datetime]:
    """Return the start and end of a month in the account's time zone."""
    tz = topic.account.tz
    start = datetime(year, month, 1, tzinfo=tz)
    end = start + timedelta(days=calendar.monthrange(year, month)[1])
    return start, end.replace(tzinfo=tz)


def group_tree(months: list[MonthEntry]) -> Tree:
    """Return (year, count that year, months) newest first, from months newest first."""
    return [
        (year, sum(m.count for m in group_list), group_list)
        for year, group in groupby(months, key=lambda m: m.year)
        for group_list in [list(group)]
    ]


def month_tree(topic: Topic) -> Tree:
    """Return the topic's year → month tree with counts, in one query."""
    tz = topic.account.tz
    rows = (
        topic_bulletins(topic)
        .annotate(m=TruncMonth("published_at", tzinfo=tz))
        .values("m")
        .annotate(n=Count("pk"))
        .order_by("-m")
    )
    args = [topic.account.code, topic.code]
    months = []
    for row in rows:
        first = row["m"]
        if isinstance(first, datetime):
            first = timezone.localtime(first, tz) if timezone.is_aware(first) else first
        url = reverse("bulletins:month", args=[*args, first.year, first.month])
        months.append(MonthEntry(first.year, first.month, row["n"], url))
    return group_tree(months)


def plain_text(bulletin: Bulletin) -> str:
    """Return a bulletin's body as plain text, as its email's text part reads (no markup)."""
    if bulletin.body_format == Bulletin.HTML:
        return html_to_text(sanitize(bulletin.body))
    return html_to_text(markdown_to_html(bulletin.body))


def excerpt(bulletin: Bulletin) -> str:
    text = " ".join(neutralize_text(plain_text(bulletin)).split())
    if len(text) <= EXCERPT_CHARS:
        return text
    return text[:EXCERPT_CHARS].rsplit(" ", 1)[0] + " …"


def web_copy_url(bulletin: Bulletin, topic: Topic) -> str:
    return reverse("bulletins:web_copy", args=[bulletin.pk]) + f"?topic={topic.code}"


def topic_feed(request: HttpRequest, topic: Topic, bulletins: list[Bulletin]) -> ArchiveFeed:
    """Return the Atom feed of a topic's latest bulletins."""
    base = settings.BASE_URL
    account = topic.account
    home = base + reverse("bulletins:topic", args=[account.code, topic.code])
    feed = ArchiveFeed(
        title=f"{account.name}: {topic.name}",
        link=home,
        description=topic.description,
        feed_url=base + reverse("bulletins:topic_feed", args=[account.code, topic.code]),
        feed_guid=home,
        language="en",
        author_name=account.name,
    )
    for bulletin in bulletins:
        bulletin.account = account
        url = base + reverse("bulletins:web_copy", args=[bulletin.pk])
        feed.add_item(
            title=neutralize_text(bulletin.subject),
            link=url,
            description=None,  # type: ignore[arg-type]  # no <summary>: <content> has it all
            content=neutralize_html(BulletinRenderer(bulletin).body_html),
            author_name=account.name,
            pubdate=bulletin.published_at,
            updateddate=bulletin.published_at,
            unique_id=url,
        )
    return feed
