"""Text message benchmark: a bulletin to N numbers through the texts role into an SMPP server.

    .venv/bin/python bench/sms.py [--n 100000] [--db sqlite|postgres] [--window 64]

Tidings' own SMSC (texts.smsc, no store, no receipts) runs in a process of its own on loopback.
In the same run, on the same server:
  - the minimal SMPP client (the baseline): smpplib as its README shows it, each submit_sm
    sent and its answer read before the next;
  - the wire's ceiling: one plain socket, the N submit_sm PDUs encoded before the clock
    starts, a window at a time, each answer read (no database, no text to write);
  - Tidings: N confirmed numbers follow a topic; a bulletin is published (its text snapshot is
    timed apart) and the texts role (texts.sender.TextSender, smpplib, the same window) claims
    the rows, writes each text, submits it and records every outcome in the ledger.
Prints texts per second for each and the ratios (goal: Tidings at least 50% of the baseline).
"""

from __future__ import annotations

import argparse
import os
import socket
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PG = "postgres://root@127.0.0.1:5432/"
SERVER = """
import asyncio, sys
sys.path.insert(0, {root!r})
from tidings.texts.smsc import SMSC

async def main():
    smsc = SMSC(receipts=False)
    port = await smsc.start("127.0.0.1", {port})
    print("ready", flush=True)
    await asyncio.Event().wait()

asyncio.run(main())
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_port(port: int) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), 1).close()
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("the SMSC never listened")


def minimal_client(port: int, n: int, window: int) -> float:
    """Send n one-segment texts as fast as one plain socket can; return texts per second."""
    header = struct.Struct(">IIII")

    def pdu(command: int, sequence: int, body: bytes) -> bytes:
        return header.pack(16 + len(body), command, 0, sequence) + body

    def submit(sequence: int, number: str) -> bytes:
        text = b"U.S. Department of State: Travel advisory update http://127.0.0.1:8000/b/1/"
        body = (b"\0\x05\x00TIDINGS\0\x01\x01" + number.encode() + b"\0\x00\x00\x00\0\0"
                + bytes([1, 0, 0, 0, len(text)]) + text)  # fmt: skip
        return pdu(0x04, sequence, body)

    sock = socket.create_connection(("127.0.0.1", port))
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    reader = sock.makefile("rb")

    def read_answer() -> None:
        length, _, status, _ = header.unpack(reader.read(16))
        reader.read(length - 16)
        assert status == 0, status

    sock.sendall(pdu(0x02, 1, b"bench\0\0\0\x34\x00\x00\0"))
    read_answer()
    pdus = [submit(i + 2, f"2547{i:08d}") for i in range(n)]
    started = time.perf_counter()
    inflight = 0
    for start in range(0, n, window):
        batch = pdus[start : start + window]
        sock.sendall(b"".join(batch))
        inflight += len(batch)
        # Keep the window full: read back all but what the next write puts in flight.
        while inflight > window:
            read_answer()
            inflight -= 1
    while inflight:
        read_answer()
        inflight -= 1
    seconds = time.perf_counter() - started
    sock.close()
    return n / seconds


def smpplib_client(port: int, n: int) -> float:
    """The minimal client: smpplib as its README shows it, one submit_sm after another, each
    answer read before the next; return texts per second."""
    import smpplib.client

    client = smpplib.client.Client("127.0.0.1", port, allow_unknown_opt_params=True)
    client.connect()
    client.bind_transmitter(system_id="bench", password="")
    text = b"U.S. Department of State: Travel advisory update http://127.0.0.1:8000/b/1/"
    started = time.perf_counter()
    for i in range(n):
        client.send_message(source_addr_ton=5, source_addr="TIDINGS", dest_addr_ton=1,
                            dest_addr_npi=1, destination_addr=f"2547{i:08d}",
                            short_message=text, registered_delivery=1)  # fmt: skip
        answer = client.read_pdu()
        assert answer.status == 0, answer.status
    seconds = time.perf_counter() - started
    client.unbind()
    client.disconnect()
    return n / seconds


def setup_django(env: dict[str, str]) -> None:
    os.environ.update(env)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tidings.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def seed(n: int) -> object:
    """An account, a topic, n confirmed numbers following it by text (harness, not timed)."""
    from django.db import connection, transaction
    from django.utils import timezone

    from tidings.accounts.actions import create_account
    from tidings.bulletins.actions import create_bulletin
    from tidings.texts.models import Phone, TextSubscription
    from tidings.topics.actions import create_topic

    account = create_account(code="USSTATEBPA", name="U.S. Department of State",
                             sender_address="usstatebpa@tidings.localhost")  # fmt: skip
    topic = create_topic(account, name="Travel advisories", code="USSTATEBPA_1")
    now = timezone.now()
    with transaction.atomic():
        for start in range(0, n, 5000):
            Phone.objects.bulk_create(
                Phone(account=account, number=f"+2547{i:08d}", status=Phone.CONFIRMED,
                      source=Phone.CONSOLE, confirmed_at=now)
                for i in range(start, min(n, start + 5000))
            )  # fmt: skip
        table, phones = TextSubscription._meta.db_table, Phone._meta.db_table
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {table} (phone_id, topic_id, created) "  # noqa: S608
                f"SELECT id, %s, %s FROM {phones}",
                [topic.pk, now],
            )
    return create_bulletin(account, subject="Travel advisory update", body="x", topics=[topic])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--window", type=int, default=64)
    options = parser.parse_args()

    data = Path(tempfile.mkdtemp(prefix="tidings-sms-"))
    port = free_port()
    server = subprocess.Popen([sys.executable, "-c", SERVER.format(root=str(ROOT), port=port)])
    env = {"TIDINGS_DATA_DIR": str(data), "TIDINGS_LOG_LEVEL": "WARNING",
           "TIDINGS_SMS_WINDOW": str(options.window)}  # fmt: skip
    database = ""
    if options.db == "postgres":
        database = f"tidings_sms_bench_{os.getpid()}"
        subprocess.run(["psql", PG + "postgres", "-qc", f"CREATE DATABASE {database}"], check=True)
        env["DATABASE_URL"] = PG + database
    try:
        wait_port(port)
        ceiling = minimal_client(port, options.n, options.window)
        baseline = smpplib_client(port, options.n)

        setup_django(env)
        from django.core.management import call_command

        from tidings.bulletins.actions import send_bulletin
        from tidings.delivery.models import Delivery, Send
        from tidings.texts.gateways import SmppGateway
        from tidings.texts.sender import TextSender

        call_command("migrate", verbosity=0)
        bulletin = seed(options.n)
        started = time.perf_counter()
        send_bulletin(bulletin)
        snapshot = time.perf_counter() - started
        sender = TextSender(SmppGateway(f"smpp://tidings@127.0.0.1:{port}"), idle=0.1)
        started = time.perf_counter()
        if os.environ.get("PROFILE"):
            import cProfile
            import pstats

            profile = cProfile.Profile()
            profile.enable()
        while sender.step():
            pass
        if os.environ.get("PROFILE"):
            profile.disable()
            pstats.Stats(profile).sort_stats("tottime").print_stats(25)
        seconds = time.perf_counter() - started
        sender.close()
        send = Send.objects.get(channel=Send.TEXT)
        sent = send.deliveries.filter(state=Delivery.SENT).count()
        tidings = sent / seconds
        print(f"\ntexts: {options.n:,} one-segment texts into an SMPP server on loopback "
              f"(Tidings' SMSC, its own process), window {options.window}, {options.db}")  # fmt: skip
        print(f"  minimal SMPP client (smpplib, one text after another):     {baseline:9,.0f}/s")
        print(f"  Tidings texts role (claim, write, submit, record):         {tidings:9,.0f}/s"
              f"  {tidings / baseline:.0%} of the minimal client")  # fmt: skip
        print(f"  the wire's ceiling (raw socket, {options.window} in flight, PDUs made in advance, "
              f"no database): {ceiling:,.0f}/s; Tidings {tidings / ceiling:.0%} of it")  # fmt: skip
        print(f"  (snapshot of {options.n:,} rows at publishing: {snapshot:.1f} s; "
              f"{sent:,} rows sent, send {send.state})")  # fmt: skip
    finally:
        server.terminate()
        server.wait(10)
        if "django" in sys.modules:
            from django.db import connections

            connections.close_all()
        if database:
            subprocess.run(["psql", PG + "postgres", "-qc", f"DROP DATABASE IF EXISTS {database}"],
                           check=False)  # fmt: skip


if __name__ == "__main__":
    main()
