"""Bring an existing archive in from an mbox file: threads, dates and attachments kept."""

from __future__ import annotations

import logging
import mailbox
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default
from pathlib import Path

from django.db import connection, transaction

from tidings.archive.actions import finish_batch, insert_post, message_slug
from tidings.archive.models import Post
from tidings.lists.models import MailingList

log = logging.getLogger(__name__)
BATCH = 500
# Imports of at least this many posts refresh the planner's statistics when they finish.
ANALYZE_AFTER = 1000
ASCTIME = re.compile(r"(\w{3}) +(\w{3}) +(\d{1,2}) +(\d{1,2}:\d{2}:\d{2}) +(\d{4})")


@dataclass
class ImportResult:
    messages: int = 0
    imported: int = 0
    duplicates: int = 0
    failed: list[str] = field(default_factory=list)
    seconds: float = 0.0


def from_line_date(line: bytes) -> datetime | None:
    """Return the date of an mbox "From sender date" line (UTC), if it has one."""
    match = ASCTIME.search(line.decode("latin-1"))
    if not match:
        return None
    try:
        parsed = datetime.strptime(" ".join(match.groups()[1:]), "%b %d %H:%M:%S %Y")
    except ValueError:
        return None
    return parsed.replace(tzinfo=UTC)


def read_entry(box: mailbox.mbox, key: str) -> tuple[bytes, datetime | None]:
    """Return one message's bytes and its From_ line date."""
    with box.get_file(key, from_=True) as f:
        data = f.read()
    first, _, rest = data.partition(b"\n")
    return rest, from_line_date(first)


def import_mbox(
    mailing_list: MailingList,
    path: Path,
    *,
    progress: Callable[[int, int], None] | None = None,
    batch: int = BATCH,
) -> ImportResult:
    """Archive every message of an mbox on the list; messages already archived are skipped."""
    started = time.monotonic()
    box = mailbox.mbox(str(path), create=False)
    keys = box.keys()
    result = ImportResult(messages=len(keys))
    for start in range(0, len(keys), batch):
        chunk = keys[start : start + batch]
        parsed = []
        for key in chunk:
            raw, sent = read_entry(box, key)
            try:
                msg = message_from_bytes(raw, _class=EmailMessage, policy=default)
                parsed.append((key, msg, sent, *message_slug(msg)))
            except Exception as e:  # one bad message must not stop an archive's import
                log.warning("message %s of %s not read: %r", key, path, e)
                result.failed.append(f"#{key}: {e!r}")
        # One transaction per batch: a crash loses at most a batch, which a rerun fills in.
        with transaction.atomic():
            slugs = [row[4] for row in parsed]
            seen = set(
                Post.objects.filter(mailing_list=mailing_list, slug__in=slugs).values_list(
                    "slug", flat=True
                )
            )
            added: list[Post] = []
            for key, msg, sent, bare_id, slug in parsed:
                if slug in seen:
                    continue
                seen.add(slug)
                try:
                    with transaction.atomic():
                        added.append(
                            insert_post(
                                mailing_list,
                                msg,
                                inbound=None,
                                received=sent or datetime.now(UTC),
                                bare_id=bare_id,
                                slug=slug,
                                set_root=False,
                            )
                        )
                except Exception as e:  # one bad message must not stop an archive's import
                    log.warning("message %s of %s not imported: %r", key, path, e)
                    result.failed.append(f"#{key}: {e!r}")
            finish_batch(mailing_list, added)
        result.imported += len(added)
        if progress is not None:
            progress(min(start + batch, len(keys)), len(keys))
    result.duplicates = result.messages - result.imported - len(result.failed)
    if result.imported >= ANALYZE_AFTER:
        refresh_statistics()
    result.seconds = time.monotonic() - started
    return result


def refresh_statistics() -> None:
    """Tell the query planner about a big import now, not when autovacuum gets round to it.

    With the statistics of an empty table, PostgreSQL pages and searches a 100,000-post list
    by reading every post (hundreds of milliseconds); with fresh ones, in a few milliseconds.
    SQLite plans these queries well without statistics, and keeps none unless asked.
    """
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE archive_post")
