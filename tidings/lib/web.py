"""Small helpers for views."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from tidings.lib.network import network_of


def client_ip(request: HttpRequest) -> str:
    """Return the client's address as the socket saw it (X-Forwarded-For is whatever the
    client wants it to be)."""
    return str(request.META.get("REMOTE_ADDR", ""))


def client_network(request: HttpRequest) -> str:
    """Return what per-client limits count: the IPv4 address, or the IPv6 /64 (one host can
    hold a whole /64 and pick a new address for every request)."""
    return network_of(client_ip(request))


# The largest id a 64-bit column holds: a posted number past it is no row's id.
MAX_ID = 2**63 - 1


def posted_id(value: str | None) -> int:
    """Return the row id a posted field names, or 0 (no row's id) for anything else: a view
    looking it up answers 404, not a 500 for "abc" or a number past any column."""
    value = (value or "").strip()
    if not value.isascii() or not value.isdigit() or len(value) > 19 or int(value) > MAX_ID:
        return 0
    return int(value)


def posted_ids(values: list[str]) -> list[int]:
    """Return the row ids among posted values (a multiple choice), leaving out all else."""
    return [n for n in (posted_id(v) for v in values) if n]


def login_username(request: HttpRequest, credentials: dict[str, Any] | None = None) -> str:
    """Return the username a login attempt is recorded under (django-axes): as typed, without
    NUL, cut to the 255 characters its column holds (Django's login form checks no length)."""
    value = (credentials or {}).get("username") or request.POST.get("username", "")
    return str(value or "").replace("\x00", "")[:255]
