"""Bulletins through the API: drafts, send now, schedule, test send, status and counts."""

from __future__ import annotations

from datetime import datetime, timedelta
from email import message_from_bytes
from email.policy import default

import pytest
from django.utils import timezone

from tests.api.test_api_base import Api, ApiFactory, api, api_as, other_api  # noqa: F401
from tidings.accounts.models import Account, SenderIdentity
from tidings.bulletins.actions import create_bulletin
from tidings.bulletins.models import Bulletin
from tidings.delivery.models import Delivery, Send
from tidings.subscribers.models import Subscriber
from tidings.topics.actions import create_topic
from tidings.topics.models import Topic

DRAFT = {
    "subject": "Visa fees change",
    "body": "New fees from **June**.",
    "body_format": "markdown",
}


@pytest.fixture(autouse=True)
def _no_token_rate(settings):  # type: ignore[no-untyped-def]
    # Query counts here measure the endpoints; the per-token limit has its own test.
    settings.API_RATE_PER_MINUTE = 0


def draft(account: Account, topic: Topic) -> Bulletin:
    return create_bulletin(account, subject="Visa fees", body="Soon.", topics=[topic])


def test_an_author_creates_a_draft(api_as: ApiFactory, account: Account, topic: Topic) -> None:  # noqa: F811
    response = api_as(account, "author").post("/bulletins", {**DRAFT, "topics": [topic.pk]})
    assert response.status_code == 201
    body = response.json()
    assert body["status"] == "draft" and body["topics"] == [topic.pk]
    assert body["web_url"] is None
    assert Bulletin.objects.get(pk=body["id"]).account == account


def test_a_viewer_cant_create_a_bulletin(
    api_as: ApiFactory,  # noqa: F811
    account: Account,
    topic: Topic,
) -> None:
    response = api_as(account, "viewer").post("/bulletins", {**DRAFT, "topics": [topic.pk]})
    assert response.status_code == 403
    assert not Bulletin.objects.exists()


def test_a_bulletin_needs_a_topic_of_the_account(
    api: Api,  # noqa: F811
    other_account: Account,
) -> None:
    assert api.post("/bulletins", {**DRAFT, "topics": []}).status_code == 422
    theirs = create_topic(other_account, name="Theirs")
    response = api.post("/bulletins", {**DRAFT, "topics": [theirs.pk]})
    assert response.status_code == 422
    assert not Bulletin.objects.exists()


def test_it_changes_a_draft(api: Api, account: Account, topic: Topic) -> None:  # noqa: F811
    bulletin = draft(account, topic)
    travel = create_topic(account, name="Travel")
    response = api.patch(f"/bulletins/{bulletin.pk}", {"body": "Now.", "topics": [travel.pk]})
    assert response.status_code == 200
    bulletin.refresh_from_db()
    assert bulletin.body == "Now." and bulletin.subject == "Visa fees"
    assert list(bulletin.topics.all()) == [travel]


def test_it_deletes_a_draft_but_not_a_sent_bulletin(
    api: Api,  # noqa: F811
    account: Account,
    topic: Topic,
) -> None:
    bulletin = draft(account, topic)
    assert api.delete(f"/bulletins/{bulletin.pk}").status_code == 204
    sent = draft(account, topic)
    api.post(f"/bulletins/{sent.pk}/send")
    response = api.delete(f"/bulletins/{sent.pk}")
    assert response.status_code == 422
    assert "not a draft" in response.json()["detail"]


def test_it_sends_now_and_reports_counts(
    api: Api,  # noqa: F811
    account: Account,
    topic: Topic,
    bob: Subscriber,
) -> None:
    bulletin = draft(account, topic)
    response = api.post(f"/bulletins/{bulletin.pk}/send")
    assert response.status_code == 202
    body = response.json()
    assert body["status"] == "sending" and body["send_state"] == "sending"
    assert body["counts"]["total"] == 1 and body["counts"]["queued"] == 1
    Delivery.objects.filter(send__bulletin=bulletin).update(state=Delivery.SENT)
    status = api.get(f"/bulletins/{bulletin.pk}/status").json()
    assert status["counts"]["sent"] == 1 and status["counts"]["queued"] == 0
    assert api.get(f"/bulletins/{bulletin.pk}").json()["web_url"].endswith(f"/{bulletin.pk}/")


def test_it_refuses_to_send_twice(api: Api, account: Account, topic: Topic) -> None:  # noqa: F811
    bulletin = draft(account, topic)
    api.post(f"/bulletins/{bulletin.pk}/send")
    response = api.post(f"/bulletins/{bulletin.pk}/send")
    assert response.status_code == 422
    assert "already published" in response.json()["detail"]
    assert Send.objects.filter(bulletin=bulletin).count() == 1


def test_a_draft_has_no_counts_yet(api: Api, account: Account, topic: Topic) -> None:  # noqa: F811
    bulletin = draft(account, topic)
    body = api.get(f"/bulletins/{bulletin.pk}/status").json()
    assert body["status"] == "draft" and body["counts"] is None


def test_it_schedules_in_the_accounts_time_zone(api: Api, account: Account, topic: Topic) -> None:  # noqa: F811
    bulletin = draft(account, topic)
    local = (timezone.now() + timedelta(days=2)).astimezone(account.tz).replace(microsecond=0)
    naive = local.replace(tzinfo=None).isoformat()
    response = api.put(f"/bulletins/{bulletin.pk}/schedule", {"when": naive})
    assert response.status_code == 200
    assert response.json()["status"] == "scheduled"
    bulletin.refresh_from_db()
    assert bulletin.scheduled_at == local


