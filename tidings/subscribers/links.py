"""A subscriber's own signed links: manage preferences, unsubscribe, one-click unsubscribe."""

from __future__ import annotations

from django.conf import settings
from django.urls import reverse

from tidings.lib.tokens import sign_id

TOKEN = "TIDINGSTOKEN"  # noqa: S105 - a placeholder in URLs, not a secret


def links_for_token(token: str) -> dict[str, str]:
    """Return the links for a signed subscriber token (or a template's hole for one)."""
    base = settings.BASE_URL
    return {
        "manage_url": base + reverse("subscribers:manage", args=[TOKEN]).replace(TOKEN, token),
        "unsubscribe_url": base
        + reverse("subscribers:unsubscribe", args=[TOKEN]).replace(TOKEN, token),
        "one_click_url": base
        + reverse("subscribers:one_click", args=[TOKEN]).replace(TOKEN, token),
    }


def subscriber_links(subscriber_id: int) -> dict[str, str]:
    """Return the signed manage, unsubscribe and one-click URLs of one subscriber."""
    return links_for_token(sign_id("subscriber", subscriber_id))
