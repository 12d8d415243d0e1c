"""Every write of the feeds app: watches, their drafts, and the notice to reviewers."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse

from tidings.accounts.models import Account, Membership
from tidings.bulletins.models import Bulletin
from tidings.delivery.actions import send_message
from tidings.delivery.models import Send
from tidings.delivery.notices import notice
from tidings.feeds.fetch import FetchError, Refused, vet
from tidings.feeds.models import Watch
from tidings.topics.models import Topic

FIELDS = ["topic", "kind", "url", "mode", "enabled"]


def check_url(url: str) -> None:
    """Refuse a URL whose scheme or address the poller would refuse anyway."""
    try:
        vet(url)
    except Refused as exc:
        raise ValidationError({"url": str(exc)}) from None
    except FetchError:
        pass  # a name that does not resolve today may tomorrow; the watch's page will tell


def save_watch(watch: Watch, account: Account) -> Watch:
    """Create or change a watch of one of the account's topics."""
    if watch.topic.account_id != account.pk:
        raise ValidationError({"topic": "The topic must belong to this account."})
    check_url(watch.url)
    watch.full_clean()
    if watch.pk:
        old = Watch.objects.get(pk=watch.pk)
        if old.url != watch.url or old.kind != watch.kind:
            # Another source: start over, recording what is there without sending it.
            watch.items.all().delete()
            watch.primed, watch.etag, watch.last_modified, watch.content_hash = False, "", "", ""
            watch.last_error = ""
    watch.save()
    return watch


def delete_watch(watch: Watch) -> None:
    """Delete a watch and its seen items; the bulletins it produced stay."""
    watch.delete()


def reviewers(account: Account) -> list[str]:
    """Return the addresses of the account's topic admins and admins."""
    emails = (
        Membership.objects.filter(
            account=account, role__in=[Membership.TOPIC_ADMIN, Membership.ADMIN]
        )
        .exclude(user__email="")
        .order_by("user__email")
        .values_list("user__email", flat=True)
    )
    return list(dict.fromkeys(e.lower() for e in emails))


def notify_reviewers(watch: Watch, bulletin: Bulletin) -> Send | None:
    """Tell the topic admins and admins that a draft from a watch waits for review."""
    account = watch.topic.account
    to = reviewers(account)
    if not to:
        return None
    context = {
        "watch": watch,
        "topic": watch.topic,
        "bulletin": bulletin,
        "review_url": settings.BASE_URL + reverse("feeds:draft", args=[account.code, bulletin.pk]),
    }
    msg = notice(
        sender=(account.sender_name or account.name, account.sender_address),
        to=", ".join(to),
        subject=render_to_string("feeds/email/draft_subject.txt", context),
        text=render_to_string("feeds/email/draft_body.txt", context),
        kind="feed-draft",
    )
    return send_message(msg, to, account=account)


def watch_drafts(account: Account):  # type: ignore[no-untyped-def]
    """Return the account's draft bulletins produced by watches, newest first."""
    return (
        Bulletin.objects.filter(account=account, status=Bulletin.DRAFT, feed_items__isnull=False)
        .distinct()
        .order_by("-created", "-pk")
    )


def publish_draft(account: Account, bulletin: Bulletin) -> Send:
    """Publish a draft a watch produced, after review (admins get their courtesy copy)."""
    from tidings.bulletins.actions import send_bulletin

    if bulletin.account_id != account.pk or not bulletin.feed_items.exists():
        raise ValidationError("This is not a draft from one of the account's watches.")
    with transaction.atomic():
        return send_bulletin(bulletin)


def topics_of(account: Account) -> list[Topic]:
    return list(Topic.objects.filter(account=account).order_by("name"))