def test_it_refuses_a_time_in_the_past(api: Api, account: Account, topic: Topic) -> None:  # noqa: F811
    bulletin = draft(account, topic)
    past = datetime(2020, 1, 1, tzinfo=account.tz).isoformat()
    response = api.put(f"/bulletins/{bulletin.pk}/schedule", {"when": past})
    assert response.status_code == 422
    assert "future" in response.json()["detail"]


def test_it_cancels_a_schedule(api: Api, account: Account, topic: Topic) -> None:  # noqa: F811
    bulletin = draft(account, topic)
    when = (timezone.now() + timedelta(hours=3)).isoformat()
    api.put(f"/bulletins/{bulletin.pk}/schedule", {"when": when})
    response = api.delete(f"/bulletins/{bulletin.pk}/schedule")
    assert response.status_code == 200
    assert response.json()["status"] == "draft" and response.json()["scheduled_at"] is None
    assert api.delete(f"/bulletins/{bulletin.pk}/schedule").status_code == 422


def test_it_sends_a_test_copy(api: Api, account: Account, topic: Topic) -> None:  # noqa: F811
    bulletin = draft(account, topic)
    response = api.post(f"/bulletins/{bulletin.pk}/test", {"addresses": ["erin@example.gov"]})
    assert response.json() == {"sent": 1}
    send = Send.objects.get(kind=Send.NOTICE)
    msg = message_from_bytes(bytes(send.message), policy=default)
    assert msg["Subject"].startswith("[TEST] ")
    assert list(send.deliveries.values_list("address", flat=True)) == ["erin@example.gov"]
    bulletin.refresh_from_db()
    assert bulletin.status == Bulletin.DRAFT


def test_a_test_goes_to_a_few_addresses_only(api: Api, account: Account, topic: Topic) -> None:  # noqa: F811
    bulletin = draft(account, topic)
    many = [f"a{n}@example.gov" for n in range(11)]
    response = api.post(f"/bulletins/{bulletin.pk}/test", {"addresses": many})
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "addresses"
    assert not Send.objects.exists()


def test_it_lists_and_filters_bulletins(api: Api, account: Account, topic: Topic) -> None:  # noqa: F811
    first, second = draft(account, topic), draft(account, topic)
    api.post(f"/bulletins/{first.pk}/send")
    body = api.get("/bulletins").json()
    assert [b["id"] for b in body["items"]] == [second.pk, first.pk]
    assert [b["id"] for b in api.get("/bulletins", status="draft").json()["items"]] == [second.pk]


def test_another_account_cant_read_or_change_our_bulletins(
    other_api: Api,  # noqa: F811
    account: Account,
    topic: Topic,
    bob: Subscriber,
) -> None:
    bulletin = draft(account, topic)
    later = (timezone.now() + timedelta(days=1)).isoformat()
    assert other_api.get("/bulletins").json()["count"] == 0
    assert other_api.get(f"/bulletins/{bulletin.pk}").status_code == 404
    assert other_api.get(f"/bulletins/{bulletin.pk}/status").status_code == 404
    assert other_api.patch(f"/bulletins/{bulletin.pk}", {"body": "x"}).status_code == 404
    assert other_api.post(f"/bulletins/{bulletin.pk}/send").status_code == 404
    assert other_api.put(f"/bulletins/{bulletin.pk}/schedule", {"when": later}).status_code == 404
    assert other_api.delete(f"/bulletins/{bulletin.pk}/schedule").status_code == 404
    test = other_api.post(f"/bulletins/{bulletin.pk}/test", {"addresses": ["m@example.org"]})
    assert test.status_code == 404
    assert other_api.delete(f"/bulletins/{bulletin.pk}").status_code == 404
    bulletin.refresh_from_db()
    assert bulletin.status == Bulletin.DRAFT and bulletin.body == "Soon."
    assert not Send.objects.exists()


def test_it_refuses_another_accounts_sender_identity(
    api: Api,  # noqa: F811
    other_account: Account,
    topic: Topic,
) -> None:
    theirs = SenderIdentity.objects.create(
        account=other_account, name="Other", address="press@other.example"
    )
    response = api.post("/bulletins", {**DRAFT, "topics": [topic.pk], "sender": theirs.pk})
    assert response.status_code == 422
    assert "sender identity" in response.json()["detail"]
    assert not Bulletin.objects.exists()


def test_it_lists_bulletins_without_a_query_per_bulletin(
    api: Api,  # noqa: F811
    account: Account,
    topic: Topic,
    django_assert_max_num_queries,  # type: ignore[no-untyped-def]
) -> None:
    for _ in range(10):
        draft(account, topic)
    with django_assert_max_num_queries(6):
        body = api.get("/bulletins").json()
    assert len(body["items"]) == 10 and all(b["topics"] == [topic.pk] for b in body["items"])


def test_it_refuses_a_time_out_of_range(api: Api, account: Account, topic: Topic) -> None:  # noqa: F811
    bulletin = draft(account, topic)
    response = api.put(f"/bulletins/{bulletin.pk}/schedule", {"when": "9999-12-31T23:59:59"})
    assert response.status_code == 422
    assert "out of range" in response.json()["detail"]
    bulletin.refresh_from_db()
    assert bulletin.status == Bulletin.DRAFT
