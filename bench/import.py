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
    account = create_account(code="BENCH", name="Bench", sender_address="b@tidings.localhost")
    topic = create_topic(account, name="Bench topic", code="BENCH_1")

    path = workdir / "subscribers.csv"
    with path.open("w") as f:
        f.write("email,name\n")
        for i in range(args.rows):
            bad = args.bad_every and i % args.bad_every == 0
            f.write(f"user{i}@@broken\n" if bad else f"user{i}@example{i % 1000}.org,User {i}\n")

    started = time.perf_counter()
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
    from tidings.subscribers.models import Subscription

    subscribed = Subscription.objects.filter(topic=topic).count()
    print(
        f"{args.rows} rows in {elapsed:.1f} s: {args.rows / elapsed:,.0f} rows/s "
        f"({subscribed} subscribed; database {django.db.connection.vendor})"
    )


if __name__ == "__main__":
    main()
