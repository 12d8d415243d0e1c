"""Scheduling a bulletin, test sends and courtesy copies: the composer's actions."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.utils import timezone

from tests.smtp_helpers import captured_for, text_part, tidings_smtpd
from tidings.bulletins.actions import (
    cancel_schedule,
    create_bulletin,
    publish_due,
    schedule_bulletin,
    send_bulletin,
    send_test,
)
from tidings.bulletins.models import Bulletin
from tidings.delivery.models import Delivery, Send
from tidings.ops.worker import drain


@pytest.fixture
def draft(account, topic):  # type: ignore[no-untyped-def]
    return create_bulletin(
        account, subject="Migration Talks", body="The talks *resume* today.", topics=[topic]
    )


@pytest.fixture
def smtp(settings, db):  # type: ignore[no-untyped-def]
    with tidings_smtpd(settings) as port:
        yield port


@pytest.mark.django_db
def test_it_schedules_a_draft_for_a_future_time(draft) -> None:  # type: ignore[no-untyped-def]
    when = timezone.now() + timedelta(hours=2)
    schedule_bulletin(draft, when)
    draft.refresh_from_db()
    assert (draft.status, draft.scheduled_at) == (Bulletin.SCHEDULED, when)


@pytest.mark.django_db
def test_it_refuses_a_time_in_the_past(draft) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValidationError, match="future"):
        schedule_bulletin(draft, timezone.now() - timedelta(minutes=1))
    draft.refresh_from_db()
    assert draft.status == Bulletin.DRAFT


@pytest.mark.django_db
def test_it_refuses_to_schedule_a_bulletin_already_sent(draft, bob) -> None:  # type: ignore[no-untyped-def]
    send_bulletin(draft)
    with pytest.raises(ValidationError, match="Only a draft"):
        schedule_bulletin(draft, timezone.now() + timedelta(hours=1))


@pytest.mark.django_db
def test_cancel_takes_it_back_to_a_draft(draft) -> None:  # type: ignore[no-untyped-def]
    schedule_bulletin(draft, timezone.now() + timedelta(hours=2))
    cancel_schedule(draft)
    draft.refresh_from_db()
    assert (draft.status, draft.scheduled_at) == (Bulletin.DRAFT, None)
    with pytest.raises(ValidationError, match="not scheduled"):
        cancel_schedule(draft)


@pytest.mark.django_db
def test_it_publishes_due_bulletins_once(draft, bob) -> None:  # type: ignore[no-untyped-def]
    schedule_bulletin(draft, timezone.now() + timedelta(seconds=30))
    assert publish_due() == 0
    later = timezone.now() + timedelta(minutes=1)
    assert publish_due(later) == 1
    assert publish_due(later) == 0
    draft.refresh_from_db()
    assert draft.status == Bulletin.SENDING
    assert draft.published_at == draft.scheduled_at
    send = Send.objects.get(bulletin=draft)
    assert list(send.deliveries.values_list("address", flat=True)) == ["bob@example.org"]


@pytest.mark.django_db(transaction=True)
def test_two_workers_publish_a_due_bulletin_once(draft, bob) -> None:  # type: ignore[no-untyped-def]
    schedule_bulletin(draft, timezone.now() + timedelta(seconds=30))
    later = timezone.now() + timedelta(minutes=1)
    results: list[int] = []
    barrier = threading.Barrier(2)

    def worker() -> None:
        try:
            barrier.wait()
            results.append(publish_due(later))
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == [0, 1]
    assert Send.objects.filter(bulletin=draft).count() == 1
    assert Delivery.objects.filter(send__bulletin=draft).count() == 1


@pytest.mark.django_db
def test_cancelled_schedule_is_not_published(draft, bob) -> None:  # type: ignore[no-untyped-def]
    schedule_bulletin(draft, timezone.now() + timedelta(seconds=30))
    cancel_schedule(draft)
    assert publish_due(timezone.now() + timedelta(minutes=1)) == 0
    assert not Send.objects.filter(bulletin=draft).exists()


@pytest.mark.django_db(transaction=True)
def test_test_send_is_the_subscribers_message_marked_test(draft, bob, smtp) -> None:  # type: ignore[no-untyped-def]
    assert send_test(draft, ["Tester@Example.gov", "tester@example.gov", "bob@example.org"]) == 2
    drain()
    (msg,) = captured_for("tester@example.gov")
    assert msg["Subject"] == "[TEST] Press Releases: Migration Talks"
    assert msg["To"] == "tester@example.gov"
    assert "The talks resume today." in text_part(msg)  # the text part reads as text
    assert "This email was sent to tester@example.gov" in text_part(msg)
    (for_bob,) = captured_for("bob@example.org")
    assert "/subscriptions/" in text_part(for_bob)
    draft.refresh_from_db()
    assert draft.status == Bulletin.DRAFT


@pytest.mark.django_db
def test_test_send_refuses_bad_addresses(draft) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValidationError, match="not an email address"):
        send_test(draft, ["tester@example.gov", "not-an-address"])
    with pytest.raises(ValidationError, match="at most"):
        send_test(draft, [f"t{i}@example.gov" for i in range(11)])
    assert not Send.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_admins_get_a_courtesy_copy_when_it_is_sent(draft, bob, alice, erin, smtp) -> None:  # type: ignore[no-untyped-def]
    send_bulletin(draft)
    drain()
    (copy,) = captured_for("alice@example.gov")
    assert copy["Subject"] == "[Courtesy copy] Press Releases: Migration Talks"
    assert captured_for("erin@example.gov") == []
    assert len(captured_for("bob@example.org")) == 1


@pytest.mark.django_db
def test_no_courtesy_copy_when_the_account_turned_it_off(account, draft, bob, alice) -> None:  # type: ignore[no-untyped-def]
    account.courtesy_copy = False
    account.save()
    send_bulletin(draft)
    assert not Send.objects.filter(kind=Send.NOTICE).exists()
