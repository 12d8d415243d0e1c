"""Which local address is which: lists, their bounce addresses, VERP and unsubscribe addresses."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

from django.conf import settings

from tidings.lib.mail import domain_of
from tidings.lib.tokens import BadToken, short_mac
from tidings.lists.models import MailingList
from tidings.lists.tokens import read_confirm_token

LIST = "list"
LIST_BOUNCES = "list-bounces"
# Membership commands: {list}-join@, {list}-leave@, {list}-request@ and the confirmation
# replies {list}-confirm+{code}@.
LIST_JOIN = "list-join"
LIST_LEAVE = "list-leave"
LIST_REQUEST = "list-request"
LIST_CONFIRM = "list-confirm"
LIST_SUFFIXES = {
    "-bounces": LIST_BOUNCES,
    "-join": LIST_JOIN,
    "-leave": LIST_LEAVE,
    "-request": LIST_REQUEST,
}
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


def _list_candidates(local: str) -> list[tuple[str, str, int | None]]:
    """Return the (list name, kind, request id) a list-domain local part could mean, best first."""
    lower = local.lower()
    candidates: list[tuple[str, str, int | None]] = [(lower, LIST, None)]
    for suffix, kind in LIST_SUFFIXES.items():
        if lower.endswith(suffix):
            candidates.append((lower.removesuffix(suffix), kind, None))
    name, plus, code = lower.partition("-confirm+")
    if plus:
        # A forged or damaged code: nothing answers, so RCPT refuses it.
        with contextlib.suppress(BadToken):
            candidates.append((name, LIST_CONFIRM, read_confirm_token(code)))
    return candidates


def _resolve_list(address: str, local: str) -> Destination | None:
    candidates = _list_candidates(local)
    names = {name for name, _, _ in candidates}
    # One query for every reading; a list literally named "x-join" wins over x's join address.
    found = {m.name: m for m in MailingList.objects.filter(name__in=names)}
    for name, kind, ident in candidates:
        if name in found:
            return Destination(kind, address, mailing_list=found[name], ident=ident)
    return None


def resolve(address: str) -> Destination | None:
    """Return what a local address is, or None if nothing here answers to it."""
    local, _, domain = address.rpartition("@")
    domain = domain.lower()
    if domain == settings.LISTS_DOMAIN:
        destination = _resolve_list(address, local)
        if destination is not None:
            return destination
    if domain == settings.MAIL_DOMAIN:
        for kind in (BOUNCE, UNSUBSCRIBE):
            ident = _signed_ident(kind, local)
            if ident is not None:
                return Destination(kind, address, ident=ident)
    return None


def is_local_domain(address: str) -> bool:
    return domain_of(address) in (settings.MAIL_DOMAIN, settings.LISTS_DOMAIN)
