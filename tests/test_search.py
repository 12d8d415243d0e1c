"""Full-text search: one interface over PostgreSQL full-text search and SQLite FTS5."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse

from tests.test_archive_threads import mail
from tidings.archive.actions import archive_post
from tidings.archive.models import Post
from tidings.archive.search import search_posts
from tidings.lists.actions import create_list
from tidings.lists.models import MailingList


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
