"""A published bulletin's web copy at /bulletins/<pk>/: public, or members-only per its topic."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.test import Client
from django.urls import reverse

from tidings.accounts.models import Account
from tidings.bulletins.actions import create_bulletin, publish_bulletin
from tidings.bulletins.models import Bulletin
from tidings.topics.actions import create_topic
from tidings.topics.models import Topic

BODY = "The United States and Cuba held biannual **Migration Talks** on November 30."


def bulletin(account: Account, topic: Topic, subject: str, when: datetime, **kw: str) -> Bulletin:
    draft = create_bulletin(account, subject=subject, body=kw.get("body", BODY), topics=[topic])
    publish_bulletin(draft, published_at=when)
    return draft


@pytest.fixture
def talks(account: Account, topic: Topic) -> Bulletin:
    # 17:38 UTC is 12:38 in New York, on Tuesday 1 December 2015.
    return bulletin(account, topic, "Migration Talks", datetime(2015, 12, 1, 17, 38, tzinfo=UTC))


@pytest.fixture
def private_topic(account: Account) -> Topic:
    topic = create_topic(account, name="Staff Notes", code="USSTATEBPA_9")
    Topic.objects.filter(pk=topic.pk).update(archive_public=False)
    topic.refresh_from_db()
    return topic


def test_it_shows_a_published_bulletin(client: Client, talks: Bulletin) -> None:
    response = client.get(reverse("bulletins:web_copy", args=[talks.pk]))
    html = response.content.decode()
    assert response.status_code == 200
    assert "U.S. Department of State" in html
    assert "Press Releases" in html
    assert "Tuesday, 1 December 2015" in html
    assert '<h1 class="post-title">Migration Talks</h1>' in html
    assert "<strong>Migration Talks</strong>" in html


def test_it_leaves_out_the_personal_parts_of_the_email(client: Client, talks: Bulletin) -> None:
    html = client.get(reverse("bulletins:web_copy", args=[talks.pk])).content.decode()
    assert "Unsubscribe" not in html
    assert "Manage Subscriptions" not in html
    assert "/subscriptions/" not in html


def test_it_answers_404_for_a_draft(client: Client, account: Account, topic: Topic) -> None:
    draft = create_bulletin(account, subject="Not yet", body="Secret", topics=[topic])
    assert client.get(reverse("bulletins:web_copy", args=[draft.pk])).status_code == 404


def test_it_sanitizes_the_body(client: Client, account: Account, topic: Topic) -> None:
    evil = '<p onclick="x()">Hi</p><script>alert(1)</script><a href="javascript:alert(2)">go</a>'
    draft = create_bulletin(account, subject="Hi", body=evil, topics=[topic], body_format="html")
    publish_bulletin(draft)
    response = client.get(reverse("bulletins:web_copy", args=[draft.pk]))
    html = response.content.decode()
    assert "<script" not in html
    assert "onclick" not in html
    assert "javascript:" not in html
    assert "default-src 'none'" in response["Content-Security-Policy"]


def test_it_hides_a_members_only_topic_from_anonymous_readers(
    client: Client, account: Account, private_topic: Topic
) -> None:
    secret = bulletin(account, private_topic, "Staff only", datetime(2015, 12, 2, tzinfo=UTC))
    assert client.get(reverse("bulletins:web_copy", args=[secret.pk])).status_code == 404


def test_it_shows_a_members_only_topic_to_members(
    client: Client, account: Account, private_topic: Topic, victor: object
) -> None:
    secret = bulletin(account, private_topic, "Staff only", datetime(2015, 12, 2, tzinfo=UTC))
    client.force_login(victor)
    response = client.get(reverse("bulletins:web_copy", args=[secret.pk]))
    assert response.status_code == 200
    assert "Staff only" in response.content.decode()


def test_it_hides_a_members_only_topic_from_another_tenant(
    client: Client, account: Account, private_topic: Topic, oscar: object
) -> None:
    secret = bulletin(account, private_topic, "Staff only", datetime(2015, 12, 2, tzinfo=UTC))
    client.force_login(oscar)
    assert client.get(reverse("bulletins:web_copy", args=[secret.pk])).status_code == 404


def test_it_links_newer_older_and_home_within_the_topic(
    client: Client, account: Account, topic: Topic, talks: Bulletin
) -> None:
    before = bulletin(account, topic, "Earlier", datetime(2015, 11, 30, tzinfo=UTC))
    after = bulletin(account, topic, "Later", datetime(2015, 12, 3, tzinfo=UTC))
    html = client.get(reverse("bulletins:web_copy", args=[talks.pk])).content.decode()
    newer = reverse("bulletins:web_copy", args=[after.pk])
    older = reverse("bulletins:web_copy", args=[before.pk])
    assert f'<a rel="prev" href="{newer}?topic=USSTATEBPA_1">Newer Post</a>' in html
    assert f'<a rel="next" href="{older}?topic=USSTATEBPA_1">Older Post</a>' in html
    home = reverse("bulletins:topic", args=["USSTATEBPA", "USSTATEBPA_1"])
    assert f'<a href="{home}">Home</a>' in html


def test_it_runs_a_constant_number_of_queries(
    client: Client, talks: Bulletin, django_assert_num_queries: object
) -> None:
    url = reverse("bulletins:web_copy", args=[talks.pk])
    # bulletin + account, its topics, newer, older
    with django_assert_num_queries(4):  # type: ignore[operator]
        assert client.get(url).status_code == 200


def test_it_loads_the_bulletins_own_https_pictures(
    client: Client, account: Account, topic: Topic
) -> None:
    body = "![Seal](https://www.state.gov/seal.png)"
    draft = create_bulletin(account, subject="Seal", body=body, topics=[topic])
    publish_bulletin(draft)
    response = client.get(reverse("bulletins:web_copy", args=[draft.pk]))
    assert '<img alt="Seal" src="https://www.state.gov/seal.png">' in response.content.decode()
    policy = response["Content-Security-Policy"]
    assert "img-src 'self' https:;" in policy
    assert "script-src" not in policy and "default-src 'none'" in policy


def test_it_names_only_the_topics_the_reader_may_see(
    client: Client, account: Account, topic: Topic, private_topic: Topic
) -> None:
    both = create_bulletin(account, subject="Both", body="x", topics=[topic, private_topic])
    publish_bulletin(both)
    html = client.get(reverse("bulletins:web_copy", args=[both.pk])).content.decode()
    assert "Press Releases" in html
    assert "Staff Notes" not in html
