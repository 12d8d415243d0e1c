"""The SMTP server against smuggling, oversized mail and too many recipients, over real sockets."""

from __future__ import annotations

import smtplib
import socket
import time
from typing import BinaryIO

import pytest

from tests.smtp_helpers import tidings_smtpd
from tidings.inbound.models import InboundMessage

pytestmark = pytest.mark.django_db(transaction=True)

LIST = b"wanabidii@lists.tidings.localhost"

# Each ends the first message the way some server might, then smuggles a whole second
# transaction behind it; only the final CRLF.CRLF is a real end of DATA.
SMUGGLING_ENDINGS = [
    b"\n.\n",
    b"\n.\r\n",
    b"\r.\r\n",
    b"\r\n.\r",
    b"\r\n.\n",
    b"\r.\n",
    b"\n.\r",
    b"\r.\r",
]


def smuggling_payload(ending: bytes) -> bytes:
    first = b"From: alice@example.com\r\nTo: " + LIST + b"\r\nSubject: first\r\n\r\nhello"
    second = (
        b"MAIL FROM:<mallory@example.com>\r\nRCPT TO:<" + LIST + b">\r\nDATA\r\n"
        b"From: usstatebpa@tidings.localhost\r\nTo: " + LIST + b"\r\n"
        b"Subject: smuggled\r\n\r\nforged\r\n.\r\n"
    )
    return first + ending + second


def reply(stream: BinaryIO) -> bytes:
    """Read one (possibly multi-line) SMTP reply."""
    lines = [stream.readline()]
    while lines[-1][3:4] == b"-":
        lines.append(stream.readline())
    return b"".join(lines)


