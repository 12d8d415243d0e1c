"""The SMTP edge answers correctly: the null sender, failed logins, per-client limits."""

from __future__ import annotations

import smtplib
import time

import pytest
from django.conf import settings

from tests.inbound.test_smtpd_limits import server
from tidings.delivery.models import Delivery
from tidings.inbound.models import InboundMessage
from tidings.inbound.router import route_one
from tidings.lib.network import network_of
from tidings.lists.actions import reject_post
from tidings.lists.models import ListMessage, MembershipRequest

pytestmark = pytest.mark.django_db(transaction=True)


def _message(to: str, subject: str = "join") -> bytes:
    return (
        f"From: Mallory <mallory@example.com>\r\nTo: {to}\r\nSubject: {subject}\r\n"
        "Message-ID: <m1@example.com>\r\n\r\nHello.\r\n"
    ).encode()


def test_the_null_sender_is_stored_as_empty_and_never_answered(wanabidii) -> None:  # type: ignore[no-untyped-def]
    join = f"wanabidii-join@{settings.LISTS_DOMAIN}"
    with server() as port, smtplib.SMTP("127.0.0.1", port, timeout=10) as client:
        client.sendmail("", [join], _message(join))
        client.sendmail("", [wanabidii.address], _message(wanabidii.address, "a post"))
    assert list(InboundMessage.objects.values_list("mail_from", flat=True)) == ["", ""]
    while route_one():
        pass

    assert not MembershipRequest.objects.exists()
    held = ListMessage.objects.get(status=ListMessage.HELD)
    reject_post(held, "Not for this list.")
    # No confirmation, no notice, no auto-reply to anybody named in the message.
    assert not Delivery.objects.filter(address__icontains="mallory").exists()
    assert not Delivery.objects.filter(address="<>").exists()


def test_a_failed_login_is_answered_535_at_once(wanabidii) -> None:  # type: ignore[no-untyped-def]
    with server() as port, smtplib.SMTP("127.0.0.1", port, timeout=20) as client:
        started = time.monotonic()
        with pytest.raises(smtplib.SMTPAuthenticationError) as refused:
            client.login("tidings", "not the secret")
        assert time.monotonic() - started < 5
    assert refused.value.smtp_code == 535
    assert refused.value.smtp_error.startswith(b"5.7.8")


def test_rotating_the_envelope_sender_does_not_dodge_the_client_limit(wanabidii) -> None:  # type: ignore[no-untyped-def]
    with (
        server(client_messages_per_minute=3, unlimited_clients=()) as port,
        smtplib.SMTP("127.0.0.1", port, timeout=10) as client,
    ):
        client.ehlo()
        for n in range(3):
            code, _ = client.mail(f"sender{n}@example.com")
            assert code == 250
            client.rset()
        code, reply = client.mail("sender9@example.com")
    assert code == 451
    assert b"4.7.1" in reply


def test_the_mx_in_front_is_not_limited(wanabidii) -> None:  # type: ignore[no-untyped-def]
    with (
        server(client_messages_per_minute=1) as port,
        smtplib.SMTP("127.0.0.1", port, timeout=10) as client,
    ):
        client.ehlo()
        for n in range(3):
            assert client.mail(f"sender{n}@example.com")[0] == 250
            client.rset()


@pytest.mark.parametrize(
    ("ip", "network"),
    [
        ("192.0.2.7", "192.0.2.7"),
        ("2001:db8:1:2:aaaa::1", "2001:db8:1:2::/64"),
        ("2001:db8:1:2:ffff::9", "2001:db8:1:2::/64"),
        ("::ffff:192.0.2.7", "192.0.2.7"),
    ],
)
def test_limits_count_per_ipv4_address_and_ipv6_64(ip: str, network: str) -> None:
    assert network_of(ip) == network
