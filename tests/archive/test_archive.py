"""The public archive: archiving accepted mail as posts, the blog pages, and readers' comments."""

from __future__ import annotations

import hashlib
import mailbox
import urllib.request
from datetime import UTC, datetime, timedelta
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default
from pathlib import Path

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django.utils.html import urlize
from pytest_django import DjangoAssertNumQueries
from pytest_django.live_server_helper import LiveServer

from tidings.archive.actions import add_comment, archive_post
from tidings.archive.models import Comment, Post
from tidings.inbound.actions import store_message
from tidings.lists.actions import create_list
from tidings.lists.models import MailingList

CORPUS = Path("/work/shared/corpus/mbox")
TITLE = "[wanabidii] Press Releases: United States and Cuba Hold Migration Talks"
BODY = (
    "The United States and Cuba held biannual Migration Talks on November 30 at the "
    "U.S. Department of State.\n\nFor further information, please contact WHA Press at "
    "https://www.state.gov/press."
)


def parse(raw: bytes) -> EmailMessage:
    msg = message_from_bytes(raw, _class=EmailMessage, policy=default)
    assert isinstance(msg, EmailMessage)
    return msg


def press_release(
    message_id: str = "<press-1@public.govdelivery.com>",
    date: str = "Tue, 01 Dec 2015 12:38:00 -0500",
    body: str = BODY,
) -> EmailMessage:
    """Return the reference press release as the list receives it: text and HTML alternatives."""
    msg = EmailMessage()
    msg["From"] = "U.S. Department of State <usstatebpa@public.govdelivery.com>"
    msg["To"] = "wanabidii@googlegroups.com"
    msg["Subject"] = TITLE
    msg["Date"] = date
    if message_id:
        msg["Message-ID"] = message_id
    msg.set_content(body)
    # As a mail client writes it: the HTML alternative links what the text names.
    msg.add_alternative(f"<html><body><p>{urlize(body)}</p></body></html>", subtype="html")
    return parse(msg.as_bytes())


def archive(mailing_list: MailingList, n: int, **kwargs: str) -> Post:
    return archive_post(mailing_list, press_release(f"<press-{n}@example.org>", **kwargs))


def index_html(client: Client, mailing_list: MailingList, page: int = 1) -> str:
    r = client.get(reverse("archive:index", args=[mailing_list.name]), {"page": page})
    assert r.status_code == 200
    return r.content.decode()


def post_url(post: Post) -> str:
    return reverse("archive:post", args=[post.mailing_list.name, post.slug])


def comment_data(**overrides: str) -> dict[str, str]:
    data = {"name": "Carol", "email": "carol@example.net", "body": "Good news.", "website": ""}
    data.update(overrides)
    return data


@pytest.fixture
def post(wanabidii: MailingList) -> Post:
    return archive_post(wanabidii, press_release())


@pytest.fixture
def held_list(account: object) -> MailingList:
    return create_list("moderated", comment_moderation=MailingList.HELD)


# Archiving


def test_it_shows_the_press_release_under_its_date_heading(
    client: Client, wanabidii: MailingList, post: Post
) -> None:
    html = index_html(client, wanabidii)
    assert "Tuesday, 1 December 2015" in html
    assert TITLE in html
    assert "held biannual Migration Talks on November 30" in html
    assert f'href="{post_url(post)}"' in html


def test_it_archives_a_message_once(wanabidii: MailingList, post: Post) -> None:
    again = archive_post(wanabidii, press_release())
    assert again.pk == post.pk
    assert Post.objects.count() == 1


def test_it_makes_the_slug_from_the_bare_message_id(post: Post) -> None:
    expected = hashlib.sha256(b"press-1@public.govdelivery.com").hexdigest()[:32]
    assert post.slug == expected
    assert post.message_id == "<press-1@public.govdelivery.com>"


def test_it_hashes_the_raw_message_when_there_is_no_message_id(wanabidii: MailingList) -> None:
    raw = press_release(message_id="").as_bytes()
    inbound = store_message(raw, mail_from="a@example.org", local_rcpts=[], captured_rcpts=[])
    post = archive_post(wanabidii, parse(raw), inbound=inbound)
    assert post.slug == hashlib.sha256(raw).hexdigest()[:32]