def converse(port: int, payload: bytes) -> bytes:
    """Send one transaction with raw bytes, then QUIT; return everything said after DATA."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        stream = sock.makefile("rb")
        reply(stream)  # banner
        for command in (b"EHLO client.example.com", b"MAIL FROM:<alice@example.com>"):
            sock.sendall(command + b"\r\n")
            assert reply(stream).startswith(b"250")
        sock.sendall(b"RCPT TO:<" + LIST + b">\r\n")
        assert reply(stream).startswith(b"250")
        sock.sendall(b"DATA\r\n")
        assert reply(stream).startswith(b"354")
        sock.sendall(payload + b"QUIT\r\n")
        return stream.read()  # up to the server closing after QUIT


@pytest.mark.parametrize("ending", SMUGGLING_ENDINGS, ids=repr)
def test_it_never_creates_a_smuggled_message(settings, wanabidii, ending):  # type: ignore[no-untyped-def]
    with tidings_smtpd(settings) as port:
        replies = converse(port, smuggling_payload(ending))
    assert replies.startswith(b"554 5.5.2")
    assert b"354" not in replies  # the smuggled DATA was never seen as a command
    assert not InboundMessage.objects.exists()


def test_it_accepts_a_clean_message_over_the_same_raw_client(settings, wanabidii):  # type: ignore[no-untyped-def]
    payload = b"From: alice@example.com\r\nSubject: clean\r\n\r\nhello\r\n.\r\n"
    with tidings_smtpd(settings) as port:
        replies = converse(port, payload)
    assert replies.startswith(b"250 2.0.0 Queued")
    assert InboundMessage.objects.get().subject == "clean"


def test_it_refuses_a_declared_size_over_the_limit_at_mail_from(settings, wanabidii):  # type: ignore[no-untyped-def]
    settings.SMTP_MAX_MESSAGE_SIZE = 1000
    with tidings_smtpd(settings) as port, smtplib.SMTP("127.0.0.1", port) as client:
        client.ehlo()
        code, _ = client.docmd("MAIL FROM:<alice@example.com> SIZE=1001")
    assert code == 552


def test_it_accepts_a_declared_size_within_the_limit(settings, wanabidii):  # type: ignore[no-untyped-def]
    settings.SMTP_MAX_MESSAGE_SIZE = 1000
    with tidings_smtpd(settings) as port, smtplib.SMTP("127.0.0.1", port) as client:
        client.ehlo()
        code, _ = client.docmd("MAIL FROM:<alice@example.com> SIZE=1000")
    assert code == 250


def test_it_refuses_data_over_the_limit_with_552_and_stores_nothing(settings, wanabidii):  # type: ignore[no-untyped-def]
    settings.SMTP_MAX_MESSAGE_SIZE = 1000
    big = b"From: alice@example.com\r\nSubject: big\r\n\r\n" + (b"x" * 70 + b"\r\n") * 20
    with tidings_smtpd(settings) as port, smtplib.SMTP("127.0.0.1", port) as client:
        client.ehlo()
        client.mail("alice@example.com")  # no SIZE declared: the limit must hold during DATA
        client.rcpt(wanabidii.address)
        code, _ = client.data(big)
    assert code == 552
    assert not InboundMessage.objects.exists()


def test_it_answers_452_past_the_recipient_limit(settings, wanabidii):  # type: ignore[no-untyped-def]
    with tidings_smtpd(settings) as port, smtplib.SMTP("127.0.0.1", port) as client:
        client.ehlo()
        client.docmd("MAIL FROM:<alice@example.com>")
        codes = [
            client.docmd(f"RCPT TO:<{wanabidii.address}>")[0]
            for _ in range(settings.SMTP_MAX_RECIPIENTS)
        ]
        code, reply = client.docmd(f"RCPT TO:<{wanabidii.address}>")
    assert set(codes) == {250}
    assert (code, reply[:5]) == (452, b"4.5.3")


# Endings some servers have been seen to take for the end of DATA although every line ends in
# CRLF: with nothing bare to refuse, the whole payload must be one message, the forged
# transaction only text inside it.
NUL_ENDINGS = [b"\r\n\x00.\r\n", b"\r\n.\x00\r\n", b"\r\n .\r\n", b"\r\n..\r\n"]


@pytest.mark.parametrize("ending", NUL_ENDINGS, ids=repr)
def test_it_keeps_a_lookalike_ending_inside_one_message(settings, wanabidii, ending):  # type: ignore[no-untyped-def]
    with tidings_smtpd(settings) as port:
        replies = converse(port, smuggling_payload(ending))
    assert replies.startswith(b"250 2.0.0 Queued")
    assert b"354" not in replies
    (stored,) = InboundMessage.objects.all()
    assert stored.subject == "first"
    assert b"MAIL FROM:<mallory@example.com>" in bytes(stored.raw)


def test_it_refuses_a_bare_lf_inside_the_headers(settings, wanabidii):  # type: ignore[no-untyped-def]
    payload = b"From: alice@example.com\r\nSubject: hi\nBcc: everyone@example.com\r\n\r\nx\r\n.\r\n"
    with tidings_smtpd(settings) as port:
        replies = converse(port, payload)
    assert replies.startswith(b"554 5.5.2")
    assert not InboundMessage.objects.exists()


def test_it_never_creates_a_smuggled_message_across_pipelined_packets(settings, wanabidii):  # type: ignore[no-untyped-def]
    """The smuggled transaction arrives split over several writes, as a relay might send it."""
    payload = smuggling_payload(b"\n.\r\n")
    with tidings_smtpd(settings) as port, socket.create_connection(("127.0.0.1", port)) as sock:
        stream = sock.makefile("rb")
        reply(stream)
        sock.sendall(b"EHLO c\r\nMAIL FROM:<alice@example.com>\r\nRCPT TO:<" + LIST + b">\r\n")
        for _ in range(3):
            reply(stream)
        sock.sendall(b"DATA\r\n")
        assert reply(stream).startswith(b"354")
        for start in range(0, len(payload), 7):
            sock.sendall(payload[start : start + 7])
            time.sleep(0.001)
        sock.sendall(b"QUIT\r\n")
        replies = stream.read()
    assert replies.startswith(b"554 5.5.2")
    assert not InboundMessage.objects.exists()
