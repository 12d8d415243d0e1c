"""Daily and weekly digests: one message per subscriber listing the period's bulletins."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.text import Truncator

from tidings.accounts.models import Account
from tidings.bulletins.email import format_published
from tidings.bulletins.models import Bulletin
from tidings.delivery.actions import send_message
from tidings.lib.html import html_to_text, markdown_to_html
from tidings.lib.languages import for_mail
from tidings.subscribers.actions import is_suppressed, settings_for
from tidings.subscribers.addresses import unsubscribe_address
from tidings.subscribers.links import subscriber_links
from tidings.subscribers.mail import notice
from tidings.subscribers.models import Subscriber

PERIODS = {Subscriber.DAILY: timedelta(days=1), Subscriber.WEEKLY: timedelta(days=7)}


def last_digest_times(account: Account, now: datetime) -> dict[str, datetime]:
    """Return, per digest mode, the latest scheduled digest moment at or before now."""
    choice = settings_for(account)
    local = now.astimezone(account.tz)
    daily = local.replace(hour=choice.digest_hour, minute=0, second=0, microsecond=0)
    if daily > local:
        daily -= timedelta(days=1)
    weekly = daily - timedelta(days=(daily.weekday() - choice.weekly_digest_day) % 7)
    return {Subscriber.DAILY: daily, Subscriber.WEEKLY: weekly}


def web_copy_url(bulletin: Bulletin) -> str:
    """Return the absolute address of the bulletin's public web copy."""
    return settings.BASE_URL + reverse("bulletins:web_copy", args=[bulletin.pk])


def snippet(bulletin: Bulletin) -> str:
    html = (
        bulletin.body if bulletin.body_format == Bulletin.HTML else markdown_to_html(bulletin.body)
    )
    return Truncator(" ".join(html_to_text(html).split())).chars(200)


def send_due_digests(now: datetime | None = None) -> int:
    """Send every digest whose time has come; return how many messages were queued."""
    now = now or timezone.now()
    sent = 0
    for account in Account.objects.all():
        for mode, until in last_digest_times(account, now).items():
            sent += send_digests(account, mode, until)
    return sent


def send_digests(account: Account, mode: str, until: datetime) -> int:
    """Send each subscriber in a mode the bulletins published since their last digest."""
    due = Subscriber.objects.filter(
        Q(digest_sent_until__isnull=True) | Q(digest_sent_until__lt=until),
        account=account,
        delivery_mode=mode,
        status=Subscriber.CONFIRMED,
    ).order_by("id")
    sent = 0
    for subscriber in due.iterator(chunk_size=500):
        since = subscriber.digest_sent_until or until - PERIODS[mode]
        with transaction.atomic():
            # Claim this period for this subscriber: a second worker finds nothing to claim.
            claimed = Subscriber.objects.filter(
                pk=subscriber.pk, digest_sent_until=subscriber.digest_sent_until
            ).update(digest_sent_until=until)
            if not claimed:
                continue
            bulletins = list(
                Bulletin.objects.filter(
                    account=account,
                    status__in=[Bulletin.SENDING, Bulletin.SENT],
                    published_at__gt=since,
                    published_at__lte=until,
                    topics__subscriptions__subscriber=subscriber,
                )
                .distinct()
                .order_by("published_at", "pk")
            )
            if not bulletins or is_suppressed(account, subscriber.email):
                continue  # nothing is sent for an empty period
            send_message(
                digest_message(subscriber, mode, bulletins),
                [subscriber.email],
                account=subscriber.account,
            )
            sent += 1
    return sent


def digest_message(subscriber: Subscriber, mode: str, bulletins: list[Bulletin]):  # type: ignore[no-untyped-def]
    """Return the digest for one subscriber, with their own manage and unsubscribe links."""
    links = subscriber_links(subscriber.pk)
    language = for_mail(subscriber.language, subscriber.account.language)
    items = [
        {
            "bulletin": b,
            "snippet": snippet(b),
            "url": web_copy_url(b),
            "published": format_published(b, language),
        }
        for b in bulletins
    ]
    context = {"items": items, "daily": mode == Subscriber.DAILY, **links}
    msg = notice(
        subscriber.account, subscriber.email, "digest", context, language=subscriber.language
    )
    msg["List-Unsubscribe"] = (
        f"<{links['one_click_url']}>, <mailto:{unsubscribe_address(subscriber.pk)}>"
    )
    msg["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    return msg
