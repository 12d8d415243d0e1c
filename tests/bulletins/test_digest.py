"""Daily and weekly digests: the period's bulletins, once, at the account's hour."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from tests.subscribers.test_subscribe import queued_to
from tidings.accounts.models import Account
from tidings.bulletins.actions import create_bulletin, publish_bulletin
from tidings.bulletins.digests import last_digest_times, send_due_digests
from tidings.bulletins.models import Bulletin
from tidings.subscribers import actions
from tidings.subscribers.models import Subscriber, SubscribeSettings, Suppression
from tidings.topics.actions import create_topic
from tidings.topics.models import Topic

NY = ZoneInfo("America/New_York")
# Wednesday 2 December 2015, 09:00 in New York: past the default 07:00 digest hour.
NOW = datetime(2015, 12, 2, 9, 0, tzinfo=NY)


def publish(account: Account, topic: Topic, title: str, when: datetime) -> None:
    bulletin = create_bulletin(account, subject=title, body=f"{title} body text.", topics=[topic])
    publish_bulletin(bulletin, published_at=when)


@pytest.fixture
def ann(account: Account, topic: Topic) -> Subscriber:
    ann = actions.subscribe(account, "ann@example.org", [topic], confirmed=True)
    actions.set_delivery_mode(ann, Subscriber.DAILY)
    Subscriber.objects.filter(pk=ann.pk).update(digest_sent_until=NOW - timedelta(days=3))
    return ann


def test_it_schedules_at_the_accounts_hour_in_its_zone(account: Account) -> None:
    times = last_digest_times(account, NOW)
    assert times[Subscriber.DAILY] == datetime(2015, 12, 2, 7, 0, tzinfo=NY)
    assert times[Subscriber.WEEKLY] == datetime(2015, 11, 30, 7, 0, tzinfo=NY)  # a Monday


def test_it_lists_the_periods_bulletins_in_one_message(
    account: Account, topic: Topic, ann: Subscriber
) -> None:
    publish(account, topic, "Migration Talks", NOW - timedelta(hours=20))
    publish(account, topic, "Climate Remarks", NOW - timedelta(hours=5))
    assert send_due_digests(NOW) == 1
    (msg,) = queued_to("ann@example.org")
    assert msg["Subject"] == "Daily digest from U.S. Department of State: 2 updates"
    text = msg.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
    assert text.index("Migration Talks") < text.index("Climate Remarks")
    assert "Migration Talks body text." in text
    assert "/subscriptions/unsubscribe/" in text
    assert msg["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"


def test_it_links_each_entry_to_the_bulletins_web_copy(
    account: Account, topic: Topic, ann: Subscriber, client: Client
) -> None:
    publish(account, topic, "Migration Talks", NOW - timedelta(hours=5))
    bulletin = Bulletin.objects.get(subject="Migration Talks")
    url = settings.BASE_URL + reverse("bulletins:web_copy", args=[bulletin.pk])
    send_due_digests(NOW)
    (msg,) = queued_to("ann@example.org")
    text = msg.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
    html = msg.get_body(preferencelist=("html",)).get_content()  # type: ignore[union-attr]
    assert f"Read more: {url}" in text
    assert f'<a href="{url}">Migration Talks</a>' in html
    page = client.get(url.removeprefix(settings.BASE_URL))
    assert page.status_code == 200
    assert b"Migration Talks" in page.content


def test_it_keeps_digest_subscribers_out_of_the_immediate_send(
    account: Account, topic: Topic, ann: Subscriber, bob: Subscriber
) -> None:
    bulletin = create_bulletin(account, subject="Now", body="b", topics=[topic])
    send = publish_bulletin(bulletin, published_at=NOW - timedelta(hours=1))
    assert list(send.deliveries.values_list("address", flat=True)) == ["bob@example.org"]


def test_it_sends_nothing_for_an_empty_period(account: Account, ann: Subscriber) -> None:
    assert send_due_digests(NOW) == 0
    assert queued_to("ann@example.org") == []


def test_it_sends_each_bulletin_once(account: Account, topic: Topic, ann: Subscriber) -> None:
    publish(account, topic, "Migration Talks", NOW - timedelta(hours=20))
    send_due_digests(NOW)
    send_due_digests(NOW + timedelta(minutes=5))
    send_due_digests(NOW + timedelta(days=1))
    assert len(queued_to("ann@example.org")) == 1


def test_it_leaves_bulletins_sent_before_the_switch_out(
    account: Account, topic: Topic, bob: Subscriber
) -> None:
    publish(account, topic, "Already delivered", NOW - timedelta(hours=3))
    actions.set_delivery_mode(bob, Subscriber.DAILY)  # digest starts at the switch (now)
    send_due_digests(NOW + timedelta(days=1))
    assert queued_to("bob@example.org") == []


def test_it_waits_for_the_next_bulletin_after_the_hour(
    account: Account, topic: Topic, ann: Subscriber
) -> None:
    publish(account, topic, "After the hour", NOW - timedelta(minutes=30))
    send_due_digests(NOW)
    assert queued_to("ann@example.org") == []
    send_due_digests(NOW + timedelta(days=1))
    assert len(queued_to("ann@example.org")) == 1


def test_it_sends_weekly_digests_on_the_chosen_day(
    account: Account, topic: Topic, ann: Subscriber
) -> None:
    SubscribeSettings.objects.create(account=account, weekly_digest_day=2, digest_hour=8)
    actions.set_delivery_mode(ann, Subscriber.WEEKLY)
    Subscriber.objects.filter(pk=ann.pk).update(digest_sent_until=NOW - timedelta(days=7))
    publish(account, topic, "Weekly item", NOW - timedelta(days=2))
    send_due_digests(NOW)
    (msg,) = queued_to("ann@example.org")
    assert msg["Subject"].startswith("Weekly digest")


def test_it_only_lists_the_subscribers_topics(
    account: Account, topic: Topic, ann: Subscriber
) -> None:
    other = create_topic(account, name="Other", code="USSTATEBPA_2")
    publish(account, other, "Not for Ann", NOW - timedelta(hours=20))
    send_due_digests(NOW)
    assert queued_to("ann@example.org") == []


def test_it_sends_no_digest_to_a_suppressed_address(
    account: Account, topic: Topic, ann: Subscriber
) -> None:
    actions.suppress(None, "ann@example.org", Suppression.HARD_BOUNCE)
    publish(account, topic, "Migration Talks", NOW - timedelta(hours=20))
    send_due_digests(NOW)
    assert queued_to("ann@example.org") == []


def test_it_registers_the_digest_job() -> None:
    from tidings.ops.periodic import JOBS

    assert JOBS["bulletins.digests"][0] == 300
