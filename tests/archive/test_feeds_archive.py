"""Atom feeds of a list's posts and of a post's comments."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest
from django.test import Client
from django.urls import reverse

from tests.archive.test_archive import TITLE, post_url, press_release
from tidings.archive.actions import add_comment, archive_post
from tidings.archive.models import Comment, Post
from tidings.lists.models import MailingList

ATOM = "{http://www.w3.org/2005/Atom}"


@pytest.fixture
def post(wanabidii: MailingList) -> Post:
    return archive_post(wanabidii, press_release())


def atom(client: Client, url: str) -> ET.Element:
    response = client.get(url)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/atom+xml")
    return ET.fromstring(response.content)  # noqa: S314 - our own feed


def assert_valid_atom(feed: ET.Element) -> None:
    """Check what RFC 4287 requires: feed and entry id, title, updated; authors; links."""
    assert feed.tag == f"{ATOM}feed"
    for name in ("id", "title", "updated"):
        assert feed.find(f"{ATOM}{name}") is not None, name
    assert feed.find(f"{ATOM}link[@rel='self']") is not None
    for entry in feed.findall(f"{ATOM}entry"):
        for name in ("id", "title", "updated"):
            assert entry.find(f"{ATOM}{name}") is not None, name
        assert entry.find(f"{ATOM}author/{ATOM}name") is not None
        assert entry.find(f"{ATOM}link[@rel='alternate']") is not None
        assert entry.find(f"{ATOM}summary") is None or entry.find(f"{ATOM}summary").text


def test_it_serves_a_valid_atom_feed_of_a_list(
    client: Client, wanabidii: MailingList, post: Post
) -> None:
    feed = atom(client, reverse("archive:feed", args=["wanabidii"]))
    assert_valid_atom(feed)
    (entry,) = feed.findall(f"{ATOM}entry")
    assert entry.findtext(f"{ATOM}title") == TITLE
    assert entry.findtext(f"{ATOM}updated", "").startswith("2015-12-01T17:38:00")
    link = entry.find(f"{ATOM}link[@rel='alternate']")
    assert link is not None and link.get("href", "").endswith(post_url(post))
    assert "held biannual Migration Talks" in entry.findtext(f"{ATOM}content", "")


def test_it_serves_a_valid_atom_feed_of_a_posts_comments(client: Client, post: Post) -> None:
    add_comment(post, name="Carol", email="carol@example.net", body="Asante.")
    Comment.objects.create(post=post, name="Spam", email="s@example.com", body="x", status="held")
    feed = atom(client, reverse("archive:comments_feed", args=["wanabidii", post.slug]))
    assert_valid_atom(feed)
    (entry,) = feed.findall(f"{ATOM}entry")
    assert entry.findtext(f"{ATOM}author/{ATOM}name") == "Carol"
    assert "carol@example.net" not in ET.tostring(feed, encoding="unicode")


def test_it_links_the_feeds_from_the_pages(client: Client, post: Post) -> None:
    index = client.get(reverse("archive:index", args=["wanabidii"])).content.decode()
    assert "Subscribe to: Posts (Atom)" in index
    assert 'rel="alternate" type="application/atom+xml"' in index
    page = client.get(post_url(post)).content.decode()
    assert "Subscribe to: Post Comments (Atom)" in page
