"""Threads, the year → month tree, month pages, and the queries each page costs."""

from __future__ import annotations

from email.message import EmailMessage

import pytest
from django.test import Client
from django.urls import reverse
from pytest_django import DjangoAssertNumQueries

from tests.archive.test_archive import parse
from tidings.archive.actions import add_comment, archive_post
from tidings.archive.models import Month, Post
from tidings.lists.models import MailingList


def mail(
    n: int,
    subject: str = "Water rationing",
    date: str = "Tue, 01 Dec 2015 12:00:00 -0500",
    in_reply_to: str = "",
    references: str = "",
    body: str = "Hello.",
) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = f"Person {n} <p{n}@example.org>"
    msg["Subject"] = subject
    msg["Date"] = date
    msg["Message-ID"] = f"<m{n}@example.org>"
    if in_reply_to:
        msg["In-Reply-To"] = in_reply_to
    if references:
        msg["References"] = references
    msg.set_content(body)
    return parse(msg.as_bytes())


def thread_url(post: Post) -> str:
    return reverse("archive:thread", args=[post.mailing_list.name, post.slug])


@pytest.fixture
def conversation(wanabidii: MailingList) -> list[Post]:
    first = archive_post(wanabidii, mail(1))
    reply = archive_post(
        wanabidii,
        mail(2, "Re: Water rationing", "Tue, 01 Dec 2015 13:00:00 -0500", "<m1@example.org>"),
    )
    deeper = archive_post(
        wanabidii,
        mail(
            3,
            "Re: Water rationing",
            "Tue, 01 Dec 2015 14:00:00 -0500",
            references="<m1@example.org> <m2@example.org>",
        ),
    )
    return [first, reply, deeper]


def test_it_threads_a_reply_by_in_reply_to(conversation: list[Post]) -> None:
    first, reply, _ = conversation
    assert first.thread_id == first.pk
    assert reply.thread_id == first.pk


def test_it_threads_a_reply_by_references(conversation: list[Post]) -> None:
    assert conversation[2].thread_id == conversation[0].pk


def test_it_threads_a_reply_without_headers_by_its_subject(
    wanabidii: MailingList, conversation: list[Post]
) -> None:
    lost = archive_post(
        wanabidii, mail(4, "Re: [wanabidii] Water rationing", "Wed, 02 Dec 2015 09:00:00 -0500")
    )
    assert lost.thread_id == conversation[0].pk


def test_it_never_threads_a_new_topic_by_subject_alone(
    wanabidii: MailingList, conversation: list[Post]
) -> None:
    again = archive_post(wanabidii, mail(5, "Water rationing", "Wed, 02 Dec 2015 09:00:00 -0500"))
    assert again.thread_id == again.pk


def test_it_joins_a_reply_archived_before_its_parent(wanabidii: MailingList) -> None:
    reply = archive_post(
        wanabidii, mail(2, "Re: Late", "Tue, 01 Dec 2015 13:00:00 -0500", "<m1@example.org>")
    )
    first = archive_post(wanabidii, mail(1, "Late"))
    reply.refresh_from_db()
    assert reply.thread_id == first.pk


def test_it_shows_the_thread_in_reply_order(client: Client, conversation: list[Post]) -> None:
    html = client.get(thread_url(conversation[0])).content.decode()
    assert "Thread: Water rationing" in html
    assert html.count('class="post thread-post') == 3
    assert "depth-0" in html and "depth-1" in html and "depth-2" in html
    assert html.index("Person 1") < html.index("Person 2") < html.index("Person 3")


def test_it_links_a_post_to_its_thread(client: Client, conversation: list[Post]) -> None:
    url = reverse("archive:post", args=["wanabidii", conversation[1].slug])
    html = client.get(url).content.decode()
    assert f'href="{thread_url(conversation[1])}">View the thread (3 messages)' in html


