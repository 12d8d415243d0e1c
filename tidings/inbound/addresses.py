"""Which local address is which: lists, their bounce addresses, VERP and unsubscribe addresses."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings

from tidings.lib.mail import domain_of
from tidings.lib.tokens import short_mac
from tidings.lists.models import MailingList

LIST = "list"
LIST_BOUNCES = "list-bounces"
BOUNCE = "bounce"
UNSUBSCRIBE = "unsubscribe"


@dataclass(frozen=True)
class Destination:
    kind: str
    address: str
    mailing_list: MailingList | None = None
    ident: int | None = None


def verp_address(delivery_id: int) -> str:
    """Return the signed return path that ties a bounce to one delivery."""
    ident = str(delivery_id)
    return f"bounce+{ident}.{short_mac(BOUNCE, ident)}@{settings.MAIL_DOMAIN}"


def unsubscribe_address(subscriber_id: int) -> str:
    ident = str(subscriber_id)
    return f"unsubscribe+{ident}.{short_mac(UNSUBSCRIBE, ident)}@{settings.MAIL_DOMAIN}"


def _signed_ident(kind: str, local: str) -> int | None:
    prefix = f"{kind}+"
    if not local.startswith(prefix):
        return None
    ident, _, mac = local[len(prefix) :].partition(".")
    if not ident.isdigit() or mac != short_mac(kind, ident):
        return None
    return int(ident)


def resolve(address: str) -> Destination | None:
    """Return what a local address is, or None if nothing here answers to it."""
    local, _, domain = address.rpartition("@")
    domain = domain.lower()
    if domain == settings.LISTS_DOMAIN:
        lower = local.lower()
        if lower.endswith("-bounces"):
            name, kind = lower.removesuffix("-bounces"), LIST_BOUNCES
        else:
            name, kind = lower, LIST
        mailing_list = MailingList.objects.filter(name=name).first()
        if mailing_list is not None:
            return Destination(kind, address, mailing_list=mailing_list)
    if domain == settings.MAIL_DOMAIN:
        for kind in (BOUNCE, UNSUBSCRIBE):
            ident = _signed_ident(kind, local)
            if ident is not None:
                return Destination(kind, address, ident=ident)
    return None


def is_local_domain(address: str) -> bool:
    return domain_of(address) in (settings.MAIL_DOMAIN, settings.LISTS_DOMAIN)
