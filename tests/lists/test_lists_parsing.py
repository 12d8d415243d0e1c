"""Parsing is bounded: deeply nested or huge multiparts are held with a reason, never crash."""

from __future__ import annotations

import time

import pytest

from tidings.inbound.actions import store_message
from tidings.inbound.models import InboundMessage
from tidings.inbound.router import route_one
from tidings.lists.models import ListMessage

pytestmark = pytest.mark.django_db

LIST = "wanabidii@lists.tidings.localhost"
HEAD = f"From: usstatebpa@tidings.localhost\r\nTo: {LIST}\r\nSubject: Deep\r\n"


def nested(depth: int) -> bytes:
    body = "Content-Type: text/plain\r\n\r\nhello\r\n"
    for level in range(depth):
        body = (
            f'Content-Type: multipart/mixed; boundary="b{level}"\r\n\r\n--b{level}\r\n{body}'
            f"\r\n--b{level}--\r\n"
        )
    return (HEAD + body).encode()


def wide(parts: int) -> bytes:
    body = "".join(f"--w\r\nContent-Type: text/plain\r\n\r\npart {n}\r\n" for n in range(parts))
    return (HEAD + f'Content-Type: multipart/mixed; boundary="w"\r\n\r\n{body}--w--\r\n').encode()


def route(raw: bytes) -> ListMessage:
    store_message(raw, mail_from="usstatebpa@tidings.localhost", local_rcpts=[LIST],
                  captured_rcpts=[])  # fmt: skip
    assert route_one()
    return ListMessage.objects.get()


def test_a_deeply_nested_post_is_held_quickly(wanabidii):  # type: ignore[no-untyped-def]
    started = time.monotonic()
    record = route(nested(5000))
    assert time.monotonic() - started < 5
    assert (record.status, record.rule) == (ListMessage.HELD, "malformed")
    assert "too complex" in record.reason
    assert InboundMessage.objects.get().state == InboundMessage.MALFORMED


def test_a_post_nested_past_the_depth_limit_is_held(wanabidii):  # type: ignore[no-untyped-def]
    record = route(nested(30))
    assert "nested" in record.reason


def test_a_post_with_too_many_parts_is_held(wanabidii):  # type: ignore[no-untyped-def]
    record = route(wide(800))
    assert "800" in record.reason or "801" in record.reason


def test_a_reasonable_multipart_is_relayed(wanabidii):  # type: ignore[no-untyped-def]
    assert route(nested(3)).status == ListMessage.ACCEPTED
