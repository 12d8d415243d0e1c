"""A subscriber's own signed links: manage preferences, unsubscribe, one-click unsubscribe."""

from __future__ import annotations

from django.conf import settings
from django.shortcuts import get_object_or_404
from django.urls import reverse

from tidings.lib.tokens import sign_id, unsign_id
from tidings.subscribers.models import Subscriber

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


def subscriber_from_token(token: str) -> Subscriber:
    """Return the subscriber a link names; raise BadToken or Http404."""
    ident = unsign_id("subscriber", token, settings.UNSUBSCRIBE_LINK_MAX_AGE)
    return get_object_or_404(Subscriber.objects.select_related("account"), pk=ident)
