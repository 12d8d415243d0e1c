"""Real worker processes, SIGKILLed mid-send, against Postfix's C smtp-sink: nobody lost."""

from __future__ import annotations

import collections
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
from django.db import connection
from django.utils import timezone

from tests.paths import ROOT, SHARED
from tests.smtp_helpers import free_port
from tidings.bulletins.actions import create_bulletin, publish_bulletin
from tidings.delivery.models import Delivery, Send
from tidings.subscribers.models import Subscriber, Subscription

pytestmark = pytest.mark.django_db(transaction=True)

SINK = SHARED / "tools" / "smtp-sink"
CHUNK = 200


def database_url(settings) -> str:  # type: ignore[no-untyped-def]
    db = settings.DATABASES["default"]
    if db["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{db['NAME']}"
    return f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


@pytest.fixture
def sink():  # type: ignore[no-untyped-def]
    """Run the C sink, dumping every transaction (envelope and message) into one file."""
    if not SINK.exists():
        pytest.skip(f"{SINK} is not there (the shared tools folder beside the checkout)")
    # The sink drops its privileges to nobody, who must be able to reach and write the dump.
    folder = Path(tempfile.mkdtemp(prefix="tidings-sink-"))
    folder.chmod(0o777)
    dump = folder / "dump"
    port = free_port()
    process = subprocess.Popen([str(SINK), str(port), "-D", str(dump)], stdout=subprocess.DEVNULL)
    for _ in range(600):  # the first run downloads Postfix's package
        assert process.poll() is None, "smtp-sink exited"
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close()
            break
        except OSError:
            time.sleep(0.1)
    yield port, dump
    process.terminate()
    process.wait()
    shutil.rmtree(folder, ignore_errors=True)


def received(dump: Path) -> list[tuple[str, str]]:
    """Return (recipient, Message-ID) for every message the sink took."""
    text = dump.read_text(errors="replace") if dump.exists() else ""
    pairs = re.findall(r"^X-Rcpt-Args: <([^>]+)>\n(?:.*\n)*?Message-ID: (<[^>]+>)", text, re.M)
    return pairs


def seed(account, topic, n: int) -> Send:  # type: ignore[no-untyped-def]
    Subscriber.objects.bulk_create(
        Subscriber(account=account, email=f"r{i}@example{i % 7}.org", status=Subscriber.CONFIRMED)
        for i in range(n)
    )
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {Subscription._meta.db_table} (subscriber_id, topic_id, created) "  # noqa: S608
            f"SELECT id, %s, %s FROM {Subscriber._meta.db_table}",
            [topic.pk, timezone.now()],
        )
    bulletin = create_bulletin(
        account, subject="Migration Talks", body="Body " * 200, topics=[topic]
    )
    return publish_bulletin(bulletin)


def worker(settings, port: int) -> subprocess.Popen[bytes]:  # type: ignore[no-untyped-def]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TIDINGS_", "DATABASE_URL"))}
    env |= {
        "DATABASE_URL": database_url(settings),
        "TIDINGS_DATA_DIR": str(settings.DATA_DIR),
        "TIDINGS_SMTP_RELAY": f"smtp://127.0.0.1:{port}",
        "TIDINGS_DELIVERY_CHUNK_SIZE": str(CHUNK),
        "TIDINGS_DELIVERY_LEASE_SECONDS": "3",
        "TIDINGS_SMTP_CONNECTIONS": "4",
        "TIDINGS_LOG_LEVEL": "WARNING",
    }
    argv = [sys.executable, "-m", "tidings", "worker", "--idle", "0.2"]
    return subprocess.Popen(argv, env=env, cwd=ROOT)


def sent(send: Send) -> int:
    return Delivery.objects.filter(send=send, state=Delivery.SENT).count()


def wait_until_done(send: Send, seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        send.refresh_from_db()
        if send.state == Send.DONE:
            return
        time.sleep(0.3)
    raise AssertionError(f"send still {send.state} after {seconds} s: {sent(send)} sent")


def test_it_loses_nobody_when_workers_are_killed_mid_send(settings, account, topic, sink):  # type: ignore[no-untyped-def]
    port, dump = sink
    send = seed(account, topic, 10_000)
    kills = 0
    for _ in range(4):
        process = worker(settings, port)
        before = sent(send)
        deadline = time.monotonic() + 60
        while sent(send) < before + 300:
            assert time.monotonic() < deadline, "the worker made no progress"
            time.sleep(0.05)
        time.sleep(random.uniform(0, 0.3))
        process.send_signal(signal.SIGKILL)
        process.wait()
        kills += 1
    assert sent(send) < 10_000, "the kills came too late to test anything"

    last = worker(settings, port)
    try:
        wait_until_done(send)
    finally:
        last.send_signal(signal.SIGTERM)
        assert last.wait(timeout=30) == 0

    assert set(Delivery.objects.filter(send=send).values_list("state", flat=True)) == {"sent"}
    copies = collections.defaultdict(list)
    for rcpt, message_id in received(dump):
        copies[rcpt].append(message_id)
    assert len(copies) == 10_000  # everyone, at least once
    duplicates = {rcpt: ids for rcpt, ids in copies.items() if len(ids) > 1}
    # Only messages on the wire when a worker died (at most the chunk being sent and the one
    # whose outcomes were being written) go twice, and each time with the same Message-ID.
    assert sum(len(ids) - 1 for ids in duplicates.values()) <= kills * 2 * CHUNK
    assert all(len(set(ids)) == 1 for ids in duplicates.values())


def test_it_never_gives_one_row_to_two_workers(settings, account, topic, sink):  # type: ignore[no-untyped-def]
    port, dump = sink
    send = seed(account, topic, 4_000)
    workers = [worker(settings, port), worker(settings, port)]
    try:
        wait_until_done(send)
    finally:
        for process in workers:
            process.send_signal(signal.SIGTERM)
        assert [p.wait(timeout=30) for p in workers] == [0, 0]

    recipients = [rcpt for rcpt, _ in received(dump)]
    assert len(recipients) == 4_000
    assert len(set(recipients)) == 4_000
