"""Small helpers for views."""

from __future__ import annotations

from django.http import HttpRequest


def client_ip(request: HttpRequest) -> str:
    """Return the client's address as the socket saw it (X-Forwarded-For is whatever the
    client wants it to be)."""
    return str(request.META.get("REMOTE_ADDR", ""))
