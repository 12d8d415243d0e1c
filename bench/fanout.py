"""Fan-out benchmark: one personalized ~6 KB bulletin to N subscribers, into a C SMTP sink.

    .venv/bin/python bench/fanout.py --n 100000 [--db sqlite|postgres] [--workers 2]

Prints the snapshot rate, end-to-end messages per second, peak resident memory of the Tidings
processes, and two baselines measured in the same run into the same kind of sink: Postfix's C
smtp-source over 8 sessions, and a naive Python sender (each message built with the email
package, sent with aiosmtplib over 8 connections). Needs ../shared/tools/smtp-sink.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SINK = Path(os.environ.get("SMTP_SINK", ROOT.parent / "shared" / "tools" / "smtp-sink"))
PG = "postgres://root@127.0.0.1:5432/"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def setup_django(env: dict[str, str]) -> None:
    os.environ.update(env)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tidings.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def seed(n: int) -> None:
    """Create the account, topic and n confirmed subscribers (harness work, not measured)."""
    from django.db import connection, transaction
    from django.utils import timezone

    from tidings.accounts.actions import create_account
    from tidings.bulletins.actions import create_bulletin
    from tidings.subscribers.models import Subscriber, Subscription
    from tidings.topics.actions import create_topic

    account = create_account(
        code="USSTATEBPA",
        name="U.S. Department of State",
        sender_address="usstatebpa@tidings.localhost",
        postal_address="2201 C Street NW · Washington, DC 20520",
        time_zone="America/New_York",
    )
    topic = create_topic(account, name="Press Releases", code="USSTATEBPA_1")
    now = timezone.now()
    batch = 20_000
    for start in range(0, n, batch):
        with transaction.atomic():
            Subscriber.objects.bulk_create(
                Subscriber(
                    account=account,
                    email=f"reader{i}@example{i % 97}.org",
                    status=Subscriber.CONFIRMED,
                    confirmed_at=now,
                )
                for i in range(start, min(n, start + batch))
            )
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {Subscription._meta.db_table} (subscriber_id, topic_id, created) "  # noqa: S608
            f"SELECT id, %s, %s FROM {Subscriber._meta.db_table} WHERE account_id = %s",
            [topic.pk, now, account.pk],
        )
    release = (ROOT / "tidings" / "fixtures" / "press-release.md").read_text()
    title, _, body = release.partition("\n")
    # About 6 KB on the wire: the release twice over, in text and in HTML.
    create_bulletin(account, subject=title, body=body + "\n\n" + body, topics=[topic])


def publish() -> None:
    """Publish the draft (the snapshot) and print its figures as JSON: run in its own process."""
    import resource

    from tidings.bulletins.actions import publish_bulletin
    from tidings.bulletins.models import Bulletin

    bulletin = Bulletin.objects.get()
    started = time.perf_counter()
    send = publish_bulletin(bulletin)
    seconds = time.perf_counter() - started
    rows = send.deliveries.count()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    print(json.dumps({"seconds": seconds, "rows": rows, "peak": peak}))


def rss(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    except FileNotFoundError:
        pass
    return 0


def start_sink(port: int) -> subprocess.Popen[bytes]:
    sink = subprocess.Popen(
        [str(SINK), str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close()
            return sink
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("smtp-sink did not start")


def run_workers(env: dict[str, str], workers: int, port: int) -> tuple[float, int]:
    """Run workers until the send is done; return seconds and the peak RSS sum."""
    env = {**env, "TIDINGS_SMTP_RELAY": f"smtp://127.0.0.1:{port}"}
    started = time.perf_counter()
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "tidings", "worker", "--once", "--idle", "0.2"],
            env=env,
            cwd=ROOT,
            stderr=subprocess.DEVNULL,
        )
        for _ in range(workers)
    ]
    peaks = {p.pid: 0 for p in procs}
    while any(p.poll() is None for p in procs):
        for p in procs:
            peaks[p.pid] = max(peaks[p.pid], rss(p.pid))
        time.sleep(0.2)
    return time.perf_counter() - started, sum(peaks.values())


def smtp_source(port: int, n: int) -> float:
    started = time.perf_counter()
    subprocess.run(
        [str(SINK), "--source", "-s", "8", "-m", str(n), "-l", "6000", "-d", f"127.0.0.1:{port}"],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    return n / (time.perf_counter() - started)


def naive(port: int, n: int) -> float:
    """Build each message with the email package and send it with aiosmtplib, 8 connections."""
    from email.message import EmailMessage

    import aiosmtplib

    body = (ROOT / "tidings" / "fixtures" / "press-release.md").read_text() * 2

    async def lane(numbers: range) -> None:
        async with aiosmtplib.SMTP(hostname="127.0.0.1", port=port, start_tls=False) as client:
            for i in numbers:
                msg = EmailMessage()
                msg["From"] = "usstatebpa@tidings.localhost"
                msg["To"] = f"reader{i}@example.org"
                msg["Subject"] = "Press Releases: United States and Cuba Hold Migration Talks"
                msg.set_content(body.replace("\n\n", f"\n\nreader{i}\n\n", 1))
                msg.add_alternative(f"<p>{body}</p>", subtype="html")
                await client.send_message(msg)

    async def main() -> None:
        await asyncio.gather(*(lane(range(k, n, 8)) for k in range(8)))

    started = time.perf_counter()
    asyncio.run(main())
    return n / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--connections", type=int, default=8, help="per worker")
    parser.add_argument("--chunk", type=int, default=1000)
    parser.add_argument("--baseline-n", type=int, default=20_000)
    parser.add_argument("--step", default="", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.step:
        setup_django({})
        {"seed": lambda: seed(args.n), "publish": publish}[args.step]()
        return

    data = Path(tempfile.mkdtemp(prefix="tidings-fanout-"))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TIDINGS_", "DATABASE_URL"))}
    env |= {
        "TIDINGS_DATA_DIR": str(data),
        "TIDINGS_DELIVERY_CHUNK_SIZE": str(args.chunk),
        "TIDINGS_SMTP_CONNECTIONS": str(args.connections),
        "TIDINGS_LOG_LEVEL": "WARNING",
    }
    if args.db == "postgres":
        import psycopg

        with psycopg.connect(PG + "postgres", autocommit=True) as conn:
            conn.execute("DROP DATABASE IF EXISTS tidings_bench")
            conn.execute("CREATE DATABASE tidings_bench")
        env["DATABASE_URL"] = PG + "tidings_bench"

    def tidings(*argv: str) -> str:
        return subprocess.run(
            [sys.executable, *argv], env=env, cwd=ROOT, check=True, capture_output=True, text=True
        ).stdout

    try:
        tidings("-m", "tidings", "migrate", "--verbosity", "0")
        print(f"seeding {args.n:,} subscribers ({args.db}) …", flush=True)
        tidings(__file__, "--step", "seed", "--n", str(args.n))
        snapshot = json.loads(tidings(__file__, "--step", "publish"))
        assert snapshot["rows"] == args.n, snapshot

        port = free_port()
        sink = start_sink(port)
        try:
            seconds, worker_peak = run_workers(env, args.workers, port)
            source_rate = smtp_source(port, min(args.n, 200_000))
            naive_rate = naive(port, min(args.n, args.baseline_n))
        finally:
            sink.terminate()
            sink.wait()
        setup_django(env)
        from tidings.delivery.models import Delivery

        states = dict(
            Delivery.objects.values_list("state").annotate(
                n=__import__("django").db.models.Count("id")
            )
        )
    finally:
        shutil.rmtree(data, ignore_errors=True)

    total = seconds + snapshot["seconds"]
    rate = args.n / total
    print(f"\nfan-out of one ~6 KB bulletin to {args.n:,} recipients, {args.db}, "
          f"{args.workers} workers × {args.connections} connections, chunk {args.chunk}")  # fmt: skip
    print(
        f"  snapshot            {snapshot['seconds']:8.2f} s   {args.n / snapshot['seconds']:12,.0f} rows/s"
    )
    print(f"  sending             {seconds:8.2f} s")
    print(f"  end to end          {total:8.2f} s   {rate:12,.0f} messages/s")
    print(f"  outcomes            {states}")
    print(f"  peak RSS            {worker_peak / 2**20:8.0f} MB (workers, summed)   "
          f"{snapshot['peak'] / 2**20:.0f} MB (publish)")  # fmt: skip
    print(f"  C smtp-source       {source_rate:12,.0f} messages/s (8 sessions)")
    print(
        f"  naive Python        {naive_rate:12,.0f} messages/s (email + aiosmtplib, 8 connections)"
    )
    print(
        f"  ratios              {rate / source_rate:.2f} × smtp-source, {rate / naive_rate:.1f} × naive"
    )


if __name__ == "__main__":
    main()
