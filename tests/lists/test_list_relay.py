from __future__ import annotations

from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default

import pytest

from tidings.delivery.models import Delivery, Send
from tidings.inbound.actions import store_message
from tidings.inbound.models import InboundMessage
from tidings.inbound.router import route_one
from tidings.lists.models import ListMessage
from tidings.subscribers.addresses import unsubscribe_address
from tidings.subscribers.models import Subscriber

POST = (
    b"From: U.S. Department of State <usstatebpa@tidings.localhost>\r\n"
    b"To: wanabidii@lists.tidings.localhost\r\n"
    b"Subject: Re: [wanabidii] Talks\r\n"
    b"Message-ID: <post1@tidings.localhost>\r\n"
    b"Date: Tue, 01 Dec 2015 12:38:00 -0500\r\n"
    b"List-Id: <usstatebpa-1.tidings.localhost>\r\n"
    b"\r\n"
    b"Hello members.\r\n"
)


def deliver(
    raw: bytes, rcpt: str, mail_from: str = "bounce+1.x@tidings.localhost"
) -> InboundMessage:
    message = store_message(raw, mail_from=mail_from, local_rcpts=[rcpt], captured_rcpts=[])
    assert route_one()
    message.refresh_from_db()
    return message


def relayed() -> EmailMessage:
    send = Send.objects.get(kind=Send.LIST_POST)
    msg = message_from_bytes(bytes(send.message), policy=default)
    assert isinstance(msg, EmailMessage)
    return msg


def test_it_tags_the_subject_only_once(wanabidii):  # type: ignore[no-untyped-def]
    deliver(POST, wanabidii.address)
    assert relayed()["Subject"] == "Re: [wanabidii] Talks"


def test_it_replaces_list_headers_and_adds_the_footer(wanabidii):  # type: ignore[no-untyped-def]
    deliver(POST, wanabidii.address)
    msg = relayed()
    assert msg["List-Id"] == '"wanabidii" <wanabidii.lists.tidings.localhost>'
    assert msg["List-Post"] == "<mailto:wanabidii@lists.tidings.localhost>"
    assert msg["Precedence"] == "list"
    assert msg["X-BeenThere"] == "wanabidii@lists.tidings.localhost"
    assert msg["Archived-At"].startswith("<http://127.0.0.1:8000/lists/wanabidii/")
    body = msg.get_content()
    assert body.startswith("Hello members.")
    assert "-- \n" in body.replace("\r\n", "\n")
    assert "wanabidii@lists.tidings.localhost" in body


def test_it_queues_every_member_once(wanabidii):  # type: ignore[no-untyped-def]
    deliver(POST, wanabidii.address)
    addresses = sorted(Delivery.objects.values_list("address", flat=True))
    assert addresses == ["carol@example.net", "dave@example.com"]


def test_it_never_relays_a_message_twice_when_routed_again(wanabidii):  # type: ignore[no-untyped-def]
    message = deliver(POST, wanabidii.address)
    InboundMessage.objects.filter(pk=message.pk).update(state=InboundMessage.NEW)
    assert route_one()
    assert Send.objects.count() == 1
    assert ListMessage.objects.count() == 1


def test_it_discards_a_message_that_already_passed_through(wanabidii):  # type: ignore[no-untyped-def]
    looped = POST.replace(
        b"\r\n\r\n", b"\r\nX-BeenThere: wanabidii@lists.tidings.localhost\r\n\r\n", 1
    )
    deliver(looped, wanabidii.address)
    decision = ListMessage.objects.get()
    assert (decision.status, decision.rule) == (ListMessage.DISCARDED, "loop")
    assert not Send.objects.exists()


def test_it_unsubscribes_through_the_mailto_address(account, bob):  # type: ignore[no-untyped-def]
    raw = b"From: bob@example.org\r\nSubject: unsubscribe\r\n\r\n\r\n"
    message = deliver(raw, unsubscribe_address(bob.pk), mail_from="bob@example.org")
    bob.refresh_from_db()
    assert bob.status == Subscriber.UNSUBSCRIBED
    assert message.state == InboundMessage.DONE


def test_it_keeps_a_routing_failure_as_a_dead_letter(wanabidii, monkeypatch):  # type: ignore[no-untyped-def]
    def broken(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise RuntimeError("database went away")

    monkeypatch.setattr("tidings.lists.inbound.receive_post", broken)
    message = deliver(POST, wanabidii.address)
    assert message.state == InboundMessage.FAILED
    assert "database went away" in message.notes
    assert bytes(message.raw) == POST


pytestmark = pytest.mark.django_db


def test_it_holds_a_post_without_from_but_still_routes_it(wanabidii):  # type: ignore[no-untyped-def]
    message = deliver(
        b"To: wanabidii@lists.tidings.localhost\r\nSubject: x\r\n\r\nhi\r\n", wanabidii.address
    )
    assert message.state == InboundMessage.DONE
    held = ListMessage.objects.get()
    assert (held.status, held.rule) == (ListMessage.HELD, "malformed")
    assert "no From header" in held.reason
