"""Full-text search: one interface over PostgreSQL full-text search and SQLite FTS5."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse

from tests.archive.test_archive_threads import mail
from tests.archive.test_bulletin_web_copy import bulletin
from tidings.accounts.models import Account
from tidings.archive import search as archive_search
from tidings.archive.actions import archive_post
from tidings.archive.models import BulletinText, Post
from tidings.archive.search import search, search_posts
from tidings.bulletins.actions import create_bulletin
from tidings.bulletins.models import Bulletin
from tidings.lists.actions import create_list
from tidings.lists.models import MailingList
from tidings.topics.actions import create_topic
from tidings.topics.models import Topic


@pytest.fixture
def posts(wanabidii: MailingList) -> list[Post]:
    return [
        archive_post(wanabidii, mail(1, "Migration talks", body="Delegations met in Washington.")),
        archive_post(wanabidii, mail(2, "Climate conference", body="Remarks in Paris on climate.")),
        archive_post(wanabidii, mail(3, "Budget", body="The <b>budget</b> for migration & more.")),
    ]


def search_html(client: Client, query: str, **params: str) -> str:
    url = reverse("archive:search", args=["wanabidii"])
    response = client.get(url, {"q": query, **params})
    assert response.status_code == 200
    return response.content.decode()


def test_it_uses_the_databases_own_search(db: None) -> None:
    assert connection.vendor in ("sqlite", "postgresql")


def test_it_finds_posts_by_subject_and_body(wanabidii: MailingList, posts: list[Post]) -> None:
    results = search_posts([wanabidii.pk], "migration")
    assert results.total == 2
    assert {hit.post.pk for hit in results.hits} == {posts[0].pk, posts[2].pk}


def test_it_finds_posts_by_author(wanabidii: MailingList, posts: list[Post]) -> None:
    results = search_posts([wanabidii.pk], "Person 2")
    assert [hit.post.pk for hit in results.hits] == [posts[1].pk]


def test_it_matches_all_words(wanabidii: MailingList, posts: list[Post]) -> None:
    assert search_posts([wanabidii.pk], "climate Paris").total == 1
    assert search_posts([wanabidii.pk], "climate Washington").total == 0


def test_it_highlights_matches_and_escapes_the_rest(
    wanabidii: MailingList, posts: list[Post]
) -> None:
    hit = search_posts([wanabidii.pk], "budget").hits[0]
    assert "<mark>Budget</mark>" in hit.subject
    assert "<mark>budget</mark>" in hit.snippet
    assert "<b>" not in hit.snippet
    assert "&amp; more" in hit.snippet


def test_it_survives_search_syntax_in_the_query(wanabidii: MailingList, posts: list[Post]) -> None:
    for query in ('"', "migration OR", "NEAR(", "*", "-", "a:b", "')--", "\\"):
        search_posts([wanabidii.pk], query)  # no exception


def test_it_searches_only_the_lists_asked_for(wanabidii: MailingList, posts: list[Post]) -> None:
    other = create_list("other")
    archive_post(other, mail(9, "Migration elsewhere"))
    assert search_posts([wanabidii.pk], "migration").total == 2
    assert search_posts([other.pk], "migration").total == 1


def test_it_finds_a_post_edited_after_archiving(wanabidii: MailingList, posts: list[Post]) -> None:
    Post.objects.filter(pk=posts[1].pk).update(subject="Renamed announcement")
    assert search_posts([wanabidii.pk], "renamed").total == 1
    assert search_posts([wanabidii.pk], "conference").total == 0


def test_it_pages_the_results(client: Client, wanabidii: MailingList) -> None:
    for n in range(13):
        archive_post(wanabidii, mail(n, f"Rationing notice {n}"))
    first = search_html(client, "rationing")
    assert "13 results" in first
    assert first.count('class="search-hit"') == 10
    assert "More results" in first
    second = search_html(client, "rationing", page="2")
    assert second.count('class="search-hit"') == 3


def test_it_shows_highlighted_results_on_the_search_page(client: Client, posts: list[Post]) -> None:
    html = search_html(client, "climate")
    assert "1 result for" in html
    assert "<mark>climate</mark>" in html.lower() or "<mark>Climate</mark>" in html
    assert reverse("archive:post", args=["wanabidii", posts[1].slug]) in html


def test_it_hides_addresses_in_results_from_anonymous_readers(
    client: Client, wanabidii: MailingList
) -> None:
    archive_post(wanabidii, mail(7, "Contact", body="Write to secretary.general@example.org"))
    html = search_html(client, "secretary")
    assert "secretary.general@example.org" not in html


# Per-account search: the account's readable lists and topics, behind the same interface.


@pytest.fixture
def bulletins(account: Account, topic: Topic) -> list[Bulletin]:
    private = create_topic(account, name="Staff Notes", code="USSTATEBPA_9")
    Topic.objects.filter(pk=private.pk).update(archive_public=False)
    return [
        bulletin(account, topic, "Migration Talks", datetime(2015, 12, 1, tzinfo=UTC)),
        bulletin(
            account,
            private,
            "Staff migration plan",
            datetime(2015, 12, 2, tzinfo=UTC),
            body="Internal <b>only</b>.",
        ),
    ]


def account_search(client: Client, query: str, **params: str) -> str:
    url = reverse("bulletins:search", args=["USSTATEBPA"])
    response = client.get(url, {"q": query, **params})
    assert response.status_code == 200
    return response.content.decode()


def test_it_searches_an_accounts_lists_and_topics(
    client: Client, posts: list[Post], bulletins: list[Bulletin]
) -> None:
    html = account_search(client, "migration")
    assert "3 results for" in html  # two posts and a bulletin
    assert reverse("archive:post", args=["wanabidii", posts[0].slug]) in html
    assert reverse("bulletins:web_copy", args=[bulletins[0].pk]) in html  # ...and a bulletin
    assert "<mark>Migration</mark> Talks" in html


def test_it_keeps_members_only_topics_and_lists_from_anonymous_readers(
    client: Client, account: Account, posts: list[Post], bulletins: list[Bulletin]
) -> None:
    board = create_list("board", account=account)
    MailingList.objects.filter(pk=board.pk).update(archive_public=False)
    secret = archive_post(board, mail(8, "Migration secrets", body="Board only."))
    html = account_search(client, "migration")
    assert "Staff" not in html
    assert reverse("bulletins:web_copy", args=[bulletins[1].pk]) not in html
    assert secret.slug not in html
    assert "Board only" not in html


def test_it_shows_members_only_topics_to_members(
    client: Client, bulletins: list[Bulletin], victor: object
) -> None:
    client.force_login(victor)
    html = account_search(client, "migration")
    assert reverse("bulletins:web_copy", args=[bulletins[1].pk]) in html
    assert "Staff Notes" in html


def test_it_never_searches_another_accounts_topics(
    client: Client, other_account: Account, bulletins: list[Bulletin]
) -> None:
    theirs = create_topic(other_account, name="Other News", code="OTHERAGENCY_1")
    found = bulletin(
        other_account, theirs, "Migration elsewhere", datetime(2015, 12, 3, tzinfo=UTC)
    )
    html = account_search(client, "migration")
    assert reverse("bulletins:web_copy", args=[found.pk]) not in html


def test_it_leaves_drafts_out_of_the_index(client: Client, account: Account, topic: Topic) -> None:
    create_bulletin(account, subject="Draft about migration", body="Not yet.", topics=[topic])
    assert "Draft about migration" not in account_search(client, "migration")
    assert not BulletinText.objects.exists()


def test_it_indexes_a_bulletin_edited_after_publishing(
    account: Account, topic: Topic, bulletins: list[Bulletin]
) -> None:
    talks = bulletins[0]
    talks.subject = "Renamed talks"
    talks.save()
    assert search("renamed", list_ids=[], topic_ids=[topic.pk]).total == 1


def test_it_ranks_a_bounded_number_of_matches(
    client: Client, wanabidii: MailingList, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(archive_search, "RANKED", 5)
    for n in range(8):
        archive_post(wanabidii, mail(n, f"Rationing notice {n}"))
    results = search_posts([wanabidii.pk], "rationing")
    assert results.more
    assert results.total == 6  # counted no further than RANKED + 1
    html = search_html(client, "rationing")
    assert "More than 5 results" in html
    assert html.count('class="search-hit"') == 5
    assert "More results" not in html


def test_it_runs_a_constant_number_of_queries_on_account_search(
    client: Client, posts: list[Post], bulletins: list[Bulletin], django_assert_num_queries: object
) -> None:
    # account, lists, topics, posts' and bulletins' candidates and highlights, posts,
    # bulletins and their topics
    with django_assert_num_queries(10):  # type: ignore[operator]
        account_search(client, "migration")
