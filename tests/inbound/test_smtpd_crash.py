"""A real `tidings smtpd` process, SIGKILLed at random while clients send: no accepted mail lost."""

from __future__ import annotations

import collections
import os
import random
import signal
import smtplib
import socket
import subprocess
import sys
import threading
import time

import pytest

from tests.paths import ROOT
from tests.smtp_helpers import free_port
from tidings.inbound.models import InboundMessage

pytestmark = pytest.mark.django_db(transaction=True)

MESSAGES = 500
CLIENTS = 5
KILLS = 5


def database_url(settings) -> str:  # type: ignore[no-untyped-def]
    db = settings.DATABASES["default"]
    if db["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{db['NAME']}"
    return f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def start_server(settings, port: int) -> subprocess.Popen[bytes]:  # type: ignore[no-untyped-def]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TIDINGS_", "DATABASE_URL"))}
    env |= {
        "DATABASE_URL": database_url(settings),
        "TIDINGS_DATA_DIR": str(settings.DATA_DIR),
        "TIDINGS_LOG_LEVEL": "ERROR",
    }
    argv = [sys.executable, "-m", "tidings", "smtpd", "--listen", f"127.0.0.1:{port}"]
    process = subprocess.Popen(argv, env=env, cwd=ROOT)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert process.poll() is None, "the SMTP server exited"
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close()
            return process
        except OSError:
            time.sleep(0.05)
    raise AssertionError("the SMTP server did not start")


def message(n: int, rcpt: str) -> bytes:
    return (
        f"From: author{n}@example.com\r\nTo: {rcpt}\r\nSubject: crash-{n}\r\n"
        f"Message-ID: <crash-{n}@example.com>\r\n\r\n" + "Line of the body.\r\n" * 200
    ).encode()


def send_all(port: int, numbers: range, rcpt: str, accepted: set[int], done: threading.Event):  # type: ignore[no-untyped-def]
    """Send each message once, over one connection while it lasts; note those that got 250."""
    client: smtplib.SMTP | None = None
    for n in numbers:
        deadline = time.monotonic() + 60
        while client is None:
            assert time.monotonic() < deadline, "the server never came back"
            try:
                client = smtplib.SMTP("127.0.0.1", port, timeout=10)
            except OSError:
                time.sleep(0.02)
        try:
            # sendmail raises unless DATA got a 2xx: reaching the next line means 250.
            client.sendmail(f"author{n}@example.com", [rcpt], message(n, rcpt))
            accepted.add(n)
        except (smtplib.SMTPException, OSError):
            client.close()  # killed mid-transaction: whether it was stored is unknown
            client = None
    if client is not None:
        client.quit()
    done.set()


def test_it_stores_every_accepted_message_exactly_once_across_kills(settings, wanabidii):  # type: ignore[no-untyped-def]
    port = free_port()
    accepted: set[int] = set()
    finished = [threading.Event() for _ in range(CLIENTS)]
    server = start_server(settings, port)
    clients = [
        threading.Thread(
            target=send_all,
            args=(port, range(k, MESSAGES, CLIENTS), wanabidii.address, accepted, finished[k]),
        )
        for k in range(CLIENTS)
    ]
    for thread in clients:
        thread.start()
    kills = 0
    try:
        while kills < KILLS and not all(event.is_set() for event in finished):
            # Kill at a random moment once a random number more messages went through.
            target = len(accepted) + random.randint(20, MESSAGES // (KILLS + 1))
            while len(accepted) < target and not all(e.is_set() for e in finished):
                time.sleep(0.005)
            time.sleep(random.uniform(0, 0.02))
            server.send_signal(signal.SIGKILL)
            server.wait()
            kills += 1
            server = start_server(settings, port)
    finally:
        for thread in clients:
            thread.join(timeout=120)
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)

    copies = collections.Counter(InboundMessage.objects.values_list("subject", flat=True))
    assert kills == KILLS, "the clients finished before the kills could test anything"
    assert len(accepted) >= MESSAGES // 4
    assert len(accepted) < MESSAGES, "no kill ever hit a transaction"
    assert all(copies[f"crash-{n}"] == 1 for n in accepted)  # accepted: stored, once
    assert max(copies.values()) == 1  # the rest: stored once or not at all
    assert set(copies) <= {f"crash-{n}" for n in range(MESSAGES)}
