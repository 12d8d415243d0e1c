"""The public archive never carries a working personal link.

A bulletin to a list Tidings hosts is a shared copy (no manage, unsubscribe or one-click link,
no tracking); and whatever personal link still reaches the archive is neutralized when shown.
"""

from __future__ import annotations

import re
import urllib.request
from email import message_from_bytes
from email.policy import default

import pytest
from django.test import Client

from tests.e2e.test_chain import BODY, PUBLISHED, TITLE
from tests.smtp_helpers import captured_for, text_part, tidings_smtpd
from tidings.archive.actions import archive_post
from tidings.archive.models import Post
from tidings.archive.personal import REMOVED, neutralize_html, neutralize_text
from tidings.bulletins.actions import create_bulletin, publish_bulletin
from tidings.ops.worker import drain
from tidings.subscribers.actions import mark_distribution_list, subscribe
from tidings.tracking.models import Link

PERSONAL = ("/subscriptions/manage/", "/subscriptions/unsubscribe/", "/subscriptions/one-click/",
            "/t/c/", "/t/o/")  # fmt: skip


@pytest.fixture
def smtp_port(settings, live_server):  # type: ignore[no-untyped-def]
    settings.BASE_URL = live_server.url
    with tidings_smtpd(settings) as port:
        yield port


@pytest.mark.django_db(transaction=True)
def test_a_bulletin_to_a_hosted_list_is_a_shared_copy_all_the_way_to_the_archive(  # type: ignore[no-untyped-def]
    account, topic, wanabidii, bob, smtp_port, live_server
):
    bulletin = create_bulletin(account, subject=TITLE.strip(), body=BODY.strip(), topics=[topic])
    publish_bulletin(bulletin, published_at=PUBLISHED)
    drain()

    member_copy = captured_for("carol@example.net")[0]
    relayed = member_copy.as_string()
    for path in PERSONAL:
        assert path not in relayed, path
    assert f"/subscriptions/{account.code}/" in text_part(member_copy)
    # bob, a person, still gets his own links.
    bobs = captured_for("bob@example.org")[0].as_string()
    assert "/subscriptions/manage/" in bobs and "/t/o/" in bobs

    index = urllib.request.urlopen(f"{live_server.url}/lists/wanabidii/", timeout=10).read()
    permalink = re.search(rb'href="(/lists/wanabidii/[^"]+/)"', index)
    assert permalink is not None
    for url in (permalink.group(1).decode(), "/lists/wanabidii/feed/"):
        page = urllib.request.urlopen(live_server.url + url, timeout=10).read().decode()
        for path in PERSONAL:
            assert path not in page, (url, path)


@pytest.mark.django_db(transaction=True)
def test_a_subscriber_marked_as_a_distribution_list_gets_a_shared_copy(  # type: ignore[no-untyped-def]
    account, topic, smtp_port
):
    team = subscribe(account, "team@example.org", [topic], confirmed=True)
    mark_distribution_list(team, True)
    publish_bulletin(
        create_bulletin(account, subject="News", body="Hello **all**.", topics=[topic])
    )
    drain()
    copy = captured_for("team@example.org")[0].as_string()
    for path in PERSONAL:
        assert path not in copy, path


@pytest.mark.django_db
def test_links_already_in_the_archive_are_neutralized_on_every_page(  # type: ignore[no-untyped-def]
    client: Client, account, topic, wanabidii, settings
):
    bulletin = create_bulletin(account, subject="Old", body="x", topics=[topic])
    link = Link.objects.create(bulletin=bulletin, position=1, url="https://www.state.gov/talks")
    base = settings.BASE_URL
    text = (
        f"Read it: {base}/t/c/AbC123.sig/{link.pk}/\n\n"
        f"Manage Subscriptions: {base}/subscriptions/manage/SiGnEd:token/\n"
        f"Unsubscribe: {base}/subscriptions/unsubscribe/SiGnEd:token/\n"
    )
    raw = (
        "From: usstatebpa@tidings.localhost\r\nTo: wanabidii@lists.tidings.localhost\r\n"
        "Subject: Old release\r\nMessage-ID: <old@example.gov>\r\n"
        "Date: Tue, 01 Dec 2015 12:38:00 -0500\r\n\r\n" + text.replace("\n", "\r\n")
    ).encode()
    archive_post(wanabidii, message_from_bytes(raw, policy=default))  # type: ignore[arg-type]
    post = Post.objects.get()
    index = client.get("/lists/wanabidii/").content.decode()
    permalink = re.search(r'href="(/lists/wanabidii/[^"]+/)"', index)
    assert permalink is not None
    page = client.get(permalink.group(1)).content.decode()
    assert post.subject in page
    feed = client.get("/lists/wanabidii/feed/").content.decode()
    for shown in (page, feed):
        assert "https://www.state.gov/talks" in shown
        assert "/t/c/" not in shown
        assert "/subscriptions/manage/" not in shown
        assert "/subscriptions/unsubscribe/" not in shown
        assert REMOVED in shown


def test_html_anchors_keep_their_text_and_lose_their_personal_target() -> None:
    html = (
        '<p><a href="https://news.example.gov/subscriptions/one-click/tok/">Leave</a> '
        '<a href="https://news.example.gov/t/o/tok.gif">[image]</a> '
        '<a href="https://www.state.gov/">State</a></p>'
    )
    shown = neutralize_html(html)
    assert "one-click" not in shown and "/t/o/" not in shown
    assert f"Leave {REMOVED}" in shown
    assert '<a href="https://www.state.gov/">State</a>' in shown
    assert neutralize_text("no links here") == "no links here"
