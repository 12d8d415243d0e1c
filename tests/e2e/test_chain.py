"""The whole press-release chain over real sockets: publish → deliver → list → members → archive."""

from __future__ import annotations

import http.cookiejar
import re
import smtplib
import urllib.parse
import urllib.request
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from tests.paths import ROOT
from tests.smtp_helpers import captured_for, run_worker, text_part, tidings_smtpd
from tidings.bulletins.actions import create_bulletin, publish_bulletin
from tidings.delivery.models import Delivery
from tidings.inbound.models import InboundMessage
from tidings.lists.models import ListMessage

pytestmark = pytest.mark.django_db(transaction=True)

RELEASE = (ROOT / "tidings" / "fixtures" / "press-release.md").read_text()
TITLE, _, BODY = RELEASE.partition("\n")
PUBLISHED = datetime(2015, 12, 1, 12, 38, tzinfo=ZoneInfo("America/New_York"))
SUBJECT = "[wanabidii] Press Releases: United States and Cuba Hold Migration Talks"

SECOND_TITLE = "Secretary's Remarks on the Paris Climate Conference"
SECOND_BODY = """Remarks
Secretary of State
Le Bourget, France
December 9, 2015

Thank you all very much. Good afternoon, everybody.

We are here in Paris to finish the job that began in Lima, and the world is watching.
"""


def paragraphs(text: str) -> list[str]:
    return [p.strip() for p in text.split("\n\n") if p.strip()]


def fetch(opener: urllib.request.OpenerDirector, url: str, data: dict | None = None) -> str:
    body = urllib.parse.urlencode(data).encode() if data is not None else None
    with opener.open(url, data=body, timeout=10) as response:
        return response.read().decode()


@pytest.fixture
def smtp_port(settings, live_server, wanabidii):  # type: ignore[no-untyped-def]
    # As a real announce list is: only an authenticated accept-listed sender gets through, and
    # Tidings' own bulletin proves itself by its signed return path.
    wanabidii.require_sender_authentication = True
    wanabidii.save(update_fields=["require_sender_authentication"])
    settings.BASE_URL = live_server.url
    with tidings_smtpd(settings) as port:
        yield port


def publish(account, topic, title, body):  # type: ignore[no-untyped-def]
    bulletin = create_bulletin(account, subject=title.strip(), body=body.strip(), topics=[topic])
    return publish_bulletin(bulletin, published_at=PUBLISHED)


def test_it_carries_the_press_release_to_members_and_the_archive(
    account, topic, wanabidii, smtp_port, live_server
):  # type: ignore[no-untyped-def]
    publish(account, topic, TITLE, BODY)
    run_worker()

    received = captured_for("carol@example.net")
    assert len(received) == 1
    msg = received[0]
    assert msg["Subject"] == SUBJECT
    assert msg["List-Id"] == '"wanabidii" <wanabidii.lists.tidings.localhost>'
    text = text_part(msg)
    assert (
        "You are subscribed to Press Releases for U.S. Department of State. "
        "This information has recently been updated, and is now available."
    ) in text
    assert "12/01/2015 12:38 PM EST" in text
    for paragraph in paragraphs(BODY):
        assert paragraph in text
    assert (
        "This email was sent to wanabidii@lists.tidings.localhost using Tidings, on behalf of: "
        "U.S. Department of State · 2201 C Street NW · Washington, DC 20520"
    ) in text
    assert len(captured_for("dave@example.com")) == 1

    opener = urllib.request.build_opener(
        urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
    )
    index = fetch(opener, f"{live_server.url}/lists/wanabidii/")
    # Filed under the day the list received it (Date: is the sending time, never back-dated).
    today = timezone.now().astimezone(ZoneInfo("America/New_York"))
    assert f"{today:%A}, {today.day} {today:%B %Y}" in index
    assert SUBJECT in index
    assert "human smuggling" in index

    permalink = re.search(r'href="(/lists/wanabidii/[^"]+/)"', index)
    assert permalink is not None
    page = fetch(opener, live_server.url + permalink.group(1))
    assert "Post a Comment" in page
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
    assert token is not None
    fields = {
        "csrfmiddlewaretoken": token.group(1),
        "name": "Juma",
        "email": "juma@example.org",
        "body": "Asante for sharing this release.",
    }
    after = fetch(opener, live_server.url + permalink.group(1), fields)
    assert "Asante for sharing this release." in after
    assert "juma@example.org" not in after


def test_it_carries_a_second_different_release_the_same_way(
    account, topic, wanabidii, smtp_port, live_server
):  # type: ignore[no-untyped-def]
    publish(account, topic, SECOND_TITLE, SECOND_BODY)
    run_worker()

    (msg,) = captured_for("carol@example.net")
    assert msg["Subject"] == f"[wanabidii] Press Releases: {SECOND_TITLE}"
    text = text_part(msg)
    for paragraph in paragraphs(SECOND_BODY):
        assert paragraph in text
    index = fetch(urllib.request.build_opener(), f"{live_server.url}/lists/wanabidii/")
    assert "Secretary&#x27;s Remarks on the Paris Climate Conference" in index


def test_it_holds_a_post_from_a_sender_not_allowed(wanabidii, smtp_port):  # type: ignore[no-untyped-def]
    with smtplib.SMTP("127.0.0.1", smtp_port) as client:
        client.sendmail(
            "mallory@example.com",
            [wanabidii.address],
            b"From: mallory@example.com\r\nTo: wanabidii@lists.tidings.localhost\r\n"
            b"Subject: Buy now\r\nMessage-ID: <spam1@example.com>\r\n\r\nCheap pills.\r\n",
        )
    run_worker()

    decision = ListMessage.objects.get(mailing_list=wanabidii)
    assert decision.status == ListMessage.HELD
    assert "mallory@example.com" in decision.reason
    assert not Delivery.objects.exists()
    assert not wanabidii.posts.exists()
    assert bytes(decision.inbound.raw).endswith(b"Cheap pills.\r\n")


def test_it_refuses_an_unknown_local_recipient_with_550(wanabidii, smtp_port):  # type: ignore[no-untyped-def]
    with smtplib.SMTP("127.0.0.1", smtp_port) as client:
        client.ehlo()
        code, reply = client.docmd("MAIL FROM:<someone@example.com>")
        assert code == 250
        code, reply = client.docmd("RCPT TO:<nosuchlist@lists.tidings.localhost>")
    assert code == 550
    assert reply.startswith(b"5.1.1")
    assert not InboundMessage.objects.exists()


def test_it_refuses_to_relay_for_strangers(wanabidii, smtp_port):  # type: ignore[no-untyped-def]
    with smtplib.SMTP("127.0.0.1", smtp_port) as client:
        client.ehlo()
        client.docmd("MAIL FROM:<mallory@example.com>")
        code, reply = client.docmd("RCPT TO:<victim@example.org>")
    assert code == 550
    assert b"Relaying denied" in reply


def test_it_stores_and_flags_a_malformed_message(wanabidii, smtp_port):  # type: ignore[no-untyped-def]
    garbage = b"\x00\xff this is not a header\r\n\r\nno From at all\r\n"
    with smtplib.SMTP("127.0.0.1", smtp_port) as client:
        client.sendmail("someone@example.com", [wanabidii.address], garbage)
    run_worker()

    stored = InboundMessage.objects.get()
    assert stored.state == InboundMessage.MALFORMED
    assert stored.notes
    assert bytes(stored.raw) == garbage
    held = ListMessage.objects.get(inbound=stored)
    assert held.status == ListMessage.HELD
    assert held.rule == "malformed"
