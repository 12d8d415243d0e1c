"""A worker's roles (send, route, jobs): each alone, and side by side without waiting on each
other."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from tests.smtp_helpers import sink_server
from tidings.bulletins.actions import create_bulletin, publish_bulletin
from tidings.delivery.models import Delivery, Send
from tidings.inbound.actions import store_message
from tidings.inbound.models import InboundMessage
from tidings.lists.models import ListMessage
from tidings.ops.worker import Worker
from tidings.subscribers.actions import subscribe

pytestmark = pytest.mark.django_db(transaction=True)


def post(n: int = 1) -> bytes:
    return (
        b"From: U.S. Department of State <usstatebpa@tidings.localhost>\r\n"
        b"To: wanabidii@lists.tidings.localhost\r\n"
        b"Subject: Post %d\r\n"
        b"Message-ID: <roles-%d@tidings.localhost>\r\n"
        b"Date: Tue, 01 Dec 2015 12:38:00 -0500\r\n"
        b"\r\n"
        b"Hello members.\r\n"
    ) % (n, n)


def receive(mailing_list, n: int = 1) -> InboundMessage:  # type: ignore[no-untyped-def]
    return store_message(
        post(n), mail_from="news@example.org", local_rcpts=[mailing_list.address], captured_rcpts=[]
    )


def test_a_route_worker_routes_and_sends_nothing(wanabidii, bob) -> None:  # type: ignore[no-untyped-def]
    message = receive(wanabidii)
    with sink_server() as sink:
        asyncio.run(Worker(sink.relay, idle=0.05, roles=["route"]).run(once=True))
        assert sink.received == []
    message.refresh_from_db()
    assert message.state == InboundMessage.DONE
    relayed = Send.objects.get(kind=Send.LIST_POST)
    assert set(relayed.deliveries.values_list("state", flat=True)) == {Delivery.QUEUED}


def test_a_send_worker_sends_and_routes_nothing(account, topic, bob, wanabidii) -> None:  # type: ignore[no-untyped-def]
    message = receive(wanabidii)
    send = publish_bulletin(create_bulletin(account, subject="News", body="Hi.", topics=[topic]))
    with sink_server() as sink:
        asyncio.run(Worker(sink.relay, idle=0.05, roles=["send"]).run(once=True))
        assert "bob@example.org" in sink.recipients()
    message.refresh_from_db()
    assert message.state == InboundMessage.NEW
    assert send.deliveries.filter(state=Delivery.SENT).count() == send.deliveries.count()


def test_list_posts_are_routed_while_a_large_send_runs(  # type: ignore[no-untyped-def]
    account, topic, wanabidii, settings
) -> None:
    settings.SMTP_CONNECTIONS = 1
    settings.DELIVERY_CHUNK_SIZE = 20
    for n in range(200):
        subscribe(account, f"reader{n}@example.org", [topic], confirmed=True)
    send = publish_bulletin(create_bulletin(account, subject="Big", body="Hi.", topics=[topic]))
    with sink_server() as sink:
        sink.delay = 0.05  # 200 messages: ten seconds of sending, one connection
        worker = Worker(sink.relay, idle=0.05)
        loop = asyncio.new_event_loop()
        thread = threading.Thread(target=loop.run_until_complete, args=(worker.run(),))
        thread.start()
        try:
            deadline = time.monotonic() + 15
            while time.monotonic() < deadline and not sink.received:
                time.sleep(0.05)
            assert sink.received, "the send never started"
            for n in range(20):
                receive(wanabidii, n)
            deadline = time.monotonic() + 5
            while time.monotonic() < deadline and ListMessage.objects.count() < 20:
                time.sleep(0.05)
            # Every post was routed, and the big send is still going.
            assert ListMessage.objects.count() == 20
            assert send.deliveries.exclude(state=Delivery.SENT).exists()
        finally:
            loop.call_soon_threadsafe(worker.stop.set)
            thread.join(60)
            loop.close()


def test_the_command_refuses_an_unknown_role(db) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(CommandError, match="invalid choice"):
        call_command("worker", "--role", "cook", "--once")


def test_the_command_plays_the_roles_it_is_given(wanabidii, bob) -> None:  # type: ignore[no-untyped-def]
    message = receive(wanabidii)
    call_command("worker", "--role", "jobs", "--once")
    message.refresh_from_db()
    assert message.state == InboundMessage.NEW
    call_command("worker", "--role", "route", "--once")
    message.refresh_from_db()
    assert message.state == InboundMessage.DONE


def test_a_failing_step_made_with_partial_is_logged_and_retried(caplog) -> None:  # type: ignore[no-untyped-def]
    # The heartbeat is a functools.partial: a lost database during it must not end the worker.
    import functools

    from tidings.ops.worker import guarded

    def beat(name: str) -> bool:
        raise ConnectionError(f"{name}: the database is away")

    assert guarded(functools.partial(beat, "w1"))() is False
    assert "beat failed; trying again" in caplog.text
