"""What a poster is told about a held post: why, in plain words, and again when a moderator
approves it (a rejection says why too: lists.actions.reject_post).

Like Mailman, never to a null sender or a robot, at most POSTER_NOTICES_PER_DAY per address and
list, and not for posts that look forged or like spam (nobody asked for that mail)."""

from __future__ import annotations

from django.conf import settings
from django.template.loader import render_to_string
from django.utils.translation import gettext as _

from tidings.delivery.actions import send_message
from tidings.delivery.notices import notice
from tidings.inbound.router import parse
from tidings.lists.authenticity import Authentication
from tidings.lists.models import ListMessage, MailingList
from tidings.lists.notices import speaking_to
from tidings.subscribers.actions import allow

POSTER_NOTICES_PER_DAY = 10
# Held for these, the poster is not told: spam, forgeries, mail that could not be read.
SILENT = {"suspicious-header", "sender-not-authenticated", "malformed", "expired"}


def plain_reason(record: ListMessage) -> str:
    """Why a post waits, in words for the person who sent it."""
    mailing_list = record.mailing_list
    size = mailing_list.max_message_size
    words = {
        "moderated": _("Every post to this list is read by a moderator before it goes out."),
        "non-member": _(
            "Only members post to this list directly; your address is not a member, "
            "so a moderator reads your post first."
        ),
        "not-on-accept-list": _(
            "This is an announcement list: only its publishers post. A "
            "moderator will look at your message."
        ),
        "size": _("Your message is larger than this list takes (%(size)s KB).")
        % {"size": size // 1024},
        "implicit-destination": _(
            # Translators: "To or Cc" are the names of the mail headers that list the recipients.
            "The list's address was not in To or Cc (it may have come as a "
            "blind copy), so a moderator checks it."
        ),
        "administrivia": _(
            "Your message looks like a request to join, leave or get help, which "
            "goes to %(address)s rather than to every member."
        )
        % {"address": mailing_list.command_address("request")},
        "attachment-type": _(
            "Your message carries an attachment of a kind this list holds for review."
        ),
    }
    return words.get(record.rule, record.reason)


def wants_no_reply(record: ListMessage) -> bool:
    """Whether the post came from a null sender or a robot, which must never get a notice."""
    if not record.inbound.mail_from or not record.sender:
        return True
    msg, _problem = parse(bytes(record.inbound.raw))
    auto = str(msg.get("Auto-Submitted", "no")).strip().lower() if msg is not None else "no"
    return auto != "no"


def _send(mailing_list: MailingList, to: str, subject: str, template: str, context: dict) -> None:  # type: ignore[type-arg]
    message = notice(
        sender=(mailing_list.display_name or mailing_list.name, mailing_list.bounces_address),
        to=to,
        subject=subject,
        text=render_to_string(template, {"mailing_list": mailing_list, **context}),
        kind=template.rsplit("/", 1)[-1].removesuffix("_body.txt"),
        auto="auto-replied",
    )
    send_message(message, [to], account=mailing_list.account)


def tell_held(record: ListMessage, authentication: Authentication | None) -> bool:
    """Tell the poster their post waits for a moderator, and why; return whether told."""
    if record.rule in SILENT or wants_no_reply(record):
        return False
    if authentication is not None and not authentication.vouches_for(record.sender):
        return False  # the From may be forged: no mail to whoever it names
    key = f"list-poster:{record.mailing_list_id}:{record.sender.lower()}"
    if not allow(key, POSTER_NOTICES_PER_DAY, 86400):
        return False
    mailing_list = record.mailing_list
    with speaking_to(mailing_list, record.sender):
        _send(
            mailing_list,
            record.sender,
            _("Your post to %(address)s is waiting for a moderator: %(subject)s")
            % {"address": mailing_list.address, "subject": record.subject},
            "lists/email/poster_held_body.txt",
            {
                "subject": record.subject,
                "why": plain_reason(record),
                "days": settings.LIST_HOLD_DAYS,
            },
        )
    return True


def tell_approved(record: ListMessage) -> None:
    """Tell the poster a moderator let their post through."""
    if wants_no_reply(record):
        return
    mailing_list = record.mailing_list
    with speaking_to(mailing_list, record.sender):
        _send(
            mailing_list,
            record.sender,
            _("Your post to %(address)s was approved: %(subject)s")
            % {"address": mailing_list.address, "subject": record.subject},
            "lists/email/poster_approved_body.txt",
            {"subject": record.subject},
        )
