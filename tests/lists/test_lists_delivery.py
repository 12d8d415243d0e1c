"""What members get: List-* headers pointing at the commands, one-click unsubscribe, delivery
modes (each message, daily digest, no mail), the Reply-To and attachment policies."""

from __future__ import annotations

from datetime import timedelta
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default

import pytest
from django.utils import timezone

from tidings.delivery.models import Delivery, Send
from tidings.inbound.actions import store_message
from tidings.inbound.router import route_one
from tidings.lists.digests import send_digest
from tidings.lists.models import ListMessage, MailingList, Member
from tidings.lists.relay import personalize

pytestmark = pytest.mark.django_db

LIST = "wanabidii@lists.tidings.localhost"
SENDER = "usstatebpa@tidings.localhost"


def post(n: int = 1, extra: str = "", body: str = "Hello members.\r\n") -> bytes:
    return (
        f"From: State <{SENDER}>\r\nTo: {LIST}\r\nSubject: Talks {n}\r\n"
        f"Message-ID: <p{n}@tidings.localhost>\r\n{extra}\r\n{body}"
    ).encode()


def deliver(raw: bytes) -> None:
    store_message(raw, mail_from=SENDER, local_rcpts=[LIST], captured_rcpts=[])
    assert route_one()


def relayed() -> EmailMessage:
    send = Send.objects.filter(kind=Send.LIST_POST).latest("pk")
    msg = message_from_bytes(bytes(send.message), policy=default)
    assert isinstance(msg, EmailMessage)
    return msg


def test_list_headers_point_at_the_command_addresses(wanabidii):  # type: ignore[no-untyped-def]
    deliver(post())
    msg = relayed()
    assert msg["List-Subscribe"] == (
        "<mailto:wanabidii-join@lists.tidings.localhost>, "
        "<http://127.0.0.1:8000/lists/wanabidii/join/>"
    )
    assert msg["List-Unsubscribe"] == "<mailto:wanabidii-leave@lists.tidings.localhost>"
    assert msg["List-Help"].startswith("<mailto:wanabidii-request@lists.tidings.localhost?")


