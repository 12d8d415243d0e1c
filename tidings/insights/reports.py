"""Read-only figures for the console: a bulletin's report, its recipients, a topic's growth."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta

from django.db.models import Count, QuerySet, Sum
from django.utils import timezone

from tidings.bulletins.models import Bulletin
from tidings.delivery.models import Delivery, Send
from tidings.subscribers.models import BounceEvent
from tidings.topics.models import Topic
from tidings.tracking.models import Click, Link, Open, TopicDay, Unsubscribe

BOUNCES = (BounceEvent.PERMANENT, BounceEvent.TEMPORARY)


@dataclass
class LinkRow:
    url: str
    unique: int
    total: int


@dataclass
class Report:
    recipients: int
    delivered: int
    deferred: int
    failed: int
    pending: int
    cancelled: int
    bounced: int
    opens: int
    clicks: int
    engaged: int
    unsubscribes: int
    links: list[LinkRow]

    @property
    def engagement(self) -> float | None:
        """Recipients who opened or clicked, per delivered message."""
        return self.engaged / self.delivered if self.delivered else None


def deliveries_of(bulletin: Bulletin) -> QuerySet[Delivery]:
    sends = Send.objects.filter(bulletin=bulletin, kind=Send.BULLETIN, channel=Send.EMAIL).values(
        "id"
    )
    return Delivery.objects.filter(send_id__in=sends)


def report_for(bulletin: Bulletin) -> Report:
    """Return the bulletin's numbers: a fixed handful of queries whatever its size."""
    states = dict(deliveries_of(bulletin).values_list("state").annotate(n=Count("id")).order_by())
    bounced = (
        BounceEvent.objects.filter(delivery__in=deliveries_of(bulletin), kind__in=BOUNCES)
        .values("delivery_id")
        .distinct()
        .count()
    )
    opens = Open.objects.filter(bulletin=bulletin)
    clicks = Click.objects.filter(bulletin=bulletin)
    clicked_unopened = (
        clicks.exclude(delivery_id__in=opens.values("delivery_id"))
        .values("delivery_id")
        .distinct()
        .count()
    )
    open_count = opens.count()
    links = [
        LinkRow(link.url, link.unique, link.total or 0)
        for link in Link.objects.filter(bulletin=bulletin)
        .annotate(unique=Count("clicks"), total=Sum("clicks__count"))
        .order_by("position", "id")
    ]
    return Report(
        recipients=sum(states.values()),
        delivered=states.get(Delivery.SENT, 0),
        deferred=states.get(Delivery.DEFERRED, 0),
        failed=states.get(Delivery.FAILED, 0),
        pending=states.get(Delivery.QUEUED, 0) + states.get(Delivery.SENDING, 0),
        cancelled=states.get(Delivery.CANCELLED, 0),
        bounced=bounced,
        opens=open_count,
        clicks=clicks.values("delivery_id").distinct().count(),
        engaged=open_count + clicked_unopened,
        unsubscribes=Unsubscribe.objects.filter(bulletin=bulletin)
        .values("subscriber_id")
        .distinct()
        .count(),
        links=links,
    )


CSV_HEADER = ["address", "state", "sent_at", "opened_at", "clicks", "bounced"]


def _cell(value: str) -> str:
    # A spreadsheet runs a cell starting with = + - @ as a formula; addresses may start so.
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def recipient_rows(bulletin: Bulletin, batch: int = 2000) -> Iterator[list[str]]:
    """Yield one CSV row per recipient, a batch of deliveries (and their events) at a time."""
    yield CSV_HEADER
    last = 0
    deliveries = deliveries_of(bulletin).order_by("id")
    while True:
        rows = list(
            deliveries.filter(id__gt=last).values_list("id", "address", "state", "sent_at")[:batch]
        )
        if not rows:
            return
        ids = [r[0] for r in rows]
        opened = dict(
            Open.objects.filter(bulletin=bulletin, delivery_id__in=ids).values_list(
                "delivery_id", "first_at"
            )
        )
        clicked = dict(
            Click.objects.filter(bulletin=bulletin, delivery_id__in=ids)
            .values("delivery_id")
            .annotate(n=Sum("count"))
            .values_list("delivery_id", "n")
        )
        bounced = set(
            BounceEvent.objects.filter(delivery_id__in=ids, kind__in=BOUNCES).values_list(
                "delivery_id", flat=True
            )
        )
        for ident, address, state, sent_at in rows:
            opened_at = opened.get(ident)
            yield [
                _cell(address),
                state,
                sent_at.isoformat() if sent_at else "",
                opened_at.isoformat() if opened_at else "",
                str(clicked.get(ident, 0)),
                "yes" if ident in bounced else "no",
            ]
        last = ids[-1]