def test_it_reads_the_author_subject_and_date(post: Post) -> None:
    assert post.author_name == "U.S. Department of State"
    assert post.author_email == "usstatebpa@public.govdelivery.com"
    assert post.subject == TITLE
    assert post.date == datetime(2015, 12, 1, 17, 38, tzinfo=UTC)


def test_it_keeps_the_text_alternative_as_the_body(post: Post) -> None:
    assert post.body_text == BODY


def test_it_uses_the_received_time_for_a_date_in_the_future(wanabidii: MailingList) -> None:
    future = (timezone.now() + timedelta(days=30)).strftime("%a, %d %b %Y %H:%M:%S +0000")
    raw = press_release(date=future).as_bytes()
    inbound = store_message(raw, mail_from="a@example.org", local_rcpts=[], captured_rcpts=[])
    post = archive_post(wanabidii, parse(raw), inbound=inbound)
    assert post.date == inbound.received_at


def test_it_turns_an_html_only_message_into_text(wanabidii: MailingList) -> None:
    msg = EmailMessage()
    msg["From"] = "news@example.org"
    msg["Subject"] = "Only HTML"
    msg["Message-ID"] = "<html-only@example.org>"
    msg.set_content("<p>First &amp; foremost.</p><p>Second<br>line</p>", subtype="html")
    post = archive_post(wanabidii, parse(msg.as_bytes()))
    assert post.body_text == "First & foremost.\n\nSecond\nline"


def test_it_never_crashes_on_an_unknown_charset(wanabidii: MailingList) -> None:
    raw = (
        b"From: x@example.org\r\nSubject: odd\r\nMessage-ID: <odd@example.org>\r\n"
        b"Content-Type: text/plain; charset=x-no-such-charset\r\n\r\ncaf\xc3\xa9\r\n"
    )
    post = archive_post(wanabidii, parse(raw))
    assert post.body_text.startswith("café")


def test_it_never_crashes_on_a_charset_that_is_not_a_text_encoding(
    wanabidii: MailingList,
) -> None:
    raw = (
        b"From: x@example.org\r\nSubject: odd\r\nMessage-ID: <b64@example.org>\r\n"
        b"Content-Type: text/plain; charset=base64\r\n\r\nplain words\r\n"
    )
    assert archive_post(wanabidii, parse(raw)).body_text == "plain words"


def test_it_escapes_a_script_in_the_body(client: Client, wanabidii: MailingList) -> None:
    archive(wanabidii, 2, body="Hello <script>alert(1)</script> there")
    html = index_html(client, wanabidii)
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_it_makes_urls_in_the_body_clickable(client: Client, post: Post) -> None:
    html = client.get(post_url(post)).content.decode()
    assert '<a href="https://www.state.gov/press"' in html


def test_it_reads_a_latin1_message_from_the_corpus(wanabidii: MailingList) -> None:
    box = mailbox.mbox(CORPUS / "perceval/mbox_iso8859_encoding.mbox", create=False)
    post = archive_post(wanabidii, parse(box.get_bytes(box.keys()[0])))
    assert post.subject == "[ovs-dev] Remittance Advice"
    assert post.author_name == "Lucía Charlie"
    assert "payment has now been processed" in post.body_text


def test_it_reads_html_only_messages_from_the_corpus(wanabidii: MailingList) -> None:
    box = mailbox.mbox(CORPUS / "apache_ponymail/nexus-html-only.mbox", create=False)
    posts = [archive_post(wanabidii, parse(box.get_bytes(key))) for key in box.iterkeys()]
    assert [p.subject for p in posts] == [
        "Nexus: Staging Repository Dropped",
        "Nexus: Staging Completed",
        "Nexus: Promotion Completed",
    ]
    assert "The orgapachecommons-1174 staging repository has been dropped." in posts[0].body_text
    assert "<br>" not in posts[0].body_text


