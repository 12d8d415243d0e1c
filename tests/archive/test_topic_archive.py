"""Topic archives: the blog of a topic's bulletins, its months, its feed and the account page."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta

import feedparser
import pytest
from django.test import Client
from django.urls import reverse

from tests.archive.test_bulletin_web_copy import bulletin
from tests.archive.test_feeds_archive import ATOM, assert_valid_atom
from tidings.accounts.models import Account
from tidings.bulletins.actions import create_bulletin
from tidings.bulletins.models import Bulletin
from tidings.topics.actions import create_topic
from tidings.topics.models import Topic

TALKS = datetime(2015, 12, 1, 17, 38, tzinfo=UTC)


def topic_url(*month: int) -> str:
    name = "bulletins:month" if month else "bulletins:topic"
    return reverse(name, args=["USSTATEBPA", "USSTATEBPA_1", *month])


@pytest.fixture
def talks(account: Account, topic: Topic) -> Bulletin:
    return bulletin(account, topic, "Migration Talks", TALKS)


@pytest.fixture
def private_topic(account: Account) -> Topic:
    topic = create_topic(account, name="Staff Notes", code="USSTATEBPA_9")
    Topic.objects.filter(pk=topic.pk).update(archive_public=False)
    topic.refresh_from_db()
    return topic


def many(account: Account, topic: Topic, n: int) -> list[Bulletin]:
    """Publish n bulletins a day apart, the newest on 1 December 2015."""
    return [bulletin(account, topic, f"Bulletin {i}", TALKS - timedelta(days=i)) for i in range(n)]


def test_it_lists_a_topics_bulletins_under_date_headings(
    client: Client, account: Account, topic: Topic, talks: Bulletin
) -> None:
    html = client.get(topic_url()).content.decode()
    assert "<h1>Press Releases</h1>" in html
    assert '<h2 class="date-heading">Tuesday, 1 December 2015</h2>' in html
    link = reverse("bulletins:web_copy", args=[talks.pk]) + "?topic=USSTATEBPA_1"
    assert f'<a href="{link}">Migration Talks</a>' in html
    assert "The United States and Cuba held biannual Migration Talks" in html  # the excerpt


def test_it_leaves_drafts_out(client: Client, account: Account, topic: Topic) -> None:
    create_bulletin(account, subject="Draft in progress", body="x", topics=[topic])
    assert "Draft in progress" not in client.get(topic_url()).content.decode()


def test_it_pages_newest_first(client: Client, account: Account, topic: Topic) -> None:
    many(account, topic, 12)
    first = client.get(topic_url()).content.decode()
    assert "Bulletin 0" in first and "Bulletin 9" in first and "Bulletin 10" not in first
    assert first.index("Bulletin 0") < first.index("Bulletin 1<")
    assert '<a rel="next" href="?page=2">Older posts</a>' in first
    second = client.get(topic_url() + "?page=2").content.decode()
    assert "Bulletin 11" in second and "Bulletin 9<" not in second
    assert '<a rel="prev" href="?page=1">Newer posts</a>' in second


def test_it_shows_the_year_and_month_tree_with_counts(
    client: Client, account: Account, topic: Topic
) -> None:
    many(account, topic, 3)  # 1 December, 30 and 29 November 2015 (New York)
    html = client.get(topic_url()).content.decode()
    assert "2015 (3)" in html
    assert f'<a href="{topic_url(2015, 12)}">December</a> (1)' in html
    assert f'<a href="{topic_url(2015, 11)}">November</a> (2)' in html


def test_it_counts_months_in_the_accounts_time_zone(
    client: Client, account: Account, topic: Topic
) -> None:
    # 03:00 UTC on 1 January is still 31 December in New York.
    bulletin(account, topic, "New Year's Eve", datetime(2016, 1, 1, 3, tzinfo=UTC))
    html = client.get(topic_url()).content.decode()
    assert f'<a href="{topic_url(2015, 12)}">December</a> (1)' in html
    assert "Thursday, 31 December 2015" in html


def test_it_shows_one_month(client: Client, account: Account, topic: Topic) -> None:
    many(account, topic, 3)
    html = client.get(topic_url(2015, 11)).content.decode()
    assert "<h1>Press Releases: November 2015</h1>" in html
    assert "Bulletin 1" in html and "Bulletin 2" in html and "Bulletin 0" not in html
    assert 'aria-current="page">November</a>' in html


def test_it_serves_a_valid_atom_feed_of_a_topic(
    client: Client, account: Account, topic: Topic, talks: Bulletin
) -> None:
    response = client.get(reverse("bulletins:topic_feed", args=["USSTATEBPA", "USSTATEBPA_1"]))
    assert response["Content-Type"].startswith("application/atom+xml")
    feed = ET.fromstring(response.content)  # noqa: S314 - our own feed
    assert_valid_atom(feed)
    assert feed.findtext(f"{ATOM}author/{ATOM}name") == "U.S. Department of State"
    (entry,) = feed.findall(f"{ATOM}entry")
    assert entry.findtext(f"{ATOM}title") == "Migration Talks"
    assert entry.findtext(f"{ATOM}updated", "").startswith("2015-12-01T17:38:00")
    assert "<strong>Migration Talks</strong>" in entry.findtext(f"{ATOM}content", "")
    parsed = feedparser.parse(response.content)
    assert not parsed.bozo
    assert parsed.entries[0].link.endswith(reverse("bulletins:web_copy", args=[talks.pk]))


def test_it_hides_a_members_only_topic_from_anonymous_readers(
    client: Client, account: Account, private_topic: Topic
) -> None:
    bulletin(account, private_topic, "Staff only", TALKS)
    args = ["USSTATEBPA", "USSTATEBPA_9"]
    assert client.get(reverse("bulletins:topic", args=args)).status_code == 404
    assert client.get(reverse("bulletins:topic_feed", args=args)).status_code == 404
    assert client.get(reverse("bulletins:month", args=[*args, 2015, 12])).status_code == 404
    assert (
        "Staff Notes"
        not in client.get(reverse("bulletins:account", args=["USSTATEBPA"])).content.decode()
    )


def test_it_shows_a_members_only_topic_to_members(
    client: Client, account: Account, private_topic: Topic, victor: object
) -> None:
    bulletin(account, private_topic, "Staff only", TALKS)
    client.force_login(victor)
    response = client.get(reverse("bulletins:topic", args=["USSTATEBPA", "USSTATEBPA_9"]))
    assert "Staff only" in response.content.decode()


def test_it_lists_an_accounts_public_topics(
    client: Client, account: Account, topic: Topic, talks: Bulletin, other_account: Account
) -> None:
    create_topic(other_account, name="Other News", code="OTHERAGENCY_1")
    html = client.get(reverse("bulletins:account", args=["USSTATEBPA"])).content.decode()
    assert f'<a href="{topic_url()}">Press Releases</a>' in html
    assert "(1 bulletin)" in html
    assert "Other News" not in html


def test_it_answers_404_for_a_topic_of_another_account(
    client: Client, topic: Topic, other_account: Account
) -> None:
    url = reverse("bulletins:topic", args=["OTHERAGENCY", "USSTATEBPA_1"])
    assert client.get(url).status_code == 404


def test_it_runs_a_constant_number_of_queries_on_the_index(
    client: Client, account: Account, topic: Topic, django_assert_num_queries: object
) -> None:
    many(account, topic, 12)
    # topic + account, count, page, tree
    with django_assert_num_queries(4):  # type: ignore[operator]
        assert client.get(topic_url()).status_code == 200
    for i in range(5):
        bulletin(account, topic, f"Older {i}", TALKS - timedelta(days=400 + i))
    with django_assert_num_queries(4):  # type: ignore[operator]
        assert client.get(topic_url() + "?page=2").status_code == 200