def subscribers_over_time(topic: Topic, days: int = 90) -> list[tuple[date, int]]:
    """Return (day, subscribers) for the last `days` days, carrying a count over missing days."""
    today = timezone.now().astimezone(topic.account.tz).date()
    start = today - timedelta(days=days - 1)
    stored = dict(
        TopicDay.objects.filter(topic=topic, day__lte=today).values_list("day", "subscribers")
    )
    before = [d for d in stored if d < start]
    current = stored[max(before)] if before else 0
    series = []
    for offset in range(days):
        day = start + timedelta(days=offset)
        current = stored.get(day, current)
        series.append((day, current))
    # Today is counted live: the day's snapshot is taken by a job that may not have run yet.
    series[-1] = (today, topic.subscriptions.count())
    return series


@dataclass
class Rates:
    """One bulletin's line in the analytics list: its delivered messages and the share of them
    opened, clicked and followed by an unsubscribe."""

    bulletin: Bulletin
    delivered: int
    opens: int
    clicks: int
    unsubscribes: int

    def rate(self, n: int) -> float | None:
        return n / self.delivered if self.delivered else None

    @property
    def open_rate(self) -> float | None:
        return self.rate(self.opens)

    @property
    def click_rate(self) -> float | None:
        return self.rate(self.clicks)

    @property
    def unsubscribe_rate(self) -> float | None:
        return self.rate(self.unsubscribes)


def rates_for(bulletins: list[Bulletin]) -> tuple[list[Rates], dict[str, float | None]]:
    """Each bulletin's rates, in four queries whatever the number, and their averages over
    the bulletins delivered to anyone (the line to compare each one with)."""
    ids = [b.pk for b in bulletins]
    delivered = dict(
        Delivery.objects.filter(
            send__bulletin__in=ids,
            send__kind=Send.BULLETIN,
            send__channel=Send.EMAIL,
            state=Delivery.SENT,
        )
        .values_list("send__bulletin")
        .annotate(n=Count("id"))
        .order_by()
    )
    opens = dict(
        Open.objects.filter(bulletin__in=ids)
        .values_list("bulletin")
        .annotate(n=Count("id"))
        .order_by()
    )
    clicks = dict(
        Click.objects.filter(bulletin__in=ids)
        .values_list("bulletin")
        .annotate(n=Count("delivery_id", distinct=True))
        .order_by()
    )
    unsubscribes = dict(
        Unsubscribe.objects.filter(bulletin__in=ids)
        .values_list("bulletin")
        .annotate(n=Count("id"))
        .order_by()
    )
    rows = [
        Rates(b, delivered.get(b.pk, 0), opens.get(b.pk, 0), clicks.get(b.pk, 0),
              unsubscribes.get(b.pk, 0))
        for b in bulletins
    ]  # fmt: skip
    sent = [r for r in rows if r.delivered]

    def mean(values: list[float | None]) -> float | None:
        found = [v for v in values if v is not None]
        return sum(found) / len(found) if found else None

    averages = {
        "open_rate": mean([r.open_rate for r in sent]),
        "click_rate": mean([r.click_rate for r in sent]),
        "unsubscribe_rate": mean([r.unsubscribe_rate for r in sent]),
    }
    return rows, averages
