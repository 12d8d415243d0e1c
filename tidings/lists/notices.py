"""The mail a list sends about itself: confirmations, help, notices to authors and moderators."""

from __future__ import annotations

from email.message import EmailMessage
from typing import Any

from django.template.loader import render_to_string

from tidings.delivery.actions import send_message
from tidings.delivery.models import Send
from tidings.delivery.notices import notice
from tidings.lists.models import MailingList


def list_notice(
    mailing_list: MailingList,
    to: str,
    name: str,
    context: dict[str, Any],
    *,
    reply_to: str = "",
    auto: str = "auto-generated",
) -> EmailMessage:
    """Return the message rendered from lists/email/<name>_{subject,body}.txt."""
    context = {"mailing_list": mailing_list, "recipient": to, **context}
    subject = render_to_string(f"lists/email/{name}_subject.txt", context)
    text = render_to_string(f"lists/email/{name}_body.txt", context)
    headers = {"Reply-To": reply_to} if reply_to else {}
    headers["List-Id"] = f'"{mailing_list.label}" <{mailing_list.list_id}>'
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
    """Render and queue one notice for each recipient (none: nothing is sent)."""
    if not to:
        return None
    msg = list_notice(mailing_list, ", ".join(to), name, context, **kwargs)
    return send_message(msg, to, account=mailing_list.account)
