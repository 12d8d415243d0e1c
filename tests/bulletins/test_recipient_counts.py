"""What the confirmation before sending counts: exactly who the snapshot will take."""

from __future__ import annotations

from tidings.bulletins.actions import create_bulletin, publish_bulletin, recipient_counts
from tidings.subscribers.actions import subscribe
from tidings.subscribers.models import Subscriber, Suppression
from tidings.topics.actions import create_topic


def test_the_counts_per_topic_and_in_all_match_the_snapshot(account, topic) -> None:  # type: ignore[no-untyped-def]
    other = create_topic(account, name="Travel")
    subscribe(account, "both@example.org", [topic, other], confirmed=True)
    subscribe(account, "one@example.org", [topic], confirmed=True)
    subscribe(account, "pending@example.org", [topic])  # not confirmed
    digest = subscribe(account, "digest@example.org", [other], confirmed=True)
    Subscriber.objects.filter(pk=digest.pk).update(delivery_mode=Subscriber.DAILY)
    subscribe(account, "gone@example.org", [other], confirmed=True)
    Suppression.objects.create(account=account, email="gone@example.org")
    bulletin = create_bulletin(account, subject="S", body="B", topics=[topic, other])

    per_topic, total = recipient_counts(bulletin)
    assert {t.name: n for t, n in per_topic} == {topic.name: 2, "Travel": 1}
    assert total == 2
    send = publish_bulletin(bulletin)
    assert send.deliveries.count() == total
