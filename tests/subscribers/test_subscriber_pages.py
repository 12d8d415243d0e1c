"""The subscriber's self-service pages: manage topics, unsubscribe, RFC 8058 one-click."""

from __future__ import annotations

import time
import urllib.request
from unittest import mock

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse
from pytest_django.live_server_helper import LiveServer

from tidings.accounts.models import Account
from tidings.lib.tokens import make_token, sign_id
from tidings.subscribers.models import Subscriber
from tidings.topics.actions import create_topic
from tidings.topics.models import Topic

ONE_CLICK_BODY = {"List-Unsubscribe": "One-Click"}


@pytest.fixture
def token(bob: Subscriber) -> str:
    return sign_id("subscriber", bob.pk)


@pytest.fixture
def travel(account: Account) -> Topic:
    return create_topic(account, name="Travel Advisories", code="USSTATEBPA_2")


@pytest.fixture
def hidden(account: Account) -> Topic:
    return create_topic(account, name="Embassy Staff Notes", code="USSTATEBPA_3", listed=False)


def topic_ids(subscriber: Subscriber) -> set[int]:
    return set(subscriber.subscriptions.values_list("topic_id", flat=True))


def test_it_shows_the_address_and_topics_on_the_manage_page(
    client: Client, bob: Subscriber, token: str, topic: Topic, travel: Topic
) -> None:
    r = client.get(reverse("subscribers:manage", args=[token]))
    assert r.status_code == 200
    html = r.content.decode()
    assert "bob@example.org" in html
    assert f'value="{topic.pk}" id="id_topics_0" checked' in html
    assert "Travel Advisories" in html


def test_it_shows_unlisted_topics_only_to_their_subscribers(
    client: Client, bob: Subscriber, token: str, hidden: Topic
) -> None:
    r = client.get(reverse("subscribers:manage", args=[token]))
    assert "Embassy Staff Notes" not in r.content.decode()
    bob.subscriptions.create(topic=hidden)
    r = client.get(reverse("subscribers:manage", args=[token]))
    assert "Embassy Staff Notes" in r.content.decode()


def test_it_saves_chosen_topics(client: Client, bob: Subscriber, token: str, travel: Topic) -> None:
    r = client.post(reverse("subscribers:manage", args=[token]), {"topics": [travel.pk]})
    assert r.status_code == 200
    assert "Your choices have been saved." in r.content.decode()
    assert topic_ids(bob) == {travel.pk}


def test_it_refuses_a_topic_that_is_not_offered(
    client: Client, bob: Subscriber, token: str, topic: Topic, hidden: Topic
) -> None:
    r = client.post(reverse("subscribers:manage", args=[token]), {"topics": [hidden.pk]})
    assert "Your choices have been saved." not in r.content.decode()
    assert topic_ids(bob) == {topic.pk}


def test_it_resubscribes_after_an_unsubscribe(
    client: Client, bob: Subscriber, token: str, topic: Topic
) -> None:
    client.post(reverse("subscribers:unsubscribe", args=[token]))
    client.post(reverse("subscribers:manage", args=[token]), {"topics": [topic.pk]})
    bob.refresh_from_db()
    assert bob.status == Subscriber.CONFIRMED
    assert topic_ids(bob) == {topic.pk}


def test_it_requires_csrf_on_the_manage_form(bob: Subscriber, token: str, topic: Topic) -> None:
    client = Client(enforce_csrf_checks=True)
    r = client.post(reverse("subscribers:manage", args=[token]), {"topics": []})
    assert r.status_code == 403
    assert topic_ids(bob) == {topic.pk}


def test_it_changes_nothing_on_unsubscribe_get(
    client: Client, bob: Subscriber, token: str, topic: Topic
) -> None:
    r = client.get(reverse("subscribers:unsubscribe", args=[token]))
    assert r.status_code == 200
    assert "bob@example.org" in r.content.decode()
    bob.refresh_from_db()
    assert bob.status == Subscriber.CONFIRMED
    assert topic_ids(bob) == {topic.pk}


def test_it_unsubscribes_on_post(client: Client, bob: Subscriber, token: str) -> None:
    r = client.post(reverse("subscribers:unsubscribe", args=[token]))
    assert "You have been unsubscribed" in r.content.decode()
    assert reverse("subscribers:manage", args=[token]) in r.content.decode()
    bob.refresh_from_db()
    assert bob.status == Subscriber.UNSUBSCRIBED
    assert topic_ids(bob) == set()


