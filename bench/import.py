"""Time `tidings import-subscribers` on a generated CSV and print the rate in rows/s.

    .venv/bin/python bench/import.py [--rows 1000000] [--bad-every 0]

Runs against a fresh SQLite database in a temporary data dir unless DATABASE_URL (and
TIDINGS_DATA_DIR) are set, e.g. DATABASE_URL=postgres://root@127.0.0.1:5432/bench.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--bad-every", type=int, default=0, help="make every Nth row invalid")
    parser.add_argument("--progress", action="store_true", help="show the progress bar")
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="tidings-bench-import-"))
    os.environ.setdefault("TIDINGS_DATA_DIR", str(workdir))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tidings.settings")
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    import django

    django.setup()
    from django.core.management import call_command

    from tidings.accounts.actions import create_account
    from tidings.topics.actions import create_topic

    call_command("migrate", verbosity=0)
    code = f"BENCH{int(time.time())}"  # a new account each run, so a database can be reused
    account = create_account(code=code, name="Bench", sender_address="b@tidings.localhost")
    topic = create_topic(account, name="Bench topic", code=f"{code}_1")

    path = workdir / "subscribers.csv"
    with path.open("w") as f:
        f.write("email,name\n")
        for i in range(args.rows):
            bad = args.bad_every and i % args.bad_every == 0
            f.write(f"user{i}@@broken\n" if bad else f"user{i}@example{i % 1000}.org,User {i}\n")

    from django.db import connection

    backend = _backend_pid(connection)
    backend_cpu = _cpu_seconds(backend)
    load = os.getloadavg()[0]
    started, cpu = time.perf_counter(), time.process_time()
    extra = [] if args.progress else ["--no-progress"]
    call_command(
        "import_subscribers",
        str(path),
        "--account",
        account.code,
        "--topic",
        topic.code,
        "--confirmed",
        *extra,
    )
    elapsed = time.perf_counter() - started
    cpu = time.process_time() - cpu
    backend_cpu = _cpu_seconds(backend) - backend_cpu
    from tidings.subscribers.models import Subscription

    subscribed = Subscription.objects.filter(topic=topic).count()
    print(
        f"{args.rows} rows in {elapsed:.1f} s: {args.rows / elapsed:,.0f} rows/s "
        f"({subscribed} subscribed; database {django.db.connection.vendor})"
    )
    # The machine may be shared: CPU seconds spent tell what the wall clock alone cannot.
    server = f", database server {backend_cpu:.1f} s" if backend else ""
    print(
        f"CPU: this process {cpu:.1f} s{server}; load average "
        f"{load:.1f} before, {os.getloadavg()[0]:.1f} after"
    )


def _backend_pid(connection) -> int:  # type: ignore[no-untyped-def]
    """Return the PostgreSQL server process of this connection when it runs here, else 0."""
    if connection.vendor != "postgresql":
        return 0
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    return pid if Path(f"/proc/{pid}/stat").exists() else 0


def _cpu_seconds(pid: int) -> float:
    if not pid:
        return 0.0
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


if __name__ == "__main__":
    main()
