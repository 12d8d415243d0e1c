"""Moderators hear about held posts at once and daily; unmoderated posts expire after 14 days."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from tidings.delivery.models import Send
from tidings.inbound.actions import store_message
from tidings.inbound.router import route_one
from tidings.lists.jobs import expire_held, send_summaries
from tidings.lists.models import ListMessage

pytestmark = pytest.mark.django_db

LIST = "wanabidii@lists.tidings.localhost"


def hold(subject: str = "Offer", mail_from: str = "mallory@example.com", extra: str = "") -> None:
    raw = (
        f"From: {mail_from or 'robot@example.com'}\r\nTo: {LIST}\r\nSubject: {subject}\r\n{extra}"
        f"Message-ID: <{subject}@example.com>\r\n\r\nBuy.\r\n"
    ).encode()
    store_message(raw, mail_from=mail_from, local_rcpts=[LIST], captured_rcpts=[])
    assert route_one()


def notices_to(address: str) -> list[bytes]:
    sends = Send.objects.filter(kind=Send.NOTICE, deliveries__address=address).order_by("pk")
    return [bytes(s.message) for s in sends]


def test_moderators_get_a_notice_for_each_held_post(wanabidii, alice, erin):  # type: ignore[no-untyped-def]
    hold()
    (notice,) = notices_to("alice@example.gov")
    assert b"not-on-accept-list" in notice
    assert b"/console/USSTATEBPA/lists/wanabidii/queue/" in notice
    assert notices_to("erin@example.gov") == []  # authors do not moderate


def test_an_accepted_post_sends_no_moderator_notice(wanabidii, alice):  # type: ignore[no-untyped-def]
    raw = (
        f"From: usstatebpa@tidings.localhost\r\nTo: {LIST}\r\nSubject: Hi\r\n\r\nHello.\r\n"
    ).encode()
    store_message(raw, mail_from="usstatebpa@tidings.localhost", local_rcpts=[LIST],
                  captured_rcpts=[])  # fmt: skip
    assert route_one()
    assert notices_to("alice@example.gov") == []


def test_the_daily_summary_lists_every_waiting_post(wanabidii, alice):  # type: ignore[no-untyped-def]
    hold("One")
    hold("Two")
    assert send_summaries() == 1
    summary = notices_to("alice@example.gov")[-1]
    assert b"2 posts to wanabidii@lists.tidings.localhost are waiting" in summary
    assert b"One" in summary and b"Two" in summary


def test_no_summary_when_nothing_waits(wanabidii, alice):  # type: ignore[no-untyped-def]
    assert send_summaries() == 0


def test_held_posts_expire_after_14_days_and_the_author_is_told(wanabidii):  # type: ignore[no-untyped-def]
    hold()
    ListMessage.objects.update(created=timezone.now() - timedelta(days=15))
    assert expire_held() == 1
    record = ListMessage.objects.get()
    assert (record.status, record.rule) == (ListMessage.EXPIRED, "expired")
    held_notice, notice = notices_to("mallory@example.com")  # held, then expired
    assert b"waiting for a moderator" in held_notice.replace(b"\r\n ", b" ")
    assert b"nobody reviewed it within 14 days" in notice


def test_a_recent_held_post_does_not_expire(wanabidii):  # type: ignore[no-untyped-def]
    hold()
    ListMessage.objects.update(created=timezone.now() - timedelta(days=13))
    assert expire_held() == 0


def test_an_expired_robot_post_gets_no_notice(wanabidii):  # type: ignore[no-untyped-def]
    hold(mail_from="")
    ListMessage.objects.update(created=timezone.now() - timedelta(days=15))
    assert expire_held() == 1
    assert notices_to("robot@example.com") == []
