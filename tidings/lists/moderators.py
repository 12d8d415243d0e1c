"""Who moderates a list, and the notices they get about held posts."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import User
from django.urls import reverse

from tidings.accounts.models import Membership
from tidings.lists.models import ListMessage, MailingList
from tidings.lists.notices import send_notice

MODERATOR_ROLES = (Membership.ADMIN, Membership.TOPIC_ADMIN)


def moderator_addresses(mailing_list: MailingList) -> list[str]:
    """Return the addresses of the list's account's admins and topic admins."""
    if mailing_list.account_id is None:
        return []
    users = User.objects.filter(
        memberships__account_id=mailing_list.account_id,
        memberships__role__in=MODERATOR_ROLES,
        is_active=True,
    ).exclude(email="")
    return sorted(set(users.values_list("email", flat=True)))


def queue_url(mailing_list: MailingList) -> str:
    if mailing_list.account is None:
        return ""
    path = reverse("lists_console:queue", args=[mailing_list.account.code, mailing_list.name])
    return settings.BASE_URL + path


def notify_moderators(record: ListMessage) -> None:
    """Tell the list's moderators a post is held, with the rule, the reason and the queue link."""
    mailing_list = record.mailing_list
    send_notice(
        mailing_list,
        moderator_addresses(mailing_list),
        "held",
        {"record": record, "queue_url": queue_url(mailing_list), "days": settings.LIST_HOLD_DAYS},
    )
