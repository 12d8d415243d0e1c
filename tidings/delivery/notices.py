"""The one way to write mail Tidings sends about something (a notice, a confirmation request,
a digest): From, To, Subject, Date, Message-ID and Auto-Submitted, with Tidings' mail policy.

    msg = notice(sender=("Wanabidii", "wanabidii-request@lists…"), to="carol@example.net",
                 subject="Please confirm", text=body, kind="confirm")
    send_message(msg, ["carol@example.net"], account=account)
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, formataddr, make_msgid

from django.conf import settings
from django.utils import timezone

from tidings.lib.mail import POLICY


def stamped(
    msg: EmailMessage,
    *,
    sender: tuple[str, str],
    to: str,
    subject: str,
    kind: str,
    auto: str = "auto-generated",
    date: datetime | None = None,
    headers: Mapping[str, str] | None = None,
) -> EmailMessage:
    """Give a message the headers every notice has (and any others, in order); return it."""
    msg["From"] = formataddr(sender)
    msg["To"] = to
    for name, value in (headers or {}).items():
        msg[name] = value
    msg["Subject"] = " ".join(subject.split())[:250]
    msg["Date"] = format_datetime(date or timezone.now())
    msg["Message-ID"] = make_msgid(kind, domain=settings.MAIL_DOMAIN)
    if auto:
        msg["Auto-Submitted"] = auto
    return msg


def notice(
    *,
    sender: tuple[str, str],
    to: str,
    subject: str,
    text: str,
    html: str = "",
    kind: str = "notice",
    auto: str = "auto-generated",
    headers: Mapping[str, str] | None = None,
) -> EmailMessage:
    """Return a notice: a text part (and an HTML alternative), both quoted-printable."""
    msg = EmailMessage(policy=POLICY)
    stamped(msg, sender=sender, to=to, subject=subject, kind=kind, auto=auto, headers=headers)
    msg.set_content(text, cte="quoted-printable")
    if html:
        msg.add_alternative(html, subtype="html", cte="quoted-printable")
    return msg
