"""Address helpers shared by the SMTP server, the router and the delivery worker."""

from __future__ import annotations

from email.utils import getaddresses, parseaddr

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
