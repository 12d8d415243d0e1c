"""Address helpers shared by the SMTP server, the router and the delivery worker."""

from __future__ import annotations

from email.utils import getaddresses, parseaddr

import idna
from django.conf import settings


def normalize(address: str) -> str:
    """Return an address with its domain lowercased (local parts are case-sensitive in theory)."""
    local, _, domain = address.strip().rpartition("@")
    if not local:
        return address.strip()
    return f"{local}@{domain.lower()}"


def domain_of(address: str) -> str:
    return address.rpartition("@")[2].lower()


def local_domains() -> set[str]:
    return {settings.MAIL_DOMAIN, settings.LISTS_DOMAIN}


def is_local(address: str) -> bool:
    return domain_of(address) in local_domains()


def header_addresses(values: list[str]) -> list[str]:
    """Return the bare addresses in header values like From, Sender, To."""
    return [normalize(a).lower() for _, a in getaddresses(values) if "@" in a]


def sender_name(value: str) -> str:
    name, address = parseaddr(value)
    return name or address


def wire_address(address: str) -> tuple[str, bool]:
    """Return an address as it goes into an SMTP envelope, and whether it needs SMTPUTF8.

    An internationalized domain is written as its punycode (IDNA 2008, UTS 46 mapping), which
    every relay takes; a non-ASCII local part has no ASCII form and needs a relay that offers
    SMTPUTF8 (RFC 6531). Raises ValueError for a domain that IDNA refuses.
    """
    local, at, domain = address.rpartition("@")
    if not at:
        return address, not address.isascii()
    if not domain.isascii():
        try:
            domain = idna.encode(domain, uts46=True).decode("ascii")
        except idna.IDNAError as error:
            raise ValueError(f"the domain of {address!r} is not a valid IDN: {error}") from None
    return f"{local}@{domain}", not local.isascii()
