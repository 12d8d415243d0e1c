"""TLS on both sides: the SMTP server offers STARTTLS and keeps the login behind it; the relay
client verifies the relay's certificate unless told not to."""

from __future__ import annotations

import asyncio
import smtplib
import ssl
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller

from tests.certificates import self_signed
from tests.smtp_helpers import Sink, free_port, tidings_smtpd
from tidings.bulletins.actions import create_bulletin, publish_bulletin
from tidings.delivery.models import Delivery
from tidings.delivery.smtp import CAPTURE_USERNAME, Outgoing, Pool, Relay, configured_relay
from tidings.delivery.worker import process_chunk
from tidings.inbound.models import InboundMessage

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def certificate(tmp_path: Path) -> tuple[Path, Path]:
    """A self-signed certificate for the mail domain and 127.0.0.1, made for this test."""
    return self_signed(tmp_path, "tidings.localhost", "DNS:tidings.localhost,IP:127.0.0.1")


@pytest.fixture
def tls_server(settings, certificate):  # type: ignore[no-untyped-def]
    settings.SMTP_TLS_CERT, settings.SMTP_TLS_KEY = map(str, certificate)
    settings.SMTP_REQUIRE_TLS_FOR_AUTH = True
    with tidings_smtpd(settings) as port:
        yield port


def trusting(cert: Path) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=str(cert))


def test_the_server_offers_starttls_and_keeps_the_login_behind_it(  # type: ignore[no-untyped-def]
    tls_server, certificate, settings
) -> None:
    with smtplib.SMTP("127.0.0.1", tls_server) as client:
        client.ehlo()
        assert client.has_extn("starttls")
        code, reply = client.docmd("AUTH PLAIN", "AHRpZGluZ3MAc2VjcmV0")
        assert (code, reply[:6]) == (538, b"5.7.11")  # encryption required first (RFC 4954)
        client.starttls(context=trusting(certificate[0]))
        client.ehlo()
        client.login(CAPTURE_USERNAME, settings.SMTP_CAPTURE_SECRET)


def test_the_worker_relays_to_its_own_server_over_tls(tls_server, account, topic, bob) -> None:  # type: ignore[no-untyped-def]
    relay = configured_relay()
    assert relay.start_tls is True
    publish_bulletin(create_bulletin(account, subject="News", body="Hi.", topics=[topic]))
    process_chunk(relay)
    assert Delivery.objects.get().state == Delivery.SENT
    assert InboundMessage.objects.filter(captured=True).count() == 1


@pytest.fixture
def tls_relay(certificate):  # type: ignore[no-untyped-def]
    """Another MTA, offering STARTTLS with a certificate nobody here trusts."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(*map(str, certificate))
    handler, port = Sink(), free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port, tls_context=context)
    controller.start()
    try:
        yield handler, port
    finally:
        controller.stop()


def send_one(relay: Relay) -> list[tuple[int, str]]:
    message = Outgoing(1, "bounce@tidings.localhost", "a@example.org", b"Subject: x\r\n\r\nx\r\n")

    async def go() -> list[tuple[int, str]]:
        pool = Pool(relay, 1)
        try:
            return [(o.code, o.reply) for o in await pool.send([message])]
        finally:
            await pool.close()

    return asyncio.run(go())


def test_the_client_checks_the_relays_certificate_unless_told_not_to(tls_relay, settings) -> None:  # type: ignore[no-untyped-def]
    sink, port = tls_relay
    settings.SMTP_RELAY = f"smtp+starttls://127.0.0.1:{port}"
    ((code, reply),) = send_one(configured_relay())
    assert code == 0 and "CERTIFICATE_VERIFY_FAILED" in reply.upper().replace(" ", "_")
    assert sink.received == []
    settings.SMTP_RELAY = f"smtp+starttls://127.0.0.1:{port}?verify=no"
    assert configured_relay().verify is False
    ((code, _),) = send_one(configured_relay())
    assert code == 250
    assert sink.recipients() == ["a@example.org"]
