"""The signed return path (VERP) of each delivery: a bounce names the delivery it is about."""

from __future__ import annotations

from django.conf import settings

from tidings.lib.tokens import read_signed_local, signed_local

BOUNCE = "bounce"


def verp_address(delivery_id: int) -> str:
    """Return the signed return path that ties a bounce to one delivery."""
    return f"{signed_local(BOUNCE, delivery_id)}@{settings.MAIL_DOMAIN}"


def delivery_of(address: str) -> int | None:
    """Return the delivery id a return path of ours names, or None (not ours, or forged)."""
    local, _, domain = address.rpartition("@")
    if domain.lower() != settings.MAIL_DOMAIN:
        return None
    return read_signed_local(BOUNCE, local)