def test_it_archives_every_corpus_message_without_crashing(wanabidii: MailingList) -> None:
    for path in sorted(CORPUS.glob("*/*.mbox")):
        box = mailbox.mbox(path, create=False)
        for key in box.iterkeys():
            msg = parse(box.get_bytes(key))
            post = archive_post(wanabidii, msg)
            if msg.get("Subject"):
                assert post.subject, f"{path.name} #{key}"
    # Only the corpus' two messages that really are empty have no body.
    assert Post.objects.filter(mailing_list=wanabidii, body_text="").count() == 2


# Pages


def test_it_never_shows_the_author_email(client: Client, post: Post) -> None:
    html = client.get(post_url(post)).content.decode()
    assert "U.S. Department of State" in html
    assert "usstatebpa@public.govdelivery.com" not in html


def test_it_shows_the_post_page_with_its_date_and_comment_form(client: Client, post: Post) -> None:
    html = client.get(post_url(post)).content.decode()
    assert "Tuesday, 1 December 2015" in html
    assert f'<h1 class="post-title">{TITLE}</h1>' in html
    assert "<h2>Post a Comment</h2>" in html
    assert "Email (never shown)" in html


def test_it_links_newer_and_older_posts(client: Client, wanabidii: MailingList) -> None:
    older = archive(wanabidii, 1, date="Mon, 30 Nov 2015 09:00:00 -0500")
    middle = archive(wanabidii, 2, date="Tue, 01 Dec 2015 12:38:00 -0500")
    newer = archive(wanabidii, 3, date="Wed, 02 Dec 2015 09:00:00 -0500")
    html = client.get(post_url(middle)).content.decode()
    assert f'<a rel="prev" href="{post_url(newer)}">Newer Post</a>' in html
    assert f'<a rel="next" href="{post_url(older)}">Older Post</a>' in html
    assert "Home</a>" in html


def test_it_pages_ten_posts_at_a_time(client: Client, wanabidii: MailingList) -> None:
    for n in range(12):
        archive(wanabidii, n, date=f"Tue, {n + 1:02d} Dec 2015 12:00:00 -0500")
    first, second = index_html(client, wanabidii), index_html(client, wanabidii, page=2)
    assert "Saturday, 12 December 2015" in first
    assert "Older posts" in first
    assert "Newer posts" not in first
    assert "Tuesday, 1 December 2015" in second
    assert "Newer posts" in second


def test_it_shows_the_published_comment_count(
    client: Client, wanabidii: MailingList, post: Post
) -> None:
    add_comment(post, name="Carol", email="carol@example.net", body="One")
    add_comment(post, name="Dave", email="dave@example.com", body="Two")
    Comment.objects.create(post=post, name="Spam", email="s@example.com", body="x", status="held")
    assert "2 comments" in index_html(client, wanabidii)


def test_it_lists_posts_without_a_query_per_post(
    client: Client, wanabidii: MailingList, django_assert_max_num_queries: DjangoAssertNumQueries
) -> None:
    for n in range(15):
        post = archive(wanabidii, n, date=f"Tue, {n + 1:02d} Dec 2015 12:00:00 -0500")
        add_comment(post, name="Carol", email="carol@example.net", body="Thanks")
    # The list, the page count, the page of posts, their comment counts, the month tree.
    with django_assert_max_num_queries(5):
        html = index_html(client, wanabidii)
    assert html.count("1 comment<") == 10


def test_it_hides_a_private_archive(client: Client, wanabidii: MailingList, post: Post) -> None:
    # update(): save() may derive archive_public from the list's visibility setting.
    MailingList.objects.filter(pk=wanabidii.pk).update(archive_public=False)
    assert client.get(reverse("archive:index", args=["wanabidii"])).status_code == 404
    assert client.get(post_url(post)).status_code == 404


def test_it_answers_404_for_an_unknown_list(client: Client, db: None) -> None:
    assert client.get(reverse("archive:index", args=["nosuchlist"])).status_code == 404


