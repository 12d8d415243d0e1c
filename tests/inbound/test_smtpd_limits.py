"""The SMTP server's limits and its group commit, over real sockets."""

from __future__ import annotations

import dataclasses
import smtplib
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from tests.smtp_helpers import free_port
from tidings.delivery.smtp import CAPTURE_USERNAME
from tidings.inbound import smtpd
from tidings.inbound.actions import Received, store_messages
from tidings.inbound.limits import limits
from tidings.inbound.models import InboundMessage
from tidings.inbound.smtpd import make_controller, store_each_if_needed

pytestmark = pytest.mark.django_db(transaction=True)

POST = b"From: alice@example.com\r\nSubject: hello\r\n\r\nHello.\r\n"


@contextmanager
def server(**changes: object) -> Iterator[int]:
    """Run Tidings' SMTP server with some limits changed; yield its port."""
    port = free_port()
    controller = make_controller("127.0.0.1", port, dataclasses.replace(limits(), **changes))
    controller.start()
    try:
        yield port
    finally:
        controller.stop()


def banner(port: int) -> tuple[socket.socket, bytes]:
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    return sock, sock.makefile("rb").readline()


def test_it_refuses_connections_past_the_limit_per_address(wanabidii):  # type: ignore[no-untyped-def]
    with server(connections_per_ip=2) as port:
        first, second = banner(port), banner(port)
        third, reply = banner(port)
        assert [first[1][:3], second[1][:3]] == [b"220", b"220"]
        assert reply.startswith(b"421 4.7.0")
        first[0].close()
        time.sleep(0.2)  # the server notices the close
        fourth, reply = banner(port)
        assert reply.startswith(b"220")
        for sock in (second[0], third, fourth):
            sock.close()


def test_it_answers_450_when_a_sender_sends_too_many_per_minute(wanabidii):  # type: ignore[no-untyped-def]
    with server(sender_messages_per_minute=2) as port, smtplib.SMTP("127.0.0.1", port) as client:
        client.ehlo()
        codes = []
        for sender in ("a@example.com", "A@EXAMPLE.COM", "a@example.com", "b@example.com"):
            codes.append(client.docmd(f"MAIL FROM:<{sender}>")[0])
            client.rset()
    assert codes == [250, 250, 450, 250]


def test_it_does_not_rate_limit_the_capture_login(settings, wanabidii):  # type: ignore[no-untyped-def]
    with server(sender_messages_per_minute=1) as port, smtplib.SMTP("127.0.0.1", port) as client:
        client.login(CAPTURE_USERNAME, settings.SMTP_CAPTURE_SECRET)
        for _ in range(3):
            client.sendmail(wanabidii.bounces_address, ["x@example.org"], POST)
    assert InboundMessage.objects.count() == 3


def test_it_answers_452_past_a_configured_recipient_limit(wanabidii):  # type: ignore[no-untyped-def]
    with server(max_recipients=2) as port, smtplib.SMTP("127.0.0.1", port) as client:
        client.ehlo()
        client.docmd("MAIL FROM:<alice@example.com>")
        codes = [client.docmd(f"RCPT TO:<{wanabidii.address}>")[0] for _ in range(3)]
    assert codes == [250, 250, 452]


def test_it_advertises_and_enforces_a_configured_size(wanabidii):  # type: ignore[no-untyped-def]
    with server(max_message_size=500) as port, smtplib.SMTP("127.0.0.1", port) as client:
        client.ehlo()
        assert client.esmtp_features["size"] == "500"
        assert client.docmd("MAIL FROM:<alice@example.com> SIZE=501")[0] == 552
        client.mail("alice@example.com")
        client.rcpt(wanabidii.address)
        assert client.data(POST + b"x" * 600 + b"\r\n")[0] == 552
    assert not InboundMessage.objects.exists()


def test_it_commits_messages_that_arrive_together_in_one_transaction(wanabidii, monkeypatch):  # type: ignore[no-untyped-def]
    batches: list[int] = []
    real = smtpd.store_messages

    def slow(batch):  # type: ignore[no-untyped-def]
        time.sleep(0.3)  # the others arrive while the first commits
        batches.append(len(batch))
        return real(batch)

    monkeypatch.setattr(smtpd, "store_messages", slow)
    replies: list[str] = []

    def send(port: int) -> None:
        with smtplib.SMTP("127.0.0.1", port) as client:
            client.ehlo()
            client.mail("alice@example.com")
            client.rcpt(wanabidii.address)
            code, reply = client.data(POST)
            replies.append(f"{code} {reply.decode()}")

    with server() as port:
        threads = [threading.Thread(target=send, args=(port,)) for _ in range(10)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

    assert sum(batches) == 10
    assert len(batches) < 10
    assert all(reply.startswith("250 2.0.0 Queued as") for reply in replies)
    ids = {int(reply.rsplit(" ", 1)[1]) for reply in replies}
    assert ids == set(InboundMessage.objects.values_list("id", flat=True))


def test_a_message_that_breaks_its_batch_fails_alone(wanabidii, monkeypatch):  # type: ignore[no-untyped-def]
    real = smtpd.store_messages

    def picky(batch):  # type: ignore[no-untyped-def]
        if any(received.raw == b"bad" for received in batch):
            raise ValueError("cannot store this one")
        return real(batch)

    monkeypatch.setattr(smtpd, "store_messages", picky)
    batch = [Received(raw, "a@example.com", [wanabidii.address]) for raw in (POST, b"bad", POST)]
    results = store_each_if_needed(batch)

    assert isinstance(results[1], ValueError)
    assert [type(r) for r in results] == [int, ValueError, int]
    assert InboundMessage.objects.count() == 2


def test_it_refuses_an_overlong_sender_address(wanabidii):  # type: ignore[no-untyped-def]
    with server() as port, smtplib.SMTP("127.0.0.1", port) as client:
        client.ehlo()
        code, _ = client.docmd(f"MAIL FROM:<{'a' * 320}@example.com>")
    assert code == 553


def test_it_answers_451_to_every_message_of_a_batch_that_fails_to_commit(wanabidii, monkeypatch):  # type: ignore[no-untyped-def]
    batches: list[int] = []

    def broken(batch):  # type: ignore[no-untyped-def]
        time.sleep(0.3)
        batches.append(len(batch))
        raise OSError("connection to the database lost")

    monkeypatch.setattr(smtpd, "store_messages", broken)
    codes: list[int] = []

    def send(port: int) -> None:
        with smtplib.SMTP("127.0.0.1", port) as client:
            client.ehlo()
            client.mail("alice@example.com")
            client.rcpt(wanabidii.address)
            codes.append(client.data(POST)[0])

    with server() as port:
        threads = [threading.Thread(target=send, args=(port,)) for _ in range(6)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

    assert codes == [451] * 6
    assert max(batches) > 1  # one failed commit answered several messages
    assert not InboundMessage.objects.exists()


def test_a_large_batch_is_stored_in_order(wanabidii):  # type: ignore[no-untyped-def]
    batch = [
        Received(f"Subject: n{i}\r\n\r\nx\r\n".encode(), "a@example.com", [wanabidii.address])
        for i in range(255)  # 128 + 64 + ... + 1: every statement shape
    ]
    ids = store_messages(batch)

    subjects = dict(InboundMessage.objects.values_list("id", "subject"))
    assert [subjects[pk] for pk in ids] == [f"n{i}" for i in range(255)]
