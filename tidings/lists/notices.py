"""The mail a list sends about itself: confirmations, help, notices to authors and moderators."""

from __future__ import annotations

from email.message import EmailMessage
from typing import Any

from django.template.loader import render_to_string
from django.utils import translation

from tidings.delivery.actions import send_message
from tidings.delivery.models import Send
from tidings.delivery.notices import notice
from tidings.lib.languages import for_mail
from tidings.lib.mail import list_id_header
from tidings.lists.members import find_member
from tidings.lists.models import MailingList


def language_of(mailing_list: MailingList, address: str) -> str:
    """The language a member of the list chose ("" for none, or not a member)."""
    member = find_member(mailing_list, address)
    return member.language if member is not None else ""


def speaking_to(mailing_list: MailingList, address: str) -> translation.override:
    """Write what follows in the language of this address on the list (a member's own, else
    the list's account's)."""
    return translation.override(for_mail(language_of(mailing_list, address), mailing_list.language))


def list_notice(
    mailing_list: MailingList,
    to: str,
    name: str,
    context: dict[str, Any],
    *,
    reply_to: str = "",
    auto: str = "auto-generated",
    language: str = "",
) -> EmailMessage:
    """Return the message rendered from lists/email/<name>_{subject,body}.txt, in the language
    given (a member's or a request's), else the list's account's."""
    context = {"mailing_list": mailing_list, "recipient": to, **context}
    with translation.override(for_mail(language, mailing_list.language)):
        subject = render_to_string(f"lists/email/{name}_subject.txt", context)
        text = render_to_string(f"lists/email/{name}_body.txt", context)
    headers = {"Reply-To": reply_to} if reply_to else {}
    headers["List-Id"] = list_id_header(mailing_list.label, mailing_list.list_id)
    return notice(
        sender=(mailing_list.label, mailing_list.command_address("request")),
        to=to,
        subject=subject,
        text=text,
        kind=name,
        auto=auto,
        headers=headers,
    )


def send_notice(
    mailing_list: MailingList, to: list[str], name: str, context: dict[str, Any], **kwargs: Any
) -> Send | None:
    """Render and queue one notice for each recipient (none: nothing is sent). One recipient
    who is a member and chose a language gets it in that language."""
    if not to:
        return None
    if len(to) == 1 and not kwargs.get("language"):
        kwargs["language"] = language_of(mailing_list, to[0])
    msg = list_notice(mailing_list, ", ".join(to), name, context, **kwargs)
    return send_message(msg, to, account=mailing_list.account)
