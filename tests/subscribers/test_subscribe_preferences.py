"""The preferences page additions: delivery mode, change of address, deleting the record."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import reverse

from tests.subscribers.test_subscribe import confirm_link, path_of, queued_to
from tidings.accounts.models import Account
from tidings.delivery.models import Delivery
from tidings.lib.tokens import sign_id
from tidings.subscribers import actions
from tidings.subscribers.models import Subscriber
from tidings.topics.actions import create_topic
from tidings.topics.models import Topic


@pytest.fixture
def token(bob: Subscriber) -> str:
    return sign_id("subscriber", bob.pk)


def test_it_shows_the_current_delivery_mode(client: Client, bob: Subscriber, token: str) -> None:
    html = client.get(reverse("subscribers:manage", args=[token])).content.decode()
    assert re.search(r'value="immediate"[^>]* checked', html)
    assert not re.search(r'value="daily"[^>]* checked', html)


def test_it_switches_to_a_daily_digest(client: Client, bob: Subscriber, token: str) -> None:
    r = client.post(reverse("subscribers:delivery", args=[token]), {"delivery_mode": "daily"})
    assert "Delivery saved: Daily digest." in r.content.decode()
    bob.refresh_from_db()
    assert bob.delivery_mode == Subscriber.DAILY
    assert bob.digest_sent_until is not None


def test_it_refuses_an_unknown_delivery_mode(client: Client, bob: Subscriber, token: str) -> None:
    r = client.post(reverse("subscribers:delivery", args=[token]), {"delivery_mode": "hourly"})
    assert r.status_code == 400
    assert "Select a valid choice." in r.content.decode()
    bob.refresh_from_db()
    assert bob.delivery_mode == Subscriber.IMMEDIATE


def test_it_refuses_a_delivery_change_by_get(client: Client, bob: Subscriber, token: str) -> None:
    r = client.get(reverse("subscribers:delivery", args=[token]) + "?delivery_mode=weekly")
    assert r.status_code == 405
    bob.refresh_from_db()
    assert bob.delivery_mode == Subscriber.IMMEDIATE


def test_it_requires_csrf_on_the_delivery_form(bob: Subscriber, token: str) -> None:
    client = Client(enforce_csrf_checks=True)
    r = client.post(reverse("subscribers:delivery", args=[token]), {"delivery_mode": "weekly"})
    assert r.status_code == 403


def test_it_mails_a_link_to_the_new_address_and_keeps_the_old_one(
    client: Client, bob: Subscriber, token: str
) -> None:
    r = client.post(
        reverse("subscribers:change_address", args=[token]), {"email": "rob@example.net"}
    )
    assert "We sent a link to rob@example.net" in r.content.decode()
    bob.refresh_from_db()
    assert bob.email == "bob@example.org"
    (msg,) = queued_to("rob@example.net")
    assert msg["Subject"] == "Confirm your new address for U.S. Department of State"


def test_it_changes_the_address_when_the_new_one_confirms(
    client: Client, bob: Subscriber, token: str, topic: Topic
) -> None:
    client.post(reverse("subscribers:change_address", args=[token]), {"email": "rob@example.net"})
    link = path_of(confirm_link(queued_to("rob@example.net")[0]))
    assert "instead of bob@example.org" in client.get(link).content.decode()
    client.post(link)
    bob.refresh_from_db()
    assert bob.email == "rob@example.net"
    assert bob.status == Subscriber.CONFIRMED
    assert list(bob.subscriptions.values_list("topic_id", flat=True)) == [topic.pk]


def test_it_merges_into_a_record_that_has_the_new_address(
    client: Client, bob: Subscriber, token: str, account: Account
) -> None:
    travel = create_topic(account, name="Travel", code="USSTATEBPA_2")
    rob = actions.subscribe(account, "rob@example.net", [travel], confirmed=True)
    client.post(reverse("subscribers:change_address", args=[token]), {"email": "rob@example.net"})
    client.post(path_of(confirm_link(queued_to("rob@example.net")[0])))
    assert not Subscriber.objects.filter(pk=bob.pk).exists()
    assert rob.subscriptions.count() == 2


def test_it_refuses_the_same_address(client: Client, bob: Subscriber, token: str) -> None:
    r = client.post(
        reverse("subscribers:change_address", args=[token]), {"email": "bob@example.org"}
    )
    assert r.status_code == 400
    assert "That is already your address." in r.content.decode()


def test_it_refuses_a_bad_new_address(client: Client, bob: Subscriber, token: str) -> None:
    r = client.post(reverse("subscribers:change_address", args=[token]), {"email": "rob@"})
    assert r.status_code == 400
    assert "Enter a valid email address." in r.content.decode()
    assert Delivery.objects.count() == 0


def test_it_asks_before_deleting(client: Client, bob: Subscriber, token: str) -> None:
    r = client.get(reverse("subscribers:delete", args=[token]))
    assert "Delete everything" in r.content.decode()
    assert Subscriber.objects.filter(pk=bob.pk).exists()


def test_it_deletes_the_record_on_post(client: Client, bob: Subscriber, token: str) -> None:
    r = client.post(reverse("subscribers:delete", args=[token]))
    assert "no longer has your address" in r.content.decode()
    assert not Subscriber.objects.filter(pk=bob.pk).exists()


def test_it_requires_csrf_to_delete(bob: Subscriber, token: str) -> None:
    r = Client(enforce_csrf_checks=True).post(reverse("subscribers:delete", args=[token]))
    assert r.status_code == 403
    assert Subscriber.objects.filter(pk=bob.pk).exists()


def test_it_refuses_a_forged_token_on_delete(client: Client, bob: Subscriber, token: str) -> None:
    r = client.post(reverse("subscribers:delete", args=[token[:-2] + "xx"]))
    assert r.status_code == 400
    assert Subscriber.objects.filter(pk=bob.pk).exists()


def test_it_unsubscribes_in_one_click_with_a_urlencoded_body(bob: Subscriber, token: str) -> None:
    r = Client(enforce_csrf_checks=True).post(
        reverse("subscribers:one_click", args=[token]),
        "List-Unsubscribe=One-Click",
        content_type="application/x-www-form-urlencoded",
    )
    assert r.status_code == 200
    bob.refresh_from_db()
    assert bob.status == Subscriber.UNSUBSCRIBED
