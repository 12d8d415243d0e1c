"""Fairness benchmark: how long a list post and a confirmation mail wait during a large fan-out.

    .venv/bin/python bench/fairness.py --n 200000 [--db sqlite|postgres] [--workers 2]

Runs the fan-out of fanout.py twice into Postfix's C smtp-sink with the same workers: once alone
(the baseline rate), once with a post to a list and a new subscription arriving when a fifth of
it is sent. Prints how long the post took to reach the list's members and the confirmation its
reader, and the large send's rate in both runs and their ratio (target: waits of seconds, the
large send at least 90% of its rate alone). Needs ../shared/tools/smtp-sink.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import fanout

ROOT = fanout.ROOT
POST = (
    b"From: U.S. Department of State <usstatebpa@tidings.localhost>\r\n"
    b"To: wanabidii@lists.tidings.localhost\r\n"
    b"Subject: Talks\r\n"
    b"Message-ID: <fairness-post@tidings.localhost>\r\n"
    b"Date: Tue, 01 Dec 2015 12:38:00 -0500\r\n"
    b"\r\n"
    b"Hello members.\r\n"
)


def seed_list() -> None:
    """A list of three members that accepts the account's sender (harness work)."""
    from tidings.accounts.models import Account
    from tidings.lists.actions import add_member, allow_sender, create_list

    account = Account.objects.get()
    mailing_list = create_list("wanabidii", account=account)
    mailing_list.require_sender_authentication = False
    mailing_list.save(update_fields=["require_sender_authentication"])
    allow_sender(mailing_list, account.sender_address)
    for name in ("carol", "dave", "erin"):
        add_member(mailing_list, f"{name}@example.net")


def draft(subject: str) -> int:
    from tidings.bulletins.actions import create_bulletin
    from tidings.topics.models import Topic

    topic = Topic.objects.get()
    return create_bulletin(topic.account, subject=subject, body="News.", topics=[topic]).pk


def fan_out(env: dict[str, str], workers: int, port: int, subject: str, interrupt: bool) -> dict:
    """Publish a bulletin to everyone and send it with running workers; with interrupt, a post
    and a subscription arrive when a fifth is sent. Return the figures."""
    from django.db import close_old_connections

    from tidings.bulletins.actions import publish_bulletin
    from tidings.bulletins.models import Bulletin
    from tidings.delivery.models import Delivery, Send
    from tidings.inbound.actions import store_message
    from tidings.subscribers.actions import request_subscription
    from tidings.topics.models import Topic

    send = publish_bulletin(Bulletin.objects.get(pk=draft(subject)))
    total = send.deliveries.count()
    env = {**env, "TIDINGS_SMTP_RELAY": f"smtp://127.0.0.1:{port}"}
    started = time.perf_counter()
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "tidings", "worker", "--idle", "0.05"],
            env=env,
            cwd=ROOT,
            stderr=subprocess.DEVNULL,
        )
        for _ in range(workers)
    ]
    figures: dict = {}
    arrived = 0.0
    post_send = confirmation = None
    try:
        while True:
            time.sleep(0.05)
            close_old_connections()
            sent = send.deliveries.filter(state=Delivery.SENT).count()
            now = time.perf_counter()
            if interrupt and not arrived and sent >= total // 5:
                arrived = now
                store_message(
                    POST, mail_from="news@example.org",
                    local_rcpts=["wanabidii@lists.tidings.localhost"], captured_rcpts=[],
                )  # fmt: skip
                topic = Topic.objects.get()
                request_subscription(topic.account, "newcomer@example.org", [topic])
            if arrived:
                now = time.perf_counter()  # after the arrivals above, which take time too
                if post_send is None:
                    post_send = Send.objects.filter(kind=Send.LIST_POST).first()
                if confirmation is None:
                    confirmation = Delivery.objects.filter(address="newcomer@example.org").first()
                waiting = post_send is None or post_send.deliveries.exclude(state=Delivery.SENT)
                if "post" not in figures and post_send is not None and not waiting.exists():
                    figures["post"] = now - arrived
                if "confirmation" not in figures and confirmation is not None:
                    confirmation.refresh_from_db()
                    if confirmation.state == Delivery.SENT:
                        figures["confirmation"] = now - arrived
            if sent >= total:
                break
    finally:
        for p in procs:
            p.send_signal(signal.SIGTERM)
        for p in procs:
            p.wait(30)
    figures["seconds"] = time.perf_counter() - started
    figures["rate"] = total / figures["seconds"]
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=200_000)
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--chunk", type=int, default=1000)
    parser.add_argument("--step", default="", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.step:
        fanout.setup_django({})
        fanout.seed(args.n)
        seed_list()
        return

    data = Path(tempfile.mkdtemp(prefix="tidings-fairness-"))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TIDINGS_", "DATABASE_URL"))}
    env |= {
        "TIDINGS_DATA_DIR": str(data),
        "TIDINGS_DELIVERY_CHUNK_SIZE": str(args.chunk),
        "TIDINGS_LOG_LEVEL": "WARNING",
    }
    if args.db == "postgres":
        import psycopg

        with psycopg.connect(fanout.PG + "postgres", autocommit=True) as conn:
            conn.execute("DROP DATABASE IF EXISTS tidings_bench")
            conn.execute("CREATE DATABASE tidings_bench")
        env["DATABASE_URL"] = fanout.PG + "tidings_bench"
    try:
        run = {"env": env, "cwd": ROOT, "check": True, "capture_output": True}
        subprocess.run([sys.executable, "-m", "tidings", "migrate", "-v", "0"], **run)  # type: ignore[call-overload]
        print(f"seeding {args.n:,} subscribers ({args.db}) …", flush=True)
        subprocess.run([sys.executable, __file__, "--step", "seed", "--n", str(args.n)], **run)  # type: ignore[call-overload]
        fanout.setup_django(env)
        port = fanout.free_port()
        sink = fanout.start_sink(port)
        try:
            alone = fan_out(env, args.workers, port, "Alone", interrupt=False)
            mixed = fan_out(env, args.workers, port, "With small mail", interrupt=True)
        finally:
            sink.terminate()
            sink.wait()
    finally:
        shutil.rmtree(data, ignore_errors=True)

    print(f"\nfan-out to {args.n:,} recipients, {args.db}, {args.workers} workers, "
          f"chunk {args.chunk}; a list post and a subscription arrive at 20%")  # fmt: skip
    print(
        f"  large send alone          {alone['rate']:10,.0f} messages/s ({alone['seconds']:.1f} s)"
    )
    print(
        f"  large send with the rest  {mixed['rate']:10,.0f} messages/s ({mixed['seconds']:.1f} s)"
    )
    print(f"  ratio                     {mixed['rate'] / alone['rate']:10.2f} ×  (target ≥ 0.9)")
    for what in ("post", "confirmation"):
        wait = mixed.get(what)
        shown = f"{wait:8.2f} s" if wait is not None else "  never (before the send ended)"
        label = "list post to its 3 members" if what == "post" else "confirmation mail"
        print(f"  {label:24}  {shown}")


if __name__ == "__main__":
    main()
