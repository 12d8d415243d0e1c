"""The lists' periodic jobs: digests, the moderators' daily summary, expiry of held posts."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Count
from django.utils import timezone

from tidings.lib.periodic import periodic
from tidings.lists.actions import wants_no_reply
from tidings.lists.digests import send_due_digests
from tidings.lists.models import ListMessage, MailingList
from tidings.lists.moderators import moderator_addresses, queue_url
from tidings.lists.notices import send_notice

SUMMARY_MAX_POSTS = 100


@periodic("lists.digests", every=3600)
def digests() -> int:
    return send_due_digests()


def send_summaries() -> int:
    """Send each list's moderators the posts still waiting for them; return how many lists."""
    waiting = (
        ListMessage.objects.filter(status=ListMessage.HELD)
        .values("mailing_list")
        .annotate(n=Count("id"))
        .order_by()
    )
    ids = [row["mailing_list"] for row in waiting]
    sent = 0
    for mailing_list in MailingList.objects.filter(pk__in=ids).select_related("account"):
        to = moderator_addresses(mailing_list)
        held = list(
            ListMessage.objects.filter(mailing_list=mailing_list, status=ListMessage.HELD)
            .order_by("created")
            .only("sender", "subject", "rule", "reason", "created")[:SUMMARY_MAX_POSTS]
        )
        context = {"held": held, "queue_url": queue_url(mailing_list)}
        if send_notice(mailing_list, to, "summary", context) is not None:
            sent += 1
    return sent


@periodic("lists.moderation_summary", every=86400)
def summaries() -> int:
    return send_summaries()


def expire_held(now: datetime | None = None) -> int:
    """Drop posts held past TIDINGS_LIST_HOLD_DAYS and tell their authors; return how many."""
    cutoff = (now or timezone.now()) - timedelta(days=settings.LIST_HOLD_DAYS)
    old = ListMessage.objects.filter(status=ListMessage.HELD, created__lt=cutoff)
    expired = 0
    for record in old.select_related("mailing_list", "inbound").order_by("pk")[:1000]:
        reason = f"Expired: nobody moderated it in {settings.LIST_HOLD_DAYS} days."
        # Conditional on "still held": a moderator acting now wins.
        if not ListMessage.objects.filter(pk=record.pk, status=ListMessage.HELD).update(
            status=ListMessage.EXPIRED,
            rule="expired",
            reason=f"{reason} Held by {record.rule}: {record.reason}",
        ):
            continue
        expired += 1
        if not wants_no_reply(record):
            context = {
                "subject": record.subject,
                "reason": record.reason,
                "days": settings.LIST_HOLD_DAYS,
            }
            send_notice(
                record.mailing_list, [record.sender], "expired", context, auto="auto-replied"
            )
    return expired


@periodic("lists.expire_held", every=3600)
def expiry() -> int:
    return expire_held()
