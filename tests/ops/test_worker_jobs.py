"""A slow periodic job (a feed poll, an import) never stops a worker from sending."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest

from tests.smtp_helpers import sink_server
from tidings.bulletins.actions import create_bulletin, publish_bulletin
from tidings.delivery.models import Delivery
from tidings.ops import periodic
from tidings.ops.worker import Worker

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_send_goes_out_while_a_slow_job_runs(account, topic, bob, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    started, release = threading.Event(), threading.Event()

    def slow_job() -> None:
        started.set()
        release.wait(20)

    monkeypatch.setitem(periodic.JOBS, "test.slow", (3600, slow_job))
    with sink_server() as sink:
        assert sink.relay is not None
        worker = Worker(sink.relay, idle=0.05)
        loop = asyncio.new_event_loop()
        thread = threading.Thread(target=loop.run_until_complete, args=(worker.run(),))
        thread.start()
        try:
            assert started.wait(20), "the slow job never started"
            send = publish_bulletin(
                create_bulletin(account, subject="News", body="Hi.", topics=[topic])
            )
            deadline = time.monotonic() + 15
            while time.monotonic() < deadline and not sink.received:
                time.sleep(0.05)
            # Sent while the job still runs: it has not been released yet.
            assert not release.is_set()
            assert [rcpts for _, rcpts, _ in sink.received] == [["bob@example.org"]]
        finally:
            release.set()
            loop.call_soon_threadsafe(worker.stop.set)
            thread.join(30)
            loop.close()
    assert Delivery.objects.get(send=send).state == Delivery.SENT
