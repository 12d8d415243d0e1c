"""Small helpers for views."""

from __future__ import annotations

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
