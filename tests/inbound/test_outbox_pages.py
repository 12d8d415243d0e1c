"""The captured outbox: staff read mail that Tidings kept instead of sending it out."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse

from tidings.inbound.actions import store_message
from tidings.inbound.models import InboundMessage

RAW = (
    b"From: U.S. Department of State <usstatebpa@tidings.localhost>\r\n"
    b"To: wanabidii@googlegroups.com\r\n"
    b"Subject: Press Releases: United States and Cuba Hold Migration Talks\r\n"
    b"Date: Tue, 01 Dec 2015 12:38:00 -0500\r\n"
    b"Message-ID: <press-1@tidings.localhost>\r\n"
    b"\r\n"
    b"The United States and Cuba held <b>biannual</b> Migration Talks.\r\n"
)


@pytest.fixture
def captured(db: None) -> InboundMessage:
    return store_message(
        RAW,
        mail_from="bounces@tidings.localhost",
        local_rcpts=[],
        captured_rcpts=["wanabidii@googlegroups.com"],
    )


@pytest.fixture
def routed(db: None) -> InboundMessage:
    raw = RAW.replace(b"Press Releases", b"Local only")
    return store_message(
        raw, mail_from="x@example.org", local_rcpts=["list@tidings.localhost"], captured_rcpts=[]
    )


@pytest.fixture
def staff(client: Client, db: None) -> Client:
    user = User.objects.create_user("carol", password="x", is_staff=True)
    client.force_login(user)
    return client


def test_it_sends_anonymous_visitors_to_the_login_page(client: Client, db: None) -> None:
    r = client.get(reverse("inbound:outbox"))
    assert r.status_code == 302
    assert r["Location"].startswith(reverse("console:login"))


def test_it_refuses_users_who_are_not_staff(client: Client, captured: InboundMessage) -> None:
    client.force_login(User.objects.create_user("mallory", password="x"))
    r = client.get(reverse("inbound:raw", args=[captured.pk]))
    assert r.status_code == 404


def test_it_lists_captured_mail(staff: Client, captured: InboundMessage) -> None:
    html = staff.get(reverse("inbound:outbox")).content.decode()
    assert "Press Releases: United States and Cuba Hold Migration Talks" in html
    assert "wanabidii@googlegroups.com" in html
    assert "bounces@tidings.localhost" in html
    assert f'href="{reverse("inbound:message", args=[captured.pk])}"' in html


def test_it_leaves_routed_mail_out_of_the_outbox(staff: Client, routed: InboundMessage) -> None:
    html = staff.get(reverse("inbound:outbox")).content.decode()
    assert "Local only" not in html
    assert "No mail has been captured." in html


def test_it_shows_the_source_escaped(staff: Client, captured: InboundMessage) -> None:
    r = staff.get(reverse("inbound:message", args=[captured.pk]))
    html = r.content.decode()
    assert r.status_code == 200
    assert "held &lt;b&gt;biannual&lt;/b&gt; Migration Talks" in html
    assert "&lt;press-1@tidings.localhost&gt;" in html


def test_it_serves_the_raw_message_as_a_download(staff: Client, captured: InboundMessage) -> None:
    r = staff.get(reverse("inbound:raw", args=[captured.pk]))
    assert r.status_code == 200
    assert r.content == RAW
    assert r["Content-Type"] == "message/rfc822"
    assert r["Content-Disposition"] == f'attachment; filename="message-{captured.pk}.eml"'
    assert r["X-Content-Type-Options"] == "nosniff"


def test_it_answers_404_for_mail_that_was_not_captured(
    staff: Client, routed: InboundMessage
) -> None:
    assert staff.get(reverse("inbound:message", args=[routed.pk])).status_code == 404
    assert staff.get(reverse("inbound:raw", args=[routed.pk])).status_code == 404


def test_it_shows_undecodable_bytes_without_failing(staff: Client, db: None) -> None:
    raw = RAW.replace(b"Migration Talks.", b"Migration Talks \xff\xfe.")
    inbound = store_message(raw, mail_from="", local_rcpts=[], captured_rcpts=["a@example.org"])
    html = staff.get(reverse("inbound:message", args=[inbound.pk])).content.decode()
    assert "Migration Talks \ufffd\ufffd." in html
