"""Which local address is which: each app that answers to addresses registers how it reads them.

The lists app reads the lists domain (a list, its -join, -leave, -request, -bounces and
-confirm+<code> addresses); delivery's signed return paths and subscribers' unsubscribe
addresses are on the mail domain. Apps register from their AppConfig.ready(), so this module
imports none of them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.conf import settings

from tidings.delivery.verp import BOUNCE, delivery_of
from tidings.lib.mail import domain_of


@dataclass(frozen=True)
class Destination:
    kind: str
    address: str
    # What the address names, as its app found it (a MailingList), and a signed id if any.
    target: Any = None
    ident: int | None = None


# (local part, address) -> the destination, or None when the address is not the reader's.
Reader = Callable[[str, str], Destination | None]

READERS: dict[str, list[Reader]] = {"mail": [], "lists": []}


def reads(domain: str) -> Callable[[Reader], Reader]:
    """Register a reader of local addresses on the "mail" or the "lists" domain."""

    def register(reader: Reader) -> Reader:
        if reader not in READERS[domain]:
            READERS[domain].append(reader)
        return reader

    return register


@reads("mail")
def _return_path(local: str, address: str) -> Destination | None:
    ident = delivery_of(address)
    return None if ident is None else Destination(BOUNCE, address, ident=ident)


def resolve(address: str) -> Destination | None:
    """Return what a local address is, or None if nothing here answers to it."""
    local, _, domain = address.rpartition("@")
    domain = domain.lower()
    readers = []
    if domain == settings.LISTS_DOMAIN:
        readers += READERS["lists"]
    if domain == settings.MAIL_DOMAIN:
        readers += READERS["mail"]
    for reader in readers:
        destination = reader(local, address)
        if destination is not None:
            return destination
    return None


def is_local_domain(address: str) -> bool:
    return domain_of(address) in (settings.MAIL_DOMAIN, settings.LISTS_DOMAIN)