def test_it_counts_posts_per_month(wanabidii: MailingList) -> None:
    archive_post(wanabidii, mail(1, date="Tue, 01 Dec 2015 12:00:00 -0500"))
    archive_post(wanabidii, mail(2, date="Wed, 02 Dec 2015 12:00:00 -0500"))
    # 1 December 03:00 UTC is still 30 November in New York, the list's time zone.
    archive_post(wanabidii, mail(3, date="Tue, 01 Dec 2015 03:00:00 +0000"))
    counts = {(m.year, m.month): m.count for m in Month.objects.filter(mailing_list=wanabidii)}
    assert counts == {(2015, 12): 2, (2015, 11): 1}


def test_it_shows_the_year_and_month_tree(client: Client, wanabidii: MailingList) -> None:
    archive_post(wanabidii, mail(1, date="Tue, 01 Dec 2015 12:00:00 -0500"))
    archive_post(wanabidii, mail(2, date="Thu, 05 Nov 2015 12:00:00 -0500"))
    html = client.get(reverse("archive:index", args=["wanabidii"])).content.decode()
    year_url = reverse("archive:year", args=["wanabidii", 2015])
    assert f'<a href="{year_url}">2015</a> (2)' in html
    month_url = reverse("archive:month", args=["wanabidii", 2015, 11])
    assert f'<a href="{month_url}">November</a> (1)' in html


def test_it_shows_only_the_month_on_a_month_page(client: Client, wanabidii: MailingList) -> None:
    archive_post(wanabidii, mail(1, "December news", "Tue, 01 Dec 2015 12:00:00 -0500"))
    archive_post(wanabidii, mail(2, "November news", "Thu, 05 Nov 2015 12:00:00 -0500"))
    html = client.get(reverse("archive:month", args=["wanabidii", 2015, 11])).content.decode()
    assert "November news" in html
    assert "December news" not in html
    assert "wanabidii: November 2015</h1>" in html


def test_a_year_page_shows_that_year_only(client: Client, wanabidii: MailingList) -> None:
    archive_post(wanabidii, mail(1, "Twenty sixteen", "Fri, 01 Jan 2016 12:00:00 -0500"))
    archive_post(wanabidii, mail(2, "November news", "Thu, 05 Nov 2015 12:00:00 -0500"))
    # 1 January 03:00 UTC is still 2015 in New York, the list's time zone.
    archive_post(wanabidii, mail(3, "New Year's Eve", "Fri, 01 Jan 2016 03:00:00 +0000"))
    html = client.get(reverse("archive:year", args=["wanabidii", 2015])).content.decode()
    assert "November news" in html and "New Year&#x27;s Eve" in html
    assert "Twenty sixteen" not in html
    assert "wanabidii: 2015</h1>" in html
    assert 'aria-current="page">2015</a>' in html
    assert client.get(reverse("archive:year", args=["wanabidii", 1969])).status_code == 404


def test_it_answers_404_for_a_month_that_cannot_exist(
    client: Client, wanabidii: MailingList
) -> None:
    assert client.get(reverse("archive:month", args=["wanabidii", 2015, 13])).status_code == 404


def test_it_renders_the_post_page_in_a_fixed_number_of_queries(
    client: Client,
    conversation: list[Post],
    django_assert_num_queries: DjangoAssertNumQueries,
) -> None:
    for n in range(5):
        add_comment(conversation[1], name=f"C{n}", email=f"c{n}@example.net", body="Hi")
    url = reverse("archive:post", args=["wanabidii", conversation[1].slug])
    # List, post, newer, older, comments, attachments, thread size.
    with django_assert_num_queries(7):
        assert client.get(url).status_code == 200


def test_it_renders_the_thread_page_in_a_fixed_number_of_queries(
    client: Client,
    wanabidii: MailingList,
    conversation: list[Post],
    django_assert_num_queries: DjangoAssertNumQueries,
) -> None:
    for n in range(4, 20):
        archive_post(
            wanabidii,
            mail(n, "Re: Water rationing", "Wed, 02 Dec 2015 09:00:00 -0500", "<m1@example.org>"),
        )
    # List, the first post's thread, the thread's posts.
    with django_assert_num_queries(3):
        html = client.get(thread_url(conversation[0])).content.decode()
    assert html.count('class="post thread-post') == 19
