from __future__ import annotations

from django.conf import settings
from django.core.validators import validate_email

from tidings.accounts.models import Account
from tidings.lib.mail import normalize
from tidings.lists.models import ListSender, MailingList, Member


def create_list(
    name: str,
    *,
    account: Account | None = None,
    display_name: str = "",
    description: str = "",
    subject_tag: str | None = None,
    footer: str = "",
    comment_moderation: str = MailingList.OPEN,
    time_zone: str = "UTC",
) -> MailingList:
    """Create a list at {name}@{lists domain}; its subject tag defaults to [name]."""
    mailing_list = MailingList(
        account=account,
        name=name,
        address=f"{name}@{settings.LISTS_DOMAIN}",
        display_name=display_name or name,
        description=description,
        subject_tag=f"[{name}]" if subject_tag is None else subject_tag,
        footer=footer,
        comment_moderation=comment_moderation,
        time_zone=time_zone,
    )
    mailing_list.full_clean()
    mailing_list.save()
    return mailing_list


def add_member(mailing_list: MailingList, address: str, name: str = "") -> Member:
    address = normalize(address)
    validate_email(address)
    member, _ = Member.objects.get_or_create(
        mailing_list=mailing_list, address=address, defaults={"name": name}
    )
    return member


def allow_sender(mailing_list: MailingList, address: str) -> ListSender:
    """Put an address on the list's accept-list: its posts are relayed without moderation."""
    address = normalize(address)
    validate_email(address)
    sender, _ = ListSender.objects.update_or_create(
        mailing_list=mailing_list, address=address.lower(), defaults={"action": ListSender.ACCEPT}
    )
    return sender