def test_personalize_adds_a_signed_one_click_link_per_member(wanabidii, client):  # type: ignore[no-untyped-def]
    deliver(post())
    data = bytes(Send.objects.get(kind=Send.LIST_POST).message)
    mine = message_from_bytes(personalize(data, wanabidii.pk, "carol@example.net"))
    assert mine["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    url = mine["List-Unsubscribe"].split("<", 1)[1].split(">", 1)[0]
    response = client.post(
        url.removeprefix("http://127.0.0.1:8000"), {"List-Unsubscribe": "One-Click"}
    )
    assert response.status_code == 200
    assert list(wanabidii.members.values_list("address", flat=True)) == ["dave@example.com"]


def test_a_tampered_one_click_link_is_refused(wanabidii, client):  # type: ignore[no-untyped-def]
    response = client.post("/lists/wanabidii/unsubscribe/forged:token/")
    assert response.status_code == 400
    assert wanabidii.members.count() == 2


def test_the_relay_skips_digest_and_nomail_members(wanabidii):  # type: ignore[no-untyped-def]
    Member.objects.filter(address="carol@example.net").update(delivery_mode=Member.DIGEST)
    Member.objects.create(mailing_list=wanabidii, address="web@example.org", delivery_mode="nomail")
    deliver(post())
    assert list(Delivery.objects.values_list("address", flat=True)) == ["dave@example.com"]


def test_the_daily_digest_bundles_the_days_posts(wanabidii):  # type: ignore[no-untyped-def]
    Member.objects.filter(address="carol@example.net").update(delivery_mode=Member.DIGEST)
    deliver(post(1))
    deliver(post(2))
    send = send_digest(wanabidii, timezone.now() + timedelta(seconds=1))
    assert send is not None
    assert list(send.deliveries.values_list("address", flat=True)) == ["carol@example.net"]
    digest = message_from_bytes(bytes(send.message), policy=default)
    types = [part.get_content_type() for part in digest.walk()]
    assert types[:3] == ["multipart/mixed", "text/plain", "multipart/digest"]
    assert types.count("message/rfc822") == 2
    inner = [p.get_content() for p in digest.walk() if p.get_content_type() == "message/rfc822"]
    assert [m["Subject"] for m in inner] == ["[wanabidii] Talks 1", "[wanabidii] Talks 2"]


def test_the_digest_is_sent_once_a_day(wanabidii):  # type: ignore[no-untyped-def]
    Member.objects.filter(address="carol@example.net").update(delivery_mode=Member.DIGEST)
    deliver(post(1))
    now = timezone.now()
    assert send_digest(wanabidii, now) is not None
    deliver(post(2))
    wanabidii.refresh_from_db()
    assert send_digest(wanabidii, now + timedelta(hours=2)) is None
    digest = send_digest(wanabidii, now + timedelta(days=1))
    assert digest is not None
    assert b"Talks 2" in bytes(digest.message) and b"Talks 1" not in bytes(digest.message)


def test_reply_to_the_list(wanabidii):  # type: ignore[no-untyped-def]
    MailingList.objects.filter(pk=wanabidii.pk).update(reply_to=MailingList.REPLY_TO_LIST)
    deliver(post())
    assert relayed()["Reply-To"] == LIST


def test_reply_to_both_keeps_the_authors_reply_to(wanabidii):  # type: ignore[no-untyped-def]
    MailingList.objects.filter(pk=wanabidii.pk).update(reply_to=MailingList.REPLY_TO_BOTH)
    deliver(post(extra="Reply-To: press@example.gov\r\n"))
    assert relayed()["Reply-To"] == f"press@example.gov, {LIST}"


def test_reply_to_the_author_leaves_reply_to_alone(wanabidii):  # type: ignore[no-untyped-def]
    deliver(post())
    assert relayed()["Reply-To"] is None


EXE_POST = (
    'Content-Type: multipart/mixed; boundary="b"\r\nMIME-Version: 1.0\r\n',
    "--b\r\nContent-Type: text/plain\r\n\r\nSee attached.\r\n"
    "--b\r\nContent-Type: application/x-msdownload\r\n"
    'Content-Disposition: attachment; filename="run.exe"\r\n'
    "Content-Transfer-Encoding: base64\r\n\r\nTVqQAAMAAAAEAAAA\r\n--b--\r\n",
)


def test_the_strip_policy_removes_listed_attachments(wanabidii):  # type: ignore[no-untyped-def]
    MailingList.objects.filter(pk=wanabidii.pk).update(attachment_policy=MailingList.STRIP)
    deliver(post(extra=EXE_POST[0], body=EXE_POST[1]))
    types = [p.get_content_type() for p in relayed().walk()]
    assert "application/x-msdownload" not in types
    assert b"run.exe" not in bytes(Send.objects.get(kind=Send.LIST_POST).message)


def test_the_refuse_policy_holds_listed_attachments(wanabidii):  # type: ignore[no-untyped-def]
    MailingList.objects.filter(pk=wanabidii.pk).update(attachment_policy=MailingList.REFUSE)
    deliver(post(extra=EXE_POST[0], body=EXE_POST[1]))
    record = ListMessage.objects.get()
    assert (record.status, record.rule) == (ListMessage.HELD, "attachment-type")
    assert "application/x-msdownload" in record.reason


def test_the_keep_policy_relays_attachments(wanabidii):  # type: ignore[no-untyped-def]
    deliver(post(extra=EXE_POST[0], body=EXE_POST[1]))
    assert "application/x-msdownload" in [p.get_content_type() for p in relayed().walk()]


def test_an_archive_turned_off_keeps_no_copy(wanabidii):  # type: ignore[no-untyped-def]
    from tidings.archive.models import Post

    wanabidii.archive_visibility = MailingList.ARCHIVE_OFF
    wanabidii.save()
    deliver(post())
    assert Post.objects.count() == 0
    assert relayed()["Archived-At"] is None
    assert wanabidii.archive_public is False
    body = relayed().get_content()
    assert "Archive:" not in body and "/lists/wanabidii/leave/" in body


def test_personalize_leaves_other_mail_alone(wanabidii):  # type: ignore[no-untyped-def]
    data = b"From: a@example.org\r\nSubject: x\r\n\r\nList-Unsubscribe: <mailto:a-leave@b>\r\n"
    assert personalize(data, wanabidii.pk, "carol@example.net") == data
