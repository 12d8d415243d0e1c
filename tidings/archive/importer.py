"""Bring an existing archive in from an mbox file: threads, dates and attachments kept."""

from __future__ import annotations

import itertools
import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default
from pathlib import Path

from django.conf import settings
from django.db import connection, transaction

from tidings.archive.actions import finish_batch, insert_post, message_slug
from tidings.archive.mbox import Entry, split
from tidings.archive.models import Post
from tidings.lists.models import MailingList

log = logging.getLogger(__name__)
BATCH = 500
# Imports of at least this many posts refresh the planner's statistics when they finish.
ANALYZE_AFTER = 1000
HEADER_LINE = re.compile(rb"^[!-9;-~]+:")  # the message starts with a header field


@dataclass
class ImportResult:
    messages: int = 0  # messages found in the file (at real boundaries)
    imported: int = 0
    duplicates: int = 0
    # Imported after a repair (a multipart part without its boundary: kept as plain text).
    repaired: list[str] = field(default_factory=list)
    # Not imported, each with why: too big, no headers, unreadable, refused by the database.
    failed: list[str] = field(default_factory=list)
    seconds: float = 0.0


def describe(entry: Entry) -> str:
    return f"message #{entry.number} (line {entry.from_line[:60].decode('latin-1').strip()!r})"


def read(entry: Entry, limit: int) -> tuple[EmailMessage | None, str, str]:
    """Return the parsed message, why it can't be imported (""), and what was repaired ("")."""
    if entry.oversized:
        return None, f"{entry.size / 2**20:.1f} MiB, over the {limit / 2**20:.0f} MiB limit", ""
    if not HEADER_LINE.match(entry.raw):
        return None, "no headers: not a message", ""
    try:
        msg = message_from_bytes(entry.raw, _class=EmailMessage, policy=default)
    except Exception as e:  # the parser is lenient; anything it raises means garbage
        return None, f"unreadable: {e!r}", ""
    assert isinstance(msg, EmailMessage)
    return msg, "", repair(msg)


def repair(msg: EmailMessage) -> str:
    """Keep the text of multipart parts whose boundary is missing or broken (the parser leaves
    their body unsplit and unread) as plain text; return what was repaired ("": nothing)."""
    fixed = 0
    for part in msg.walk():
        if part.get_content_maintype() == "multipart" and not part.is_multipart():
            del part["Content-Type"]
            part["Content-Type"] = "text/plain; charset=utf-8"
            fixed += 1
    if not fixed:
        return ""
    return f"{fixed} multipart part{'s' * (fixed > 1)} without a usable boundary kept as text"


def import_mbox(
    mailing_list: MailingList,
    path: Path,
    *,
    progress: Callable[[int, int], None] | None = None,
    batch: int = BATCH,
) -> ImportResult:
    """Archive every message of an mbox on the list; messages already archived are skipped.

    The file is read once, as a stream: memory holds a batch, each message at most
    ARCHIVE_IMPORT_MAX_MESSAGE_BYTES (larger ones are refused and reported)."""
    started = time.monotonic()
    limit = settings.ARCHIVE_IMPORT_MAX_MESSAGE_BYTES
    total = path.stat().st_size
    result = ImportResult()
    with path.open("rb") as stream:
        entries = split(stream, limit)
        while True:
            chunk = list(itertools.islice(entries, batch))
            if not chunk:
                break
            import_batch(mailing_list, chunk, limit, result)
            if progress is not None:
                progress(min(stream.tell(), total), total)
    if result.imported >= ANALYZE_AFTER:
        refresh_statistics()
    result.seconds = time.monotonic() - started
    return result


def import_batch(
    mailing_list: MailingList, chunk: list[Entry], limit: int, result: ImportResult
) -> None:
    parsed = []
    for entry in chunk:
        if entry.number == 0:
            result.failed.append(f"text before the first message ({entry.size} bytes): skipped")
            continue
        result.messages += 1
        msg, problem, repaired = read(entry, limit)
        if msg is None:
            log.warning("%s not imported: %s", describe(entry), problem)
            result.failed.append(f"{describe(entry)}: {problem}")
            continue
        parsed.append((entry, msg, repaired, *message_slug(msg)))
    # One transaction per batch: a crash loses at most a batch, which a rerun fills in.
    with transaction.atomic():
        slugs = [row[4] for row in parsed]
        seen = set(
            Post.objects.filter(mailing_list=mailing_list, slug__in=slugs).values_list(
                "slug", flat=True
            )
        )
        added: list[Post] = []
        for entry, msg, repaired, bare_id, slug in parsed:
            if slug in seen:
                result.duplicates += 1
                continue
            seen.add(slug)
            try:
                with transaction.atomic():
                    added.append(
                        insert_post(
                            mailing_list,
                            msg,
                            inbound=None,
                            received=entry.sent or datetime.now(UTC),
                            bare_id=bare_id,
                            slug=slug,
                            set_root=False,
                        )
                    )
            except Exception as e:  # one bad message must not stop an archive's import
                log.warning("%s not imported: %r", describe(entry), e)
                result.failed.append(f"{describe(entry)}: {e!r}")
                continue
            if repaired:
                result.repaired.append(f"{describe(entry)}: {repaired}")
        finish_batch(mailing_list, added)
    result.imported += len(added)


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
