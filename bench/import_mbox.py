"""Time `tidings import-mbox` on a generated archive and print messages per second.

    .venv/bin/python bench/import_mbox.py [--messages 50000] [--keep]

Runs against a fresh SQLite database in a temporary data dir unless DATABASE_URL (and
TIDINGS_DATA_DIR) are set, e.g. DATABASE_URL=postgres://root@127.0.0.1:5432/bench.
The issue's target: 50,000 messages in at most 2 minutes.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

WORDS = [
    "water",
    "rationing",
    "council",
    "budget",
    "migration",
    "talks",
    "delegation",
    "press",
    "release",
    "climate",
    "conference",
    "remarks",
    "schedule",
    "meeting",
    "minutes",
    "road",
    "closure",
    "school",
    "district",
    "election",
]


def write_mbox(path: Path, n: int) -> None:
    """Write n messages: threads of five (a post and four replies), a year and more of dates."""
    start = datetime(2015, 1, 1, tzinfo=UTC)
    with path.open("wb") as f:
        for i in range(n):
            root = i - i % 5
            date = start + timedelta(minutes=13 * i)
            words = " ".join(WORDS[(i * 7 + k) % len(WORDS)] for k in range(150))
            subject = f"Topic {root}: {WORDS[root % len(WORDS)]}"
            headers = [
                f"From: Person {i % 997} <person{i % 997}@example.org>",
                f"Subject: {'Re: ' if i != root else ''}{subject}",
                f"Date: {format_datetime(date)}",
                f"Message-ID: <bench-{i}@example.org>",
            ]
            if i != root:
                headers.append(f"In-Reply-To: <bench-{i - 1}@example.org>")
                headers.append(
                    f"References: <bench-{root}@example.org> <bench-{i - 1}@example.org>"
                )
            body = f"{words}\n\n> quoted line from the previous message\n> and another\n"
            f.write(f"From bench {date:%a %b %d %H:%M:%S %Y}\n".encode())
            f.write(("\n".join(headers) + "\n\n" + body + "\n").encode())


def setup(workdir: Path) -> None:
    os.environ.setdefault("TIDINGS_DATA_DIR", str(workdir))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tidings.settings")
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=50_000)
    parser.add_argument("--list", default="bench")
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="tidings-bench-mbox-"))
    setup(workdir)
    from tidings.archive.importer import import_mbox
    from tidings.lists.actions import create_list
    from tidings.lists.models import MailingList

    path = workdir / "archive.mbox"
    write_mbox(path, args.messages)
    mailing_list = MailingList.objects.filter(name=args.list).first() or create_list(args.list)
    started = time.perf_counter()
    result = import_mbox(mailing_list, path)
    seconds = time.perf_counter() - started
    print(
        f"imported {result.imported} of {result.messages} messages "
        f"({result.duplicates} duplicates, {len(result.failed)} failed) in {seconds:.1f} s: "
        f"{result.messages / seconds:.0f} messages/s (data dir {workdir})"
    )


if __name__ == "__main__":
    main()
