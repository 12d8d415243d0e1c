"""Inbound benchmark: Postfix's smtp-source against Tidings' SMTP server, posting to a list.

    .venv/bin/python bench/inbound.py [--messages 20000] [--sessions 20] [--db sqlite|postgres]

Starts `tidings smtpd` as its own process (fresh data dir, one list to receive the mail) and
drives it with Postfix's C smtp-source (../shared/tools/smtp-sink --source): SESSIONS sessions,
MESSAGES messages of about 6 KB to the list address. Prints accepted messages per second, how
many messages are stored, and, measured in the same run with the same load, two baselines
served by plain aiosmtpd in their own process: a handler that stores nothing, and one that
commits each message on its own (Tidings' store_messages, one transaction per message, on one
database thread with a long-lived connection, like Tidings' server: only the batching differs).
Also prints each server's CPU time per message, which other load on the machine barely changes.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SOURCE = Path(os.environ.get("SMTP_SINK", ROOT.parent / "shared" / "tools" / "smtp-sink"))
PG = "postgres://root@127.0.0.1:5432/"
LIST = "benchlist"
TIDINGS = "tidings smtpd (group commit)"
NOTHING = "aiosmtpd, storing nothing"
EACH = "aiosmtpd, one commit per message"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tidings.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def seed() -> None:
    """Create the list that receives the load (harness work, not measured)."""
    from tidings.lists.actions import create_list

    create_list(LIST, posting_policy="open")


def stored() -> int:
    from tidings.inbound.models import InboundMessage

    return InboundMessage.objects.count()


def clear() -> None:
    from tidings.inbound.models import InboundMessage

    InboundMessage.objects.all().delete()


def serve_baseline(kind: str, port: int) -> None:
    """Run plain aiosmtpd: store nothing, or commit each message on its own; until SIGTERM."""
    import asyncio
    from concurrent.futures import ThreadPoolExecutor

    from aiosmtpd.controller import Controller

    from tidings.inbound.actions import Received, store_messages

    # One thread with one long-lived connection, as Tidings' server has: only batching differs.
    database = ThreadPoolExecutor(1)

    class Nothing:
        async def handle_DATA(self, server, session, envelope):  # type: ignore[no-untyped-def]
            return "250 2.0.0 OK"

    class Each:
        async def handle_DATA(self, server, session, envelope):  # type: ignore[no-untyped-def]
            received = Received(
                envelope.original_content, envelope.mail_from, list(envelope.rcpt_tos)
            )
            loop = asyncio.get_running_loop()
            (pk,) = await loop.run_in_executor(database, store_messages, [received])
            return f"250 2.0.0 Queued as {pk}"

    handler = Nothing() if kind == "nothing" else Each()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    signal.sigwait([signal.SIGTERM, signal.SIGINT])
    controller.stop()


def wait_for_port(port: int, process: subprocess.Popen[bytes]) -> None:
    for _ in range(300):
        if process.poll() is not None:
            raise RuntimeError(f"the server exited with {process.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close()
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("the server did not start listening")


def drive(port: int, messages: int, sessions: int, size: int) -> tuple[float, str]:
    """Run smtp-source to the end; return its messages per second and what it printed."""
    lists_domain = os.environ.get("TIDINGS_LISTS_DOMAIN", "lists.tidings.localhost")
    argv = [
        str(SOURCE), "--source", "-d", "-s", str(sessions), "-m", str(messages), "-l", str(size),
        "-f", "author@example.com", "-t", f"{LIST}@{lists_domain}", "-M", "source.example.com",
        f"127.0.0.1:{port}",
    ]  # fmt: skip
    started = time.perf_counter()
    done = subprocess.run(argv, capture_output=True, text=True, check=False)  # noqa: S603
    seconds = time.perf_counter() - started
    problems = (done.stdout + done.stderr).strip()
    if done.returncode != 0:
        problems = f"smtp-source exited with {done.returncode}: {problems}"
    return messages / seconds, problems


def cpu_seconds(pid: int) -> float:
    """Return the CPU time (user + system) a process has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def measure(
    label: str, argv: list[str], env: dict[str, str], args: argparse.Namespace
) -> tuple[float, int, str, float]:
    """Start a server, drive it, stop it; return accepted/s, messages stored, problems, and
    the server's CPU time per message (which other load on the machine does not change)."""
    port = free_port()
    argv = [a.replace("PORT", str(port)) for a in argv]
    server = subprocess.Popen(argv, env=env, cwd=ROOT)  # noqa: S603
    try:
        wait_for_port(port, server)
        print(f"  {label}: {args.messages:,} messages …", flush=True)
        idle = cpu_seconds(server.pid)
        rate, problems = drive(port, args.messages, args.sessions, args.size)
        cpu = (cpu_seconds(server.pid) - idle) / args.messages
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=60)
    count = int(step(env, "stored"))
    step(env, "clear")
    return rate, count, problems, cpu


