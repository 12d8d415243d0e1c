"""Subscribers and subscriptions through the API: opt-in, unsubscribe, delete, tenants apart."""

from __future__ import annotations

import pytest

from tests.api.test_api_base import Api, ApiFactory, api, api_as, other_api  # noqa: F401
from tidings.accounts.models import Account
from tidings.delivery.models import Delivery, Send
from tidings.subscribers.actions import subscribe
from tidings.subscribers.models import Subscriber, Subscription
from tidings.topics.actions import create_topic
from tidings.topics.models import Topic


@pytest.fixture(autouse=True)
def _no_token_rate(settings):  # type: ignore[no-untyped-def]
    # Query counts here measure the endpoints; the per-token limit has its own test.
    settings.API_RATE_PER_MINUTE = 0


def test_it_subscribes_a_confirmed_address_at_once(api: Api, topic: Topic) -> None:  # noqa: F811
    response = api.post(
        "/subscribers", {"email": "ann@example.org", "topics": [topic.pk], "confirmed": True}
    )
    assert response.status_code == 200
    body = response.json()
    assert body["result"] == "subscribed"
    assert body["subscriber"]["status"] == "confirmed"
    assert body["subscriber"]["topics"] == [topic.pk]


def test_it_mails_a_confirmation_link_for_double_opt_in(api: Api, topic: Topic) -> None:  # noqa: F811
    response = api.post("/subscribers", {"email": "ann@example.org", "topics": [topic.pk]})
    body = response.json()
    assert body["result"] == "confirmation sent"
    assert body["subscriber"]["status"] == "pending"
    assert body["subscriber"]["topics"] == []  # topics are added when the link is used
    notice = Send.objects.get(kind=Send.NOTICE)
    assert list(notice.deliveries.values_list("address", flat=True)) == ["ann@example.org"]


def test_it_refuses_an_invalid_address(api: Api, topic: Topic) -> None:  # noqa: F811
    response = api.post("/subscribers", {"email": "not an address", "topics": [topic.pk]})
    assert response.status_code == 422
    assert "email" in response.json()["detail"].lower()
    assert not Subscriber.objects.exists()


def test_it_refuses_another_accounts_topic(
    api: Api,  # noqa: F811
    other_account: Account,
) -> None:
    theirs = create_topic(other_account, name="Theirs")
    response = api.post(
        "/subscribers", {"email": "ann@example.org", "topics": [theirs.pk], "confirmed": True}
    )
    assert response.status_code == 422
    assert f"No topic {theirs.pk}" in response.json()["detail"]
    assert not Subscriber.objects.exists()


def test_it_lists_and_filters_subscribers(
    api: Api,  # noqa: F811
    bob: Subscriber,
    account: Account,
    topic: Topic,
) -> None:
    Subscriber.objects.create(account=account, email="pat@example.org")
    assert api.get("/subscribers").json()["count"] == 2
    confirmed = api.get("/subscribers", status="confirmed").json()
    assert [s["email"] for s in confirmed["items"]] == ["bob@example.org"]
    assert api.get("/subscribers", email="BOB@example.org").json()["count"] == 1
    assert api.get("/subscribers", topic=topic.pk).json()["count"] == 1


def test_it_adds_and_removes_a_topic(api: Api, bob: Subscriber, account: Account) -> None:  # noqa: F811
    travel = create_topic(account, name="Travel")
    added = api.post(f"/subscribers/{bob.pk}/subscriptions", {"topic": travel.pk})
    assert travel.pk in added.json()["topics"]
    removed = api.delete(f"/subscribers/{bob.pk}/subscriptions/{travel.pk}")
    assert removed.status_code == 200
    assert travel.pk not in removed.json()["topics"]
    assert not Subscription.objects.filter(subscriber=bob, topic=travel).exists()


def test_it_unsubscribes_from_everything(api: Api, bob: Subscriber) -> None:  # noqa: F811
    body = api.post(f"/subscribers/{bob.pk}/unsubscribe").json()
    assert body["status"] == "unsubscribed" and body["topics"] == []


def test_it_changes_the_delivery_mode(api: Api, bob: Subscriber) -> None:  # noqa: F811
    response = api.patch(f"/subscribers/{bob.pk}", {"delivery_mode": "weekly"})
    assert response.json()["delivery_mode"] == "weekly"
    assert api.patch(f"/subscribers/{bob.pk}", {"delivery_mode": "hourly"}).status_code == 422


def test_it_deletes_a_subscriber(api: Api, bob: Subscriber) -> None:  # noqa: F811
    assert api.delete(f"/subscribers/{bob.pk}").status_code == 204
    assert not Subscriber.objects.filter(pk=bob.pk).exists()


def test_a_viewer_reads_but_cant_change_subscribers(
    api_as: ApiFactory,  # noqa: F811
    account: Account,
    bob: Subscriber,
) -> None:
    viewer = api_as(account, "viewer")
    assert viewer.get(f"/subscribers/{bob.pk}").json()["email"] == "bob@example.org"
    assert viewer.delete(f"/subscribers/{bob.pk}").status_code == 403
    assert viewer.post(f"/subscribers/{bob.pk}/unsubscribe").status_code == 403
    assert api_as(account, "author").post("/subscribers", {"email": "x@y.org"}).status_code == 403
    bob.refresh_from_db()
    assert bob.status == Subscriber.CONFIRMED


def test_another_account_cant_read_or_change_our_subscribers(
    other_api: Api,  # noqa: F811
    bob: Subscriber,
    topic: Topic,
) -> None:
    assert other_api.get("/subscribers").json()["count"] == 0
    assert other_api.get(f"/subscribers/{bob.pk}").status_code == 404
    assert other_api.patch(f"/subscribers/{bob.pk}", {"delivery_mode": "daily"}).status_code == 404
    assert other_api.post(f"/subscribers/{bob.pk}/unsubscribe").status_code == 404
    assert other_api.delete(f"/subscribers/{bob.pk}/subscriptions/{topic.pk}").status_code == 404
    assert other_api.delete(f"/subscribers/{bob.pk}").status_code == 404
    bob.refresh_from_db()
    assert bob.status == Subscriber.CONFIRMED and bob.delivery_mode == Subscriber.IMMEDIATE
    assert bob.subscriptions.count() == 1


def test_subscribing_in_another_account_makes_a_separate_subscriber(
    other_api: Api,  # noqa: F811
    bob: Subscriber,
) -> None:
    body = other_api.post("/subscribers", {"email": bob.email, "confirmed": True}).json()
    assert body["subscriber"]["id"] != bob.pk
    assert Subscriber.objects.filter(email=bob.email).count() == 2
    assert not Delivery.objects.exists()


def test_it_lists_subscribers_without_a_query_per_subscriber(
    api: Api,  # noqa: F811
    account: Account,
    topic: Topic,
    django_assert_max_num_queries,  # type: ignore[no-untyped-def]
) -> None:
    for n in range(10):
        subscribe(account, f"s{n}@example.org", [topic], confirmed=True)
    with django_assert_max_num_queries(6):
        body = api.get("/subscribers").json()
    assert len(body["items"]) == 10 and all(s["topics"] == [topic.pk] for s in body["items"])
