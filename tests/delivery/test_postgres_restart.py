"""Workers heal themselves: PostgreSQL restarted in the middle of a send with standalone
workers. Everyone is sent to once (a message on the wire at the fault may go twice, with the
same Message-ID), sending resumes within seconds of the database's return, and no process
needs a hand restart.

It restarts the machine's PostgreSQL, so it runs alone: `make test-postgres` runs it after
the parallel suite (marker restarts_postgres); on SQLite it is skipped.
"""

from __future__ import annotations

import os
import re
import shutil
import smtplib
import subprocess
import sys
import time
import urllib.request
from collections import defaultdict
from pathlib import Path

import pytest
from django.db import connection

from tests.delivery.test_crash_safety import database_url
from tests.paths import ROOT
from tests.smtp_helpers import free_port, sink_server
from tidings.bulletins.actions import create_bulletin, publish_bulletin
from tidings.delivery.models import Delivery
from tidings.subscribers.actions import subscribe

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.restarts_postgres,
    pytest.mark.slow,
]

RECIPIENTS = 3000


def sent(send_id: int) -> int:
    for _ in range(50):
        try:
            return Delivery.objects.filter(send_id=send_id, state=Delivery.SENT).count()
        except Exception:  # the database is away, or our connection went with it
            connection.close()
            time.sleep(0.2)
    raise AssertionError("the database did not come back")


def eventually(check, seconds: float = 10) -> bool:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if check():
                return True
        except OSError:
            pass
        time.sleep(0.2)
    return False


def post_to(port: int, address: str) -> bool:
    with smtplib.SMTP("127.0.0.1", port, timeout=5) as client:
        refused = client.sendmail(
            "usstatebpa@tidings.localhost", [address], b"Subject: after\r\n\r\nHello.\r\n"
        )
    return not refused


def page(port: int, path: str) -> bool:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as response:
        return response.status == 200


def restart_postgres() -> float:
    """Restart the cluster; return when it accepts connections again (monotonic time)."""
    version = sorted(os.listdir("/etc/postgresql"))[0]
    subprocess.run(
        ["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", "restart"],
        check=True,
        capture_output=True,
    )
    for _ in range(100):
        if subprocess.run(["pg_isready", "-h", "127.0.0.1", "-q"]).returncode == 0:
            return time.monotonic()
        time.sleep(0.1)
    raise AssertionError("PostgreSQL did not come back")


def test_workers_ride_out_a_postgresql_restart(
    settings, account, topic, wanabidii, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    if connection.vendor != "postgresql":
        pytest.skip("restarts the machine's PostgreSQL")
    if shutil.which("pg_ctlcluster") is None or not os.path.isdir("/etc/postgresql"):
        pytest.skip("needs Debian's pg_ctlcluster")
    for n in range(RECIPIENTS):
        subscribe(account, f"reader{n}@example{n % 7}.org", [topic], confirmed=True)
    send = publish_bulletin(create_bulletin(account, subject="News", body="Hi.", topics=[topic]))
    with sink_server() as sink:
        assert sink.relay is not None
        sink.delay = 0.004  # about a thousand a second over four connections: a few seconds
        env = {k: v for k, v in os.environ.items() if not k.startswith(("TIDINGS_", "DATABASE"))}
        env |= {
            "DATABASE_URL": database_url(settings),
            "TIDINGS_DATA_DIR": str(tmp_path),
            "TIDINGS_SMTP_RELAY": f"smtp://127.0.0.1:{sink.relay.port}",
            "TIDINGS_DELIVERY_CHUNK_SIZE": "100",
            "TIDINGS_SMTP_CONNECTIONS": "4",
            "TIDINGS_LOG_LEVEL": "WARNING",
        }
        smtp_port, web_port = free_port(), free_port()
        logs = [tmp_path / f"{name}.log" for name in ("worker-1", "worker-2", "smtpd", "web")]
        commands = [
            ["worker", "--idle", "0.2"],
            ["worker", "--idle", "0.2"],
            ["smtpd", "--listen", f"127.0.0.1:{smtp_port}"],
            ["web", "--listen", f"127.0.0.1:{web_port}"],
        ]
        workers = [
            subprocess.Popen(
                [sys.executable, "-m", "tidings", *command],
                env=env,
                cwd=ROOT,
                stdout=subprocess.DEVNULL,
                stderr=log.open("wb"),
            )
            for command, log in zip(commands, logs, strict=True)
        ]
        try:
            deadline = time.monotonic() + 60
            while sent(send.pk) < RECIPIENTS // 10:
                assert time.monotonic() < deadline, "the send never started"
                time.sleep(0.1)
            back = restart_postgres()
            before = sent(send.pk)
            while sent(send.pk) <= before:
                assert time.monotonic() - back < 10, "sending did not resume within 10 s"
                time.sleep(0.1)
            deadline = time.monotonic() + 120
            while sent(send.pk) < RECIPIENTS:
                assert time.monotonic() < deadline, "the send did not finish"
                time.sleep(0.2)
            # The SMTP server and the web process came back by themselves too.
            assert eventually(lambda: post_to(smtp_port, wanabidii.address)), "smtpd"
            assert eventually(lambda: page(web_port, "/lists/wanabidii/")), "web"
            # Nobody needed a hand restart.
            assert [w.poll() for w in workers] == [None] * 4
        finally:
            for w in workers:
                w.terminate()
            for w in workers:
                w.wait(30)
    said = [log.read_text() for log in logs]
    assert any("the database is unavailable" in text for text in said), said
    copies: dict[str, list[bytes]] = defaultdict(list)
    for _, rcpts, data in sink.received:
        found = re.search(rb"^Message-ID: (\S+)", data, re.MULTILINE)
        for rcpt in rcpts:
            copies[rcpt].append(found.group(1) if found else b"")
    addresses = set(Delivery.objects.filter(send=send).values_list("address", flat=True))
    assert addresses <= set(copies)  # everyone got it
    twice = {r: ids for r, ids in copies.items() if len(ids) > 1 and r in addresses}
    assert len(twice) <= 100  # at most what was on the wire at the restart
    assert all(len(set(ids)) == 1 for ids in twice.values())  # and with the same Message-ID
    assert not Delivery.objects.filter(send=send).exclude(state=Delivery.SENT).exists()