def test_it_requires_csrf_on_the_unsubscribe_form(bob: Subscriber, token: str) -> None:
    client = Client(enforce_csrf_checks=True)
    r = client.post(reverse("subscribers:unsubscribe", args=[token]))
    assert r.status_code == 403
    bob.refresh_from_db()
    assert bob.status == Subscriber.CONFIRMED


def test_it_unsubscribes_in_one_click_without_cookies(bob: Subscriber, token: str) -> None:
    client = Client(enforce_csrf_checks=True)
    r = client.post(reverse("subscribers:one_click", args=[token]), ONE_CLICK_BODY)
    assert r.status_code == 200
    assert r["Content-Type"].startswith("text/plain")
    assert not r.cookies
    bob.refresh_from_db()
    assert bob.status == Subscriber.UNSUBSCRIBED


def test_it_answers_a_repeated_one_click_the_same(bob: Subscriber, token: str) -> None:
    client = Client(enforce_csrf_checks=True)
    url = reverse("subscribers:one_click", args=[token])
    first = client.post(url, ONE_CLICK_BODY)
    second = client.post(url, ONE_CLICK_BODY)
    assert (first.status_code, second.status_code) == (200, 200)
    bob.refresh_from_db()
    assert bob.status == Subscriber.UNSUBSCRIBED


def test_it_rejects_a_one_click_with_the_wrong_body(
    client: Client, bob: Subscriber, token: str
) -> None:
    r = client.post(reverse("subscribers:one_click", args=[token]), {"List-Unsubscribe": "Yes"})
    assert r.status_code == 400
    assert b"List-Unsubscribe=One-Click" in r.content
    bob.refresh_from_db()
    assert bob.status == Subscriber.CONFIRMED


@pytest.mark.parametrize("method", ["get", "head"])
def test_it_refuses_one_click_by_get(
    client: Client, bob: Subscriber, token: str, method: str
) -> None:
    r = getattr(client, method)(reverse("subscribers:one_click", args=[token]))
    assert r.status_code == 405
    bob.refresh_from_db()
    assert bob.status == Subscriber.CONFIRMED


@pytest.mark.parametrize("name", ["manage", "unsubscribe"])
def test_it_explains_a_forged_token(client: Client, bob: Subscriber, name: str) -> None:
    forged = sign_id("subscriber", bob.pk)[:-3] + "abc"
    r = client.get(reverse(f"subscribers:{name}", args=[forged]))
    assert r.status_code == 400
    assert "This link is not valid." in r.content.decode()


def test_it_refuses_a_token_made_for_another_purpose(client: Client, bob: Subscriber) -> None:
    other = make_token("confirm", bob.pk)
    r = client.get(reverse("subscribers:manage", args=[other]))
    assert r.status_code == 400


def test_it_refuses_a_forged_one_click(bob: Subscriber) -> None:
    client = Client(enforce_csrf_checks=True)
    r = client.post(reverse("subscribers:one_click", args=["1:forged"]), ONE_CLICK_BODY)
    assert r.status_code == 400
    bob.refresh_from_db()
    assert bob.status == Subscriber.CONFIRMED


def test_it_explains_an_expired_token(client: Client, bob: Subscriber) -> None:
    long_ago = time.time() - settings.UNSUBSCRIBE_LINK_MAX_AGE - 60
    with mock.patch("time.time", return_value=long_ago):
        expired = sign_id("subscriber", bob.pk)
    r = client.get(reverse("subscribers:manage", args=[expired]))
    assert r.status_code == 400
    html = r.content.decode()
    assert "This link has expired." in html
    assert "Manage Subscriptions" in html


def test_it_answers_404_for_an_unknown_subscriber(client: Client, db: None) -> None:
    r = client.get(reverse("subscribers:manage", args=[sign_id("subscriber", 999999)]))
    assert r.status_code == 404


def test_it_escapes_the_address(client: Client, account: Account) -> None:
    odd = Subscriber.objects.create(account=account, email="<b>x</b>@example.org")
    r = client.get(reverse("subscribers:unsubscribe", args=[sign_id("subscriber", odd.pk)]))
    assert "&lt;b&gt;x&lt;/b&gt;@example.org" in r.content.decode()


def test_it_unsubscribes_in_one_click_over_http(
    live_server: LiveServer, transactional_db: None, bob: Subscriber, token: str
) -> None:
    url = live_server.url + reverse("subscribers:one_click", args=[token])
    request = urllib.request.Request(url, data=b"List-Unsubscribe=One-Click", method="POST")
    request.add_header("Content-Type", "application/x-www-form-urlencoded")
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 200
        assert response.headers.get("Set-Cookie") is None
    bob.refresh_from_db()
    assert bob.status == Subscriber.UNSUBSCRIBED
