"""The console's subscribers: search by any part or by domain, add one, change one, import
errors on the page."""

from __future__ import annotations

from django.urls import reverse

from tidings.subscribers import actions
from tidings.subscribers.models import Subscriber


def test_a_search_finds_any_part_of_the_address_or_a_whole_domain(
    client, victor, account, topic
) -> None:  # type: ignore[no-untyped-def]
    for email in ("ann.lee@state.example", "bob@agency.example", "lee@agency.example"):
        actions.subscribe(account, email, [topic], confirmed=True)
    client.force_login(victor)
    url = reverse("subscribers_console:list", args=[account.code])
    page = client.get(url, {"q": "lee"}).content.decode()
    assert "ann.lee@state.example" in page and "lee@agency.example" in page
    assert "bob@agency.example" not in page
    page = client.get(url, {"q": "@agency.example"}).content.decode()
    assert "bob@agency.example" in page and "ann.lee" not in page


def test_a_manager_adds_one_at_once_or_by_confirmation(client, alice, account, topic) -> None:  # type: ignore[no-untyped-def]
    client.force_login(alice)
    url = reverse("subscribers_console:list", args=[account.code])
    client.post(url, {"email": "new@example.org", "topics": [topic.pk], "confirmed": "on"})
    added = Subscriber.objects.get(email="new@example.org")
    assert added.status == Subscriber.CONFIRMED and added.subscriptions.count() == 1
    client.post(url, {"email": "asked@example.org", "topics": [topic.pk]})
    assert Subscriber.objects.get(email="asked@example.org").status == Subscriber.PENDING
    bad = client.post(url, {"email": "not an address"})
    assert "Enter a valid email address" in bad.content.decode()


def test_a_manager_changes_topics_delivery_and_state_and_a_viewer_may_not(
    client, alice, victor, account, topic, bob
) -> None:  # type: ignore[no-untyped-def]
    url = reverse("subscribers_console:detail", args=[account.code, bob.pk])
    client.force_login(victor)
    assert client.post(url, {"delivery_mode": "daily", "status": "confirmed"}).status_code == 404
    client.force_login(alice)
    changes = {"topics": [], "delivery_mode": "weekly", "language": "sw", "status": "confirmed"}
    client.post(url, changes)
    bob.refresh_from_db()
    assert (bob.delivery_mode, bob.subscriptions.count(), bob.language) == ("weekly", 0, "sw")
    # The console stays in English for a Spanish browser (its words are not translated).
    page = client.get(url, HTTP_ACCEPT_LANGUAGE="es").content.decode()
    assert "Kiswahili" in page and "Weekly digest" in page and '<html lang="en"' in page
    client.post(url, {"topics": [topic.pk], "delivery_mode": "weekly", "status": "unsubscribed"})
    bob.refresh_from_db()
    assert bob.status == Subscriber.UNSUBSCRIBED
