"""Times on staff pages: the account's zone, named, one format (lib.when)."""

from __future__ import annotations

from datetime import UTC, datetime

from django.template import Context, Template
from django.urls import reverse
from django.utils import timezone

from tidings.delivery.models import Send


def test_the_filter_shows_the_active_zone_by_name() -> None:
    moment = datetime(2026, 1, 15, 17, 30, tzinfo=UTC)
    page = Template("{{ moment|when }}")
    assert page.render(Context({"moment": moment})) == "Jan 15, 2026, 5:30 PM UTC"
    with timezone.override("Africa/Nairobi"):
        assert page.render(Context({"moment": moment})) == "Jan 15, 2026, 8:30 PM EAT"
    assert page.render(Context({"moment": None})) == ""


def test_an_accounts_sends_page_shows_its_own_zone(client, alice, account) -> None:  # type: ignore[no-untyped-def]
    send = Send.objects.create(kind=Send.NOTICE, account=account, message=b"x")
    Send.objects.filter(pk=send.pk).update(created=datetime(2026, 1, 15, 17, 30, tzinfo=UTC))
    client.force_login(alice)
    page = client.get(reverse("delivery:send", args=[account.code, send.pk])).content.decode()
    assert "Jan 15, 2026, 12:30 PM EST" in page  # America/New_York
    assert "17:30" not in page
