from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from tidings.bulletins.actions import (
    create_bulletin,
    prepare_send,
    prepare_stale_sends,
    publish_bulletin,
)
from tidings.bulletins.models import Bulletin
from tidings.delivery.actions import cancel_send
from tidings.delivery.models import Delivery, Send
from tidings.subscribers.actions import subscribe, unsubscribe_all
from tidings.topics.actions import create_topic


def test_it_writes_one_row_per_confirmed_subscriber(account, topic, bob):  # type: ignore[no-untyped-def]
    subscribe(account, "pending@example.org", [topic])
    gone = subscribe(account, "gone@example.org", [topic], confirmed=True)
    unsubscribe_all(gone)
    bulletin = create_bulletin(account, subject="T", body="B", topics=[topic])

    send = publish_bulletin(bulletin)

    assert list(send.deliveries.values_list("address", "state")) == [("bob@example.org", "queued")]
    bulletin.refresh_from_db()
    assert bulletin.status == Bulletin.SENDING
    assert bulletin.published_at is not None


def test_it_sends_one_copy_to_a_follower_of_several_topics(account, topic, bob):  # type: ignore[no-untyped-def]
    other = create_topic(account, name="Travel Alerts", code="USSTATEBPA_2")
    subscribe(account, bob.email, [other], confirmed=True)
    bulletin = create_bulletin(account, subject="T", body="B", topics=[topic, other])

    send = publish_bulletin(bulletin)

    (row,) = Delivery.objects.filter(send=send)
    assert row.address == "bob@example.org"
    assert row.topic_id == min(topic.pk, other.pk)


def test_it_refuses_to_publish_twice(account, topic, bob):  # type: ignore[no-untyped-def]
    bulletin = create_bulletin(account, subject="T", body="B", topics=[topic])
    publish_bulletin(bulletin)
    with pytest.raises(ValidationError):
        publish_bulletin(bulletin)
    assert Delivery.objects.count() == 1


def _left_preparing(account, topic, minutes_ago: int):  # type: ignore[no-untyped-def]
    """A publish whose process died between creating the send and snapshotting it."""
    bulletin = create_bulletin(account, subject="T", body="B", topics=[topic])
    Bulletin.objects.filter(pk=bulletin.pk).update(status=Bulletin.SENDING)
    send = Send.objects.create(kind=Send.BULLETIN, bulletin=bulletin, state=Send.PREPARING)
    Send.objects.filter(pk=send.pk).update(created=timezone.now() - timedelta(minutes=minutes_ago))
    return send


def test_it_finishes_a_snapshot_its_publisher_left_preparing_once(account, topic, bob):  # type: ignore[no-untyped-def]
    send = _left_preparing(account, topic, minutes_ago=5)

    assert prepare_stale_sends() == 1
    assert prepare_stale_sends() == 0

    send.refresh_from_db()
    assert send.state == Send.SENDING
    assert list(send.deliveries.values_list("address", flat=True)) == ["bob@example.org"]


def test_it_leaves_a_snapshot_that_may_still_be_running_alone(account, topic, bob):  # type: ignore[no-untyped-def]
    send = _left_preparing(account, topic, minutes_ago=0)

    assert prepare_stale_sends() == 0
    send.refresh_from_db()
    assert send.state == Send.PREPARING
    assert not send.deliveries.exists()


def test_a_send_cancelled_while_preparing_gets_no_recipients(account, topic, bob):  # type: ignore[no-untyped-def]
    send = _left_preparing(account, topic, minutes_ago=5)
    cancel_send(send)

    assert prepare_send(send) is False
    assert send.state == Send.CANCELLED
    assert not send.deliveries.exists()
