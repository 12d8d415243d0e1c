"""The moderation queue: approve, approve and accept the sender, reject with a notice, discard."""

from __future__ import annotations

import smtplib

import pytest

from tests.smtp_helpers import captured_for, text_part, tidings_smtpd
from tidings.delivery.models import Delivery, Send
from tidings.inbound.actions import store_message
from tidings.inbound.router import route_one
from tidings.lists.actions import ModerationError, approve_post, discard_post, reject_post
from tidings.lists.models import ListMessage
from tidings.ops.worker import drain

pytestmark = pytest.mark.django_db

LIST = "wanabidii@lists.tidings.localhost"


def spam(n: int = 1, sender: str = "mallory@example.com", extra: str = "") -> bytes:
    return (
        f"From: {sender}\r\nTo: {LIST}\r\nSubject: Offer {n}\r\n{extra}"
        f"Message-ID: <offer{n}@example.com>\r\n\r\nA message for the members.\r\n"
    ).encode()


def held(raw: bytes, mail_from: str = "mallory@example.com") -> ListMessage:
    store_message(raw, mail_from=mail_from, local_rcpts=[LIST], captured_rcpts=[])
    assert route_one()
    record = ListMessage.objects.order_by("-id").first()
    assert record is not None
    assert record.status == ListMessage.HELD
    return record


def test_it_relays_an_approved_post_to_every_member(wanabidii):  # type: ignore[no-untyped-def]
    approve_post(held(spam()), moderator="carol@example.net")
    addresses = Delivery.objects.filter(send__kind=Send.LIST_POST).values_list("address", flat=True)
    assert sorted(addresses) == ["carol@example.net", "dave@example.com"]


def test_it_records_who_approved_and_why_it_was_held(wanabidii):  # type: ignore[no-untyped-def]
    record = approve_post(held(spam()), moderator="carol@example.net")
    record.refresh_from_db()
    assert (record.status, record.rule) == (ListMessage.ACCEPTED, "approved")
    assert record.reason.startswith("Approved by carol@example.net; held by not-on-accept-list:")


def test_it_relays_a_post_approved_twice_only_once(wanabidii):  # type: ignore[no-untyped-def]
    record = held(spam())
    approve_post(ListMessage.objects.get(pk=record.pk))
    with pytest.raises(ModerationError, match="no longer held"):
        approve_post(record)
    assert Send.objects.filter(kind=Send.LIST_POST).count() == 1


def test_it_accepts_the_senders_next_post_after_approve_and_accept(wanabidii):  # type: ignore[no-untyped-def]
    approve_post(held(spam(1)), accept_sender=True)
    store_message(spam(2), mail_from="mallory@example.com", local_rcpts=[LIST], captured_rcpts=[])
    assert route_one()
    latest = ListMessage.objects.order_by("-id")[0]
    assert (latest.status, latest.rule) == (ListMessage.ACCEPTED, "accept-list")


def test_it_refuses_to_approve_a_malformed_post(wanabidii):  # type: ignore[no-untyped-def]
    store_message(b"\r\n", mail_from="x@example.com", local_rcpts=[LIST], captured_rcpts=[])
    assert route_one()
    with pytest.raises(ModerationError, match="can't be relayed"):
        approve_post(ListMessage.objects.get())
    assert ListMessage.objects.get().status == ListMessage.HELD


def test_it_queues_a_rejection_notice_with_the_reason(wanabidii):  # type: ignore[no-untyped-def]
    record = held(spam())
    told = Delivery.objects.filter(send__kind=Send.NOTICE).count()  # the hold's notices
    reject_post(record, "Advertising is off topic here.")
    (delivery,) = Delivery.objects.filter(send__kind=Send.NOTICE).order_by("pk")[told:]
    assert delivery.address == "mallory@example.com"
    assert b"Advertising is off topic here." in bytes(delivery.send.message)
    assert not Send.objects.filter(kind=Send.LIST_POST).exists()


def test_it_sends_no_rejection_notice_to_a_null_sender(wanabidii):  # type: ignore[no-untyped-def]
    record = reject_post(held(spam(), mail_from=""), "No.")
    assert record.status == ListMessage.REJECTED
    assert not Send.objects.exists()


def test_it_sends_no_rejection_notice_to_an_auto_submitted_post(wanabidii):  # type: ignore[no-untyped-def]
    reject_post(held(spam(extra="Auto-Submitted: auto-replied\r\n")), "No.")
    assert not Send.objects.exists()


def test_it_discards_a_held_post_silently(wanabidii):  # type: ignore[no-untyped-def]
    record = held(spam())
    sends = Send.objects.count()  # the hold's notices
    record = discard_post(record)
    record.refresh_from_db()
    assert (record.status, record.rule) == (ListMessage.DISCARDED, "discarded")
    assert Send.objects.count() == sends


def test_it_cannot_reject_a_post_already_discarded(wanabidii):  # type: ignore[no-untyped-def]
    record = discard_post(held(spam()))
    with pytest.raises(ModerationError):
        reject_post(record, "too late")


@pytest.mark.django_db(transaction=True)
def test_it_delivers_an_approved_smtp_post_to_the_members_outbox(settings, wanabidii):  # type: ignore[no-untyped-def]
    with tidings_smtpd(settings) as port:
        with smtplib.SMTP("127.0.0.1", port) as client:
            client.sendmail("mallory@example.com", [LIST], spam())
        drain()
        approve_post(ListMessage.objects.get(status=ListMessage.HELD))
        drain()
    (received,) = captured_for("dave@example.com")
    assert received["Subject"] == "[wanabidii] Offer 1"


@pytest.mark.django_db(transaction=True)
def test_it_delivers_a_rejection_notice_over_smtp(settings, wanabidii):  # type: ignore[no-untyped-def]
    with tidings_smtpd(settings) as port:
        with smtplib.SMTP("127.0.0.1", port) as client:
            client.sendmail("mallory@example.com", [LIST], spam())
        drain()
        reject_post(ListMessage.objects.get(status=ListMessage.HELD), "Off topic.")
        drain()
    _held, notice = captured_for("mallory@example.com")
    assert notice["Subject"] == f"Your post to {LIST} was rejected: Offer 1"
    assert "Off topic." in text_part(notice)
    assert captured_for("dave@example.com") == []
