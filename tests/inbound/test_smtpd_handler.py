"""The SMTP handler's decisions, awaited directly with a fake session (no socket)."""

from __future__ import annotations

import asyncio
import smtplib

import pytest
from aiosmtpd.smtp import Envelope, LoginPassword, Session

from tests.smtp_helpers import tidings_smtpd
from tidings.delivery.smtp import CAPTURE_USERNAME
from tidings.delivery.verp import verp_address
from tidings.inbound.models import InboundMessage
from tidings.inbound.smtpd import Handler, authenticate
from tidings.subscribers.addresses import unsubscribe_address

pytestmark = pytest.mark.django_db(transaction=True)


def rcpt(address: str, authenticated: bool = False) -> str:
    session = Session(loop=None)  # type: ignore[arg-type]
    session.authenticated = authenticated
    handler = Handler()
    try:
        return asyncio.run(handler.handle_RCPT(None, session, Envelope(), address, []))  # type: ignore[arg-type]
    finally:
        handler.close()


def test_it_accepts_a_list_address(wanabidii):  # type: ignore[no-untyped-def]
    assert rcpt("wanabidii@lists.tidings.localhost").startswith("250")


def test_it_accepts_signed_verp_and_unsubscribe_addresses(wanabidii):  # type: ignore[no-untyped-def]
    assert rcpt(verp_address(42)).startswith("250")
    assert rcpt(unsubscribe_address(7)).startswith("250")


def test_it_refuses_a_forged_verp_address(wanabidii):  # type: ignore[no-untyped-def]
    assert rcpt("bounce+42.0000000000@tidings.localhost").startswith("550 5.1.1")


def test_it_relays_other_domains_only_when_authenticated(wanabidii):  # type: ignore[no-untyped-def]
    assert rcpt("someone@example.org").startswith("550 5.7.1")
    assert rcpt("someone@example.org", authenticated=True).startswith("250")


def test_it_authenticates_only_the_local_secret(settings):  # type: ignore[no-untyped-def]
    good = LoginPassword(CAPTURE_USERNAME.encode(), settings.SMTP_CAPTURE_SECRET.encode())
    bad = LoginPassword(CAPTURE_USERNAME.encode(), b"guess")
    assert authenticate(None, None, None, "PLAIN", good).success  # type: ignore[arg-type]
    assert not authenticate(None, None, None, "PLAIN", bad).success  # type: ignore[arg-type]


def test_it_captures_mail_sent_with_the_secret_over_a_socket(settings, wanabidii):  # type: ignore[no-untyped-def]
    with tidings_smtpd(settings) as port, smtplib.SMTP("127.0.0.1", port) as client:
        client.login(CAPTURE_USERNAME, settings.SMTP_CAPTURE_SECRET)
        client.sendmail(
            "a@tidings.localhost", ["x@example.org"], b"From: a@tidings.localhost\r\n\r\nhi\r\n"
        )

    stored = InboundMessage.objects.get()
    assert stored.captured
    assert stored.captured_rcpts == ["x@example.org"]
    assert stored.state == InboundMessage.DONE


def test_it_answers_451_when_it_cannot_store(settings, wanabidii, monkeypatch):  # type: ignore[no-untyped-def]
    def broken(batch):  # type: ignore[no-untyped-def]
        raise OSError("connection to the database lost")

    monkeypatch.setattr("tidings.inbound.smtpd.store_messages", broken)
    with (
        tidings_smtpd(settings) as port,
        smtplib.SMTP("127.0.0.1", port) as client,
        pytest.raises(smtplib.SMTPDataError) as error,
    ):
        client.sendmail("a@example.com", [wanabidii.address], b"From: a@example.com\r\n\r\nhi\r\n")
    assert error.value.smtp_code == 451
    assert not InboundMessage.objects.exists()


def test_it_stores_the_message_exactly_as_received(settings, wanabidii):  # type: ignore[no-untyped-def]
    raw = (
        b"From: a@example.com\r\nSubject: =?utf-8?q?Caf=C3=A9?=\r\n and more\r\n\r\n"
        b"\xff\x00 body bytes kept as they are\r\n"
    )
    with tidings_smtpd(settings) as port, smtplib.SMTP("127.0.0.1", port) as client:
        client.ehlo("client.example.com")
        client.sendmail("a@example.com", [wanabidii.address], raw)

    stored = InboundMessage.objects.get()
    assert bytes(stored.raw) == raw
    assert (stored.size, stored.subject) == (len(raw), "Café and more")
    assert (stored.mail_from, stored.local_rcpts, stored.captured) == (
        "a@example.com",
        [wanabidii.address],
        False,
    )
    assert (stored.peer, stored.helo, stored.state) == ("127.0.0.1", "client.example.com", "new")
    assert stored.received_at is not None
