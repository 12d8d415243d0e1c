"""Build the subscriber notices (confirmation requests, digests) from small templates."""

from __future__ import annotations

from email.message import EmailMessage
from typing import Any

from django.template.loader import render_to_string
from django.utils import translation

from tidings.accounts.brand import email_brand
from tidings.accounts.models import Account
from tidings.delivery import notices
from tidings.lib.languages import for_mail


def notice(
    account: Account, to: str, name: str, context: dict[str, Any], *, language: str = ""
) -> EmailMessage:
    """Return the message rendered from subscribers/email/<name>_{subject,body}.{txt,html}, in
    the language given (the subscriber's), else the account's."""
    language = for_mail(language, account.language)
    context = {"account": account, "recipient": to, "language": language, **context}
    with translation.override(language):
        context |= email_brand(account)
        subject = render_to_string(f"subscribers/email/{name}_subject.txt", context)
        text = render_to_string(f"subscribers/email/{name}_body.txt", context)
        html = render_to_string(f"subscribers/email/{name}_body.html", context)
    sender = (account.sender_name or account.name, account.sender_address)
    return notices.notice(sender=sender, to=to, subject=subject, text=text, html=html, kind=name)
