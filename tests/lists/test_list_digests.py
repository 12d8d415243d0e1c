"""Every list mail can be left in one click: digests carry the list headers and a per-member
one-click link; members may take the RFC 1153 plain-text digest instead of MIME."""

from __future__ import annotations

from datetime import timedelta
from email import message_from_bytes
from email.policy import default
from urllib.parse import urlsplit

import pytest
from django.test import Client
from django.utils import timezone

from tests.smtp_helpers import sink_server
from tidings.delivery.worker import process_chunk
from tidings.inbound.actions import store_message
from tidings.inbound.router import route_one
from tidings.lists.digests import send_digest
from tidings.lists.models import Member

pytestmark = pytest.mark.django_db(transaction=True)


def _post(wanabidii, subject: str, body: str) -> None:  # type: ignore[no-untyped-def]
    raw = (
        f"From: usstatebpa@tidings.localhost\r\nTo: {wanabidii.address}\r\nSubject: {subject}\r\n"
        f"Date: Tue, 01 Dec 2015 12:38:00 -0500\r\nMessage-ID: <{subject.replace(' ', '.')}@x>\r\n"
        f"\r\n{body}\r\n"
    ).encode()
    store_message(raw, mail_from="usstatebpa@tidings.localhost", local_rcpts=[wanabidii.address],
                  captured_rcpts=[])  # fmt: skip
    assert route_one()


@pytest.fixture
def digests(wanabidii):  # type: ignore[no-untyped-def]
    Member.objects.filter(address="carol@example.net").update(delivery_mode=Member.DIGEST)
    Member.objects.filter(address="dave@example.com").update(delivery_mode=Member.PLAIN_DIGEST)
    _post(wanabidii, "Migration talks", "The talks were productive.")
    _post(wanabidii, "Climate remarks", "Thank you all.\n------------------------------\nMore.")
    assert send_digest(wanabidii, now=timezone.now() + timedelta(minutes=1)) is not None
    with sink_server() as sink:
        while process_chunk(sink.relay):
            pass
    return {rcpts[0]: message_from_bytes(data, policy=default) for _, rcpts, data in sink.received}


def test_a_mime_digest_carries_the_list_headers_and_a_one_click_link(
    digests, client: Client
) -> None:  # type: ignore[no-untyped-def]
    digest = digests["carol@example.net"]
    assert digest.get_content_type() == "multipart/mixed"
    for name in ("List-Id", "List-Post", "List-Help", "List-Subscribe", "List-Archive"):
        assert digest[name], name
    assert digest["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    one_click = str(digest["List-Unsubscribe"]).split(",")[0].strip(" <>")
    assert one_click.startswith("http")
    response = client.post(urlsplit(one_click).path, {"List-Unsubscribe": "One-Click"})
    assert response.status_code in (200, 204)
    assert not Member.objects.filter(address="carol@example.net").exists()
    assert Member.objects.filter(address="dave@example.com").exists()


def test_a_plain_digest_follows_rfc_1153(digests) -> None:  # type: ignore[no-untyped-def]
    digest = digests["dave@example.com"]
    assert digest.get_content_type() == "text/plain"
    assert digest["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    text = digest.get_content().replace("\r\n", "\n")
    lines = text.split("\n")
    assert "Today's Topics:" in lines
    assert "   1. [wanabidii] Migration talks (usstatebpa@tidings.localhost)" in lines
    assert "-" * 70 in lines
    assert lines.count("-" * 30) == 2  # between the two posts, and before the end
    assert "The talks were productive." in text and "Thank you all." in text
    ending = [line for line in lines if line.startswith("End of wanabidii Digest")]
    assert ending and "*" * len(ending[0]) in lines


def test_each_member_gets_only_their_own_kind_of_digest(digests) -> None:  # type: ignore[no-untyped-def]
    assert set(digests) == {"carol@example.net", "dave@example.com"}