def step(env: dict[str, str], name: str) -> str:
    return subprocess.run(  # noqa: S603
        [sys.executable, __file__, "--step", name],
        env=env,
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=20_000)
    parser.add_argument("--sessions", type=int, default=20)
    parser.add_argument("--size", type=int, default=6 * 1024, help="bytes per message")
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--skip-baselines", action="store_true")
    parser.add_argument("--step", default="", help=argparse.SUPPRESS)
    parser.add_argument("--serve", default="", help=argparse.SUPPRESS)
    args, rest = parser.parse_known_args()

    if args.step:
        setup_django()
        result = {"seed": seed, "stored": stored, "clear": clear}[args.step]()
        if result is not None:
            print(result)
        return
    if args.serve:
        setup_django()
        serve_baseline(args.serve, int(rest[0]))
        return

    data = Path(tempfile.mkdtemp(prefix="tidings-inbound-"))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TIDINGS_", "DATABASE_URL"))}
    env |= {
        "TIDINGS_DATA_DIR": str(data),
        "TIDINGS_LOG_LEVEL": "WARNING",
        # One sender sends everything here: keep the per-sender check running, never refusing.
        "TIDINGS_SMTP_SENDER_MESSAGES_PER_MINUTE": "1000000",
    }
    if args.db == "postgres":
        import psycopg

        with psycopg.connect(PG + "postgres", autocommit=True) as conn:
            conn.execute("DROP DATABASE IF EXISTS tidings_bench_inbound")
            conn.execute("CREATE DATABASE tidings_bench_inbound")
        env["DATABASE_URL"] = PG + "tidings_bench_inbound"

    python = sys.executable
    try:
        subprocess.run(  # noqa: S603
            [python, "-m", "tidings", "migrate", "--verbosity", "0"], env=env, cwd=ROOT, check=True
        )
        step(env, "seed")
        print(f"inbound: smtp-source, {args.sessions} sessions, {args.size:,} B, {args.db}")
        results = {}
        servers = {TIDINGS: [python, "-m", "tidings", "smtpd", "--listen", "127.0.0.1:PORT"]}
        if not args.skip_baselines:
            servers[NOTHING] = [python, __file__, "--serve", "nothing", "PORT"]
            servers[EACH] = [python, __file__, "--serve", "each", "PORT"]
        for label, argv in servers.items():
            results[label] = measure(label, argv, env, args)
    finally:
        shutil.rmtree(data, ignore_errors=True)

    print()
    tidings_rate = results[TIDINGS][0]
    for label, (rate, count, problems, cpu) in results.items():
        line = (
            f"  {label:34} {rate:8,.0f} accepted messages/s   {count:7,} stored   "
            f"{cpu * 1e6:5,.0f} µs CPU/message"
        )
        if label != TIDINGS:
            line += f"   (Tidings: {tidings_rate / rate:.2f} x)"
        print(line)
        if problems:
            print(f"    {problems[:500]}")
    lost = args.messages - results[TIDINGS][1]
    print(f"\n  messages lost by Tidings: {lost}")


if __name__ == "__main__":
    main()
