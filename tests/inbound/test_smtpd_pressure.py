"""The SMTP server under pressure: a full disk, a sender beyond ASCII, too many connections."""

from __future__ import annotations

import logging
import smtplib

import pytest
from django.db import OperationalError

from tests.inbound.test_smtpd_limits import POST, banner, server
from tidings.inbound import smtpd
from tidings.inbound.models import InboundMessage

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_full_disk_answers_452_and_says_so_once(wanabidii, monkeypatch, caplog) -> None:  # type: ignore[no-untyped-def]
    stored = smtpd.store_messages

    def full(batch):  # type: ignore[no-untyped-def]
        raise OperationalError("database or disk is full")

    monkeypatch.setattr(smtpd, "store_messages", full)
    caplog.set_level(logging.INFO, logger="tidings.smtpd")
    with server() as port, smtplib.SMTP("127.0.0.1", port) as client:
        refusals = []
        for _ in range(5):
            with pytest.raises(smtplib.SMTPDataError) as refused:
                client.sendmail("alice@example.com", [wanabidii.address], POST)
            refusals.append((refused.value.smtp_code, refused.value.smtp_error[:5]))
        assert refusals == [(452, b"4.3.1")] * 5
        errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
        assert len(errors) == 1 and "disk is full" in errors[0].getMessage()
        assert not any(r.exc_info for r in caplog.records)  # no traceback per message
        monkeypatch.setattr(smtpd, "store_messages", stored)  # room again
        client.sendmail("alice@example.com", [wanabidii.address], POST)
    assert InboundMessage.objects.count() == 1
    assert "works again, after 5 messages were refused" in caplog.text


def test_a_non_ascii_sender_without_smtputf8_is_refused(wanabidii) -> None:  # type: ignore[no-untyped-def]
    with server() as port:
        sock, _ = banner(port)
        lines = sock.makefile("rb")

        def say(line: bytes) -> bytes:
            sock.sendall(line + b"\r\n")
            reply = lines.readline()
            while reply[3:4] == b"-":  # a multi-line reply
                reply = lines.readline()
            return reply

        say(b"EHLO client.example")
        assert say("MAIL FROM:<jürgen@example.de>".encode()).startswith(b"553 5.6.7")
        assert say(b"MAIL FROM:<juergen@example.de>").startswith(b"250")
        sock.close()


def test_the_server_caps_open_connections_in_all(wanabidii) -> None:  # type: ignore[no-untyped-def]
    # Each address stays under its own limit; together they reach the server's.
    with server(max_connections=2, connections_per_ip=50) as port:
        first, second = banner(port), banner(port)
        third, reply = banner(port)
        assert [first[1][:3], second[1][:3]] == [b"220", b"220"]
        assert reply.startswith(b"421 4.3.2")
        for sock in (first[0], second[0], third):
            sock.close()