def test_it_serves_the_index_over_http(
    live_server: LiveServer, transactional_db: None, wanabidii: MailingList
) -> None:
    archive_post(wanabidii, press_release())
    url = live_server.url + reverse("archive:index", args=["wanabidii"])
    with urllib.request.urlopen(url, timeout=10) as response:
        html = response.read().decode()
    assert response.status == 200
    assert "Tuesday, 1 December 2015" in html
    assert TITLE in html


# Comments


def test_it_publishes_a_comment_on_an_open_list(client: Client, post: Post) -> None:
    r = client.post(post_url(post), comment_data(), follow=True)
    assert r.redirect_chain[0] == (post_url(post) + "#comments", 302)
    html = r.content.decode()
    assert "your comment has been published" in html
    assert "Good news." in html
    assert Comment.objects.get().status == Comment.PUBLISHED


def test_it_holds_a_comment_on_a_moderated_list(client: Client, held_list: MailingList) -> None:
    post = archive_post(held_list, press_release())
    r = client.post(post_url(post), comment_data(body="Please review me."), follow=True)
    html = r.content.decode()
    assert "your comment is held for review" in html
    assert "Please review me." not in html
    assert Comment.objects.get().status == Comment.HELD


def test_it_never_shows_a_commenter_email(client: Client, post: Post) -> None:
    add_comment(post, name="Carol", email="carol@example.net", body="Hi")
    assert "carol@example.net" not in client.get(post_url(post)).content.decode()


def test_it_escapes_comments(client: Client, post: Post) -> None:
    add_comment(post, name="<b>Carol</b>", email="carol@example.net", body="<script>x</script>")
    html = client.get(post_url(post)).content.decode()
    assert "<script>x</script>" not in html
    assert "&lt;b&gt;Carol&lt;/b&gt;" in html


def test_it_silently_drops_a_comment_with_the_honeypot_filled(client: Client, post: Post) -> None:
    r = client.post(post_url(post), comment_data(website="http://spam.example"))
    assert r.status_code == 302
    assert not Comment.objects.exists()


def test_it_redisplays_an_invalid_comment_with_400(client: Client, post: Post) -> None:
    r = client.post(post_url(post), comment_data(email="not-an-address", body=""))
    assert r.status_code == 400
    assert 'class="errorlist' in r.content.decode()
    assert not Comment.objects.exists()


def test_it_requires_the_csrf_token(post: Post) -> None:
    client = Client(enforce_csrf_checks=True)
    assert client.post(post_url(post), comment_data()).status_code == 403
    assert not Comment.objects.exists()


def test_it_rejects_a_comment_without_a_valid_email(post: Post) -> None:
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as e:
        add_comment(post, name="Carol", email="carol", body="Hi")
    assert "email" in e.value.message_dict


def test_it_rejects_an_overlong_comment(post: Post) -> None:
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as e:
        add_comment(post, name="Carol", email="carol@example.net", body="x" * 10001)
    assert "body" in e.value.message_dict


def test_it_serves_the_stylesheet_for_a_year_under_a_versioned_url(client, settings):  # type: ignore[no-untyped-def]
    assert settings.STATIC_URL.startswith("/static/") and len(settings.STATIC_URL) == 21
    response = client.get(f"{settings.STATIC_URL}tidings.css")
    assert response.status_code == 200
    assert b"font" in b"".join(response.streaming_content)
    assert "max-age=31536000" in response["Cache-Control"]


def test_it_refreshes_the_planners_statistics_after_a_big_import(
    wanabidii: MailingList, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from django.db import connection

    from tidings.archive import importer

    monkeypatch.setattr(importer, "ANALYZE_AFTER", 2)
    box = mailbox.mbox(str(tmp_path / "two.mbox"))
    for n in (1, 2):
        box.add(press_release(message_id=f"<stats-{n}@example.org>"))
    box.flush()
    assert importer.import_mbox(wanabidii, tmp_path / "two.mbox").imported == 2
    if connection.vendor == "postgresql":  # SQLite keeps no statistics unless asked
        with connection.cursor() as cursor:
            cursor.execute("SELECT reltuples FROM pg_class WHERE relname = 'archive_post'")
            assert cursor.fetchone()[0] == 2
