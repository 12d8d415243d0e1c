"""Build the subscriber notices (confirmation requests, digests) from small templates."""

from __future__ import annotations

from email.message import EmailMessage
from email.utils import format_datetime, formataddr, make_msgid
from typing import Any

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import timezone

from tidings.accounts.models import Account
from tidings.lib.mail import POLICY


def notice(account: Account, to: str, name: str, context: dict[str, Any]) -> EmailMessage:
    """Return the message rendered from subscribers/email/<name>_{subject,body}.{txt,html}."""
    context = {"account": account, "recipient": to, **context}
    subject = render_to_string(f"subscribers/email/{name}_subject.txt", context)
    text = render_to_string(f"subscribers/email/{name}_body.txt", context)
    html = render_to_string(f"subscribers/email/{name}_body.html", context)
    msg = EmailMessage(policy=POLICY)
    msg["From"] = formataddr((account.sender_name or account.name, account.sender_address))
    msg["To"] = to
    msg["Subject"] = " ".join(subject.split())
    msg["Date"] = format_datetime(timezone.now())
    msg["Message-ID"] = make_msgid(name, domain=settings.MAIL_DOMAIN)
    msg["Auto-Submitted"] = "auto-generated"
    msg.set_content(text, cte="quoted-printable")
    msg.add_alternative(html, subtype="html", cte="quoted-printable")
    return msg
