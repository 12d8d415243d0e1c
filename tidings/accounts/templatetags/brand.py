"""The agency's look on public pages: `{% brand_header %}` in base.html finds the account a page
is about (account, subscriber, bulletin, mailing_list or topic in its context) and shows its
logo, name and colour; Tidings itself is then only the footer's credit."""

from __future__ import annotations

from typing import Any

from django import template
from django.urls import reverse
from django.utils.html import format_html

from tidings.accounts.models import Account

register = template.Library()


def page_account(context: template.Context) -> Account | None:
    request = context.get("request")
    if request is not None and request.path.startswith(("/console/", "/admin/")):
        return None  # staff pages are Tidings'
    found = context.get("account")
    if isinstance(found, Account):
        return found
    for key in ("subscriber", "bulletin", "mailing_list", "topic"):
        owner = getattr(context.get(key), "account", None)
        if isinstance(owner, Account):
            return owner
    return None


@register.inclusion_tag("accounts/brand_header.html", takes_context=True)
def brand_header(context: template.Context) -> dict[str, Any]:
    account = page_account(context)
    logo = ""
    if account is not None and account.logo is not None:
        logo = reverse("media", args=[account.logo.filename])  # same origin: the CSP allows it
    return {"brand": account, "logo": logo, "request": context.get("request")}


@register.simple_tag(takes_context=True)
def brand_stylesheet(context: template.Context) -> str:
    """A link to the account's colours (a stylesheet: the pages' CSP allows no inline style);
    its address changes with the colour, so it may be cached for long."""
    account = page_account(context)
    if account is None:
        return ""
    url = reverse("brand_css", args=[account.code]) + "?c=" + account.brand_color.lstrip("#")
    return format_html('<link rel="stylesheet" href="{}">', url)
