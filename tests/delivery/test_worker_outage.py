"""A worker rides out a lost database: nothing is lost, nothing is sent twice, it carries on."""

from __future__ import annotations

import asyncio

import pytest
from django.db import OperationalError

from tests.smtp_helpers import sink_server
from tidings.bulletins.actions import create_bulletin, publish_bulletin
from tidings.delivery import worker as delivery_worker
from tidings.delivery.models import Delivery
from tidings.ops.worker import Worker
from tidings.subscribers.actions import subscribe

pytestmark = pytest.mark.django_db(transaction=True)


def flaky(func, failures: int):  # type: ignore[no-untyped-def]
    """func, failing the way a lost database does the first `failures` times."""
    calls = {"n": 0}

    def call(*args, **kwargs):  # type: ignore[no-untyped-def]
        calls["n"] += 1
        if calls["n"] <= failures:
            raise OperationalError("server closed the connection unexpectedly")
        return func(*args, **kwargs)

    return call, calls


def test_what_was_on_the_wire_is_recorded_when_the_database_returns(  # type: ignore[no-untyped-def]
    account, topic, monkeypatch, caplog
) -> None:
    for n in range(30):
        subscribe(account, f"reader{n}@example.org", [topic], confirmed=True)
    send = publish_bulletin(create_bulletin(account, subject="News", body="Hi.", topics=[topic]))
    record, calls = flaky(delivery_worker.record, failures=3)
    monkeypatch.setattr(delivery_worker, "record", record)
    claim, claims = flaky(delivery_worker.claim, failures=2)
    monkeypatch.setattr(delivery_worker, "claim", claim)
    with sink_server() as sink:
        asyncio.run(Worker(sink.relay, idle=0.05, roles=["send"]).run(once=True))
        # Each reader got the bulletin once: the outcomes waited for the database.
        assert sorted(sink.recipients()) == sorted(f"reader{n}@example.org" for n in range(30))
    assert calls["n"] > 3 and claims["n"] > 2
    states = set(send.deliveries.values_list("state", flat=True))
    assert states == {Delivery.SENT}
    assert "the database is unavailable" in caplog.text
    assert "the database is back" in caplog.text


def test_a_role_that_loses_the_database_keeps_running(wanabidii, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from tidings.inbound.actions import store_message
    from tidings.inbound.models import InboundMessage
    from tidings.ops import worker as ops_worker

    message = store_message(
        b"From: news@example.org\r\nSubject: Hi\r\nMessage-ID: <o1@x>\r\n\r\nHi.\r\n",
        mail_from="news@example.org",
        local_rcpts=[wanabidii.address],
        captured_rcpts=[],
    )
    route_one, calls = flaky(ops_worker.route_one, failures=2)
    monkeypatch.setattr(ops_worker, "route_one", route_one)
    worker = Worker(idle=0.05, roles=["route"])

    async def run() -> None:
        task = asyncio.ensure_future(worker.run())
        for _ in range(200):
            await asyncio.sleep(0.05)
            if await asyncio.to_thread(
                lambda: InboundMessage.objects.get(pk=message.pk).state != InboundMessage.NEW
            ):
                break
        worker.stop.set()
        await task

    asyncio.run(run())
    assert calls["n"] > 2
    message.refresh_from_db()
    assert message.state == InboundMessage.DONE
