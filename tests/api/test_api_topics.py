"""Topics and categories through the API: roles, validation, pagination, tenants apart."""

from __future__ import annotations

import pytest

from tests.api.test_api_base import Api, ApiFactory, api, api_as, other_api  # noqa: F401
from tidings.accounts.models import Account
from tidings.topics.actions import create_topic
from tidings.topics.models import Category, Topic


@pytest.fixture(autouse=True)
def _no_token_rate(settings):  # type: ignore[no-untyped-def]
    # Query counts here measure the endpoints; the per-token limit has its own test.
    settings.API_RATE_PER_MINUTE = 0


def test_it_lists_the_accounts_topics_only(
    api: Api,  # noqa: F811
    topic: Topic,
    other_account: Account,
) -> None:
    create_topic(other_account, name="Their news", code="OTHER_1")
    body = api.get("/topics").json()
    assert body["count"] == 1
    assert [t["code"] for t in body["items"]] == ["USSTATEBPA_1"]


def test_it_counts_subscribers_of_each_topic(api: Api, bob, topic: Topic) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    assert api.get(f"/topics/{topic.pk}").json()["subscribers"] == 1


def test_it_lists_topics_without_a_query_per_topic(
    api: Api,  # noqa: F811
    account: Account,
    django_assert_max_num_queries,  # type: ignore[no-untyped-def]
) -> None:
    category = Category.objects.create(account=account, name="Travel")
    for n in range(10):
        create_topic(account, name=f"Topic {n}").categories.add(category)
    with django_assert_max_num_queries(6):
        body = api.get("/topics").json()
    assert len(body["items"]) == 10
    assert all(t["categories"] == [category.pk] for t in body["items"])


def test_it_pages_with_limit_and_offset(api: Api, account: Account) -> None:  # noqa: F811
    for n in range(5):
        create_topic(account, name=f"Topic {n}")
    body = api.get("/topics", limit=2, offset=2).json()
    assert body["count"] == 5 and body["limit"] == 2 and body["offset"] == 2
    assert [t["name"] for t in body["items"]] == ["Topic 2", "Topic 3"]


def test_it_refuses_a_page_over_the_maximum(api: Api) -> None:  # noqa: F811
    response = api.get("/topics", limit=1000)
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "limit"


def test_a_topic_admin_creates_a_topic_with_categories(
    api_as: ApiFactory,  # noqa: F811
    account: Account,
) -> None:
    category = Category.objects.create(account=account, name="Travel")
    response = api_as(account, "topic_admin").post(
        "/topics",
        {"name": "Travel alerts", "code": "USSTATEBPA_9", "categories": [category.pk]},
    )
    assert response.status_code == 201
    assert response.json()["categories"] == [category.pk]
    topic = Topic.objects.get(code="USSTATEBPA_9")
    assert topic.account == account and topic.short_name == "Travel alerts"


def test_an_author_cant_create_topics(api_as: ApiFactory, account: Account) -> None:  # noqa: F811
    response = api_as(account, "author").post("/topics", {"name": "Mine"})
    assert response.status_code == 403
    assert "topic_admin" in response.json()["detail"]
    assert not Topic.objects.filter(name="Mine").exists()


def test_a_viewer_reads_topics(api_as: ApiFactory, account: Account, topic: Topic) -> None:  # noqa: F811
    assert api_as(account, "viewer").get(f"/topics/{topic.pk}").status_code == 200


def test_it_names_the_fields_of_invalid_input(api: Api) -> None:  # noqa: F811
    response = api.post("/topics", {"name": "", "listed": "perhaps"})
    assert response.status_code == 422
    fields = {e["field"] for e in response.json()["errors"]}
    assert fields == {"name", "listed"}


def test_it_refuses_a_duplicate_code_with_the_models_message(api: Api, topic: Topic) -> None:  # noqa: F811
    response = api.post("/topics", {"name": "Again", "code": topic.code})
    assert response.status_code == 422
    assert "already exists" in response.json()["detail"]


def test_it_refuses_another_accounts_category(
    api: Api,  # noqa: F811
    other_account: Account,
) -> None:
    theirs = Category.objects.create(account=other_account, name="Theirs")
    response = api.post("/topics", {"name": "Mine", "categories": [theirs.pk]})
    assert response.status_code == 422
    assert not Topic.objects.filter(name="Mine").exists()


def test_it_changes_a_topic(api: Api, topic: Topic) -> None:  # noqa: F811
    response = api.patch(f"/topics/{topic.pk}", {"description": "From the press office"})
    assert response.status_code == 200
    topic.refresh_from_db()
    assert topic.description == "From the press office" and topic.name == "Press Releases"


def test_it_deletes_a_topic(api: Api, topic: Topic) -> None:  # noqa: F811
    assert api.delete(f"/topics/{topic.pk}").status_code == 204
    assert not Topic.objects.filter(pk=topic.pk).exists()


def test_another_accounts_topic_is_not_found(
    other_api: Api,  # noqa: F811
    topic: Topic,
) -> None:
    assert other_api.get(f"/topics/{topic.pk}").status_code == 404
    assert other_api.patch(f"/topics/{topic.pk}", {"name": "Mine"}).status_code == 404
    assert other_api.delete(f"/topics/{topic.pk}").status_code == 404
    topic.refresh_from_db()
    assert topic.name == "Press Releases"


def test_categories_are_created_listed_and_deleted(api: Api) -> None:  # noqa: F811
    parent = api.post("/categories", {"name": "Travel"}).json()
    child = api.post("/categories", {"name": "Alerts", "parent": parent["id"]})
    assert child.status_code == 201 and child.json()["parent"] == parent["id"]
    assert api.get("/categories").json()["count"] == 2
    assert api.get(f"/categories/{parent['id']}").json()["name"] == "Travel"
    assert api.delete(f"/categories/{child.json()['id']}").status_code == 204
    assert api.get("/categories").json()["count"] == 1


def test_another_accounts_categories_are_not_found(
    other_api: Api,  # noqa: F811
    account: Account,
) -> None:
    category = Category.objects.create(account=account, name="Travel")
    assert other_api.get("/categories").json()["count"] == 0
    assert other_api.get(f"/categories/{category.pk}").status_code == 404
    assert other_api.delete(f"/categories/{category.pk}").status_code == 404
    assert other_api.post("/categories", {"name": "X", "parent": category.pk}).status_code == 422


def test_a_viewer_cant_create_categories(api_as: ApiFactory, account: Account) -> None:  # noqa: F811
    assert api_as(account, "viewer").post("/categories", {"name": "X"}).status_code == 403


def test_an_unknown_path_answers_json_404(api: Api) -> None:  # noqa: F811
    response = api.get("/nothing/here")
    assert response.status_code == 404
    assert response.json()["detail"]
