"""Rendering archived mail safely: folded quotes, sanitized HTML, attachments, hidden addresses,
and a Content-Security-Policy on every archive page."""

from __future__ import annotations

from email.message import EmailMessage

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse

from tests.archive.test_archive import parse, post_url, press_release
from tidings.archive.actions import archive_post
from tidings.archive.models import Post
from tidings.archive.render import render_text, sanitize_mail_html
from tidings.lib.security import POLICY
from tidings.lists.models import MailingList

HOSTILE_HTML = (
    "<p onclick='alert(1)'>Hi <b>there</b></p><script>alert(2)</script>"
    "<a href='javascript:alert(3)'>click</a><a href='data:text/html,x'>data</a>"
    "<img src='https://tracker.example/pixel.gif' alt='logo' onerror='alert(4)'>"
    "<style>body{background:url(https://tracker.example/css)}</style>"
    "<div style='position:fixed;top:0'>overlay</div><iframe src='https://evil.example'></iframe>"
    "<form action='https://evil.example'><input name=x></form>"
)


@pytest.fixture
def post(wanabidii: MailingList) -> Post:
    return archive_post(wanabidii, press_release())


def html_mail(html: str, message_id: str = "<html@example.org>") -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = "Sender <sender@example.org>"
    msg["Subject"] = "An HTML newsletter"
    msg["Message-ID"] = message_id
    msg.set_content(html, subtype="html")
    return parse(msg.as_bytes())


def with_attachment(filename: str, data: bytes, maintype: str, subtype: str) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = "Sender <sender@example.org>"
    msg["Subject"] = "The minutes"
    msg["Message-ID"] = "<attach@example.org>"
    msg.set_content("Minutes attached.")
    msg.add_attachment(data, maintype=maintype, subtype=subtype, filename=filename)
    return parse(msg.as_bytes())


def test_it_folds_quoted_text() -> None:
    html = render_text("I agree.\n\nOn Monday Bob wrote:\n> We should meet.\n> Soon.\n\nThanks")
    assert '<details class="quote"><summary>Show quoted text</summary>' in html
    assert "<blockquote><p>We should meet.<br>Soon.</p></blockquote>" in html
    assert html.index("I agree.") < html.index("<details") < html.index("Thanks")


def test_it_removes_scripts_handlers_and_unsafe_urls_from_html_mail() -> None:
    clean = sanitize_mail_html(HOSTILE_HTML)
    for bad in ("<script", "onclick", "onerror", "javascript:", "data:", "<style", "style=",
                "<iframe", "<form", "<input", "<img"):  # fmt: skip
        assert bad not in clean, bad
    assert "<b>there</b>" in clean


def test_it_turns_remote_images_into_links_the_reader_may_follow() -> None:
    clean = sanitize_mail_html(HOSTILE_HTML)
    assert '<a href="https://tracker.example/pixel.gif"' in clean
    assert "[image: logo]</a>" in clean


def test_it_shows_an_html_only_message_as_sanitized_html(
    client: Client, wanabidii: MailingList
) -> None:
    post = archive_post(wanabidii, html_mail(HOSTILE_HTML))
    html = client.get(post_url(post)).content.decode()
    assert "<b>there</b>" in html
    assert "alert(" not in html


def test_it_lists_attachments_and_serves_them_as_downloads(
    client: Client, wanabidii: MailingList
) -> None:
    post = archive_post(
        wanabidii, with_attachment("minutes.html", b"<script>alert(1)</script>", "text", "html")
    )
    page = client.get(post_url(post)).content.decode()
    url = reverse("archive:attachment", args=["wanabidii", post.slug, 1])
    assert f'<a href="{url}" download>minutes.html</a>' in page
    response = client.get(url)
    assert response.content == b"<script>alert(1)</script>"
    assert response["Content-Type"] == "application/octet-stream"
    assert response["Content-Disposition"] == 'attachment; filename="minutes.html"'
    assert response["X-Content-Type-Options"] == "nosniff"


def test_it_strips_directories_and_quotes_from_attachment_names(wanabidii: MailingList) -> None:
    post = archive_post(
        wanabidii, with_attachment('../../etc/pass"wd<>.txt', b"x", "text", "plain")
    )
    assert post.attachments.get().filename == "pass_wd_.txt"


def test_it_hides_addresses_from_anonymous_readers(client: Client, wanabidii: MailingList) -> None:
    post = archive_post(
        wanabidii,
        press_release(body="Write to jambo.bwana@example.org or see https://example.org/x."),
    )
    html = client.get(post_url(post)).content.decode()
    assert "jambo.bwana@example.org" not in html
    assert "jam…@example.org" in html
    assert 'href="https://example.org/x"' in html


def test_it_shows_addresses_to_logged_in_readers(client: Client, wanabidii: MailingList) -> None:
    post = archive_post(wanabidii, press_release(body="Write to jambo.bwana@example.org."))
    client.force_login(User.objects.create_user("reader", "reader@example.org", "x"))
    html = client.get(post_url(post)).content.decode()
    assert 'href="mailto:jambo.bwana@example.org"' in html


@pytest.mark.parametrize(
    "path",
    [
        "/lists/wanabidii/",
        "/lists/wanabidii/search/?q=cuba",
        "/lists/wanabidii/feed/",
        "/lists/wanabidii/2015/12/",
        "/lists/nosuchlist/",
    ],
)
def test_it_sets_a_content_security_policy_on_every_archive_page(
    client: Client, post: Post, path: str
) -> None:
    response = client.get(path)
    assert response["Content-Security-Policy"] == POLICY
    assert "script-src" not in POLICY and "default-src 'none'" in POLICY
    assert response["X-Content-Type-Options"] == "nosniff"


def test_it_sets_the_policy_on_post_and_thread_pages(client: Client, post: Post) -> None:
    for url in (post_url(post), reverse("archive:thread", args=["wanabidii", post.slug])):
        assert client.get(url)["Content-Security-Policy"] == POLICY


def test_it_links_urls_and_bare_domains_and_escapes_the_rest() -> None:
    html = render_text("See https://www.state.gov/press or state.gov.\n\nA <b> & C")
    assert '<a href="https://www.state.gov/press" rel="nofollow">' in html
    assert '<a href="http://state.gov" rel="nofollow">state.gov</a>' in html
    assert "A &lt;b&gt; &amp; C" in html
