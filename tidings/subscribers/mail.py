"""Build the subscriber notices (confirmation requests, digests) from small templates."""

from __future__ import annotations

from email.message import EmailMessage
from typing import Any

from django.template.loader import render_to_string

from tidings.accounts.brand import email_brand
from tidings.accounts.models import Account
from tidings.delivery import notices


def notice(account: Account, to: str, name: str, context: dict[str, Any]) -> EmailMessage:
    """Return the message rendered from subscribers/email/<name>_{subject,body}.{txt,html}."""
    context = {"account": account, "recipient": to, **email_brand(account), **context}
    subject = render_to_string(f"subscribers/email/{name}_subject.txt", context)
    text = render_to_string(f"subscribers/email/{name}_body.txt", context)
    html = render_to_string(f"subscribers/email/{name}_body.html", context)
    sender = (account.sender_name or account.name, account.sender_address)
    return notices.notice(sender=sender, to=to, subject=subject, text=text, html=html, kind=name)
