"""The mail a list sends about itself: confirmations, help, notices to authors and moderators."""

from __future__ import annotations

from email.message import EmailMessage
from email.utils import format_datetime, formataddr, make_msgid
from typing import Any

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import timezone

from tidings.delivery.actions import send_message
from tidings.delivery.models import Send
from tidings.lib.mail import POLICY
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
    msg = EmailMessage(policy=POLICY)
    msg["From"] = formataddr((mailing_list.label, mailing_list.command_address("request")))
    msg["To"] = to
    if reply_to:
        msg["Reply-To"] = reply_to
    msg["Subject"] = " ".join(subject.split())[:250]
    msg["Date"] = format_datetime(timezone.now())
    msg["Message-ID"] = make_msgid(name, domain=settings.MAIL_DOMAIN)
    msg["Auto-Submitted"] = auto
    msg["List-Id"] = f'"{mailing_list.label}" <{mailing_list.list_id}>'
    msg.set_content(text, cte="quoted-printable")
    return msg


def send_notice(
    mailing_list: MailingList, to: list[str], name: str, context: dict[str, Any], **kwargs: Any
) -> Send | None:
    """Render and queue one notice for each recipient (none: nothing is sent)."""
    if not to:
        return None
    msg = list_notice(mailing_list, ", ".join(to), name, context, **kwargs)
    return send_message(msg, to, account=mailing_list.account)
