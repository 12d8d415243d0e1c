"""List bounces count, as Mailman's bounce runner counts them."""

from __future__ import annotations

import re
import smtplib
from datetime import timedelta
from email import message_from_bytes
from email.policy import default

import pytest
from django.test import Client
from django.utils import timezone

from tests.smtp_helpers import tidings_smtpd
from tidings.delivery.models import Delivery, Send
from tidings.inbound.actions import store_message
from tidings.inbound.router import route_one
from tidings.lists.models import Member

pytestmark = pytest.mark.django_db(transaction=True)

DSN = """From: MAILER-DAEMON@mx.example.net
To: wanabidii-bounces@lists.tidings.localhost
Subject: Undelivered Mail Returned to Sender
Auto-Submitted: auto-replied
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="B"

--B
Content-Type: text/plain

Your message could not be delivered.

--B
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.example.net

Final-Recipient: rfc822; carol@example.net
Action: failed
Status: 5.1.1

--B--
"""


def bounce(port: int) -> None:
    with smtplib.SMTP("127.0.0.1", port, timeout=10) as client:
        client.sendmail("", ["wanabidii-bounces@lists.tidings.localhost"],
                        DSN.replace("\n", "\r\n").encode())  # fmt: skip
    assert route_one()


def relay_a_post(wanabidii) -> set[str]:  # type: ignore[no-untyped-def]
    raw = (
        f"From: usstatebpa@tidings.localhost\r\nTo: {wanabidii.address}\r\nSubject: News\r\n"
        f"Message-ID: <{timezone.now().timestamp()}@x>\r\n\r\nHello.\r\n"
    ).encode()
    store_message(raw, mail_from="usstatebpa@tidings.localhost", local_rcpts=[wanabidii.address],
                  captured_rcpts=[])  # fmt: skip
    assert route_one()
    send = Send.objects.filter(kind=Send.LIST_POST).latest("pk")
    return set(send.deliveries.values_list("address", flat=True))


def test_bounces_disable_a_member_past_the_threshold_and_the_member_re_enables(  # type: ignore[no-untyped-def]
    settings, client: Client, wanabidii, alice
):
    wanabidii.bounce_score_threshold = 2.0
    wanabidii.save()
    carol = Member.objects.get(address="carol@example.net")
    with tidings_smtpd(settings) as port:
        bounce(port)
        carol.refresh_from_db()
        assert (carol.bounce_score, carol.disabled_by_bounces) == (1.0, False)
        bounce(port)  # the same day: counted once
        carol.refresh_from_db()
        assert carol.bounce_score == 1.0
        Member.objects.filter(pk=carol.pk).update(
            last_bounce_on=timezone.localdate() - timedelta(days=1)
        )
        bounce(port)
    carol.refresh_from_db()
    assert (carol.bounce_score, carol.disabled_by_bounces) == (2.0, True)

    notice_to_carol = Delivery.objects.get(address="carol@example.net", send__kind=Send.NOTICE)
    assert Delivery.objects.filter(address="alice@example.gov", send__kind=Send.NOTICE).exists()
    assert relay_a_post(wanabidii) == {"dave@example.com"}

    notice = message_from_bytes(bytes(notice_to_carol.send.message), policy=default)
    link = re.search(r"http://\S+/reenable/\S+/", notice.get_content())
    assert link is not None
    path = "/" + link.group(0).split("/", 3)[3]
    assert "Start my mail again" in client.get(path).content.decode()
    assert client.post(path).status_code == 200
    carol.refresh_from_db()
    assert (carol.bounce_score, carol.disabled_by_bounces) == (0.0, False)
    assert relay_a_post(wanabidii) == {"carol@example.net", "dave@example.com"}


def test_a_forged_re_enable_link_is_refused(client: Client, wanabidii) -> None:  # type: ignore[no-untyped-def]
    response = client.post("/lists/wanabidii/reenable/not-a-token/")
    assert response.status_code == 400
