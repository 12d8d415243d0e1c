from __future__ import annotations

from email.message import EmailMessage

from django.conf import settings
from django.core.validators import validate_email
from django.db import transaction
from django.template.loader import render_to_string
from django.utils.translation import gettext as _

from tidings.accounts.models import Account
from tidings.delivery.actions import send_message
from tidings.delivery.notices import notice
from tidings.inbound.router import parse
from tidings.lib.mail import normalize
from tidings.lists import dmarc
from tidings.lists.membership import add_member
from tidings.lists.models import ListMessage, ListSender, MailingList
from tidings.lists.notices import speaking_to
from tidings.lists.poster import tell_approved, wants_no_reply
from tidings.lists.relay import relay

__all__ = ["add_member", "allow_sender", "create_list"]


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
    posting_policy: str = MailingList.ANNOUNCE,
    require_sender_authentication: bool | None = None,
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
        posting_policy=posting_policy,
        # Senders must be authenticated on announce-only lists unless told otherwise.
        require_sender_authentication=(
            posting_policy == MailingList.ANNOUNCE
            if require_sender_authentication is None
            else require_sender_authentication
        ),
    )
    mailing_list.full_clean()
    mailing_list.save()
    return mailing_list


def allow_sender(mailing_list: MailingList, address: str) -> ListSender:
    """Put an address on the list's accept-list: its posts are relayed without moderation."""
    return set_sender_action(mailing_list, address, ListSender.ACCEPT)


def set_sender_action(mailing_list: MailingList, address: str, action: str) -> ListSender:
    """Set how the list treats an address's posts: accept, hold, reject, discard or ban."""
    if action not in dict(ListSender.ACTIONS):
        raise ValueError(f"unknown sender action {action!r}")
    address = normalize(address)
    validate_email(address)
    sender, _created = ListSender.objects.update_or_create(
        mailing_list=mailing_list, address=address.lower(), defaults={"action": action}
    )
    return sender


class ModerationError(Exception):
    """The post can't be moderated: it is no longer held, or it can't be relayed."""


def remove_sender_action(mailing_list: MailingList, sender_id: int) -> bool:
    """Drop one of the list's per-sender rules; return whether there was such a rule."""
    deleted, _counts = ListSender.objects.filter(pk=sender_id, mailing_list=mailing_list).delete()
    return deleted > 0


def _decide_held(record: ListMessage, status: str, rule: str, reason: str) -> None:
    # Conditional on "still held": of two moderators acting at once, exactly one wins.
    updated = ListMessage.objects.filter(pk=record.pk, status=ListMessage.HELD).update(
        status=status, rule=rule, reason=reason
    )
    if updated != 1:
        raise ModerationError(f"The post #{record.pk} is no longer held.")
    record.status, record.rule, record.reason = status, rule, reason


def approve_post(
    record: ListMessage, *, moderator: str = "a moderator", accept_sender: bool = False
) -> ListMessage:
    """Relay a held post as if the rules had accepted it; optionally always accept its sender."""
    msg, problem = parse(bytes(record.inbound.raw))
    if msg is None:
        raise ModerationError(f"The post #{record.pk} can't be relayed: {problem}")
    mitigate = dmarc.needs_mitigation(msg)  # DNS outside the transaction, as in receive_post
    reason = f"Approved by {moderator}; held by {record.rule}: {record.reason}"
    with transaction.atomic():
        _decide_held(record, ListMessage.ACCEPTED, "approved", reason)
        relay(record.mailing_list, record.inbound, msg, mitigate_dmarc=mitigate)
        if accept_sender and record.sender:
            allow_sender(record.mailing_list, record.sender)
        tell_approved(record)
    return record


def rejection_notice(record: ListMessage, reason: str) -> EmailMessage:
    mailing_list = record.mailing_list
    with speaking_to(mailing_list, record.sender):
        return _rejection_notice(record, reason)


def _rejection_notice(record: ListMessage, reason: str) -> EmailMessage:
    mailing_list = record.mailing_list
    context = {"mailing_list": mailing_list, "subject": record.subject, "reason": reason}
    return notice(
        sender=(mailing_list.display_name or mailing_list.name, mailing_list.bounces_address),
        to=record.sender,
        subject=_("Your post to %(address)s was rejected: %(subject)s")
        % {"address": mailing_list.address, "subject": record.subject},
        text=render_to_string("lists/email/rejected_body.txt", context),
        kind="rejected",
        auto="auto-replied",
    )


def reject_post(record: ListMessage, reason: str, *, moderator: str = "a moderator") -> ListMessage:
    """Refuse a held post and tell its author why (never a null sender or a robot)."""
    with transaction.atomic():
        _decide_held(record, ListMessage.REJECTED, "rejected", f"Rejected by {moderator}: {reason}")
        if not wants_no_reply(record):
            send_message(
                rejection_notice(record, reason),
                [record.sender],
                account=record.mailing_list.account,
            )
    return record


def discard_post(record: ListMessage, *, moderator: str = "a moderator") -> ListMessage:
    """Drop a held post without a word to its author (spam)."""
    _decide_held(record, ListMessage.DISCARDED, "discarded", f"Discarded by {moderator}.")
    return record
