from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from tidings.bulletins.actions import create_bulletin, publish_bulletin
from tidings.bulletins.models import Bulletin
from tidings.delivery.models import Delivery
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
